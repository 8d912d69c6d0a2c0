import { alreadyExists, conflict, DatastoreError, notFound } from './errors';
import type { KeyValue, Kv, TxnResult } from './kv';

// Calico's storage semantics on top of Kv (libcalico-go backend/etcdv3, calico-behaviour.md §7.2):
// create = "if version(key) == 0 then put else get", update and delete = "if mod_revision(key) ==
// rev then write else get". The revision is etcd's mod_revision, which Calico exposes as the
// resourceVersion. Values are never logged or put in messages: they may hold sensitive specs.

/** A stored value with the revision to pass back for compare-and-swap. */
export interface Versioned {
  key: string;
  value: string;
  modRevision: number;
}

/** The expected revision of a compare-and-swap write. */
export interface Expect {
  modRevision: number;
}

/** Versioned reads and compare-and-swap writes of single keys. */
export class Store {
  constructor(readonly kv: Kv) {}

  /** The value at `key`; NotFound when absent. */
  async get(key: string): Promise<Versioned> {
    const found = await this.find(key);
    if (found === undefined) throw notFound(key);
    return found;
  }

  /** The value at `key`, or undefined when absent. */
  async find(key: string): Promise<Versioned | undefined> {
    const kv = await this.kv.get(key);
    return kv === undefined ? undefined : versioned(kv);
  }

  /** Every key under `prefix`, in key order, read at one revision. */
  async list(prefix: string): Promise<{ items: Versioned[]; revision: number }> {
    const { kvs, revision } = await this.kv.range(prefix, { prefix: true });
    return { items: kvs.map(versioned), revision };
  }

  /** Writes a new key; AlreadyExists when it is there already. */
  async create(key: string, value: string): Promise<Versioned> {
    const result = await this.kv.txn({
      compare: [{ key, target: 'version', result: 'equal', value: 0 }],
      success: [{ op: 'put', key, value }],
      failure: [{ op: 'range', key, keysOnly: true }],
    });
    if (!result.succeeded) throw alreadyExists(key);
    return { key, value, modRevision: result.revision };
  }

  /** Replaces the value if the key is still at `expect.modRevision`; NotFound or Conflict. */
  async update(key: string, value: string, expect: Expect): Promise<Versioned> {
    const result = await this.kv.txn({
      compare: [{ key, target: 'modRevision', result: 'equal', value: checked(expect) }],
      success: [{ op: 'put', key, value }],
      failure: [{ op: 'range', key, keysOnly: true }],
    });
    if (!result.succeeded) throw lost(key, { expect, result });
    return { key, value, modRevision: result.revision };
  }

  /** Deletes the key if it is still at `expect.modRevision`; NotFound or Conflict. */
  async deleteIf(key: string, expect: Expect): Promise<void> {
    const result = await this.kv.txn({
      compare: [{ key, target: 'modRevision', result: 'equal', value: checked(expect) }],
      success: [{ op: 'delete', key }],
      failure: [{ op: 'range', key, keysOnly: true }],
    });
    if (!result.succeeded) throw lost(key, { expect, result });
  }

  /** Deletes the key whatever its revision; NotFound when absent. */
  async delete(key: string): Promise<void> {
    const { deleted } = await this.kv.delete(key);
    if (deleted === 0) throw notFound(key);
  }
}

function versioned(kv: KeyValue): Versioned {
  return { key: kv.key, value: kv.value, modRevision: kv.modRevision };
}

/** A revision of 0 would match an absent key: "update" would then create it. */
function checked(expect: Expect): number {
  if (!Number.isSafeInteger(expect.modRevision) || expect.modRevision <= 0) {
    throw new DatastoreError(
      'Failed',
      `compare-and-swap needs a revision above 0, got ${expect.modRevision}`,
    );
  }
  return expect.modRevision;
}

/** Why a compare-and-swap failed, from the failure branch's keys-only read. */
function lost(key: string, outcome: { expect: Expect; result: TxnResult }): DatastoreError {
  const { expect, result } = outcome;
  const read = result.results[0];
  const current = read?.op === 'range' ? read.kvs[0] : undefined;
  if (current === undefined) return notFound(key);
  return conflict(key, { expected: expect.modRevision, actual: current.modRevision });
}
