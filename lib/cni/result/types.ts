/**
 * The one internal result type: the 1.1.0 shape, the richest. Plugin code only ever builds this;
 * conversion to the config's version happens once, at the edge (encode.ts).
 */
export interface Result {
  interfaces: Interface[];
  ips: IpConfig[];
  routes: Route[];
  dns: Dns;
}

/** An interface the plugin created; `sandbox` only for container-side ones. */
export interface Interface {
  name: string;
  mac?: string;
  /** 1.1.0 only. */
  mtu?: number;
  sandbox?: string;
  /** 1.1.0 only. */
  socketPath?: string;
  /** 1.1.0 only. */
  pciID?: string;
}

/** One address in CIDR form; `interface` indexes `interfaces` (IPAM results omit it). */
export interface IpConfig {
  address: string;
  gateway?: string;
  interface?: number;
}

/** A route; everything but `dst` and `gw` exists in 1.1.0 only. */
export interface Route {
  dst: string;
  gw?: string;
  mtu?: number;
  advmss?: number;
  priority?: number;
  table?: number;
  /** 0 global, 253 link, 254 host. */
  scope?: number;
}

/** DNS settings; every field optional, `{}` when none. */
export interface Dns {
  nameservers?: string[];
  domain?: string;
  search?: string[];
  options?: string[];
}

/** A result with nothing in it, for IPAM and chaining code to fill. */
export function emptyResult(): Result {
  return { interfaces: [], ips: [], routes: [], dns: {} };
}
