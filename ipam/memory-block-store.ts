import type {
  AffinityRecord,
  BlockStore,
  HandleRead,
  HostView,
  SideRead,
  IpamSettings,
  PoolSpec,
  StoreWrite,
  Versioned,
} from './block-store';
import { storedTextOf } from './stored-text';
import type { BlockState, HandleState } from './core';

const DEFAULT_SETTINGS: IpamSettings = {
  strictAffinity: false,
  autoAllocateBlocks: true,
  maxBlocksPerHost: 0,
};

/**
 * A BlockStore in memory with etcd's revision semantics: one global revision, bumped by every
 * commit; a commit applies all of its writes or none. For unit tests of the allocation logic; it
 * proves nothing about etcd, which has its own tests.
 */
export class MemoryBlockStore implements BlockStore {
  private revision = 0;
  private readonly blocks = new Map<string, Versioned<BlockState>>();
  private readonly handles = new Map<string, Versioned<HandleState>>();
  private readonly affinities = new Map<string, Versioned<AffinityRecord>>();
  private readonly nodes = new Map<string, Versioned<{ labels: Record<string, string> }>>();
  /** Keys outside IPAM (calico's endpoints and the like), raw. */
  private readonly sideKeys = new Map<string, Versioned<string>>();
  pools: PoolSpec[] = [];
  settings: IpamSettings = DEFAULT_SETTINGS;
  reservedCidrs: string[] = [];
  /** Round trips served, as etcd requests would be counted. */
  requests = 0;
  /** Called before each commit is applied: lets a test interleave a competing writer. */
  beforeCommit: (() => void) | undefined;

  /** Registers a node with labels (as calico/node or the CLI would). */
  setNode(name: string, labels: Record<string, string> = {}): void {
    this.nodes.set(name, { value: { labels }, revision: ++this.revision });
  }

  /** Every block, for assertions. */
  allBlocks(): BlockState[] {
    return [...this.blocks.values()].map((b) => b.value);
  }

  /** A block's revision (0 when absent), for tests that play a competing writer. */
  revisionOfBlock(cidr: string): number {
    return this.blocks.get(cidr)?.revision ?? 0;
  }

  /** Every handle, for assertions. */
  allHandles(): Map<string, HandleState> {
    return new Map([...this.handles].map(([id, h]) => [id, h.value]));
  }

  /** Affinity CIDRs per node, for assertions. */
  affinitiesOf(node: string): string[] {
    return [...this.affinities.keys()]
      .filter((k) => k.startsWith(`${node}|`))
      .map((k) => k.slice(node.length + 1));
  }

  /** Sets a side key as another writer would. */
  setSide(key: string, value: string): void {
    this.sideKeys.set(key, { value, revision: ++this.revision });
  }

  /** A side key's value, for assertions. */
  side(key: string): string | undefined {
    return this.sideKeys.get(key)?.value;
  }

  readHost(
    node: string,
    options: {
      handleIds: readonly string[];
      side?: readonly SideRead[];
      blocks?: readonly string[];
    },
  ): Promise<HostView> {
    this.requests++;
    return Promise.resolve({
      settings: this.settings,
      pools: [...this.pools].sort((a, b) => (a.name < b.name ? -1 : 1)),
      node: this.nodes.get(node),
      affinities: [...this.affinities]
        .filter(([k]) => k.startsWith(`${node}|`))
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([, v]) => v),
      handles: this.pick(this.handles, options.handleIds),
      reservedCidrs: [...this.reservedCidrs],
      side: this.pickSide(options.side),
      blocks: new Map((options.blocks ?? []).map((cidr) => [cidr, this.blocks.get(cidr) ?? null])),
    });
  }

  readHandles(
    ids: readonly string[],
    options?: { side?: readonly SideRead[] },
  ): Promise<HandleRead> {
    this.requests++;
    return Promise.resolve({
      handles: this.pick(this.handles, ids),
      side: this.pickSide(options?.side),
    });
  }

  private pickSide(reads: readonly SideRead[] = []): Map<string, Versioned<string>> {
    return this.pick(
      this.sideKeys,
      reads.map((r) => r.key),
    );
  }

  readBlocks(cidrs: readonly string[]): Promise<ReadonlyMap<string, Versioned<BlockState>>> {
    this.requests++;
    return Promise.resolve(this.pick(this.blocks, cidrs));
  }

  listBlocks(family: 4 | 6): Promise<readonly Versioned<BlockState>[]> {
    this.requests++;
    return Promise.resolve(
      [...this.blocks.values()].filter((b) => b.value.cidr.includes(':') === (family === 6)),
    );
  }

  commit(writes: readonly StoreWrite[]): Promise<number | undefined> {
    this.requests++;
    this.beforeCommit?.();
    if (!writes.every((w) => this.revisionOf(w) === w.expect && this.textHolds(w))) {
      return Promise.resolve(undefined);
    }
    const revision = ++this.revision;
    for (const w of writes) this.apply(w, revision);
    return Promise.resolve(revision);
  }

  /** A block write's expected stored text, if any, is the current block's. */
  private textHolds(w: StoreWrite): boolean {
    if (w.kind !== 'block' || w.expectText === undefined) return true;
    const current = this.blocks.get(w.cidr)?.value;
    return current !== undefined && storedTextOf(current) === w.expectText;
  }

  private revisionOf(w: StoreWrite): number {
    switch (w.kind) {
      case 'block':
        return this.blocks.get(w.cidr)?.revision ?? 0;
      case 'handle':
        return this.handles.get(w.id)?.revision ?? 0;
      case 'affinity':
        return this.affinities.get(`${w.node}|${w.cidr}`)?.revision ?? 0;
      case 'node':
        return this.nodes.get(w.name)?.revision ?? 0;
      case 'side':
        return this.sideKeys.get(w.key)?.revision ?? 0;
    }
  }

  private apply(w: StoreWrite, revision: number): void {
    const set = <T>(map: Map<string, Versioned<T>>, key: string, value: T | null): void => {
      if (value === null) map.delete(key);
      else map.set(key, { value, revision });
    };
    switch (w.kind) {
      case 'block':
        set(this.blocks, w.cidr, w.value);
        return;
      case 'handle':
        set(this.handles, w.id, w.value);
        return;
      case 'affinity':
        set(
          this.affinities,
          `${w.node}|${w.cidr}`,
          w.value === null ? null : { cidr: w.cidr, state: w.value },
        );
        return;
      case 'node':
        set(this.nodes, w.name, { labels: {} });
        return;
      case 'side':
        set(this.sideKeys, w.key, w.value);
        return;
    }
  }

  private pick<T>(
    map: Map<string, Versioned<T>>,
    keys: readonly string[],
  ): Map<string, Versioned<T>> {
    return new Map(
      keys.flatMap((k): [string, Versioned<T>][] => {
        const v = map.get(k);
        return v === undefined ? [] : [[k, v]];
      }),
    );
  }
}
