import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './topology';

// A single-member etcd running inside a network namespace (the node's), as on a one-node host:
// plugins reach it on the namespace's own loopback with no relay in between. For benchmarks,
// where a relay's two userland hops would be measured along with the plugin.

const ETCD = process.env.ETCD_TEST_BINARY ?? '/usr/bin/etcd';
const CLIENT = 'http://127.0.0.1:2379';

/** An etcd inside a netns; `etcdctl` and `kvRequests` run inside it too. */
export interface NetnsEtcd {
  endpoint: string;
  etcdctl: (...args: string[]) => Promise<string>;
  /** KV requests served so far (etcd's /metrics counters of the KV gRPC service). */
  kvRequests: () => Promise<number>;
  stop: () => Promise<void>;
}

/** Starts etcd in `netns` on 127.0.0.1:2379 and waits until it is healthy. */
export async function startEtcdInNetns(netns: string): Promise<NetnsEtcd> {
  const base = existsSync('/dev/shm') ? '/dev/shm' : '/tmp';
  const dir = mkdtempSync(join(base, 'netns-etcd-'));
  const child: ChildProcess = spawn(
    'ip',
    [
      'netns',
      'exec',
      netns,
      ETCD,
      '--name=node',
      `--data-dir=${dir}`,
      `--listen-client-urls=${CLIENT}`,
      `--advertise-client-urls=${CLIENT}`,
      '--listen-peer-urls=http://127.0.0.1:2380',
      '--initial-advertise-peer-urls=http://127.0.0.1:2380',
      '--initial-cluster=node=http://127.0.0.1:2380',
      '--log-level=error',
    ],
    { stdio: 'ignore', env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } },
  );
  const inNetns = (file: string, args: string[]): Promise<string> =>
    run('ip', ['netns', 'exec', netns, file, ...args]);
  const etcdctl = (...args: string[]): Promise<string> =>
    run('env', [
      'ETCDCTL_API=3',
      'ip',
      'netns',
      'exec',
      netns,
      'etcdctl',
      '--endpoints',
      CLIENT,
      ...args,
    ]);
  const stop = async (): Promise<void> => {
    // Already gone (e.g. a Ctrl-C reached the whole process group): 'exit' will not fire again.
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; ; i++) {
    try {
      await etcdctl('endpoint', 'health');
      break;
    } catch (err) {
      if (i > 100) {
        await stop();
        throw err;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return {
    endpoint: CLIENT,
    etcdctl,
    kvRequests: async () => {
      const text = await inNetns('curl', ['-s', `${CLIENT}/metrics`]);
      return text
        .split('\n')
        .filter((l) => l.startsWith('grpc_server_started_total{') && l.includes('etcdserverpb.KV'))
        .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
    },
    stop,
  };
}
