import type {
  BlockStore,
  HostView,
  SideHooks,
  StoreWrite,
  Versioned,
  ViewBlock,
} from './block-store';
import { incrementHandle, type BlockState, type HandleState } from './core';

/**
 * The working state of one compare-and-swap attempt: blocks as read (with their revisions), the
 * new values computed from them, and everything to write in the single commit. Nothing is written
 * before the commit, so a failed attempt leaves no trace (calico design/ipam: compute, persist,
 * then update).
 */
export class Attempt {
  private readonly read = new Map<string, ViewBlock | null>();
  private readonly changed = new Map<string, BlockState | null>();
  private readonly extra: StoreWrite[] = [];
  private listed: Partial<Record<4 | 6, readonly Versioned<BlockState>[]>> = {};
  /** Etcd round trips this attempt made, for the request-count figures and tests. */
  requests = 0;

  constructor(
    readonly store: BlockStore,
    readonly view: HostView,
  ) {
    // Blocks read with the view (hinted by the caller) are known without a round trip.
    for (const [cidr, block] of view.blocks ?? []) this.read.set(cidr, block);
  }

  /** Reads the blocks not read yet, in one round trip; absent blocks are remembered as such. */
  async fetch(cidrs: readonly string[]): Promise<void> {
    const missing = cidrs.filter((c) => !this.read.has(c));
    if (missing.length === 0) return;
    this.adopt(missing, await this.store.readBlocks(missing));
  }

  /** Takes blocks read for `cidrs` (by fetch, or ahead of the attempt); absent ones as such. */
  adopt(cidrs: readonly string[], found: ReadonlyMap<string, Versioned<BlockState>>): void {
    this.requests++;
    for (const cidr of cidrs) this.read.set(cidr, found.get(cidr) ?? null);
  }

  /** Every block of a family, once per attempt (exhaustion paths only). */
  async list(family: 4 | 6): Promise<readonly Versioned<BlockState>[]> {
    const cached = this.listed[family];
    if (cached !== undefined) return cached;
    this.requests++;
    const blocks = await this.store.listBlocks(family);
    this.listed = { ...this.listed, [family]: blocks };
    for (const b of blocks) if (!this.read.has(b.value.cidr)) this.read.set(b.value.cidr, b);
    return blocks;
  }

  /** The current value of a block in this attempt: changed, else as read; null when absent. */
  block(cidr: string): BlockState | null {
    const changed = this.changed.get(cidr);
    if (changed !== undefined) return changed;
    return this.read.get(cidr)?.value ?? null;
  }

  /** True when the block was read (present or absent) in this attempt. */
  known(cidr: string): boolean {
    return this.read.has(cidr) || this.changed.has(cidr);
  }

  /** Sets a block's new value (null deletes it) for the commit. */
  setBlock(cidr: string, value: BlockState | null): void {
    this.changed.set(cidr, value);
  }

  /** Adds a write that is not a block (affinity, node registration). */
  add(write: StoreWrite): void {
    this.extra.push(write);
  }

  /** The handle's new value after taking `count` addresses in each block listed. */
  static grow(handle: HandleState | null, perBlock: ReadonlyMap<string, number>): HandleState {
    let next = handle ?? { block: {} };
    for (const [cidr, count] of perBlock) next = incrementHandle(next, cidr, { count });
    return next;
  }

  /** Every write of the attempt, each guarded by the revision it was computed from. */
  writes(): StoreWrite[] {
    const blocks: StoreWrite[] = [...this.changed].map(([cidr, value]) => {
      const read = this.read.get(cidr);
      return {
        kind: 'block',
        cidr,
        expect: read?.revision ?? 0,
        ...(read?.stored === undefined ? {} : { expectText: read.stored }),
        value,
      };
    });
    return [...blocks, ...this.extra];
  }

  /** Every block this attempt read or wrote, as its commit left them (absent ones left out). */
  blocksAfterCommit(): Map<string, Versioned<BlockState>> {
    const out = new Map<string, Versioned<BlockState>>();
    const revision = this.committedAt;
    if (revision === undefined) return out;
    for (const [cidr, read] of this.read) {
      if (read !== null && !this.changed.has(cidr)) out.set(cidr, read);
    }
    for (const [cidr, value] of this.changed) {
      if (value !== null) out.set(cidr, { value, revision });
    }
    return out;
  }

  /** The store revision of this attempt's commit, once it succeeded. */
  committedAt: number | undefined;

  /** Commits everything in one compare-and-swap transaction; false when a compare lost. */
  async commit(): Promise<boolean> {
    this.requests++;
    this.committedAt = await this.store.commit(this.writes());
    return this.committedAt !== undefined;
  }

  /**
   * Awaits the caller's gate, adds its side writes and commits. `alone`: the attempt has nothing
   * of its own to write, so without side writes there is nothing to commit. False on a lost
   * compare.
   */
  async commitWithSide(
    side: SideHooks | undefined,
    options: { addresses: readonly string[]; alone: boolean },
  ): Promise<boolean> {
    await side?.gate;
    const writes = side?.writes?.(this.view.side, options.addresses) ?? [];
    for (const write of writes) this.add({ kind: 'side', ...write });
    if (options.alone && writes.length === 0) return true;
    return this.commit();
  }
}
