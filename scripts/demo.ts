import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { parseBlockAffinityKey } from '../lib/datastore/calico/keys';
import type { Kv } from '../lib/datastore/kv';
import { startEtcd, type EtcdServer } from '../lib/datastore/testing/etcd-server';
import { rawKv } from '../ipam/testing/ipam-binary';
import { relayEtcd, type EtcdRelay } from '../netns-tests/support/etcd-relay';

// The README's main command: Calico's story end to end on one machine, as the Calico tutorials
// tell it. A private etcd; a pool 10.1.0.0/16 with /26 blocks created with calicoctl; two nodes
// (network namespaces joined by a bridge namespace) with two pods each, networked by dist/calico
// run the way a runtime runs it; routes between the nodes' blocks programmed from the block
// affinities in etcd (BIRD's job in Calico); a cross-node ping and hop list; then every pod
// deleted, every address shown released, and everything torn down, also on failure or Ctrl-C.
// The host's own interfaces, routes and sysctls are never touched: everything lives in namespaces.

const execFileAsync = promisify(execFile);
const REPO = resolve(__dirname, '..');
const DIST = join(REPO, 'dist');
const IP =
  ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'].find((p) => existsSync(p)) ?? 'ip';
const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const tag = `cd${process.pid % 100000}`;
const BRIDGE_NS = `${tag}-br`;
/** The nodes' uplinks: a private range, never the host's 192.0.2.0/24. */
const NODES = [
  { name: 'node-1', ns: `${tag}-n1`, uplink: '172.31.250.11' },
  { name: 'node-2', ns: `${tag}-n2`, uplink: '172.31.250.12' },
] as const;
const GATEWAY = '172.31.250.1';
const PODS = [
  { name: 'pod-a', node: 0 },
  { name: 'pod-b', node: 0 },
  { name: 'pod-c', node: 1 },
  { name: 'pod-d', node: 1 },
] as const;

const namespaces: string[] = [];
const relays: EtcdRelay[] = [];
let etcd: EtcdServer | undefined;
let kv: Kv | undefined;
let work: string | undefined;
let step = 0;

function say(text: string): void {
  step++;
  process.stdout.write(`\n\x1b[1m[${step}] ${text}\x1b[0m\n`);
}

function show(argv: readonly string[]): void {
  process.stdout.write(
    `$ ${argv.map((a) => (/^[\w./:=,@+-]+$/.test(a) ? a : `'${a}'`)).join(' ')}\n`,
  );
}

async function run(
  file: string,
  args: readonly string[],
  options: { quiet?: boolean } = {},
): Promise<string> {
  if (options.quiet !== true) show([file, ...args]);
  const { stdout } = await execFileAsync(file, args, { timeout: 20_000 });
  return stdout;
}

function ip(...args: string[]): Promise<string> {
  return run(IP, args, { quiet: true });
}

/** Runs dist/calicoctl against the private etcd and prints what it printed. */
async function calicoctl(...args: string[]): Promise<string> {
  if (etcd === undefined) throw new Error('etcd is not running');
  const argv = [join(DIST, 'calicoctl'), ...args];
  show(['calicoctl', ...args]);
  const { stdout } = await execFileAsync(argv[0] ?? '', [...args, '--endpoints', etcd.endpoint], {
    env: { PATH },
    timeout: 20_000,
  });
  process.stdout.write(stdout);
  return stdout;
}

/** dist/calico inside a node netns, as a runtime runs it: PATH and CNI_* only, config on stdin. */
function calico(
  node: (typeof NODES)[number],
  call: { command: 'ADD' | 'DEL'; pod: string; netns: string; endpoint: string },
): Promise<string> {
  const conf = {
    cniVersion: '1.0.0',
    name: 'k8s-pod-network',
    type: 'calico',
    etcd_endpoints: call.endpoint,
    nodename: node.name,
    ipam_lock_file: `/run/calico-demo-${node.ns}.lock`,
    ipam: { type: 'calico-ipam' },
  };
  const env = {
    PATH,
    CNI_COMMAND: call.command,
    CNI_CONTAINERID: call.pod,
    CNI_NETNS: call.netns,
    CNI_IFNAME: 'eth0',
    CNI_PATH: DIST,
  };
  return new Promise((resolvePromise, reject) => {
    const child = spawn(IP, ['netns', 'exec', node.ns, join(DIST, 'calico')], { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolvePromise(stdout);
      else
        reject(
          new Error(
            `calico ${call.command} ${call.pod} on ${node.name} failed (${code}): ${stdout}${stderr}`,
          ),
        );
    });
    child.stdin.end(JSON.stringify(conf));
  });
}

async function addNetns(name: string): Promise<void> {
  await ip('netns', 'add', name);
  namespaces.push(name);
  await ip('-n', name, 'link', 'set', 'lo', 'up');
}

async function buildNodes(): Promise<void> {
  say(
    `Two simulated nodes: netns ${NODES[0].ns} and ${NODES[1].ns}, joined by a bridge in netns ${BRIDGE_NS}`,
  );
  await addNetns(BRIDGE_NS);
  await ip('-n', BRIDGE_NS, 'link', 'add', 'br0', 'type', 'bridge');
  await ip('-n', BRIDGE_NS, 'addr', 'add', `${GATEWAY}/24`, 'dev', 'br0');
  await ip('-n', BRIDGE_NS, 'link', 'set', 'br0', 'up');
  for (const [i, node] of NODES.entries()) {
    await addNetns(node.ns);
    const port = `port${i + 1}`;
    await ip(
      '-n',
      BRIDGE_NS,
      'link',
      'add',
      port,
      'type',
      'veth',
      'peer',
      'name',
      'eth0',
      'netns',
      node.ns,
    );
    await ip('-n', BRIDGE_NS, 'link', 'set', port, 'master', 'br0', 'up');
    await ip('-n', node.ns, 'addr', 'add', `${node.uplink}/24`, 'dev', 'eth0');
    await ip('-n', node.ns, 'link', 'set', 'eth0', 'up');
    await ip('-n', node.ns, 'route', 'add', 'default', 'via', GATEWAY);
    // The node's own forwarding switch (its netns's sysctl, not the host's): nodes route pods.
    await run(IP, ['netns', 'exec', node.ns, 'sysctl', '-qw', 'net.ipv4.ip_forward=1'], {
      quiet: true,
    });
    process.stdout.write(
      `${node.name}: netns ${node.ns}, eth0 ${node.uplink}/24 on the bridge, default via ${GATEWAY}\n`,
    );
  }
}

async function programRoutes(): Promise<void> {
  say('Routes from the block affinities in etcd (what BIRD does in Calico)');
  if (kv === undefined) throw new Error('no etcd client');
  const { kvs } = await kv.range('/calico/ipam/v2/host/', { prefix: true, keysOnly: true });
  const affinities = kvs.flatMap((k) => {
    const parsed = parseBlockAffinityKey(k.key);
    return parsed === undefined ? [] : [parsed];
  });
  for (const node of NODES) {
    for (const { host, cidr } of affinities) {
      const owner = NODES.find((n) => n.name === host);
      if (owner === undefined) continue;
      const route =
        owner === node
          ? ['blackhole', cidr]
          : [cidr, 'via', owner.uplink, 'dev', 'eth0', 'proto', 'bird'];
      await ip('-n', node.ns, 'route', 'replace', ...route);
      process.stdout.write(`${node.name}: ip route replace ${route.join(' ')}\n`);
    }
  }
}

/** A hop list like traceroute's, from pings with growing TTL (no traceroute package needed). */
async function hops(from: string, target: string): Promise<void> {
  for (let ttl = 1; ttl <= 6; ttl++) {
    let output: string;
    try {
      output = await run(
        IP,
        ['netns', 'exec', from, 'ping', '-n', '-c', '1', '-W', '1', '-t', String(ttl), target],
        {
          quiet: true,
        },
      );
    } catch (err) {
      output = (err as { stdout?: string }).stdout ?? '';
    }
    const exceeded = /From ([\d.]+).*Time to live exceeded/.exec(output);
    const reply = /bytes from ([\d.]+)/.exec(output);
    const hop = exceeded?.[1] ?? reply?.[1] ?? '*';
    const whose = hopName(hop);
    process.stdout.write(` ${ttl}  ${hop}${whose === '' ? '' : `  (${whose})`}\n`);
    if (reply !== null) return;
  }
}

const podIps = new Map<string, string>();

function hopName(address: string): string {
  const node = NODES.find((n) => n.uplink === address);
  if (node !== undefined) return node.name;
  for (const [pod, podIp] of podIps) if (podIp === address) return pod;
  return '';
}

async function main(): Promise<void> {
  for (const bin of ['calico', 'calico-ipam', 'calicoctl']) {
    if (!existsSync(join(DIST, bin))) throw new Error(`dist/${bin} is missing: run npm run build`);
  }
  work = mkdtempSync(join(tmpdir(), 'calico-demo-'));
  say('A private etcd on loopback (temporary data directory)');
  etcd = await startEtcd();
  kv = rawKv(etcd.endpoint);
  process.stdout.write(`etcd at ${etcd.endpoint}\n`);

  say('Datastore, nodes and the pool, with calicoctl');
  await calicoctl('datastore', 'init');
  for (const node of NODES) await calicoctl('node', 'register', node.name, '--labels', `demo=true`);
  const pool = join(work, 'ippool.yaml');
  writeFileSync(
    pool,
    'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: default-ipv4-ippool\nspec:\n  cidr: 10.1.0.0/16\n  blockSize: 26\n  ipipMode: Never\n  natOutgoing: true\n  nodeSelector: all()\n',
  );
  process.stdout.write(`--- ${pool}\n`);
  process.stdout.write(
    'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: default-ipv4-ippool\nspec:\n  cidr: 10.1.0.0/16\n  blockSize: 26\n  ipipMode: Never\n  natOutgoing: true\n  nodeSelector: all()\n---\n',
  );
  await calicoctl('create', '-f', pool);
  await calicoctl('get', 'ippool', '-o', 'wide');

  await buildNodes();
  say('etcd relayed into each node netns (a netns has its own loopback)');
  const endpoints: string[] = [];
  for (const node of NODES) {
    const relay = await relayEtcd(node.ns, etcd.endpoint);
    relays.push(relay);
    endpoints.push(relay.endpoint);
    process.stdout.write(`${node.name}: etcd at ${relay.endpoint} inside ${node.ns}\n`);
  }

  say(
    'Two pods per node: dist/calico ADD inside the node netns, PATH + CNI_* env, netconf on stdin',
  );
  for (const pod of PODS) {
    const node = NODES[pod.node];
    const ns = `${tag}-${pod.name}`;
    await addNetns(ns);
    const result = JSON.parse(
      await calico(node, {
        command: 'ADD',
        pod: pod.name,
        netns: `/var/run/netns/${ns}`,
        endpoint: endpoints[pod.node] ?? '',
      }),
    ) as { ips: { address: string }[] };
    const address = result.ips[0]?.address ?? '';
    podIps.set(pod.name, address.split('/')[0] ?? '');
    process.stdout.write(`${pod.name} on ${node.name}: eth0 ${address}\n`);
  }
  const podA = podIps.get('pod-a') ?? '';
  process.stdout.write(`\npod-a's view (ip -n ${tag}-pod-a addr / route):\n`);
  process.stdout.write(
    await run(IP, ['-n', `${tag}-pod-a`, '-br', 'addr', 'show', 'dev', 'eth0'], { quiet: true }),
  );
  process.stdout.write(await run(IP, ['-n', `${tag}-pod-a`, 'route'], { quiet: true }));
  process.stdout.write(`\n${NODES[0].name}'s routes to its pods:\n`);
  process.stdout.write(
    await run(IP, ['-n', NODES[0].ns, 'route', 'show', 'proto', 'static'], { quiet: true }).catch(
      () => '',
    ),
  );
  process.stdout.write(await run(IP, ['-n', NODES[0].ns, 'route'], { quiet: true }));

  await programRoutes();

  const podC = podIps.get('pod-c') ?? '';
  say(`Cross-node ping: pod-a (${podA}, node-1) -> pod-c (${podC}, node-2)`);
  process.stdout.write(
    await run(IP, [
      'netns',
      'exec',
      `${tag}-pod-a`,
      'ping',
      '-n',
      '-c',
      '3',
      '-i',
      '0.2',
      '-W',
      '2',
      podC,
    ]),
  );
  say('Hops from pod-a to pod-c (ping with growing TTL)');
  await hops(`${tag}-pod-a`, podC);

  say('What calicoctl sees');
  await calicoctl('get', 'workloadendpoint', '-o', 'wide');
  await calicoctl('ipam', 'show', '--show-blocks');
  await calicoctl('ipam', 'show', '--ip', podC);

  say('Deleting the pods: dist/calico DEL for each');
  for (const pod of PODS) {
    const node = NODES[pod.node];
    await calico(node, {
      command: 'DEL',
      pod: pod.name,
      netns: `/var/run/netns/${tag}-${pod.name}`,
      endpoint: endpoints[pod.node] ?? '',
    });
    process.stdout.write(`${pod.name}: deleted\n`);
  }
  say('Every address released');
  await calicoctl('ipam', 'show', '--show-blocks');
  await calicoctl('get', 'workloadendpoint');
  const handles = await kv.range('/calico/ipam/v2/handle/', { prefix: true, keysOnly: true });
  const inUse = (await calicoctl('ipam', 'show')).match(/\s(\d+) \(\d+%\)/)?.[1];
  process.stdout.write(`handles left: ${handles.kvs.length}; addresses in use: ${inUse ?? '?'}\n`);
  if (handles.kvs.length !== 0 || inUse !== '0')
    throw new Error('some addresses were not released');
  await calicoctl('ipam', 'check');
}

let cleaned = false;
async function cleanup(): Promise<void> {
  if (cleaned) return;
  cleaned = true;
  say('Cleaning up: namespaces (and their veths), relays, etcd and its data');
  for (const relay of relays.splice(0)) await relay.close().catch(() => undefined);
  kv?.close();
  for (const name of namespaces.splice(0).reverse()) {
    await ip('netns', 'del', name).catch(() => undefined);
  }
  await etcd?.stop();
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
  const left = (await ip('netns', 'list')).split('\n').filter((l) => l.startsWith(`${tag}-`));
  process.stdout.write(
    left.length === 0 ? 'nothing left behind\n' : `LEFT BEHIND: ${left.join(', ')}\n`,
  );
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stdout.write(`\n${signal}: stopping\n`);
    void cleanup().finally(() => process.exit(130));
  });
}

const started = performance.now();
main()
  .then(async () => {
    await cleanup();
    process.stdout.write(
      `\nDemo finished in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
    );
  })
  .catch(async (err: unknown) => {
    process.stderr.write(`\ndemo failed: ${err instanceof Error ? err.message : String(err)}\n`);
    await cleanup();
    process.exitCode = 1;
  });
