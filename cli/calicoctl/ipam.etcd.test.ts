import { describe, expect, it } from 'vitest';
import { assignAddresses } from '../../ipam/assign';
import { EtcdBlockStore } from '../../ipam/etcd-block-store';
import { rawPool } from '../../ipam/testing/ipam-binary';
import type { Kv } from '../../lib/datastore/kv';
import { describeWithEtcd } from '../../lib/datastore/testing/describe-with-etcd';
import { type EtcdServer } from '../../lib/datastore/testing/etcd-server';
import { calicoctl } from './testing/run-cli';
import { useSuiteEtcd } from '../../ipam/testing/suite-etcd';

// The IPAM and cluster verbs against a real etcd: allocations made by the real allocator, then
// shown, released and configured by calicoctl, with the raw keys checked after each write.

let etcd: EtcdServer;
let kv: Kv;
const POOL = '/calico/resources/v3/projectcalico.org/ippools/pool-a';
const BLOCK_KEY = (cidr: string) =>
  `/calico/ipam/v2/assignment/ipv4/block/${cidr.replace('/', '-')}`;

async function assign(node: string, handleId: string, specificIp?: string): Promise<string> {
  const outcome = await assignAddresses(new EtcdBlockStore(kv), {
    node,
    handleId,
    ipv4: true,
    ipv6: false,
    ipv4Pools: [],
    ipv6Pools: [],
    now: () => 1_700_000_000_000_000_000n,
    ...(specificIp === undefined ? {} : { specificIp }),
  });
  return outcome.addresses[0] ?? '';
}

/** The /26 block of `10.1.2.70/26`: `10.1.2.64/26`. */
function blockOf(address: string): string {
  const [a, b, c, d] = (address.split('/')[0] ?? '').split('.').map(Number);
  return `${a}.${b}.${c}.${Math.floor((d ?? 0) / 64) * 64}/26`;
}

async function json(key: string): Promise<Record<string, unknown> | undefined> {
  const found = await kv.get(key);
  return found === undefined ? undefined : (JSON.parse(found.value) as Record<string, unknown>);
}

describeWithEtcd('calicoctl ipam, datastore and node against a real etcd', () => {
  useSuiteEtcd((started, client) => {
    etcd = started;
    kv = client;
  });

  const ctl = (...args: string[]) => calicoctl(etcd.endpoint, args);

  describe('ipam show', () => {
    it('counts per pool and per block, with the owning node', async () => {
      await kv.put(POOL, rawPool('pool-a', '10.1.0.0/16', { blockSize: 26 }));
      const a = await assign('node-1', 'net.a');
      await assign('node-1', 'net.b');
      await assign('node-1', 'net.c');
      const d = await assign('node-2', 'net.d');
      const blockA = blockOf(a);
      const blockD = blockOf(d);
      const show = await ctl('ipam', 'show');
      expect(show.status).toBe(0);
      expect(show.stdout).toBe(
        'GROUPING   CIDR          IPS TOTAL   IPS IN USE   IPS FREE\n' +
          'IP Pool    10.1.0.0/16   65536       4 (0%)       65532 (99%)\n',
      );
      const lines = (await ctl('ipam', 'show', '--show-blocks')).stdout.trimEnd().split('\n');
      const header = lines[0] ?? '';
      // Aligned: every cell starts where its header starts.
      for (const line of lines.slice(1)) {
        const columns = ['CIDR', 'IPS TOTAL', 'IPS IN USE', 'IPS FREE', 'NODE'];
        for (const column of columns.filter((c) => line.length > header.indexOf(c))) {
          expect(line[header.indexOf(column) - 1]).toBe(' ');
          expect(line[header.indexOf(column)]).not.toBe(' ');
        }
      }
      expect(lines.map((line) => line.split(/ {2,}/))).toEqual([
        ['GROUPING', 'CIDR', 'IPS TOTAL', 'IPS IN USE', 'IPS FREE', 'NODE'],
        ['IP Pool', '10.1.0.0/16', '65536', '4 (0%)', '65532 (99%)'],
        ...[
          ['Block', blockA, '64', '3 (4%)', '61 (95%)', 'node-1'],
          ['Block', blockD, '64', '1 (1%)', '63 (98%)', 'node-2'],
        ].sort((x, y) => ((x[1] ?? '') < (y[1] ?? '') ? -1 : 1)),
      ]);
    });

    it('--ip says who holds an address, or that it is free', async () => {
      await kv.put(POOL, rawPool('pool-a', '10.1.0.0/16', { blockSize: 26 }));
      const a = (await assign('node-1', 'net.a')).split('/')[0] ?? '';
      const held = await ctl('ipam', 'show', '--ip', a);
      expect(held.stdout).toContain(`IP ${a} is in use`);
      expect(held.stdout).toContain('pool:      pool pool-a (10.1.0.0/16)');
      expect(held.stdout).toContain('handle:    net.a');
      expect(held.stdout).toContain('node:      node-1');
      const free = blockOf(a).replace(/\d+\/26$/, (n) => String(Number(n.split('/')[0]) + 63));
      expect((await ctl('ipam', 'show', '--ip', free)).stdout).toMatch(
        new RegExp(
          `^IP ${free.replaceAll('.', '\\.')} is not assigned \\(block [0-9./]+, pool pool-a`,
        ),
      );
      expect((await ctl('ipam', 'show', '--ip', '172.16.0.1')).stdout).toBe(
        'IP 172.16.0.1 is not in any IP pool\n',
      );
      expect((await ctl('ipam', 'show', '--ip', 'nope')).stderr).toBe(
        'error: --ip: "nope" is not an IP address\n',
      );
    });
  });

  describe('ipam release', () => {
    it('frees the address in its block and in its handle, through one commit', async () => {
      await kv.put(POOL, rawPool('pool-a', '10.1.0.0/16', { blockSize: 26 }));
      const first = await assign('node-1', 'net.a');
      const second = await assign('node-1', 'net.b');
      const ip = first.split('/')[0] ?? '';
      const block = blockOf(first);
      const run = await ctl('ipam', 'release', '--ip', ip);
      expect(run).toMatchObject({ status: 0, stdout: `Successfully released IP address ${ip}\n` });
      expect(await kv.get('/calico/ipam/v2/handle/net.a')).toBeUndefined();
      expect(await json('/calico/ipam/v2/handle/net.b')).toMatchObject({ block: { [block]: 1 } });
      const stored = await json(BLOCK_KEY(block));
      const ordinal = Number(ip.split('.')[3]) % 64;
      expect((stored?.allocations as (number | null)[])[ordinal]).toBeNull();
      expect((stored?.unallocated as number[]).at(-1)).toBe(ordinal);
      expect((await ctl('ipam', 'show', '--ip', second.split('/')[0] ?? '')).stdout).toContain(
        'in use',
      );
      const again = await ctl('ipam', 'release', '--ip', ip);
      expect(again).toMatchObject({ status: 1, stderr: `error: IP address not assigned: ${ip}\n` });
    });

    it('deletes a block it empties when no node owns it', async () => {
      await kv.put(POOL, rawPool('pool-a', '10.1.0.0/16', { blockSize: 26 }));
      await assign('node-1', 'net.a', '10.1.0.5');
      const key = BLOCK_KEY('10.1.0.0/26');
      const block = await json(key);
      await kv.put(key, JSON.stringify({ ...block, affinity: null }));
      expect((await ctl('ipam', 'release', '--ip', '10.1.0.5')).status).toBe(0);
      expect(await kv.get(key)).toBeUndefined();
      expect(await kv.get('/calico/ipam/v2/handle/net.a')).toBeUndefined();
    });
  });

  describe('ipam configure', () => {
    it('writes the IPAM config as Calico stores it, keeping the other settings', async () => {
      expect((await ctl('ipam', 'configure', '--strictaffinity=true')).status).toBe(0);
      expect((await kv.get('/calico/ipam/v2/config'))?.value).toBe(
        '{"strict_affinity":true,"auto_allocate_blocks":true}',
      );
      expect((await ctl('ipam', 'configure', '--max-blocks-per-host', '4')).status).toBe(0);
      expect((await kv.get('/calico/ipam/v2/config'))?.value).toBe(
        '{"strict_affinity":true,"auto_allocate_blocks":true,"maxBlocksPerHost":4}',
      );
      const off = await ctl('ipam', 'configure', '--strictaffinity=false');
      expect(off.stdout).toBe(
        'Successfully set StrictAffinity to: false, MaxBlocksPerHost to: 4\n',
      );
      expect((await kv.get('/calico/ipam/v2/config'))?.value).toBe(
        '{"auto_allocate_blocks":true,"maxBlocksPerHost":4}',
      );
    });

    it('refuses bad values and writes nothing', async () => {
      expect((await ctl('ipam', 'configure', '--strictaffinity=yes')).stderr).toBe(
        'error: --strictaffinity: must be true or false, got "yes"\n',
      );
      expect((await ctl('ipam', 'configure', '--max-blocks-per-host', '-1')).stderr).toContain(
        '--max-blocks-per-host: must be an integer from 0',
      );
      expect((await ctl('ipam', 'configure')).status).toBe(1);
      expect(await kv.get('/calico/ipam/v2/config')).toBeUndefined();
    });
  });

  describe('datastore init and node register', () => {
    it('datastore init writes a ready ClusterInformation and keeps its GUID on a second run', async () => {
      expect((await ctl('datastore', 'init')).status).toBe(0);
      const key = '/calico/resources/v3/projectcalico.org/clusterinformations/default';
      const first = (await kv.get(key))?.value ?? '';
      expect(first).toMatch(
        /^\{"kind":"ClusterInformation","apiVersion":"projectcalico.org\/v3","metadata":\{"name":"default","uid":"[0-9a-f-]{36}","creationTimestamp":"[0-9T:-]+Z"\},"spec":\{"clusterGUID":"[0-9a-f]{32}","datastoreReady":true\}\}$/,
      );
      await kv.put(key, first.replace('"datastoreReady":true', '"datastoreReady":false'));
      expect((await ctl('datastore', 'init')).stdout).toContain('updated, datastoreReady true');
      expect((await kv.get(key))?.value).toBe(first);
    });

    it('node register writes a Node whose labels pool nodeSelectors match', async () => {
      const run = await ctl('node', 'register', 'node-1', '--labels', 'rack=r1,zone=a');
      expect(run).toMatchObject({ status: 0, stdout: 'Node node-1 created\n' });
      const key = '/calico/resources/v3/projectcalico.org/nodes/node-1';
      expect((await kv.get(key))?.value).toMatch(
        /^\{"kind":"Node","apiVersion":"projectcalico.org\/v3","metadata":\{"name":"node-1","uid":"[0-9a-f-]{36}","creationTimestamp":"[0-9T:-]+Z","labels":\{"rack":"r1","zone":"a"\}\},"spec":\{\}\}$/,
      );
      await kv.put(POOL, rawPool('pool-a', '10.1.0.0/16', { nodeSelector: "rack == 'r1'" }));
      expect(await assign('node-1', 'net.a')).toMatch(/^10\.1\./);
      await expect(assign('node-2', 'net.b')).rejects.toThrow(
        /no configured Calico IPv4 pools for node node-2/,
      );
      expect((await ctl('node', 'register', 'node-1', '--labels', 'zone=b')).stdout).toBe(
        'Node node-1 updated\n',
      );
      expect(JSON.parse((await kv.get(key))?.value ?? '')).toMatchObject({
        metadata: { labels: { rack: 'r1', zone: 'b' } },
      });
      expect((await ctl('node', 'register', 'Bad/Name')).stderr).toContain('is not a valid name');
      expect((await ctl('node', 'register', 'n', '--labels', 'novalue')).stderr).toContain(
        '--labels: "novalue" is not key=value',
      );
    });
  });
});
