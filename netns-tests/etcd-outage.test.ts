import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { startEtcdCluster, type EtcdCluster } from '../lib/datastore/testing/etcd-cluster';
import { startSilentServer } from '../lib/datastore/testing/fake-servers';
import { readIpamState } from '../ipam/testing/ipam-state';
import { CalicoNode, type PluginRun } from './support/calico-node';
import { relayEtcd } from './support/etcd-relay';
import { guardHost, useTopology } from './support/hooks';
import { describeAsRoot } from './support/root';
import { ipJson } from './support/topology';

// Issue 7 item 1 for dist/calico (in-process calico-ipam) on a node netns: with etcd down, ADD
// fails with code 11 inside the 5 s default budget and leaves nothing; DEL removes the veth, then
// fails with 11 so that the runtime retries, and the retry releases the address once the real
// etcd (stopped, then started on the same data) is back.

const WEPS = '/calico/resources/v3/projectcalico.org/workloadendpoints/';
/** Node start, the bundle's load, `ip netns exec` and timer slack on a busy 2-core machine. */
const SLACK_MS = 1500;

let etcd: EtcdCluster;
let node: CalicoNode;

function ok(run: PluginRun): void {
  if (run.code !== 0) throw new Error(`expected success: ${run.stdout} ${run.stderr}`);
}

async function nodeLinks(): Promise<string[]> {
  return (await ipJson(node.topology.node.name, 'link', 'show'))
    .map((l) => String(l.ifname))
    .filter((n) => n !== 'lo' && n !== 'up0');
}

async function expectNothingLeft(): Promise<void> {
  expect(await nodeLinks()).toEqual([]);
  const routes = (await ipJson(node.topology.node.name, 'route', 'show')).map((r) => String(r.dst));
  expect(routes.filter((d) => d.startsWith('10.1.'))).toEqual([]);
  const state = await readIpamState(node.kv);
  expect(state.allocations).toEqual([]);
  expect(state.handles.size).toBe(0);
  expect((await node.keys(WEPS)).size).toBe(0);
}

describeAsRoot('dist/calico with etcd down', () => {
  guardHost();
  const topology = useTopology();
  beforeAll(async () => {
    etcd = await startEtcdCluster(1);
  }, 60_000);
  afterAll(async () => {
    await etcd.destroy();
  });
  beforeEach(async () => {
    node = await CalicoNode.create(topology(), { endpoint: etcd.endpoints });
  });
  afterEach(async () => {
    await node.close();
  });

  it('ADD: code 11 naming the endpoint, nothing left, when nothing listens or a blackhole never answers', async () => {
    const silent = await startSilentServer();
    const blackhole = await relayEtcd(topology().node.name, silent.endpoint);
    try {
      // Nothing listens inside the node netns but the relays.
      const dead = 'http://127.0.0.1:1';
      for (const [endpoint, lower, upper] of [
        [dead, 0, SLACK_MS],
        // One 2 s attempt on the only endpoint; the default budget (5 s) bounds it in any case.
        [blackhole.endpoint, 1_900, 5_000 + SLACK_MS],
      ] as const) {
        const pod = await topology().pod();
        const started = Date.now();
        const run = await node.calico({
          command: 'ADD',
          netns: pod,
          containerId: 'down',
          conf: node.conf({ extra: { etcd_endpoints: endpoint } }),
        });
        const ms = Date.now() - started;
        expect(run.json).toMatchObject({
          code: 11,
          msg: expect.stringContaining(endpoint) as unknown,
        });
        expect(ms).toBeGreaterThanOrEqual(lower);
        expect(ms).toBeLessThan(upper);
        await expectNothingLeft();
      }
    } finally {
      await blackhole.close();
      await silent.close();
    }
  });

  it('DEL against a blackhole: the veth goes, code 11 within one budget (the failed reads ahead are the answer, not read twice)', async () => {
    const silent = await startSilentServer();
    const blackhole = await relayEtcd(topology().node.name, silent.endpoint);
    try {
      const pod = await topology().pod();
      ok(await node.calico({ command: 'ADD', netns: pod, containerId: 'c1', conf: node.conf() }));
      const started = Date.now();
      const failed = await node.calico({
        command: 'DEL',
        netns: pod,
        containerId: 'c1',
        conf: node.conf({ extra: { etcd_endpoints: blackhole.endpoint } }),
      });
      const ms = Date.now() - started;
      expect(failed.json).toMatchObject({
        code: 11,
        msg: expect.stringContaining(blackhole.endpoint) as unknown,
      });
      // One 2 s attempt window on the only endpoint, not one for the reads ahead and another.
      expect(ms).toBeGreaterThanOrEqual(1_900);
      expect(ms).toBeLessThan(2_000 + SLACK_MS);
      expect(await nodeLinks()).toEqual([]);
      ok(await node.calico({ command: 'DEL', netns: pod, containerId: 'c1', conf: node.conf() }));
      await expectNothingLeft();
    } finally {
      await blackhole.close();
      await silent.close();
    }
  });

  it('DEL: removes the veth and fails with 11 while etcd is stopped; the retry releases once it is back', async () => {
    const [member] = etcd.members;
    if (member === undefined) throw new Error('no member');
    const pod = await topology().pod();
    ok(await node.calico({ command: 'ADD', netns: pod, containerId: 'c1', conf: node.conf() }));
    expect(await nodeLinks()).toHaveLength(1);
    await member.stop();
    try {
      const started = Date.now();
      const failed = await node.calico({
        command: 'DEL',
        netns: pod,
        containerId: 'c1',
        conf: node.conf(),
      });
      expect(Date.now() - started).toBeLessThan(5_000 + SLACK_MS);
      expect(failed.json).toMatchObject({
        code: 11,
        msg: expect.stringContaining(node.relay.endpoint) as unknown,
      });
      expect(await nodeLinks()).toEqual([]);
    } finally {
      await member.start();
    }
    // The address is still held: only the datastore half of DEL is left for the retry.
    expect((await readIpamState(node.kv)).allocations).toHaveLength(1);
    ok(await node.calico({ command: 'DEL', netns: pod, containerId: 'c1', conf: node.conf() }));
    await expectNothingLeft();
  });
});
