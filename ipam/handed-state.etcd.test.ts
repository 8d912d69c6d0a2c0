import { expect, it } from 'vitest';
import type { Kv, TxnRequest } from '../lib/datastore/kv';
import { describeWithEtcd } from '../lib/datastore/testing/describe-with-etcd';
import { assignAddresses } from './assign';
import { EtcdBlockStore } from './etcd-block-store';
import { forgedWithFreeBlocks, handed, joined } from './testing/hand-over';
import { rawJson, rawPool } from './testing/ipam-binary';
import { request } from './testing/memory-fixtures';
import { useSuiteEtcd } from './testing/suite-etcd';

// The hand-over against a real etcd: the text a holder hands on is byte for byte what etcd holds
// (the successor's commit compares it), and a forged one is refused by etcd itself.

const BLOCKS = '/calico/ipam/v2/assignment/ipv4/block/';
let kv: Kv;

/** The kv, counting the txns (every IPAM request is one). */
function counted(): { kv: Kv; txns: () => number } {
  let txns = 0;
  const wrapped: Kv = Object.create(kv) as Kv;
  wrapped.txn = (r: TxnRequest) => {
    txns++;
    return kv.txn(r);
  };
  return { kv: wrapped, txns: () => txns };
}

/** A node registered (by a first ADD) with one block, and a waiter's early read of its keys. */
async function burstStart() {
  await kv.put(
    '/calico/resources/v3/projectcalico.org/ippools/pool1',
    rawPool('pool1', '10.1.0.0/16'),
  );
  const store = new EtcdBlockStore(kv);
  await assignAddresses(store, request('net.c0'));
  const early = await store.readHost('node-a', { handleIds: ['net.c2'] });
  const first = await assignAddresses(store, request('net.c1'));
  return { early, first };
}

describeWithEtcd('the hand-over against a real etcd', () => {
  useSuiteEtcd((_, client) => {
    kv = client;
  });

  it('lets the successor commit with one request: etcd holds exactly the handed text', async () => {
    const { early, first } = await burstStart();
    const { kv: mine, txns } = counted();
    const firstView = joined(early, handed(first.state));
    const second = await assignAddresses(
      new EtcdBlockStore(mine),
      request('net.c2', { firstView }),
    );
    expect(txns()).toBe(1);
    const blocks = await rawJson(kv, BLOCKS);
    const [block] = [...blocks.values()];
    expect((block?.allocations as (number | null)[]).filter((a) => a !== null)).toHaveLength(3);
    expect(new Set([...first.addresses, ...second.addresses]).size).toBe(2);
  });

  it('refuses a forged block at the right revision: etcd compares the text', async () => {
    const { early, first } = await burstStart();
    const forged = forgedWithFreeBlocks(first.state);
    const { kv: mine, txns } = counted();
    const firstView = joined(early, forged);
    const second = await assignAddresses(
      new EtcdBlockStore(mine),
      request('net.c2', { firstView }),
    );
    // The lost commit, a fresh read, its blocks, the commit.
    expect(txns()).toBe(4);
    const [block] = [...(await rawJson(kv, BLOCKS)).values()];
    expect((block?.allocations as (number | null)[]).filter((a) => a !== null)).toHaveLength(3);
    expect(second.addresses).not.toEqual(first.addresses);
  });
});
