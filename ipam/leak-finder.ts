import type { WorkloadEndpoint } from '../lib/datastore/calico/workload-endpoint';
import type { AllocationRef, Leak, UnverifiedAllocation } from './consistency-report';
import {
  ATTRIBUTE_KEYS,
  formatIp,
  parseGoTimeString,
  tryParseIp,
  type AllocationAttribute,
} from './core';

// How `ipam check` recognises a leak. The datastore cannot see containers, only what the calico
// plugin wrote for them, so the WorkloadEndpoint stands for the container: ADD writes it after
// IPAM, DEL deletes it with the address. An allocated address is a leak when all of these hold:
//
// 1. no WorkloadEndpoint lists it in `ipNetworks` (any endpoint, any node: an address in use is
//    never a leak, whoever's handle it is under);
// 2. it is a workload's: its attributes carry no `type` (tunnel addresses belong to nodes);
// 3. it is older than the grace period (default 15 minutes, kube-controllers' leakGracePeriod),
//    by its `timestamp` attribute: an ADD commits IPAM before it writes the endpoint, so a young
//    address without endpoint may be an ADD in flight (a missing timestamp counts as old);
// 4. its network is served by the calico main plugin. calico-ipam under another main plugin
//    (bridge, ptp, macvlan) writes no endpoints at all, so a missing endpoint proves nothing
//    there. A network counts as calico's when the caller names it (`networks`), or when some
//    endpoint proves it: an endpoint with containerID C using an address held by handle `N.C`
//    shows that calico wrote endpoints for network N. The handle of an address is
//    `<network>.<containerID>` (§8.1); network names may contain dots, so the network is the
//    longest calico network that prefixes the handle.
//
// Addresses failing only rule 4 are reported as `unverified`, never released by a repair.

/** Grace before an address without endpoint counts as leaked (kube-controllers' default). */
export const DEFAULT_LEAK_GRACE_MS = 15 * 60_000;

/** How leaks are told apart from ADDs in flight and from other main plugins' addresses. */
export interface LeakOptions {
  /** Default 15 minutes; 0 treats every address without endpoint as settled. */
  graceMs?: number;
  /** Unix milliseconds (default Date.now()): the clock the ages are measured against. */
  now?: number;
  /** Networks whose main plugin is calico, besides those the endpoints prove. */
  networks?: readonly string[];
}

/** One allocated address with the block key and attribute it came from. */
export interface Allocated {
  ip: string;
  block: string;
  ordinal: number;
  handleId: string;
  key: string;
  attribute: AllocationAttribute;
}

/** What findLeaks reports, in the shape of the report's fields. */
export interface LeakFindings {
  leaks: Leak[];
  unverified: UnverifiedAllocation[];
  inGrace: number;
  nonWorkload: number;
}

/** Sorts the allocations without endpoint into leaks, unverified, in grace and non-workload. */
export function findLeaks(
  input: {
    allocations: readonly Allocated[];
    /** Address → the endpoints using it. */
    endpointIps: ReadonlyMap<string, readonly string[]>;
    endpoints: readonly { endpoint: WorkloadEndpoint }[];
  },
  options: LeakOptions = {},
): LeakFindings {
  const now = options.now ?? Date.now();
  const grace = options.graceMs ?? DEFAULT_LEAK_GRACE_MS;
  const networks = calicoNetworks(input, options.networks ?? []);
  const perHandle = new Map<string, number>();
  for (const a of input.allocations)
    perHandle.set(a.handleId, (perHandle.get(a.handleId) ?? 0) + 1);
  const findings: LeakFindings = { leaks: [], unverified: [], inGrace: 0, nonWorkload: 0 };
  for (const allocated of input.allocations) {
    if (input.endpointIps.has(allocated.ip)) continue;
    const secondary = allocated.attribute.secondary ?? {};
    if (Object.hasOwn(secondary, 'type')) {
      findings.nonWorkload++;
      continue;
    }
    const stamp = secondary[ATTRIBUTE_KEYS.timestamp];
    const at = stamp === undefined ? undefined : parseGoTimeString(stamp);
    const ageMs = at === undefined ? undefined : now - at;
    if (ageMs !== undefined && ageMs < grace) {
      findings.inGrace++;
      continue;
    }
    const ref: AllocationRef = {
      ip: allocated.ip,
      block: allocated.block,
      ordinal: allocated.ordinal,
      handleId: allocated.handleId,
      node: secondary[ATTRIBUTE_KEYS.node],
      ageMs,
    };
    const network = networkOf(allocated.handleId, networks);
    const what = describeAllocation(ref, secondary);
    if (network === undefined) {
      findings.unverified.push({
        ...ref,
        message: `${what} has no WorkloadEndpoint, but no endpoint shows that calico is the main plugin of its network: not called a leak`,
      });
      continue;
    }
    findings.leaks.push({
      ...ref,
      handleAddresses: perHandle.get(allocated.handleId) ?? 1,
      message: `${what} is leaked: network ${network} is served by calico, and no WorkloadEndpoint uses the address`,
    });
  }
  return findings;
}

function calicoNetworks(
  input: {
    allocations: readonly Allocated[];
    endpoints: readonly { endpoint: WorkloadEndpoint }[];
  },
  named: readonly string[],
): string[] {
  const handleOfIp = new Map(input.allocations.map((a) => [a.ip, a.handleId]));
  const networks = new Set(named);
  for (const { endpoint } of input.endpoints) {
    const container = endpoint.spec.containerID;
    if (container === undefined || container === '') continue;
    for (const network of endpoint.spec.ipNetworks) {
      const address = tryParseIp(network.split('/')[0] ?? '');
      const handle = address === null ? undefined : handleOfIp.get(formatIp(address));
      if (handle?.endsWith(`.${container}`) === true && handle.length > container.length + 1) {
        networks.add(handle.slice(0, -container.length - 1));
      }
    }
  }
  // Longest first: network `a.b` must win over network `a` for handle `a.b.c`.
  return [...networks].sort((a, b) => b.length - a.length);
}

function networkOf(handleId: string, networks: readonly string[]): string | undefined {
  return networks.find((n) => handleId.startsWith(`${n}.`) && handleId.length > n.length + 1);
}

function describeAllocation(ref: AllocationRef, secondary: Record<string, string>): string {
  const facts = [`block ${ref.block}`, `handle ${ref.handleId}`];
  if (ref.node !== undefined) facts.push(`node ${ref.node}`);
  const pod = secondary[ATTRIBUTE_KEYS.pod];
  const namespace = secondary[ATTRIBUTE_KEYS.namespace];
  if (pod !== undefined) facts.push(`pod ${namespace ?? ''}/${pod}`);
  facts.push(
    ref.ageMs === undefined
      ? 'allocated at an unknown time'
      : `allocated ${Math.round(ref.ageMs / 1000)} s ago`,
  );
  return `${ref.ip} (${facts.join(', ')})`;
}
