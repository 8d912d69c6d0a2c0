import { readFileSync, writeFileSync } from 'node:fs';
import { Script } from 'node:vm';
import { fakeRequire, TRAINING_NETNS, type FakeHostLog } from './fake-host';
import { startFakeGateway } from './fake-etcd-gateway';

// Usage (from scripts/build.mjs): node --import tsx scripts/code-cache/train.ts NAME SOURCE OUT
//
// Makes the V8 code cache that dist/NAME embeds, the way V8 recommends: after running the code.
// A cache made right after compiling holds only the top-level function; every function an ADD
// calls is then compiled lazily in every pod start (~7 ms of an ADD, ~4 ms of a DEL on a 2-core
// node). Here the bundle runs cni and k8s ADDs and DELs against a fake etcd gateway and fake
// iproute2 (fake-host.ts), and the cache taken afterwards holds what they compiled. The same
// bundle source is compiled as in dist/NAME; only its `require` differs. The run must succeed:
// an ADD that failed early would teach the cache nothing, so any failure fails the build.

const [name, sourceFile, outFile] = process.argv.slice(2);
if (name === undefined || sourceFile === undefined || outFile === undefined) {
  throw new Error('usage: train.ts NAME SOURCE OUT');
}

const POOL = {
  kind: 'IPPool',
  apiVersion: 'projectcalico.org/v3',
  metadata: { name: 'training-pool', creationTimestamp: '2026-01-01T00:00:00Z' },
  spec: { cidr: '10.250.0.0/16', ipipMode: 'Never', natOutgoing: true, nodeSelector: 'all()' },
};
const CLUSTER_INFORMATION = {
  kind: 'ClusterInformation',
  apiVersion: 'projectcalico.org/v3',
  metadata: { name: 'default' },
  spec: { datastoreReady: true },
};
const RESOURCES = '/calico/resources/v3/projectcalico.org';

interface Invocation {
  command: 'ADD' | 'DEL';
  containerId: string;
  cniArgs?: string;
  /** A pod netns named under /var/run/netns (containerd, CRI-O, podman), else a /proc path. */
  named: boolean;
}

// Both orchestrators: a runtime's pods (cni) and kubelet's (k8s, which names the veth by hash);
// both kinds of CNI_NETNS, which take different dataplane paths (setup-pod-network.ts).
const INVOCATIONS: Invocation[] = [
  { command: 'ADD', containerId: 'training-cni', named: false },
  { command: 'DEL', containerId: 'training-cni', named: false },
  {
    command: 'ADD',
    containerId: 'training-k8s',
    cniArgs: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=training',
    named: true,
  },
  {
    command: 'DEL',
    containerId: 'training-k8s',
    cniArgs: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=training',
    named: true,
  },
];

async function main(binary: string, source: string, out: string): Promise<void> {
  const script = new Script(readFileSync(source, 'utf8'), { filename: `${binary}.js` });
  const gateway = await startFakeGateway({
    [`${RESOURCES}/clusterinformations/default`]: JSON.stringify(CLUSTER_INFORMATION),
    [`${RESOURCES}/ippools/training-pool`]: JSON.stringify(POOL),
  });
  try {
    const netconf = JSON.stringify({
      cniVersion: '1.0.0',
      name: 'training-net',
      type: 'calico',
      etcd_endpoints: gateway.endpoint,
      nodename: 'training-node',
      ipam_lock_file: `/tmp/calico-cni-training-${process.pid}.lock`,
      ipam: { type: 'calico-ipam' },
    });
    for (const invocation of INVOCATIONS) {
      await invoke(script, { binary, netconf, invocation });
    }
    const left = [...gateway.snapshot().keys()].filter((k) => k.includes('/ipam/v2/handle/'));
    if (left.length > 0) throw new Error(`training left handles behind: ${left.join(', ')}`);
  } finally {
    await gateway.close();
  }
  const cache = script.createCachedData();
  writeFileSync(out, cache);
}

/** Runs the bundle once as the runtime would, and waits for it to exit (set its exit code). */
async function invoke(
  script: Script,
  options: { binary: string; netconf: string; invocation: Invocation },
): Promise<void> {
  const { binary, netconf, invocation } = options;
  const log: FakeHostLog = { stdout: '', stderr: '', commands: [] };
  const savedArgv = process.argv;
  const savedEnv = process.env;
  process.argv = [process.execPath, `/opt/cni/bin/${binary}`];
  process.env = {
    PATH: '/usr/sbin:/usr/bin:/sbin:/bin',
    CNI_COMMAND: invocation.command,
    CNI_CONTAINERID: invocation.containerId,
    CNI_NETNS: invocation.named ? TRAINING_NETNS : `/proc/${process.pid}/ns/net`,
    CNI_IFNAME: 'eth0',
    CNI_PATH: '/opt/cni/bin',
    ...(invocation.cniArgs === undefined ? {} : { CNI_ARGS: invocation.cniArgs }),
  };
  process.exitCode = undefined;
  // The plugin ends its process once it has answered (exitWith): here it only sets the code.
  const exitDescriptor = Object.getOwnPropertyDescriptor(process, 'exit');
  process.exit = ((code?: number) => {
    process.exitCode = code ?? 0;
  }) as typeof process.exit;
  try {
    const main = script.runInThisContext() as (...args: unknown[]) => void;
    const module = { exports: {} };
    main(
      module.exports,
      fakeRequire({ stdin: () => netconf, log }),
      module,
      `/opt/cni/bin/${binary}`,
      '/opt/cni/bin',
    );
    const code = await exitCode(20_000);
    const what = `${binary} ${invocation.command} ${invocation.containerId}`;
    if (code !== 0) throw new Error(`${what} exited ${code}: ${log.stdout}${log.stderr}`);
    if (invocation.command === 'ADD' && !log.stdout.includes('"ips"'))
      throw new Error(`${what} printed no addresses: ${log.stdout}`);
  } finally {
    process.argv = savedArgv;
    process.env = savedEnv;
    if (exitDescriptor !== undefined) Object.defineProperty(process, 'exit', exitDescriptor);
    process.exitCode = undefined;
  }
}

async function exitCode(timeoutMs: number): Promise<number> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const code = process.exitCode;
    if (typeof code === 'number') return code;
    if (typeof code === 'string') return Number(code);
    if (Date.now() > end) throw new Error(`no exit code after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

// The bundles leave nothing running, but the exit code they set must not become this process's.
main(name, sourceFile, outFile).then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`code cache training of ${name} failed:`, err);
    process.exit(1);
  },
);
