import { parseIpPool, type IpPool } from '../../lib/datastore/calico/ippool';
import { IP_POOLS_PREFIX } from '../../lib/datastore/calico/keys';
import type { Kv } from '../../lib/datastore/kv';
import { cidrOverlaps, parseNetwork, parseSelector } from '../../ipam/core';
import { CliError } from './io';

// Checks on an IPPool that need more than its own fields (Calico's IPPool validation in
// libcalico-go clientv3/ippool.go): no overlap with another pool, a CIDR and block size that do
// not change under existing blocks, and a node selector that parses.

/** Refuses `pool` (from `where`) when it conflicts with the pools stored in etcd. */
export async function checkPool(kv: Kv, pool: { where: string; text: string }): Promise<void> {
  const candidate = parseIpPool(pool.where, pool.text);
  const { spec, metadata } = candidate;
  const fail = (path: string, problem: string): CliError =>
    new CliError(`invalid IPPool at ${pool.where}: ${path}: ${problem}`);
  try {
    parseSelector(spec.nodeSelector);
  } catch (err) {
    throw fail(
      'spec.nodeSelector',
      `${JSON.stringify(spec.nodeSelector)} is not a selector: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const { kvs } = await kv.range(IP_POOLS_PREFIX, { prefix: true });
  const network = parseNetwork(spec.cidr);
  for (const stored of kvs) {
    const other: IpPool = parseIpPool(stored.key, stored.value);
    if (other.metadata.name === metadata.name) {
      if (other.spec.cidr !== spec.cidr) {
        throw fail(
          'spec.cidr',
          `cannot change from ${other.spec.cidr} to ${spec.cidr}: delete the pool and create a new one`,
        );
      }
      if (other.spec.blockSize !== spec.blockSize) {
        throw fail(
          'spec.blockSize',
          `cannot change from ${other.spec.blockSize} to ${spec.blockSize}: delete the pool and create a new one`,
        );
      }
      continue;
    }
    if (cidrOverlaps(network, parseNetwork(other.spec.cidr))) {
      throw fail(
        'spec.cidr',
        `${spec.cidr} overlaps IPPool ${JSON.stringify(other.metadata.name)} (${other.spec.cidr})`,
      );
    }
  }
}
