import { CniError, ErrorCode } from '../lib/cni/errors';
import type { HostView, PoolSpec } from './block-store';
import {
  cidrContainsIp,
  formatIp,
  matchesNodeSelector,
  parseNetwork,
  type IpAddress,
  type IpFamily,
} from './core';

/** A pool that may hand out workload addresses, with its parsed CIDR. */
export interface UsablePool {
  readonly spec: PoolSpec;
  readonly cidr: ReturnType<typeof parseNetwork>;
}

function parsed(spec: PoolSpec): UsablePool {
  return { spec, cidr: parseNetwork(spec.cidr, { what: `pool ${spec.name}` }) };
}

function enabledFor(spec: PoolSpec, family: IpFamily): boolean {
  return !spec.disabled && spec.allowedUses.includes('Workload') && familyOf(spec) === family;
}

function familyOf(spec: PoolSpec): IpFamily {
  return spec.cidr.includes(':') ? 6 : 4;
}

/**
 * The pools to assign from, in order (calico-behaviour.md §8.2 determinePools): the requested
 * ones in the order given (names or CIDRs; nodeSelector ignored, as upstream), else every enabled,
 * Automatic pool whose nodeSelector matches this node's labels, in name order.
 */
export function usablePools(
  view: HostView,
  options: { family: IpFamily; requested: readonly string[]; node: string },
): UsablePool[] {
  const { family, requested } = options;
  if (requested.length > 0) {
    return requested.map((wanted) => {
      const spec = view.pools.find((p) => p.name === wanted || p.cidr === wanted);
      if (spec === undefined || !enabledFor(spec, family)) {
        throw new CniError(
          ErrorCode.unknownPool,
          `the given pool (${wanted}) does not exist, or is not enabled for IPv${family} workloads`,
        );
      }
      return parsed(spec);
    });
  }
  const labels = view.node?.value.labels ?? {};
  const pools = view.pools
    .filter((p) => enabledFor(p, family) && p.assignmentMode === 'Automatic')
    .filter((p) => matchesNodeSelector(p.nodeSelector, labels))
    .map(parsed);
  if (pools.length === 0) {
    throw new CniError(
      ErrorCode.noPoolForNode,
      `no configured Calico IPv${family} pools for node ${options.node}: create an IPPool whose nodeSelector matches it`,
    );
  }
  return pools;
}

/** The enabled workload pool holding a requested address (§8.5); any nodeSelector. */
export function poolForAddress(view: HostView, ip: IpAddress): UsablePool {
  for (const spec of view.pools) {
    if (!enabledFor(spec, ip.family)) continue;
    const pool = parsed(spec);
    if (cidrContainsIp(pool.cidr, ip)) return pool;
  }
  throw new CniError(
    ErrorCode.addressNotInPool,
    `The provided IP address is not in a configured pool: ${formatIp(ip)}`,
  );
}
