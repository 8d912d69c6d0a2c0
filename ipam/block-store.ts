import type { BlockState, HandleState } from './core';

// The allocator's whole view of the datastore: a few batched reads and one multi-key
// compare-and-swap commit. Two implementations keep the same revision semantics: the etcd store
// (one etcd request per call) and an in-memory store for tests of the allocation logic.

/** A value with the revision it was read at (etcd mod_revision; writes expect it unchanged). */
export interface Versioned<T> {
  readonly value: T;
  readonly revision: number;
}

/**
 * A block in a view. `stored`: its text as etcd holds it, when the value came from the previous
 * holder of the host lock rather than from etcd (handed-state.ts); a commit writing the block then
 * compares that text too, so a value that is not etcd's can never be written back.
 */
export type ViewBlock = Versioned<BlockState> & { readonly stored?: string };

/** An IPPool with Calico's read defaults already applied (calico-behaviour.md §7.3). */
export interface PoolSpec {
  readonly name: string;
  readonly cidr: string;
  readonly blockSize: number;
  readonly disabled: boolean;
  readonly nodeSelector: string;
  readonly allowedUses: readonly string[];
  readonly assignmentMode: string;
}

/** The IPAM config (§7.5): a missing key gives the defaults, a stored value omits = false/0. */
export interface IpamSettings {
  readonly strictAffinity: boolean;
  readonly autoAllocateBlocks: boolean;
  /** 0 means the default of 20 (§8.2). */
  readonly maxBlocksPerHost: number;
}

/** This host's block affinity for one block CIDR. */
export interface AffinityRecord {
  readonly cidr: string;
  readonly state: string;
}

/**
 * A key outside IPAM that the caller reads with IPAM's first read and may write in IPAM's commit:
 * calico's WorkloadEndpoint, Profile and ClusterInformation ride along, so an ADD or DEL costs no
 * round trip of its own (issue: ≤ 3 etcd requests each).
 */
export interface SideRead {
  readonly key: string;
  /** The value is not needed, only whether the key exists and its revision. */
  readonly keysOnly?: boolean;
}

/** Side keys as read; an absent key is absent from the map. */
export type SideValues = ReadonlyMap<string, Versioned<string>>;

/** A side key to write in the commit: `expect` is the revision read (0: must be absent). */
export interface SideWrite {
  readonly key: string;
  readonly expect: number;
  /** The new value; null deletes the key. */
  readonly value: string | null;
}

/**
 * What a caller adds to an IPAM operation: keys read with its first read, a check of them before
 * anything is decided, a promise awaited before anything is written, and the writes that go into
 * the same compare-and-swap commit. A CAS conflict repeats the whole attempt, hooks included.
 */
export interface SideHooks {
  readonly reads: readonly SideRead[];
  /** Throws to stop the operation before anything is written. */
  readonly admit?: (side: SideValues) => void;
  /** Awaited just before the commit; a rejection stops the operation, nothing written. */
  readonly gate?: Promise<unknown>;
  /** The side writes of this attempt, given what was read and the addresses it holds. */
  readonly writes?: (side: SideValues, addresses: readonly string[]) => readonly SideWrite[];
  /**
   * Block CIDRs the caller expects an assignment to look at (calico: the blocks of the pods this
   * node already runs, from its host routes), asked for at each attempt's first read, once the
   * host lock is held (in a burst, the pods that went first have their routes by then), and read
   * with it: when the guess is right, the blocks cost no round trip of their own; a wrong guess
   * costs a few absent keys.
   */
  readonly blockHints?: () => readonly string[];
}

/** Everything an assignment needs before it looks at blocks, read in one round trip. */
export interface HostView {
  readonly settings: IpamSettings;
  /** Every pool, in key (name) order. */
  readonly pools: readonly PoolSpec[];
  /** This host's Calico Node; undefined when not registered yet. */
  readonly node: Versioned<{ readonly labels: Readonly<Record<string, string>> }> | undefined;
  /** This host's block affinities, both families, in key order. */
  readonly affinities: readonly Versioned<AffinityRecord>[];
  /** The requested handles that exist. */
  readonly handles: ReadonlyMap<string, Versioned<HandleState>>;
  /** Every IPReservation's reservedCIDRs, as text. */
  readonly reservedCidrs: readonly string[];
  /** The side keys asked for. */
  readonly side: SideValues;
  /** The blocks asked for with the view (null: absent), read at the same revision. */
  readonly blocks?: ReadonlyMap<string, ViewBlock | null>;
}

/** Handles (those that exist among the ids asked for) and side keys, read in one round trip. */
export interface HandleRead {
  readonly handles: ReadonlyMap<string, Versioned<HandleState>>;
  readonly side: SideValues;
}

/** One key to write in a commit; `expect` is the revision read (0: the key must be absent). */
export type StoreWrite =
  | {
      readonly kind: 'block';
      readonly cidr: string;
      readonly expect: number;
      /** The stored text the new value was computed from, compared too (see ViewBlock). */
      readonly expectText?: string;
      readonly value: BlockState | null;
    }
  | {
      readonly kind: 'handle';
      readonly id: string;
      readonly expect: number;
      readonly value: HandleState | null;
    }
  | {
      readonly kind: 'affinity';
      readonly node: string;
      readonly cidr: string;
      readonly expect: number;
      /** A claim writes the affinity straight as confirmed: block and affinity are one txn. */
      readonly value: 'confirmed' | null;
    }
  /** Registers a Calico Node with no labels, as calico/node would on first start. */
  | { readonly kind: 'node'; readonly name: string; readonly expect: 0 }
  | ({ readonly kind: 'side' } & SideWrite);

/** The datastore operations of IPAM. Each call is one round trip to etcd. */
export interface BlockStore {
  readHost(
    node: string,
    options: {
      handleIds: readonly string[];
      side?: readonly SideRead[];
      blocks?: readonly string[];
    },
  ): Promise<HostView>;
  /** The handles that exist among `ids` (DEL and CHECK need nothing else first). */
  readHandles(
    ids: readonly string[],
    options?: { side?: readonly SideRead[] },
  ): Promise<HandleRead>;
  /** The blocks that exist among `cidrs`. */
  readBlocks(cidrs: readonly string[]): Promise<ReadonlyMap<string, Versioned<BlockState>>>;
  /** Every block of one family: only for exhaustion, borrowing and GC, never the common path. */
  listBlocks(family: 4 | 6): Promise<readonly Versioned<BlockState>[]>;
  /**
   * Applies every write iff every `expect` still holds: the store revision the writes now have, or
   * undefined when any compare lost.
   */
  commit(writes: readonly StoreWrite[]): Promise<number | undefined>;
}
