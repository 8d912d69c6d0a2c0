import { CAS_CONFLICT, withCasRetry } from '../lib/datastore/cas-retry';
import { Attempt } from './attempt';
import type { BlockStore } from './block-store';
import { NO_VIEW } from './release';
import {
  blockCidr,
  cidrContainsIp,
  decrementHandle,
  formatIp,
  isBlockEmpty,
  ordinalOf,
  releaseOrdinals,
  type IpAddress,
} from './core';

/** What a release by address did. */
export interface AddressRelease {
  /** The addresses freed, as text. */
  released: string[];
  /** Requested addresses that no block holds as allocated (already free, or in no block). */
  notAssigned: string[];
}

/**
 * Releases specific addresses whoever holds them (`calicoctl ipam release --ip`, §8.6
 * ReleaseIPs): each block, the handles that pointed at the addresses, and emptied blocks without
 * affinity change in one compare-and-swap commit, retried on conflict like every IPAM write.
 * `expectedSequenceNumbers` (address text → the block sequence number recorded at allocation)
 * skips an address that was re-allocated since the caller looked: the leak repair path needs it.
 */
export function releaseAddresses(
  store: BlockStore,
  ips: readonly IpAddress[],
  options: { expectedSequenceNumbers?: ReadonlyMap<string, bigint> } = {},
): Promise<AddressRelease> {
  return withCasRetry(() => attemptRelease(store, ips, options), {
    what: `release of ${ips.map(formatIp).join(', ')}`,
  });
}

async function attemptRelease(
  store: BlockStore,
  ips: readonly IpAddress[],
  options: { expectedSequenceNumbers?: ReadonlyMap<string, bigint> },
): Promise<AddressRelease | typeof CAS_CONFLICT> {
  const attempt = new Attempt(store, NO_VIEW);
  const byBlock = new Map<string, IpAddress[]>();
  const notAssigned: string[] = [];
  for (const family of [4, 6] as const) {
    const wanted = ips.filter((ip) => ip.family === family);
    if (wanted.length === 0) continue;
    const blocks = await attempt.list(family);
    for (const ip of wanted) {
      const block = blocks.find((b) => cidrContainsIp(blockCidr(b.value), ip));
      if (block === undefined) notAssigned.push(formatIp(ip));
      else byBlock.set(block.value.cidr, [...(byBlock.get(block.value.cidr) ?? []), ip]);
    }
  }
  const released: string[] = [];
  const handleCounts = new Map<string, Map<string, number>>();
  for (const [cidr, addresses] of byBlock) {
    const block = attempt.block(cidr);
    if (block === null) continue;
    const ordinals = addresses.map((ip) => ordinalOf(blockCidr(block), ip));
    const expected = new Map<number, bigint>();
    addresses.forEach((ip, i) => {
      const sequence = options.expectedSequenceNumbers?.get(formatIp(ip));
      const ordinal = ordinals[i];
      if (sequence !== undefined && ordinal !== undefined) expected.set(ordinal, sequence);
    });
    const result = releaseOrdinals(block, ordinals, { expectedSequenceNumbers: expected });
    const freed = new Set(result.released);
    addresses.forEach((ip, i) => {
      (freed.has(ordinals[i] ?? -1) ? released : notAssigned).push(formatIp(ip));
    });
    if (result.released.length === 0) continue;
    attempt.setBlock(
      cidr,
      isBlockEmpty(result.block) && result.block.affinity === null ? null : result.block,
    );
    for (const [handle, count] of result.releasedByHandle) {
      if (handle === null) continue;
      const perBlock = handleCounts.get(handle) ?? new Map<string, number>();
      perBlock.set(cidr, (perBlock.get(cidr) ?? 0) + count);
      handleCounts.set(handle, perBlock);
    }
  }
  if (released.length === 0) return { released, notAssigned };
  const { handles } = await store.readHandles([...handleCounts.keys()]);
  attempt.requests++;
  for (const [id, perBlock] of handleCounts) {
    const handle = handles.get(id);
    // An allocation whose handle is gone (a leak) frees the address and nothing else.
    if (handle === undefined) continue;
    let next: typeof handle.value | null = handle.value;
    for (const [cidr, count] of perBlock) {
      if (next === null) break;
      const held = next.block[cidr] ?? 0;
      if (held === 0) continue;
      const change = decrementHandle(next, cidr, { count: Math.min(count, held), handleId: id });
      next = change.kind === 'delete' ? null : change.handle;
    }
    attempt.add({ kind: 'handle', id, expect: handle.revision, value: next });
  }
  if (!(await attempt.commit())) return CAS_CONFLICT;
  return { released, notAssigned };
}
