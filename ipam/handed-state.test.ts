import { describe, expect, it } from 'vitest';
import { assignAddresses } from './assign';
import type { SideHooks } from './block-store';
import {
  decodeHandedState,
  encodeHandedState,
  withHandedState,
  type HandedState,
} from './handed-state';
import { storedTextOf } from './stored-text';
import { forgedWithFreeBlocks, handed, joined } from './testing/hand-over';
import { pool, request, rivalTakesOne, store } from './testing/memory-fixtures';
import { expectConsistent } from './testing/consistency';

// A burst's successor reads its own keys while it waits and takes the node's blocks from its
// predecessor: one request under the lock (the commit). The state is a hint: a stale one costs a
// lost compare and a fresh read, never a duplicate.

/** What a waiter read before its turn: the host view without blocks (nothing to hint yet). */
function readEarly(s: ReturnType<typeof store>, handleId: string) {
  return s.readHost('node-a', { handleIds: [handleId] });
}

describe('a successor with the handed state', () => {
  it('commits with one request under the lock and takes the next address', async () => {
    const s = store([pool('pool1', '10.1.0.0/16')]);
    // Both waiters read before the first holder committed: neither saw a block.
    const early = await readEarly(s, 'net.c1');
    const first = await assignAddresses(s, request('net.c0'));
    expect(first.state).toBeDefined();
    s.requests = 0;
    const firstView = joined(early, handed(first.state));
    const second = await assignAddresses(s, request('net.c1', { firstView }));
    expect(s.requests).toBe(1);
    expect(second.addresses).not.toEqual(first.addresses);
    expect(s.allBlocks()).toHaveLength(1);
    expectConsistent(s);
  });

  it('hands on what it was handed: a chain of ten, one request each, ten addresses', async () => {
    const s = store([pool('pool1', '10.1.0.0/16')]);
    const earlies = await Promise.all(
      Array.from({ length: 10 }, (_, i) => readEarly(s, `net.c${i + 1}`)),
    );
    let previous = await assignAddresses(s, request('net.c0'));
    const addresses = new Set(previous.addresses);
    for (const [i, early] of earlies.entries()) {
      s.requests = 0;
      const firstView = joined(early, handed(previous.state));
      previous = await assignAddresses(s, request(`net.c${i + 1}`, { firstView }));
      expect(s.requests).toBe(1);
      for (const a of previous.addresses) addresses.add(a);
    }
    expect(addresses.size).toBe(11);
    expectConsistent(s);
  });

  it("uses the hand-over when the predecessor created keys of its own (calico's endpoint)", async () => {
    const s = store([pool('pool1', '10.1.0.0/16')]);
    // calico's side keys: the container's own endpoint, created by its ADD, and the network's
    // Profile, created by the network's first ADD.
    const side = (id: string): SideHooks => ({
      reads: [{ key: `/endpoint/${id}` }, { key: '/profile' }],
      writes: (values) => [
        { key: `/endpoint/${id}`, expect: 0, value: 'ep' },
        ...(values.has('/profile') ? [] : [{ key: '/profile', expect: 0, value: 'p' }]),
      ],
    });
    const asked = (id: string) => side(id).reads.map((r) => r.key);
    let previous = await assignAddresses(s, request('net.c0', { side: side('c0') }));
    for (const id of ['c1', 'c2', 'c3']) {
      const early = await s.readHost('node-a', {
        handleIds: [`net.${id}`],
        side: side(id).reads,
      });
      const firstView = withHandedState(early, handed(previous.state), asked(id));
      expect(firstView).toBeDefined();
      s.requests = 0;
      previous = await assignAddresses(
        s,
        request(`net.${id}`, { side: side(id), ...(firstView === undefined ? {} : { firstView }) }),
      );
      expect(s.requests).toBe(1);
    }
    expectConsistent(s);
  });

  it('loses the compare on a stale state and reads again: no duplicate', async () => {
    const s = store([pool('pool1', '10.1.0.0/16')]);
    const early = await readEarly(s, 'net.c1');
    const first = await assignAddresses(s, request('net.c0'));
    // Another writer (a DEL, an operator) takes an address of the block after the handover.
    await rivalTakesOne(s, s.affinitiesOf('node-a')[0]);
    s.requests = 0;
    const firstView = joined(early, handed(first.state));
    const second = await assignAddresses(s, request('net.c1', { firstView }));
    // The lost commit, a fresh read, its blocks (no hints here), the commit.
    expect(s.requests).toBe(4);
    expect(new Set([...first.addresses, ...second.addresses]).size).toBe(2);
    expectConsistent(s);
  });

  it('takes the later of two versions of a key', async () => {
    const s = store([pool('pool1', '10.1.0.0/16')]);
    const first = await assignAddresses(s, request('net.c0'));
    await assignAddresses(s, request('net.c1'));
    // Read after the second commit: newer than what the first handed over.
    const late = await s.readHost('node-a', {
      handleIds: ['net.c2'],
      blocks: s.affinitiesOf('node-a'),
    });
    const view = joined(late, handed(first.state));
    const [cidr] = s.affinitiesOf('node-a');
    expect(view.blocks?.get(cidr ?? '')?.revision).toBe(late.blocks?.get(cidr ?? '')?.revision);
  });

  it('never writes back a forged block, even at the right revision', async () => {
    const s = store([pool('pool1', '10.1.0.0/16')]);
    const early = await readEarly(s, 'net.c1');
    const first = await assignAddresses(s, request('net.c0'));
    // A local process that bound the lock's name hands over the block with its one address
    // freed, hoping the successor writes it back.
    const forged = forgedWithFreeBlocks(first.state);
    s.requests = 0;
    const second = await assignAddresses(
      s,
      request('net.c1', { firstView: joined(early, forged) }),
    );
    // The commit compared etcd's text and lost; the fresh read gave the truth.
    expect(s.requests).toBe(4);
    expect(second.addresses).not.toEqual(first.addresses);
    expectConsistent(s);
  });

  it('takes a handed affinity only with its block, and never hides one it read', async () => {
    const s = store([pool('pool1', '10.1.0.0/16')]);
    await assignAddresses(s, request('net.c0'));
    const view = await s.readHost('node-a', { handleIds: ['net.c1'] });
    const [mine] = view.affinities;
    const state: HandedState = {
      node: 'node-a',
      affinities: [{ value: { cidr: '10.1.9.0/26', state: 'confirmed' }, revision: 99 }],
      blocks: new Map(),
      created: [],
    };
    expect(joined(view, state).affinities).toEqual([mine]);
  });

  it("is not used with a read older than the Node's registration or a key the predecessor created", async () => {
    // A node's first burst: every waiter read before the first commit registered the Node.
    const s = store([pool('pool1', '10.1.0.0/16')], []);
    const early = await readEarly(s, 'net.c1');
    const first = await assignAddresses(s, request('net.c0'));
    expect(withHandedState(early, handed(first.state), [])).toBeUndefined();
    // calico's Profile, created by the first ADD of a network, is a side key of every ADD.
    const registered = store([pool('pool1', '10.1.0.0/16')]);
    const view = await readEarly(registered, 'net.c1');
    const state: HandedState = {
      node: 'node-a',
      affinities: [],
      blocks: new Map(),
      created: ['/p'],
    };
    expect(withHandedState(view, state, ['/p'])).toBeUndefined();
    // A key it did not ask for (the predecessor's own endpoint) is none of its business.
    expect(withHandedState(view, state, ['/q'])).toBeDefined();
  });

  it('hands a block on as the text it was handed, not encoded again', async () => {
    const s = store([pool('pool1', '10.1.0.0/16')]);
    const first = await assignAddresses(s, request('net.c0'));
    // Text as another writer might have laid it out: the same block, other bytes.
    const json = JSON.parse(encodeHandedState(first.state as HandedState)) as {
      blocks: [string, string, number][];
    };
    for (const entry of json.blocks) entry[1] = ` ${entry[1]}`;
    const state = decodeHandedState(JSON.stringify(json), 'node-a');
    for (const [, block] of state?.blocks ?? []) {
      expect(storedTextOf(block.value)).toBe(block.stored);
      expect(block.stored.startsWith(' {')).toBe(true);
    }
    expect(state?.blocks.size).toBe(1);
  });

  it("is dropped when it is another node's or does not read as one", () => {
    expect(decodeHandedState('{"node":"node-b"}', 'node-a')).toBeUndefined();
    expect(decodeHandedState('not json', 'node-a')).toBeUndefined();
    expect(decodeHandedState('{"node":"node-a","affinities":[["x"]]}', 'node-a')).toBeUndefined();
    expect(decodeHandedState(undefined, 'node-a')).toBeUndefined();
  });
});
