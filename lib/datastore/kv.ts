// The one key-value interface every etcd transport implements. It mirrors etcd v3's KV service
// closely (range, put, delete range, txn with compares) so that the CAS semantics of Calico's
// backend (calico-behaviour.md §7.2) can be expressed on top of it without transport knowledge.
// Keys and values are UTF-8 strings; revisions are plain numbers, checked to be safe integers.

/** One key as etcd stores it. */
export interface KeyValue {
  key: string;
  /** The UTF-8 value; empty when the range asked for keys only. */
  value: string;
  createRevision: number;
  modRevision: number;
  /** Number of writes since creation; 0 would mean absent, so never 0 here. */
  version: number;
}

/** What a range reads: one key, or every key starting with it. */
export interface RangeOptions {
  /** Treat the key as a prefix; the empty prefix means every key. */
  prefix?: boolean;
  /** At most this many keys (0 or absent: no limit); `more` tells whether some were left off. */
  limit?: number;
  /** Leave values empty (cheaper for listings that only need keys and revisions). */
  keysOnly?: boolean;
}

/** The answer to a range. */
export interface RangeResult {
  kvs: KeyValue[];
  /** The store revision the range was served at. */
  revision: number;
  /** True when `limit` cut the result short. */
  more: boolean;
}

/** How a compare relates the stored field to the given value. */
export type CompareResult = 'equal' | 'notEqual' | 'greater' | 'less';

/** One txn guard; an absent key has version, createRevision and modRevision 0. */
export type Compare =
  | {
      key: string;
      target: 'version' | 'createRevision' | 'modRevision';
      result: CompareResult;
      value: number;
    }
  | { key: string; target: 'value'; result: CompareResult; value: string };

/** One operation inside a txn branch. */
export type Op =
  | { op: 'put'; key: string; value: string }
  | { op: 'delete'; key: string; prefix?: boolean }
  | ({ op: 'range'; key: string } & RangeOptions);

/** The result of one txn operation, in the order of the branch that ran. */
export type OpResult =
  | { op: 'put' }
  | { op: 'delete'; deleted: number }
  | { op: 'range'; kvs: KeyValue[]; more: boolean };

/** A transaction: if every compare holds, run `success`, else `failure`. */
export interface TxnRequest {
  compare: Compare[];
  success: Op[];
  failure: Op[];
}

/** The outcome of a transaction. */
export interface TxnResult {
  succeeded: boolean;
  /** The store revision after the txn (equal to the new modRevision of every key it wrote). */
  revision: number;
  results: OpResult[];
}

/** The outcome of a put. */
export interface PutResult {
  /** The new store revision, which is the modRevision of the key just written. */
  revision: number;
}

/** The outcome of a delete. */
export interface DeleteResult {
  revision: number;
  deleted: number;
}

/**
 * A connection to etcd. Every call fails with a `DatastoreError` (errors.ts): `Unavailable` for
 * transport failures and timeouts, `Failed` when etcd answered with an error.
 */
export interface Kv {
  /** The endpoints this client talks to, for messages. */
  readonly endpoints: readonly string[];
  get(key: string): Promise<KeyValue | undefined>;
  range(key: string, options?: RangeOptions): Promise<RangeResult>;
  put(key: string, value: string): Promise<PutResult>;
  delete(key: string, options?: { prefix?: boolean }): Promise<DeleteResult>;
  txn(request: TxnRequest): Promise<TxnResult>;
  /** Frees sockets and timers; later calls fail. Safe to call twice. */
  close(): void;
}
