import { CAS_CONFLICT, withCasRetry } from '../lib/datastore/cas-retry';
import { Attempt } from './attempt';
import type { BlockStore, HostView, SideHooks } from './block-store';
import { isBlockEmpty, releaseByHandle } from './core';
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

/**
 * Releases every address of the given handles (calico-ipam DEL: `<network>.<containerID>` and the
 * legacy workload ID) in one compare-and-swap commit. Unknown handles are fine: DEL is idempotent.
 * A block left empty and without affinity is deleted; empty affine blocks stay with their host.
 */
export function releaseHandles(
  store: BlockStore,
  handleIds: readonly string[],
  options: { side?: SideHooks } = {},
): Promise<ReleaseOutcome> {
  const unsure = new UnsureCommits();
  return withCasRetry(() => attemptRelease(store, { handleIds, unsure, side: options.side }), {
    what: `release of handles ${handleIds.join(', ')}`,
  });
}

async function attemptRelease(
  store: BlockStore,
  options: { handleIds: readonly string[]; unsure: UnsureCommits; side: SideHooks | undefined },
): Promise<ReleaseOutcome | typeof CAS_CONFLICT> {
  const { handleIds, unsure, side } = options;
  // After a release of unknown outcome, handles found gone were released by it.
  const read = await unsure.read(() =>
    store.readHandles(handleIds, side === undefined ? {} : { side: side.reads }),
  );
  side?.admit?.(read.side);
  const { handles } = read;
  const attempt = new Attempt(store, { ...NO_VIEW, side: read.side });
  attempt.requests++;
  if (handles.size === 0) {
    const sideOnly = () => attempt.commitWithSide(side, { addresses: [], alone: true });
    if ((await unsure.commit(sideOnly)) === CAS_CONFLICT) return CAS_CONFLICT;
    return { released: 0, requests: attempt.requests };
  }
  const cidrs = [...new Set([...handles.values()].flatMap((h) => Object.keys(h.value.block)))];
  await attempt.fetch(cidrs);
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
