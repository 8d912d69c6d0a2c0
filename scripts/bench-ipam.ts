// IPAM cold-start benchmark: dist/calico-ipam ADD and DEL against a warm etcd on loopback, beside
// Debian's host-local ADD and DEL and bare `node -e 0`, in one run with interleaved rounds so that
// drift on a shared machine hits every command alike. Each command runs with only the environment
// a runtime passes (PATH and CNI_*). Also counts etcd KV requests per ADD and DEL from etcd's
// /metrics. Usage: node --import tsx scripts/bench-ipam.ts [--runs N]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { printReport } from './bench-report';
import { startEtcd } from '../lib/datastore/testing/etcd-server';
import { etcdKvRequests, ipamNetconf, rawKv, rawPool } from '../ipam/testing/ipam-binary';

const runsFlag = process.argv.indexOf('--runs');
const runs = runsFlag > 0 ? Number(process.argv[runsFlag + 1]) : 50;
const root = resolve(__dirname, '..');
const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function timed(file: string, args: string[], env: Record<string, string>, stdin: string): number {
  const started = process.hrtime.bigint();
  const r = spawnSync(file, args, { env: { PATH, ...env }, input: stdin, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.status !== 0)
    throw new Error(`${file} ${env.CNI_COMMAND ?? ''} failed: ${r.stdout} ${r.stderr}`);
  return ms;
}

async function main(): Promise<void> {
  const etcd = await startEtcd();
  const kv = rawKv(etcd.endpoint);
  const work = mkdtempSync(join(tmpdir(), 'bench-ipam-'));
  try {
    await kv.put(
      '/calico/resources/v3/projectcalico.org/ippools/bench',
      rawPool('bench', '10.1.0.0/16'),
    );
    const calicoConf = JSON.stringify(ipamNetconf(etcd.endpoint, { node: 'bench-node' }));
    const hostLocalConf = JSON.stringify({
      cniVersion: '0.3.1',
      name: 'bench',
      type: 'ptp',
      ipam: { type: 'host-local', subnet: '10.2.0.0/16', dataDir: join(work, 'host-local') },
    });
    const cni = (command: string, id: string) => ({
      CNI_COMMAND: command,
      CNI_CONTAINERID: id,
      CNI_NETNS: '/var/run/netns/bench',
      CNI_IFNAME: 'eth0',
      CNI_PATH: '/usr/lib/cni',
    });
    const ipam = join(root, 'dist/calico-ipam');
    const hostLocal = '/usr/lib/cni/host-local';
    const samples: Record<string, number[]> = {
      'node -e 0': [],
      'host-local ADD': [],
      'host-local DEL': [],
      'calico-ipam ADD': [],
      'calico-ipam DEL': [],
    };
    const push = (name: string, ms: number) => samples[name]?.push(ms);
    // Warm-up: page cache, etcd, the first block claim.
    timed(ipam, [], cni('ADD', 'warm'), calicoConf);
    timed(ipam, [], cni('DEL', 'warm'), calicoConf);
    let addRequests = 0;
    let delRequests = 0;
    for (let i = 0; i < runs; i++) {
      const id = `bench-${i}`;
      push('node -e 0', timed(process.execPath, ['-e', '0'], {}, ''));
      push('host-local ADD', timed(hostLocal, [], cni('ADD', id), hostLocalConf));
      push('host-local DEL', timed(hostLocal, [], cni('DEL', id), hostLocalConf));
      const beforeAdd = await etcdKvRequests(etcd.endpoint);
      push('calico-ipam ADD', timed(ipam, [], cni('ADD', id), calicoConf));
      const afterAdd = await etcdKvRequests(etcd.endpoint);
      push('calico-ipam DEL', timed(ipam, [], cni('DEL', id), calicoConf));
      const afterDel = await etcdKvRequests(etcd.endpoint);
      addRequests += afterAdd - beforeAdd;
      delRequests += afterDel - afterAdd;
    }
    printReport({
      heading: `${runs} interleaved runs each, environment PATH + CNI_* only, warm etcd on loopback`,
      samples,
      requests: { what: 'calico-ipam', add: addRequests, del: delRequests, runs },
      target: { command: 'calico-ipam ADD', factor: 2.5 },
    });
  } finally {
    kv.close();
    await etcd.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

void main();
