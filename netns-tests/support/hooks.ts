import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import { startEtcd, type EtcdServer } from '../../lib/datastore/testing/etcd-server';
import { CalicoNode } from './calico-node';
import { hostSnapshot, leftoverNamespaces, Topology } from './topology';

/**
 * A fresh node topology for every test, destroyed after it whether it passed or not. Returns an
 * accessor for the current one.
 */
export function useTopology(): () => Topology {
  let current: Topology | undefined;
  beforeEach(async () => {
    current = await Topology.create();
  });
  afterEach(async () => {
    await current?.destroy();
    current = undefined;
  });
  return () => {
    if (current === undefined) throw new Error('no topology: called outside a test');
    return current;
  };
}

/**
 * The suite must leave the host as it found it: the same links and routes in the host's own
 * namespace, and no namespace of ours left over.
 */
export function guardHost(): void {
  let before: string[] = [];
  beforeAll(async () => {
    before = await hostSnapshot();
  });
  afterAll(async () => {
    expect(await leftoverNamespaces()).toEqual([]);
    expect(await hostSnapshot()).toEqual(before);
  });
}

/**
 * A suite on Calico nodes: the host guarded, one real etcd for the suite (wiped after each test)
 * and a fresh topology with a CalicoNode for every test. Returns an accessor for the current node.
 */
export function useCalicoNode(): () => CalicoNode {
  guardHost();
  const topology = useTopology();
  let etcd: EtcdServer | undefined;
  let node: CalicoNode | undefined;
  beforeAll(async () => {
    etcd = await startEtcd();
  }, 60_000);
  afterAll(async () => {
    await etcd?.stop();
  });
  beforeEach(async () => {
    if (etcd === undefined) throw new Error('etcd did not start');
    node = await CalicoNode.create(topology(), etcd);
  });
  // Hooks run in reverse: the test's own afterEach first, then this, then the topology's.
  afterEach(async () => {
    await node?.close();
    node = undefined;
    await etcd?.wipe();
  });
  return () => {
    if (node === undefined) throw new Error('no Calico node: called outside a test');
    return node;
  };
}
