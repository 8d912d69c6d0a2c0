import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { startEtcdInNetns, type NetnsEtcd } from '../../netns-tests/support/etcd-in-netns';
import { ip, Topology } from '../../netns-tests/support/topology';
import type { InNodeArgs } from './in-node';
import { parseOptions } from './options';
import { missingPrerequisites, ROOT } from './runner';

// `npm run bench`: a node netns of its own (Topology: node + uplink, the host untouched), a fresh
// etcd on that node's loopback, then in-node.ts run inside the node, and cleanup of all of it
// whatever happens (Ctrl-C included). Exit status: 0 when the benchmark ran (targets met or
// not), 1 when it broke, 2 for bad usage.

async function main(): Promise<number> {
  let options;
  try {
    options = parseOptions(process.argv.slice(2), ROOT);
  } catch (err) {
    process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
  if (process.getuid?.() !== 0) {
    process.stderr.write('bench: needs root (network namespaces)\n');
    return 2;
  }
  const missing = missingPrerequisites();
  if (missing.length > 0) {
    process.stderr.write(`bench: missing ${missing.join(', ')}\n`);
    return 1;
  }
  // Set from signal handlers, read after awaits.
  const state = { interrupted: false };
  const onSignal = () => {
    state.interrupted = true;
  };
  const interrupted = () => state.interrupted;
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const topology = await Topology.create();
  let etcd: NetnsEtcd | undefined;
  try {
    etcd = await startEtcdInNetns(topology.node.name);
    if (interrupted()) return 130;
    const args: InNodeArgs = { options, endpoint: etcd.endpoint, podPrefix: topology.node.name };
    const env = { ...process.env };
    delete env.NODE_EXTRA_CA_CERTS;
    const child = spawn(
      'nsenter',
      [
        `--net=${topology.node.path}`,
        process.execPath,
        '--import',
        'tsx',
        join(__dirname, 'in-node.ts'),
        JSON.stringify(args),
      ],
      { stdio: 'inherit', cwd: ROOT, env },
    );
    const forward = (signal: NodeJS.Signals) => () => {
      child.kill(signal);
    };
    process.on('SIGINT', forward('SIGINT'));
    process.on('SIGTERM', forward('SIGTERM'));
    const code = await new Promise<number>((resolve) => {
      child.on('error', () => {
        resolve(1);
      });
      child.on('exit', (c) => {
        resolve(c ?? 130);
      });
    });
    if (interrupted()) process.stderr.write('bench: interrupted, cleaning up\n');
    return interrupted() ? 130 : code;
  } finally {
    await etcd?.stop();
    // Pods a killed in-node process left behind are named after the node.
    const left = (await ip('netns', 'list'))
      .split('\n')
      .map((l) => l.split(' ')[0] ?? '')
      .filter((n) => n.startsWith(topology.node.name) && n !== topology.node.name);
    for (const name of left) await ip('netns', 'del', name).catch(() => undefined);
    await topology.destroy();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
