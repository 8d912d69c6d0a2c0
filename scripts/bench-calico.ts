// Pod-start benchmark on a node netns: dist/calico ADD and DEL (calico-ipam in-process, a warm etcd
// on the node's loopback, as on a single-node host) beside Debian's ptp + host-local and bare
// `node -e 0`, interleaved in one run, each command run as a runtime runs it on that node
// (`ip netns exec`, PATH and CNI_* only). With --relay, etcd runs on the host's loopback and is
// relayed in, as in the netns tests (two extra userland hops per request).
// Usage (root): node --import tsx scripts/bench-calico.ts [--runs N] [--relay]
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { etcdKvRequests, rawPool, READY_CLUSTER_INFORMATION } from '../ipam/testing/ipam-binary';
import { printReport } from './bench-report';
import { startEtcd } from '../lib/datastore/testing/etcd-server';
import { CalicoNode } from '../netns-tests/support/calico-node';
import { startEtcdInNetns } from '../netns-tests/support/etcd-in-netns';
import { Topology, type Netns } from '../netns-tests/support/topology';

const runsFlag = process.argv.indexOf('--runs');
const runs = runsFlag > 0 ? Number(process.argv[runsFlag + 1]) : 50;
const root = resolve(__dirname, '..');
const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Runs `argv` inside `netns` with `env` and `stdin`; resolves with milliseconds. */
function timed(
  netns: string,
  argv: string[],
  env: Record<string, string>,
  stdin: string,
): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn('ip', ['netns', 'exec', netns, ...argv], { env: { PATH, ...env } });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', () => undefined);
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (code !== 0)
        reject(new Error(`${argv.join(' ')} ${env.CNI_COMMAND ?? ''} failed: ${out}`));
      else resolvePromise(ms);
    });
    child.stdin.end(stdin);
  });
}

/** etcd for the node: the conf calico gets, a request counter, and a way to stop it all. */
async function nodeEtcd(topology: Topology): Promise<{
  conf: Record<string, unknown>;
  kvRequests: () => Promise<number>;
  stop: () => Promise<void>;
}> {
  if (process.argv.includes('--relay')) {
    const etcd = await startEtcd();
    const node = await CalicoNode.create(topology, etcd);
    return {
      conf: node.conf(),
      kvRequests: () => etcdKvRequests(etcd.endpoint),
      stop: async () => {
        await node.close();
        await etcd.stop();
      },
    };
  }
  const etcd = await startEtcdInNetns(topology.node.name);
  await etcd.etcdctl(
    'put',
    '/calico/resources/v3/projectcalico.org/clusterinformations/default',
    READY_CLUSTER_INFORMATION,
  );
  await etcd.etcdctl(
    'put',
    '/calico/resources/v3/projectcalico.org/ippools/pool4',
    rawPool('pool4', '10.1.0.0/16'),
  );
  const conf = {
    cniVersion: '0.3.1',
    name: 'net1',
    type: 'calico',
    etcd_endpoints: etcd.endpoint,
    nodename: 'node-1',
    ipam_lock_file: `/tmp/bench-calico-${process.pid}.lock`,
    ipam: { type: 'calico-ipam' },
  };
  return { conf, kvRequests: etcd.kvRequests, stop: etcd.stop };
}

async function main(): Promise<void> {
  const topology = await Topology.create();
  const etcd = await nodeEtcd(topology);
  const hostLocalDir = `/tmp/bench-host-local-${process.pid}`;
  try {
    const calicoConf = JSON.stringify(etcd.conf);
    const ptpConf = JSON.stringify({
      cniVersion: '0.3.1',
      name: 'bench-ptp',
      type: 'ptp',
      ipam: { type: 'host-local', subnet: '10.2.0.0/16', dataDir: hostLocalDir },
    });
    const cni = (command: string, id: string, pod: Netns) => ({
      CNI_COMMAND: command,
      CNI_CONTAINERID: id,
      CNI_NETNS: pod.path,
      CNI_IFNAME: 'eth0',
      CNI_PATH: `${join(root, 'dist')}:/usr/lib/cni`,
    });
    const nodeNs = topology.node.name;
    const samples: Record<string, number[]> = {
      'node -e 0': [],
      'ptp + host-local ADD': [],
      'ptp + host-local DEL': [],
      'calico ADD': [],
      'calico DEL': [],
    };
    let addRequests = 0;
    let delRequests = 0;
    const calico = join(root, 'dist/calico');
    // Warm-up: the first block claim, page cache.
    const warm = await topology.pod();
    await timed(nodeNs, [calico], cni('ADD', 'warm', warm), calicoConf);
    await timed(nodeNs, [calico], cni('DEL', 'warm', warm), calicoConf);
    for (let i = 0; i < runs; i++) {
      const a = await topology.pod();
      const b = await topology.pod();
      samples['node -e 0']?.push(await timed(nodeNs, [process.execPath, '-e', '0'], {}, ''));
      samples['ptp + host-local ADD']?.push(
        await timed(nodeNs, ['/usr/lib/cni/ptp'], cni('ADD', `p${i}`, a), ptpConf),
      );
      samples['ptp + host-local DEL']?.push(
        await timed(nodeNs, ['/usr/lib/cni/ptp'], cni('DEL', `p${i}`, a), ptpConf),
      );
      const before = await etcd.kvRequests();
      samples['calico ADD']?.push(
        await timed(nodeNs, [calico], cni('ADD', `c${i}`, b), calicoConf),
      );
      const middle = await etcd.kvRequests();
      samples['calico DEL']?.push(
        await timed(nodeNs, [calico], cni('DEL', `c${i}`, b), calicoConf),
      );
      addRequests += middle - before;
      delRequests += (await etcd.kvRequests()) - middle;
      await topology.remove(a);
      await topology.remove(b);
    }
    printReport({
      heading: `${runs} interleaved runs each in a node netns (ip netns exec), PATH + CNI_* only, warm etcd ${process.argv.includes('--relay') ? 'relayed from the host' : 'on the node'}`,
      samples,
      requests: { what: 'calico', add: addRequests, del: delRequests, runs },
      target: { command: 'calico ADD', factor: 3 },
    });
  } finally {
    await etcd.stop();
    await topology.destroy();
    rmSync(hostLocalDir, { recursive: true, force: true });
  }
}

void main();
