import { expect, it } from 'vitest';
import type { Kv } from '../lib/datastore/kv';
import { describeWithEtcd } from '../lib/datastore/testing/describe-with-etcd';
import { type EtcdServer } from '../lib/datastore/testing/etcd-server';
import { checkIpamConsistency } from './consistency-check';
import { isClean } from './consistency-report';
import { releaseLeaks, type RepairProgress } from './release-leaks';
import { ipamNetconf, rawPool, runIpam } from './testing/ipam-binary';
import { RawIpamState, rawIp } from './testing/raw-ipam-state';
import { useSuiteEtcd } from './testing/suite-etcd';

// The check against real etcd: states made by the real calico-ipam bundle, and broken states
// written key by key, then a repair through the normal release path.

let etcd: EtcdServer;
let kv: Kv;
const OLD = Date.now() - 60 * 60_000;
const BLOCK = '10.0.0.64/26';
const OTHER = '10.0.0.128/26';

async function write(state: RawIpamState): Promise<void> {
  for (const [key, value] of state.entries()) await kv.put(key, value);
}

/** Every key and value under /calico/, to show a dry run changed nothing. */
async function everything(): Promise<[string, string, number][]> {
  const { kvs } = await kv.range('/calico/', { prefix: true });
  return kvs.map((x) => [x.key, x.value, x.modRevision]);
}

describeWithEtcd('ipam check against a real etcd', () => {
  useSuiteEtcd((started, client) => {
    etcd = started;
    kv = client;
  });

  it('finds the state the calico-ipam bundle leaves consistent, and leaks only when told', async () => {
    await kv.put(
      '/calico/resources/v3/projectcalico.org/ippools/pool1',
      rawPool('pool1', '10.1.0.0/16'),
    );
    const ids = Array.from({ length: 12 }, (_, i) => `c${i}`);
    const runs = await Promise.all(
      ids.map((id, i) =>
        runIpam({
          command: 'ADD',
          containerId: id,
          netconf: ipamNetconf(etcd.endpoint, { node: i % 2 === 0 ? 'node-a' : 'node-b' }),
        }),
      ),
    );
    expect(runs.map((r) => r.code)).toEqual(ids.map(() => 0));
    for (const id of ids.slice(0, 4)) {
      const del = await runIpam({
        command: 'DEL',
        containerId: id,
        netconf: ipamNetconf(etcd.endpoint, { node: 'node-a' }),
      });
      expect(del.code).toBe(0);
    }
    const report = await checkIpamConsistency(kv);
    expect(report.problems).toEqual([]);
    expect(report.checked).toMatchObject({ blocks: 2, allocations: 8, handles: 8, affinities: 2 });
    // Minutes old at most: every address without endpoint may be an ADD in flight.
    expect(report.leaks).toEqual([]);
    expect(report.inGrace).toBe(8);
    // Past the grace: calico-ipam alone writes no WorkloadEndpoints, so nothing proves net1's
    // main plugin is calico: unverified, not leaks, unless the caller names the network.
    const settled = await checkIpamConsistency(kv, { graceMs: 0 });
    expect(settled.leaks).toEqual([]);
    expect(settled.unverified).toHaveLength(8);
    const leaks = (await checkIpamConsistency(kv, { networks: ['net1'], graceMs: 0 })).leaks;
    expect(leaks.map((l) => l.handleId).sort()).toEqual(
      ids
        .slice(4)
        .map((id) => `net1.${id}`)
        .sort(),
    );
  });

  it('reports every kind of broken state written as raw keys', async () => {
    const state = new RawIpamState()
      .block(BLOCK, { affinity: 'host:node-1' })
      .affinity('node-1', BLOCK)
      .pod({ cidr: BLOCK, ordinal: 0, containerId: 'aaa', node: 'node-1', at: OLD })
      .handle('net1.aaa', { [BLOCK]: 2 }) // wrong count
      .handle('net1.gone', { [OTHER]: 1 }) // block missing
      .affinity('node-2', BLOCK) // second host on one block
      .endpoint({ node: 'node-1', containerId: 'ddd', ips: [rawIp(BLOCK, 40)] }); // free address
    state.allocate(BLOCK, { ordinal: 5, handle: 'net1.nohandle', node: 'node-1', at: OLD });
    await write(state);
    const report = await checkIpamConsistency(kv);
    expect(report.problems.map((p) => p.kind).sort()).toEqual([
      'affinity',
      'handle-count',
      'handle-count',
      'missing-handle',
      'unallocated-endpoint-address',
    ]);
    expect(report.problems.map((p) => p.message).join('\n')).toContain(
      `handle net1.aaa counts 2 address(es) in block ${BLOCK}, but the block holds 1 for it`,
    );
    expect(isClean(report)).toBe(false);
  });

  it('repairs leaks through the release path: dry run first, then only whole leaked handles', async () => {
    const state = new RawIpamState()
      .block(BLOCK, { affinity: 'host:node-1' })
      .affinity('node-1', BLOCK)
      .block(OTHER, { affinity: null })
      .pod({ cidr: BLOCK, ordinal: 0, containerId: 'aaa', node: 'node-1', at: OLD });
    // net1.ccc: a dual-block leak (say, an ADD killed after IPAM); net1.fff: one address in use.
    state.allocate(BLOCK, { ordinal: 7, handle: 'net1.ccc', node: 'node-1', at: OLD });
    state.allocate(OTHER, { ordinal: 2, handle: 'net1.ccc', node: 'node-1', at: OLD });
    state.handle('net1.ccc', { [BLOCK]: 1, [OTHER]: 1 });
    state.allocate(BLOCK, { ordinal: 10, handle: 'net1.fff', node: 'node-1', at: OLD });
    state.allocate(BLOCK, { ordinal: 11, handle: 'net1.fff', node: 'node-1', at: OLD });
    state.handle('net1.fff', { [BLOCK]: 2 });
    state.endpoint({ node: 'node-1', containerId: 'fff', ips: [rawIp(BLOCK, 10)] });
    await write(state);

    const before = await everything();
    const dry = await releaseLeaks(kv);
    expect(dry.dryRun).toBe(true);
    expect(dry.report.leaks.map((l) => l.ip)).toEqual([
      rawIp(OTHER, 2), // blocks in key order: 10.0.0.128-26 sorts first
      rawIp(BLOCK, 7),
      rawIp(BLOCK, 11),
    ]);
    expect(dry.handles.map((h) => [h.handleId, h.outcome])).toEqual([
      ['net1.ccc', 'would-release'],
      ['net1.fff', 'skipped'],
    ]);
    expect(dry.handles[1]?.reason).toBe(
      'handle net1.fff holds 2 addresses, 1 of them in use or too young',
    );
    expect(dry.released).toBe(0);
    expect(await everything()).toEqual(before);

    const progress: RepairProgress[] = [];
    const applied = await releaseLeaks(kv, {
      apply: true,
      onProgress: (p) => {
        progress.push(p);
      },
    });
    expect(applied.released).toBe(2);
    expect(progress.map((p) => [p.done, p.total, p.handle.outcome])).toEqual([
      [1, 2, 'released'],
      [2, 2, 'skipped'],
    ]);
    expect(await kv.get('/calico/ipam/v2/handle/net1.ccc')).toBeUndefined();
    // OTHER had no affinity and is now empty: released as calico-ipam DEL does (§8.6).
    expect(await kv.get('/calico/ipam/v2/assignment/ipv4/block/10.0.0.128-26')).toBeUndefined();
    const after = await checkIpamConsistency(kv);
    expect(after.problems).toEqual([]);
    expect(after.leaks.map((l) => l.handleId)).toEqual(['net1.fff']);
    expect(after.checked.allocations).toBe(3);
  });

  it('skips a leaked handle that changed after the check: it may belong to a live ADD', async () => {
    const state = new RawIpamState()
      .block(BLOCK, { affinity: 'host:node-1' })
      .affinity('node-1', BLOCK)
      .pod({ cidr: BLOCK, ordinal: 0, containerId: 'aaa', node: 'node-1', at: OLD });
    for (const [ordinal, id] of [
      [1, 'net1.first'],
      [2, 'net1.second'],
    ] as const) {
      state.allocate(BLOCK, { ordinal, handle: id, node: 'node-1', at: OLD });
      state.handle(id, { [BLOCK]: 1 });
    }
    await write(state);
    const handleKey = '/calico/ipam/v2/handle/net1.second';
    const value = (await kv.get(handleKey))?.value ?? '';
    const result = await releaseLeaks(kv, {
      apply: true,
      // Between the two releases another writer rewrites the second handle.
      onProgress: async () => {
        await kv.put(handleKey, value);
      },
    });
    expect(result.handles.map((h) => [h.handleId, h.outcome])).toEqual([
      ['net1.first', 'released'],
      ['net1.second', 'skipped'],
    ]);
    expect(result.handles[1]?.reason).toMatch(/^handle net1\.second changed after the check/);
    expect(await kv.get(handleKey)).toBeDefined();
  });
});
