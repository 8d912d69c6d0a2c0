import type { Interface, IpConfig, Result, Route } from '../../lib/cni/result/types';
import { HOST_MAC } from '../../lib/dataplane/names';

/** The networking of one container, as the result reports it. */
export interface ResultFacts {
  hostVeth: string;
  ifName: string;
  containerMac: string;
  netns: string;
  mtu: number;
  /** Pod addresses as /32 or /128. */
  ipNetworks: readonly string[];
  /** The gateway routes programmed in the pod (default: each family's default route). */
  routes?: readonly string[];
  /** A chained plugin's result before ours: kept, ours appended (spec 0.3.0+). */
  prevResult?: Result | undefined;
}

/**
 * interfaces = [host veth, container interface with its MAC and `sandbox` = CNI_NETNS verbatim];
 * every address as /32 (/128) pointing at the container interface; the default routes that are
 * really in the pod; no gateways and no DNS, as upstream prints.
 */
export function buildResult(facts: ResultFacts): Result {
  const previous = facts.prevResult;
  const offset = previous?.interfaces.length ?? 0;
  const interfaces: Interface[] = [
    { name: facts.hostVeth, mac: HOST_MAC },
    { name: facts.ifName, mac: facts.containerMac, mtu: facts.mtu, sandbox: facts.netns },
  ];
  const ips: IpConfig[] = facts.ipNetworks.map((address) => ({ address, interface: offset + 1 }));
  const routes: Route[] = (
    facts.routes ?? [
      ...(facts.ipNetworks.some((a) => !a.includes(':')) ? ['0.0.0.0/0'] : []),
      ...(facts.ipNetworks.some((a) => a.includes(':')) ? ['::/0'] : []),
    ]
  ).map((dst) => ({ dst }));
  return {
    interfaces: [...(previous?.interfaces ?? []), ...interfaces],
    ips: [...(previous?.ips ?? []), ...ips],
    routes: [...(previous?.routes ?? []), ...routes],
    dns: previous?.dns ?? {},
  };
}

/** `10.1.0.5/26` → `10.1.0.5/32`; `fd00::5/122` → `fd00::5/128` (the pod gets a host address). */
export function hostNetwork(address: string): string {
  const ip = address.split('/')[0] ?? address;
  return `${ip}/${ip.includes(':') ? 128 : 32}`;
}
