import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DatastoreError } from '../errors';
import type { Compare, Kv } from '../kv';
import { Store } from '../resources';
import type { EtcdTransport } from '../settings';
import { clientFactory, type ClientFactory } from './clients';
import { startEtcd, type EtcdServer } from './etcd-server';
import { defineFailureTests } from './failure-suite';
import { defineTlsTests } from './tls-suite';

// THE suite for a Kv transport: every transport must pass all of it against a real etcd.

/** Defines every etcd test for `transport` (call it at the top level of a *.etcd.test.ts file). */
export function defineKvSuite(transport: EtcdTransport): void {
  describe(`etcd Kv over ${transport}`, () => {
    let etcd: EtcdServer;
    const clients = clientFactory(transport);
    let kv: Kv;
    beforeAll(async () => {
      etcd = await startEtcd();
    });
    afterAll(async () => {
      await etcd.stop();
    });
    beforeEach(async () => {
      await etcd.wipe();
      kv = clients.open(etcd.endpoint);
    });

    const current = (): Kv => kv;
    const endpoint = (): string => etcd.endpoint;
    describe('reads and writes', () => {
      defineBasicTests(current);
    });
    describe('transactions', () => {
      defineTxnTests(current);
    });
    describe('Calico storage semantics', () => {
      defineStoreTests({ kv: current, clients, endpoint });
    });
    describe('failures', () => {
      defineFailureTests(clients, endpoint);
    });
  });
  describe(`etcd Kv over ${transport} with TLS`, () => {
    defineTlsTests(transport);
  });
}

function defineBasicTests(kv: () => Kv): void {
  it('gets nothing for a missing key', async () => {
    expect(await kv().get('/missing')).toBeUndefined();
  });

  it('puts and gets a key with its revisions and version', async () => {
    const first = await kv().put('/a', 'one');
    const read1 = await kv().get('/a');
    expect(read1).toEqual({
      key: '/a',
      value: 'one',
      createRevision: first.revision,
      modRevision: first.revision,
      version: 1,
    });
    const second = await kv().put('/a', 'two');
    expect(second.revision).toBeGreaterThan(first.revision);
    expect(await kv().get('/a')).toEqual({
      key: '/a',
      value: 'two',
      createRevision: first.revision,
      modRevision: second.revision,
      version: 2,
    });
  });

  it('keeps UTF-8 keys and values, JSON and the empty value intact', async () => {
    const value = '{"name":"nœud-ü","emoji":"🐱","nl":"a\\nb"}';
    await kv().put('/ключ/ü', value);
    await kv().put('/empty', '');
    expect((await kv().get('/ключ/ü'))?.value).toBe(value);
    expect(await kv().get('/empty')).toMatchObject({ key: '/empty', value: '', version: 1 });
  });

  it('ranges over a prefix in key order, leaving out siblings that only share characters', async () => {
    for (const key of ['/p/b', '/p/a', '/p/c/d', '/px', '/o']) await kv().put(key, key);
    const { kvs, more, revision } = await kv().range('/p/', { prefix: true });
    expect(kvs.map((item) => item.key)).toEqual(['/p/a', '/p/b', '/p/c/d']);
    expect(kvs.map((item) => item.value)).toEqual(['/p/a', '/p/b', '/p/c/d']);
    expect(more).toBe(false);
    expect(revision).toBe((await kv().put('/z', 'z')).revision - 1);
  });

  it('ranges over one exact key without prefix', async () => {
    await kv().put('/k', '1');
    await kv().put('/k2', '2');
    const { kvs } = await kv().range('/k');
    expect(kvs.map((item) => item.key)).toEqual(['/k']);
  });

  it('ranges over every key with the empty prefix', async () => {
    await kv().put('/x', '1');
    await kv().put('a', '2');
    const { kvs } = await kv().range('', { prefix: true });
    expect(kvs.map((item) => item.key)).toEqual(['/x', 'a']);
  });

  it('limits a range and says that more keys exist', async () => {
    for (const key of ['/l/1', '/l/2', '/l/3']) await kv().put(key, 'v');
    const cut = await kv().range('/l/', { prefix: true, limit: 2 });
    expect(cut.kvs.map((item) => item.key)).toEqual(['/l/1', '/l/2']);
    expect(cut.more).toBe(true);
    const whole = await kv().range('/l/', { prefix: true, limit: 3 });
    expect(whole.kvs).toHaveLength(3);
    expect(whole.more).toBe(false);
  });

  it('returns keys and revisions without values when asked for keys only', async () => {
    const { revision } = await kv().put('/ko/a', 'secret');
    const { kvs } = await kv().range('/ko/', { prefix: true, keysOnly: true });
    expect(kvs).toEqual([
      { key: '/ko/a', value: '', createRevision: revision, modRevision: revision, version: 1 },
    ]);
  });

  it('refuses a negative limit without asking etcd', async () => {
    await expect(kv().range('/l/', { prefix: true, limit: -1 })).rejects.toMatchObject({
      kind: 'Failed',
    });
  });

  it('deletes one key and reports how many were deleted', async () => {
    await kv().put('/d', 'v');
    await kv().put('/d2', 'v');
    const gone = await kv().delete('/d');
    expect(gone.deleted).toBe(1);
    expect(await kv().get('/d')).toBeUndefined();
    expect(await kv().get('/d2')).toBeDefined();
    expect((await kv().delete('/d')).deleted).toBe(0);
  });

  it('deletes a prefix and nothing beside it', async () => {
    for (const key of ['/dp/a', '/dp/b/c', '/dpx']) await kv().put(key, 'v');
    expect((await kv().delete('/dp/', { prefix: true })).deleted).toBe(2);
    const { kvs } = await kv().range('', { prefix: true });
    expect(kvs.map((item) => item.key)).toEqual(['/dpx']);
  });
}

function defineTxnTests(kv: () => Kv): void {
  it('runs the success branch when the compares hold', async () => {
    const result = await kv().txn({
      compare: [{ key: '/t', target: 'version', result: 'equal', value: 0 }],
      success: [{ op: 'put', key: '/t', value: 'new' }],
      failure: [{ op: 'range', key: '/t' }],
    });
    expect(result.succeeded).toBe(true);
    expect(result.results).toEqual([{ op: 'put' }]);
    expect(await kv().get('/t')).toMatchObject({ value: 'new', modRevision: result.revision });
  });

  it('runs the failure branch, with its reads, when a compare fails', async () => {
    const { revision } = await kv().put('/t', 'old');
    const result = await kv().txn({
      compare: [{ key: '/t', target: 'version', result: 'equal', value: 0 }],
      success: [{ op: 'put', key: '/t', value: 'new' }],
      failure: [{ op: 'range', key: '/t' }],
    });
    expect(result.succeeded).toBe(false);
    expect(result.revision).toBe(revision);
    expect(result.results).toEqual([
      {
        op: 'range',
        more: false,
        kvs: [
          { key: '/t', value: 'old', createRevision: revision, modRevision: revision, version: 1 },
        ],
      },
    ]);
    expect((await kv().get('/t'))?.value).toBe('old');
  });

  it('evaluates every compare target and result as etcd does', async () => {
    await kv().put('/other', 'x');
    const created = (await kv().put('/c', 'b')).revision;
    const modified = (await kv().put('/c', 'b')).revision;
    // '/c' now: version 2, createRevision `created`, modRevision `modified`, value "b".
    const cases: [Compare, boolean][] = [
      [{ key: '/c', target: 'version', result: 'equal', value: 2 }, true],
      [{ key: '/c', target: 'version', result: 'notEqual', value: 2 }, false],
      [{ key: '/c', target: 'version', result: 'greater', value: 1 }, true],
      [{ key: '/c', target: 'version', result: 'less', value: 2 }, false],
      [{ key: '/c', target: 'createRevision', result: 'equal', value: created }, true],
      [{ key: '/c', target: 'createRevision', result: 'less', value: created }, false],
      [{ key: '/c', target: 'modRevision', result: 'equal', value: modified }, true],
      [{ key: '/c', target: 'modRevision', result: 'equal', value: created }, false],
      [{ key: '/c', target: 'modRevision', result: 'greater', value: created }, true],
      [{ key: '/c', target: 'value', result: 'equal', value: 'b' }, true],
      [{ key: '/c', target: 'value', result: 'notEqual', value: 'b' }, false],
      [{ key: '/c', target: 'value', result: 'greater', value: 'a' }, true],
      [{ key: '/c', target: 'value', result: 'less', value: 'a' }, false],
      [{ key: '/absent', target: 'version', result: 'equal', value: 0 }, true],
      [{ key: '/absent', target: 'modRevision', result: 'equal', value: 0 }, true],
    ];
    const outcomes = await Promise.all(
      cases.map(
        async ([compare]) =>
          (await kv().txn({ compare: [compare], success: [], failure: [] })).succeeded,
      ),
    );
    expect(outcomes).toEqual(cases.map(([, expected]) => expected));
  });

  it('needs every compare to hold, and applies all operations of the branch at one revision', async () => {
    await kv().put('/m/a', '1');
    await kv().put('/m/b', '2');
    const failed = await kv().txn({
      compare: [
        { key: '/m/a', target: 'value', result: 'equal', value: '1' },
        { key: '/m/b', target: 'value', result: 'equal', value: 'nope' },
      ],
      success: [{ op: 'delete', key: '/m/a' }],
      failure: [],
    });
    expect(failed.succeeded).toBe(false);
    const result = await kv().txn({
      compare: [
        { key: '/m/a', target: 'value', result: 'equal', value: '1' },
        { key: '/m/b', target: 'value', result: 'equal', value: '2' },
      ],
      success: [
        { op: 'delete', key: '/m/', prefix: true },
        { op: 'put', key: '/n/x', value: 'x' },
        { op: 'put', key: '/n/y', value: 'y' },
        { op: 'range', key: '/n/', prefix: true, keysOnly: true, limit: 1 },
      ],
      failure: [],
    });
    expect(result.succeeded).toBe(true);
    expect(result.results).toMatchObject([
      { op: 'delete', deleted: 2 },
      { op: 'put' },
      { op: 'put' },
      { op: 'range', more: true, kvs: [{ key: '/n/x', value: '', modRevision: result.revision }] },
    ]);
    expect((await kv().get('/n/y'))?.modRevision).toBe(result.revision);
  });

  it('reports a txn etcd refuses as Failed, not as Unavailable', async () => {
    const txn = kv().txn({
      compare: [],
      success: [
        { op: 'put', key: '/dup', value: '1' },
        { op: 'put', key: '/dup', value: '2' },
      ],
      failure: [],
    });
    const error = await txn.catch((err: unknown) => err);
    expect(error).toMatchObject({ kind: 'Failed' });
    expect((error as DatastoreError).message).toMatch(/duplicate key/);
  });
}

function defineStoreTests(context: {
  kv: () => Kv;
  clients: ClientFactory;
  endpoint: () => string;
}): void {
  const { kv, clients, endpoint } = context;
  const store = (): Store => new Store(kv());
  const SECRET = 'value-that-must-never-appear-in-messages';

  it('creates a missing key and returns its revision', async () => {
    const created = await store().create('/s/a', SECRET);
    const stored = await kv().get('/s/a');
    expect(created).toEqual({ key: '/s/a', value: SECRET, modRevision: stored?.modRevision });
    expect(stored?.version).toBe(1);
  });

  it('refuses to create an existing key with AlreadyExists and leaves it alone', async () => {
    await kv().put('/s/a', 'first');
    const error = await store()
      .create('/s/a', SECRET)
      .catch((err: unknown) => err);
    expect(error).toBeInstanceOf(DatastoreError);
    expect(error).toMatchObject({ kind: 'AlreadyExists', key: '/s/a' });
    expect((await kv().get('/s/a'))?.value).toBe('first');
  });

  it('updates at the right revision and returns the new one', async () => {
    const created = await store().create('/s/u', 'v1');
    const updated = await store().update('/s/u', 'v2', created);
    expect(updated.modRevision).toBeGreaterThan(created.modRevision);
    expect(await store().get('/s/u')).toEqual(updated);
  });

  it('refuses a stale update with Conflict naming the key and revisions but not the value', async () => {
    const created = await store().create('/s/u', 'v1');
    const current = await store().update('/s/u', 'v2', created);
    const error = await store()
      .update('/s/u', SECRET, created)
      .catch((err: unknown) => err);
    expect(error).toMatchObject({ kind: 'Conflict', key: '/s/u' });
    const { message } = error as DatastoreError;
    expect(message).toContain('/s/u');
    expect(message).toContain(String(current.modRevision));
    expect(message).not.toContain(SECRET);
    expect((await store().get('/s/u')).value).toBe('v2');
  });

  it('refuses to update a missing key with NotFound instead of creating it', async () => {
    const created = await store().create('/s/gone', 'v1');
    await kv().delete('/s/gone');
    await expect(store().update('/s/gone', 'v2', created)).rejects.toMatchObject({
      kind: 'NotFound',
    });
    expect(await kv().get('/s/gone')).toBeUndefined();
  });

  it('refuses revision 0, which would match an absent key', async () => {
    await expect(store().update('/s/zero', 'v', { modRevision: 0 })).rejects.toMatchObject({
      kind: 'Failed',
    });
    expect(await kv().get('/s/zero')).toBeUndefined();
  });

  it('deletes at the right revision only', async () => {
    const created = await store().create('/s/d', 'v1');
    const updated = await store().update('/s/d', 'v2', created);
    await expect(store().deleteIf('/s/d', created)).rejects.toMatchObject({ kind: 'Conflict' });
    expect(await kv().get('/s/d')).toBeDefined();
    await store().deleteIf('/s/d', updated);
    expect(await kv().get('/s/d')).toBeUndefined();
    await expect(store().deleteIf('/s/d', updated)).rejects.toMatchObject({ kind: 'NotFound' });
  });

  it('reads with NotFound, find, list and unconditional delete', async () => {
    await expect(store().get('/s/none')).rejects.toMatchObject({
      kind: 'NotFound',
      key: '/s/none',
    });
    expect(await store().find('/s/none')).toBeUndefined();
    const a = await store().create('/s/l/a', 'A');
    const b = await store().create('/s/l/b', 'B');
    const listed = await store().list('/s/l/');
    expect(listed.items).toEqual([a, b]);
    expect(listed.revision).toBe(b.modRevision);
    await store().delete('/s/l/a');
    await expect(store().delete('/s/l/a')).rejects.toMatchObject({ kind: 'NotFound' });
  });

  it('lets exactly one of several concurrent creators win', async () => {
    const writers = Array.from({ length: 6 }, () => new Store(clients.open(endpoint())));
    const outcomes = await Promise.allSettled(
      writers.map((w, i) => w.create('/race/new', `w${i}`)),
    );
    const winners = outcomes.filter((o) => o.status === 'fulfilled');
    expect(winners).toHaveLength(1);
    for (const o of outcomes) {
      if (o.status === 'rejected') expect(o.reason).toMatchObject({ kind: 'AlreadyExists' });
    }
  });

  it('lets exactly one of N concurrent compare-and-swap writers win each round', async () => {
    const writers = Array.from({ length: 8 }, () => new Store(clients.open(endpoint())));
    await store().create('/race/counter', '0');
    for (let round = 1; round <= 5; round++) {
      // Everyone reads the same revision, then everyone tries to write on top of it.
      const seen = await Promise.all(writers.map((w) => w.get('/race/counter')));
      const outcomes = await Promise.allSettled(
        writers.map((w, i) =>
          w.update('/race/counter', `${round}:w${i}`, seen[i] ?? { modRevision: 1 }),
        ),
      );
      const won = outcomes.flatMap((o, i) => (o.status === 'fulfilled' ? [i] : []));
      expect(won, `round ${round}`).toHaveLength(1);
      for (const o of outcomes) {
        if (o.status === 'rejected') expect(o.reason).toMatchObject({ kind: 'Conflict' });
      }
      expect((await store().get('/race/counter')).value).toBe(`${round}:w${won[0] ?? -1}`);
    }
  });
}
