import { spawnSync } from 'node:child_process';
import { expect, it } from 'vitest';
import { describeWithEtcd } from '../lib/datastore/testing/describe-with-etcd';
import { type EtcdServer } from '../lib/datastore/testing/etcd-server';
import type { Kv } from '../lib/datastore/kv';
import {
  etcdKvRequests,
  ipamNetconf,
  rawJson,
  rawPool,
  runIpam,
  type Run,
} from './testing/ipam-binary';
import { writeForeignBlocks } from './testing/foreign-blocks';
import { useSuiteEtcd } from './testing/suite-etcd';

const POOLS = '/calico/resources/v3/projectcalico.org/ippools/';
const BLOCKS = '/calico/ipam/v2/assignment/';
const HANDLES = '/calico/ipam/v2/handle/';

let etcd: EtcdServer;
let kv: Kv;

function etcdctlPut(key: string, value: string): void {
  const r = spawnSync('etcdctl', ['--endpoints', etcd.endpoint, 'put', key, value], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ETCDCTL_API: '3' },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`etcdctl put failed: ${r.stderr}`);
}

const netconf = (
  node: string,
  options: Parameters<typeof ipamNetconf>[1] extends infer O ? Partial<O> : never = {},
) => ipamNetconf(etcd.endpoint, { node, ...options });

async function add(
  node: string,
  containerId: string,
  extra: Partial<Parameters<typeof ipamNetconf>[1]> = {},
  cniArgs?: string,
): Promise<Run> {
  return runIpam({
    command: 'ADD',
    containerId,
    netconf: netconf(node, extra),
    ...(cniArgs === undefined ? {} : { cniArgs }),
  });
}

function addressOf(run: Run): string {
  const ips = run.json?.ips as { address: string }[] | undefined;
  const address = ips?.[0]?.address;
  if (run.code !== 0 || address === undefined)
    throw new Error(`ADD failed: ${run.stdout} ${run.stderr}`);
  return address;
}

/** Every allocated address with its handle, read from the raw blocks. */
async function allocations(): Promise<{ block: string; ordinal: number; handle: string | null }[]> {
  const out: { block: string; ordinal: number; handle: string | null }[] = [];
  for (const [, block] of await rawJson(kv, BLOCKS)) {
    const allocs = block.allocations as (number | null)[];
    const attrs = block.attributes as { handle_id: string | null }[];
    allocs.forEach((a, ordinal) => {
      if (a !== null)
        out.push({ block: block.cidr as string, ordinal, handle: attrs[a]?.handle_id ?? null });
    });
  }
  return out;
}

async function handleCounts(): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const [key, handle] of await rawJson(kv, HANDLES)) {
    const total = Object.values(handle.block as Record<string, number>).reduce((a, b) => a + b, 0);
    counts.set(key.slice(HANDLES.length), total);
  }
  return counts;
}

async function expectHandlesMatchAllocations(): Promise<void> {
  const byHandle = new Map<string, number>();
  for (const a of await allocations())
    byHandle.set(a.handle ?? 'none', (byHandle.get(a.handle ?? 'none') ?? 0) + 1);
  expect(await handleCounts()).toEqual(byHandle);
}

describeWithEtcd('calico-ipam against a real etcd', () => {
  useSuiteEtcd((started, client) => {
    etcd = started;
    kv = client;
  });

  it('honours a pool written raw by a third party and writes Calico keys and JSON', async () => {
    etcdctlPut(`${POOLS}pool1`, rawPool('pool1', '10.1.0.0/16', { blockSize: 26 }));
    const run = await add('node-a', 'c1');
    expect(run.code).toBe(0);
    expect(run.json).toEqual({
      cniVersion: '0.3.1',
      ips: [{ version: '4', address: expect.stringMatching(/^10\.1\.\d+\.\d+\/26$/) as unknown }],
      dns: {},
    });
    const blocks = await rawJson(kv, `${BLOCKS}ipv4/block/`);
    expect(blocks.size).toBe(1);
    const [[blockKey, block]] = [...blocks] as [[string, Record<string, unknown>]];
    const cidr = block.cidr as string;
    expect(blockKey).toBe(`/calico/ipam/v2/assignment/ipv4/block/${cidr.replace('/', '-')}`);
    expect(Object.keys(block)).toEqual([
      'cidr',
      'affinity',
      'allocations',
      'unallocated',
      'attributes',
      'sequenceNumber',
      'sequenceNumberForAllocation',
      'deleted',
    ]);
    expect(block.affinity).toBe('host:node-a');
    expect((block.allocations as unknown[]).length).toBe(64);
    expect((block.allocations as unknown[])[0]).toBe(0);
    expect(block.unallocated).toEqual(Array.from({ length: 63 }, (_, i) => i + 1));
    expect(block.attributes).toEqual([
      {
        handle_id: 'net1.c1',
        secondary: {
          node: 'node-a',
          timestamp: expect.stringMatching(
            /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? \+0000 UTC$/,
          ) as unknown,
        },
      },
    ]);
    expect(block.deleted).toBe(false);
    const address = addressOf(run).split('/')[0];
    expect(`${cidr.split('/')[0]}`).toBe(address);
    expect(await rawJson(kv, `/calico/ipam/v2/host/node-a/ipv4/block/`)).toEqual(
      new Map([
        [
          `/calico/ipam/v2/host/node-a/ipv4/block/${cidr.replace('/', '-')}`,
          { state: 'confirmed', deleted: false },
        ],
      ]),
    );
    expect(await rawJson(kv, HANDLES)).toEqual(
      new Map([[`${HANDLES}net1.c1`, { block: { [cidr]: 1 }, deleted: false }]]),
    );
    // A standalone host gets its Node registered, as calico/node would.
    const nodes = await rawJson(kv, '/calico/resources/v3/projectcalico.org/nodes/');
    expect([...nodes.values()][0]).toMatchObject({
      kind: 'Node',
      apiVersion: 'projectcalico.org/v3',
      metadata: { name: 'node-a' },
    });
  });

  it('fills the first /26 with 64 ADDs and claims a second block for the 65th', async () => {
    etcdctlPut(`${POOLS}pool1`, rawPool('pool1', '10.1.0.0/16', { blockSize: 26 }));
    const seen = new Set<string>();
    for (let i = 0; i < 64; i++) seen.add(addressOf(await add('node-a', `c${i}`)));
    expect(seen.size).toBe(64);
    expect((await rawJson(kv, `${BLOCKS}ipv4/block/`)).size).toBe(1);
    const blockOfFirst = [...(await rawJson(kv, `${BLOCKS}ipv4/block/`)).values()][0]?.cidr;
    expect([...seen].every((a) => a.endsWith('/26'))).toBe(true);
    const sixtyFifth = addressOf(await add('node-a', 'c64'));
    expect(seen.has(sixtyFifth)).toBe(false);
    const blocks = await rawJson(kv, `${BLOCKS}ipv4/block/`);
    expect(blocks.size).toBe(2);
    expect([...blocks.values()].map((b) => b.affinity)).toEqual(['host:node-a', 'host:node-a']);
    expect([...blocks.values()].some((b) => b.cidr !== blockOfFirst)).toBe(true);
    await expectHandlesMatchAllocations();
  }, 60_000);

  it('serves 100 concurrent ADD processes with 100 distinct addresses, then 100 DELs leave nothing', async () => {
    etcdctlPut(`${POOLS}pool1`, rawPool('pool1', '10.1.0.0/16'));
    const ids = Array.from({ length: 100 }, (_, i) => `burst-${i}`);
    const runs = await Promise.all(ids.map((id) => add('node-a', id)));
    const failures = runs.filter((r) => r.code !== 0);
    expect(failures.map((r) => r.stdout)).toEqual([]);
    expect(new Set(runs.map(addressOf)).size).toBe(100);
    expect((await allocations()).length).toBe(100);
    await expectHandlesMatchAllocations();
    const dels = await Promise.all(
      ids.map((id) => runIpam({ command: 'DEL', containerId: id, netconf: netconf('node-a') })),
    );
    expect(dels.filter((r) => r.code !== 0).map((r) => r.stdout)).toEqual([]);
    expect(dels.every((r) => r.stdout === '')).toBe(true);
    expect(await allocations()).toEqual([]);
    expect((await handleCounts()).size).toBe(0);
  }, 120_000);

  for (const strict of [true, false]) {
    it(`4 nodes x 25 concurrent ADDs on a 3-block pool, strict affinity ${strict ? 'on' : 'off'}`, async () => {
      etcdctlPut(`${POOLS}small`, rawPool('small', '10.3.0.0/24', { blockSize: 26 }));
      // One of the pool's four blocks is reserved whole: three blocks can be claimed.
      etcdctlPut(
        '/calico/resources/v3/projectcalico.org/ipreservations/r1',
        JSON.stringify({
          kind: 'IPReservation',
          apiVersion: 'projectcalico.org/v3',
          metadata: { name: 'r1' },
          spec: { reservedCIDRs: ['10.3.0.192/26'] },
        }),
      );
      etcdctlPut(
        '/calico/ipam/v2/config',
        JSON.stringify({ strict_affinity: strict, auto_allocate_blocks: true }),
      );
      const nodes = ['node-1', 'node-2', 'node-3', 'node-4'];
      const jobs = nodes.flatMap((node) =>
        Array.from({ length: 25 }, (_, i) => ({ node, id: `${node}-${i}` })),
      );
      const runs = await Promise.all(
        jobs.map((j) => add(j.node, j.id).then((run) => ({ ...j, run }))),
      );
      const ok = runs.filter((r) => r.run.code === 0);
      const failed = runs.filter((r) => r.run.code !== 0);
      const addresses = ok.map((r) => addressOf(r.run));
      expect(new Set(addresses).size).toBe(addresses.length);
      // Nothing from the reserved block 10.3.0.192/26.
      expect(addresses.filter((a) => Number(a.split('/')[0]?.split('.')[3]) >= 192)).toEqual([]);
      const blocks = [...(await rawJson(kv, `${BLOCKS}ipv4/block/`)).values()];
      expect(blocks).toHaveLength(3);
      if (strict) {
        // Every address comes from a block its own node owns; the rest fail clearly.
        for (const r of ok) {
          const ip = addressOf(r.run).split('/')[0] ?? '';
          const block = blocks.find((b) =>
            (b.allocations as (number | null)[]).some(
              (a, o) =>
                a !== null &&
                `${(b.cidr as string).split('/')[0]?.split('.').slice(0, 3).join('.')}.${Number((b.cidr as string).split('/')[0]?.split('.')[3]) + o}` ===
                  ip,
            ),
          );
          expect(block?.affinity).toBe(`host:${r.node}`);
        }
        expect(failed.length).toBe(25);
        for (const f of failed) {
          expect(f.run.json).toMatchObject({
            code: 110,
            msg: expect.stringContaining('strict affinity') as unknown,
          });
        }
      } else {
        expect(failed.map((f) => f.run.stdout)).toEqual([]);
        expect(ok).toHaveLength(100);
      }
      await expectHandlesMatchAllocations();
    }, 120_000);
  }

  it('grants a specific IP once, refuses it the second time, and grants it again after DEL', async () => {
    etcdctlPut(`${POOLS}pool1`, rawPool('pool1', '10.1.0.0/16'));
    const first = await add('node-a', 'c1', {}, 'IP=10.1.2.3');
    expect(first.json?.ips).toEqual([{ version: '4', address: '10.1.2.3/32' }]);
    const second = await add('node-a', 'c2', {}, 'IP=10.1.2.3');
    expect(second.code).toBe(1);
    expect(second.json).toMatchObject({
      code: 112,
      msg: expect.stringContaining('Address already assigned in block') as unknown,
    });
    expect((await handleCounts()).has('net1.c2')).toBe(false);
    const del = await runIpam({ command: 'DEL', containerId: 'c1', netconf: netconf('node-a') });
    expect([del.code, del.stdout]).toEqual([0, '']);
    const third = await add('node-a', 'c2', {}, 'IP=10.1.2.3');
    expect(third.json?.ips).toEqual([{ version: '4', address: '10.1.2.3/32' }]);
    const outside = await add('node-a', 'c3', {}, 'IP=10.9.0.1');
    expect(outside.json).toMatchObject({
      code: 111,
      msg: expect.stringContaining('10.9.0.1') as unknown,
    });
  });

  it('assigns dual stack, and with no IPv6 pool fails without keeping the IPv4 address', async () => {
    etcdctlPut(`${POOLS}v4`, rawPool('v4', '10.1.0.0/16'));
    etcdctlPut(`${POOLS}v6`, rawPool('v6', 'fd00:10::/64'));
    const both = await add('node-a', 'c1', { ipam: { assign_ipv6: 'true' } });
    const ips = both.json?.ips as { version: string; address: string }[];
    expect(ips.map((i) => i.version)).toEqual(['4', '6']);
    expect(ips[1]?.address).toMatch(/^fd00:10::[0-9a-f:]*\/122$/);
    expect((await rawJson(kv, `${BLOCKS}ipv6/block/`)).size).toBe(1);
    await etcd.wipe();
    etcdctlPut(`${POOLS}v4`, rawPool('v4', '10.1.0.0/16'));
    const none = await add('node-a', 'c2', { ipam: { assign_ipv6: 'true' } });
    expect(none.code).toBe(1);
    expect(none.json).toMatchObject({ code: 114, msg: expect.stringContaining('IPv6') as unknown });
    expect(await allocations()).toEqual([]);
    expect((await handleCounts()).size).toBe(0);
  });

  it('DEL releases even when the Kubernetes args make no valid legacy handle (found by fuzzing)', async () => {
    etcdctlPut(`${POOLS}pool1`, rawPool('pool1', '10.1.0.0/16'));
    const cniArgs = 'K8S_POD_NAMESPACE=../../x;K8S_POD_NAME=/';
    addressOf(await add('node-a', 'odd', {}, cniArgs));
    const del = await runIpam({
      command: 'DEL',
      containerId: 'odd',
      netconf: netconf('node-a'),
      cniArgs,
    });
    expect(del).toMatchObject({ code: 0, stdout: '' });
    expect(await allocations()).toEqual([]);
    expect((await handleCounts()).size).toBe(0);
  });

  it('CHECKs an allocation, and DEL is idempotent', async () => {
    etcdctlPut(`${POOLS}pool1`, rawPool('pool1', '10.1.0.0/16'));
    const conf = netconf('node-a', { cniVersion: '1.0.0' });
    await runIpam({ command: 'ADD', containerId: 'c1', netconf: conf });
    expect(await runIpam({ command: 'CHECK', containerId: 'c1', netconf: conf })).toMatchObject({
      code: 0,
      stdout: '',
    });
    const missing = await runIpam({ command: 'CHECK', containerId: 'nope', netconf: conf });
    expect(missing.json).toMatchObject({ code: 116 });
    for (let i = 0; i < 2; i++) {
      expect(await runIpam({ command: 'DEL', containerId: 'c1', netconf: conf })).toMatchObject({
        code: 0,
        stdout: '',
      });
    }
    expect(await runIpam({ command: 'DEL', containerId: 'never', netconf: conf })).toMatchObject({
      code: 0,
      stdout: '',
    });
    expect(await allocations()).toEqual([]);
  });

  it('GC releases the attachments not listed as valid, and nothing without a list', async () => {
    etcdctlPut(`${POOLS}pool1`, rawPool('pool1', '10.1.0.0/16'));
    const conf = netconf('node-a', { cniVersion: '1.1.0' });
    for (const id of ['c1', 'c2', 'c3'])
      await runIpam({ command: 'ADD', containerId: id, netconf: conf });
    const none = await runIpam({ command: 'GC', netconf: conf });
    expect([none.code, none.stdout]).toEqual([0, '']);
    expect((await handleCounts()).size).toBe(3);
    const legacy = await runIpam({
      command: 'GC',
      netconf: {
        ...conf,
        'cni.dev/attachments': [
          { containerID: 'c1', ifname: 'eth0' },
          { containerID: 'c3', ifname: 'eth0' },
        ],
      },
    });
    expect([legacy.code, legacy.stdout]).toEqual([0, '']);
    expect([...(await handleCounts()).keys()].sort()).toEqual(['net1.c1', 'net1.c3']);
    const gc = await runIpam({
      command: 'GC',
      netconf: { ...conf, 'cni.dev/valid-attachments': [{ containerID: 'c1', ifname: 'eth0' }] },
    });
    expect([gc.code, gc.stdout]).toEqual([0, '']);
    expect([...(await handleCounts()).keys()]).toEqual(['net1.c1']);
    await expectHandlesMatchAllocations();
  });

  it('STATUS: 0 while there is room, 50 when the pool is full or etcd is unreachable', async () => {
    etcdctlPut(`${POOLS}tiny`, rawPool('tiny', '10.4.0.0/30', { blockSize: 30 }));
    etcdctlPut(
      '/calico/ipam/v2/config',
      JSON.stringify({ strict_affinity: true, auto_allocate_blocks: true }),
    );
    const conf = netconf('node-a', { cniVersion: '1.1.0' });
    expect(await runIpam({ command: 'STATUS', netconf: conf })).toMatchObject({
      code: 0,
      stdout: '',
    });
    for (let i = 0; i < 4; i++)
      addressOf(await runIpam({ command: 'ADD', containerId: `c${i}`, netconf: conf }));
    const full = await runIpam({ command: 'STATUS', netconf: conf });
    expect(full.json).toMatchObject({
      code: 50,
      msg: expect.stringContaining('no free IPv4 address') as unknown,
    });
    const down = await runIpam({
      command: 'STATUS',
      netconf: { ...conf, etcd_endpoints: 'http://127.0.0.1:9', etcd_timeout_seconds: 2 },
    });
    expect(down.json).toMatchObject({
      code: 50,
      msg: expect.stringContaining('127.0.0.1:9') as unknown,
    });
  });

  it('fails ADD with code 11 naming the endpoint when etcd is unreachable, within the budget', async () => {
    const started = Date.now();
    const run = await add('node-a', 'c1', {
      extra: { etcd_endpoints: 'http://127.0.0.1:9', etcd_timeout_seconds: 2 },
    });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(run.json).toMatchObject({
      code: 11,
      msg: expect.stringContaining('http://127.0.0.1:9') as unknown,
    });
  });

  it('claims a block with as many etcd requests among 10,000 blocks of other nodes as among 10', async () => {
    etcdctlPut(`${POOLS}big`, rawPool('big', '10.0.0.0/8', { blockSize: 26 }));
    const figures: { others: number; requests: number; ms: number }[] = [];
    let made = 0;
    for (const others of [10, 10_000]) {
      // Other nodes' blocks, written in bulk where those nodes' own hashed walks would put them.
      await writeForeignBlocks(kv, {
        poolCidr: '10.0.0.0/8',
        blockSize: 26,
        from: made,
        to: others,
      });
      made = others;
      const before = await etcdKvRequests(etcd.endpoint);
      const started = Date.now();
      const run = await add(`claimer-${others}`, `c-${others}`);
      const ms = Date.now() - started;
      addressOf(run);
      figures.push({ others, requests: (await etcdKvRequests(etcd.endpoint)) - before, ms });
    }
    process.stderr.write(`block claim figures: ${JSON.stringify(figures)}\n`);
    expect(figures[0]?.requests).toBe(3);
    expect(Math.abs((figures[1]?.requests ?? 0) - (figures[0]?.requests ?? 0))).toBeLessThanOrEqual(
      1,
    );
  }, 120_000);
});
