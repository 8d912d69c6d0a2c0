import { CAS_CONFLICT, withCasRetry } from '../lib/datastore/cas-retry';
import { Attempt } from './attempt';
import type { BlockStore, HandleRead, HostView, SideHooks, Versioned } from './block-store';
import { isBlockEmpty, releaseByHandle, type BlockState } from './core';
import { UnsureCommits } from './unsure-commit';

/** How many addresses a release freed, and the etcd round trips of the final attempt. */
export interface ReleaseOutcome {
  released: number;
  requests: number;
}

/** The host view of operations that need none (releases): no pools, affinities or side keys. */
export const NO_VIEW: HostView = {
  settings: { strictAffinity: false, autoAllocateBlocks: true, maxBlocksPerHost: 0 },
  pools: [],
  node: undefined,
  affinities: [],
  handles: new Map(),
  reservedCidrs: [],
  side: new Map(),
};

/** The reads of a release's first attempt: the handles (with the side keys) and their blocks. */
export interface ReleaseReads {
  read: HandleRead;
  blocks: ReadonlyMap<string, Versioned<BlockState>>;
}

/**
 * What the first attempt of releaseHandles reads, read ahead: calico's DEL reads while its veth is
 * being deleted and commits once it is gone. Every write of the commit still compares the
 * revisions read, so reads that went stale meanwhile only cost a retry.
 */
export async function readReleaseAhead(
  store: BlockStore,
  handleIds: readonly string[],
  options: { side?: SideHooks } = {},
): Promise<ReleaseReads> {
  const read = await readHandlesWithSide(store, handleIds, options.side);
  const cidrs = blocksOf(read);
  const blocks = cidrs.length === 0 ? new Map() : await store.readBlocks(cidrs);
  return { read, blocks };
}

/**
 * Releases every address of the given handles (calico-ipam DEL: `<network>.<containerID>` and the
 * legacy workload ID) in one compare-and-swap commit. Unknown handles are fine: DEL is idempotent.
 * A block left empty and without affinity is deleted; empty affine blocks stay with their host.
 * `ahead`: the first attempt's reads, made earlier (readReleaseAhead); undefined reads afresh.
 */
export function releaseHandles(
  store: BlockStore,
  handleIds: readonly string[],
  options: { side?: SideHooks; ahead?: ReleaseReads } = {},
): Promise<ReleaseOutcome> {
  const unsure = new UnsureCommits();
  let ahead = options.ahead;
  return withCasRetry(
    () => {
      const reads = ahead;
      ahead = undefined;
      return attemptRelease(store, { handleIds, unsure, side: options.side, ahead: reads });
    },
    { what: `release of handles ${handleIds.join(', ')}` },
  );
}

/** The handles and the caller's side keys, in one round trip. */
function readHandlesWithSide(
  store: BlockStore,
  handleIds: readonly string[],
  side: SideHooks | undefined,
): Promise<HandleRead> {
  return store.readHandles(handleIds, side === undefined ? {} : { side: side.reads });
}

function blocksOf(read: HandleRead): string[] {
  return [...new Set([...read.handles.values()].flatMap((h) => Object.keys(h.value.block)))];
}

async function attemptRelease(
  store: BlockStore,
  options: {
    handleIds: readonly string[];
    unsure: UnsureCommits;
    side: SideHooks | undefined;
    ahead: ReleaseReads | undefined;
  },
): Promise<ReleaseOutcome | typeof CAS_CONFLICT> {
  const { handleIds, unsure, side, ahead } = options;
  // After a release of unknown outcome, handles found gone were released by it.
  const read =
    ahead?.read ?? (await unsure.read(() => readHandlesWithSide(store, handleIds, side)));
  side?.admit?.(read.side);
  const { handles } = read;
  const attempt = new Attempt(store, { ...NO_VIEW, side: read.side });
  attempt.requests++;
  if (handles.size === 0) {
    const sideOnly = () => attempt.commitWithSide(side, { addresses: [], alone: true });
    if ((await unsure.commit(sideOnly)) === CAS_CONFLICT) return CAS_CONFLICT;
    return { released: 0, requests: attempt.requests };
  }
  const cidrs = blocksOf(read);
  if (ahead === undefined) await attempt.fetch(cidrs);
  else attempt.adopt(cidrs, ahead.blocks);
  let released = 0;
  for (const cidr of cidrs) {
    const original = attempt.block(cidr);
    if (original === null) continue;
    let block = original;
    for (const id of handles.keys()) {
      const result = releaseByHandle(block, id);
      released += result.released.length;
      block = result.block;
    }
    if (block === original) continue;
    attempt.setBlock(cidr, isBlockEmpty(block) && block.affinity === null ? null : block);
  }
  for (const [id, handle] of handles) {
    attempt.add({ kind: 'handle', id, expect: handle.revision, value: null });
  }
  const all = () => attempt.commitWithSide(side, { addresses: [], alone: false });
  if ((await unsure.commit(all)) === CAS_CONFLICT) return CAS_CONFLICT;
  return { released, requests: attempt.requests };
}
