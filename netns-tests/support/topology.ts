import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { DriverRequest } from './dataplane-driver';

// A node and its pods, all in network namespaces of their own, so that the test process (which
// stays in the host's namespace) never changes the host's interfaces, routes or sysctls:
//
//   uplink netns  up1 10.99.0.1/24 ──veth── up0 10.99.0.2/24  node netns (default via 10.99.0.1)
//                                                  cali…  ──veth──  eth0  pod netns
//
// The uplink gives the node a default route: proxy ARP answers for 169.254.1.1 only when the node
// has a route to it through another interface, as every real node does.

const execFileAsync = promisify(execFile);
const IP =
  ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'].find((p) => existsSync(p)) ?? 'ip';
const REPO = join(__dirname, '..', '..');
const DRIVER = join(__dirname, 'dataplane-driver.ts');

/** Namespace names start with this, so that leftovers are recognisable. */
export const NETNS_PREFIX = 'dpt';
/** The node's address on its uplink (what pods ping to reach "the node"). */
export const NODE_UPLINK_IP = '10.99.0.2';
const UPLINK_PEER_IP = '10.99.0.1';

/** Every namespace created by this process and not yet deleted (for the exit safety net). */
const live = new Set<string>();
process.on('exit', () => {
  for (const name of live) {
    try {
      execFileSync(IP, ['netns', 'del', name], { stdio: 'ignore' });
    } catch {
      // Already gone.
    }
  }
});

/** A network namespace created by a test. */
export interface Netns {
  readonly name: string;
  readonly path: string;
}

/** What the driver printed for one call. */
export type DriverReply =
  | { ok: true; value: unknown; spawns: number; ms: number }
  | { ok: false; code: number; msg: string; details: string | null; spawns: number };

/** Run a command with a timeout; resolves with stdout, rejects with its stderr. */
export async function run(
  file: string,
  args: readonly string[],
  timeoutMs = 15_000,
): Promise<string> {
  const { stdout } = await execFileAsync(file, args, { timeout: timeoutMs, cwd: REPO });
  return stdout;
}

/** Run `ip` with these arguments. */
export function ip(...args: string[]): Promise<string> {
  return run(IP, args);
}

/** `ip -n <ns> -j <args>`, parsed. */
export async function ipJson(ns: string, ...args: string[]): Promise<Record<string, unknown>[]> {
  const out = await ip('-n', ns, '-j', ...args);
  return out.trim() === '' ? [] : (JSON.parse(out) as Record<string, unknown>[]);
}

/** Create namespace `name`, remembered for the exit safety net. */
async function addNetns(name: string): Promise<Netns> {
  live.add(name);
  await ip('netns', 'add', name);
  return { name, path: `/var/run/netns/${name}` };
}

/** One node with its uplink, plus the pods a test adds; `destroy` removes all of it. */
export class Topology {
  private readonly owned: string[];
  private seq = 0;

  private constructor(
    private readonly tag: string,
    readonly node: Netns,
    readonly uplink: Netns,
  ) {
    this.owned = [node.name, uplink.name];
  }

  /** The node and uplink namespaces, wired and routed. */
  static async create(): Promise<Topology> {
    const tag = randomBytes(3).toString('hex');
    const node = await addNetns(`${NETNS_PREFIX}${tag}n`);
    let t: Topology;
    try {
      t = new Topology(tag, node, await addNetns(`${NETNS_PREFIX}${tag}u`));
    } catch (err: unknown) {
      await ip('netns', 'del', node.name).catch(() => undefined);
      live.delete(node.name);
      throw err;
    }
    try {
      await t.wire();
    } catch (err: unknown) {
      await t.destroy();
      throw err;
    }
    return t;
  }

  private async wire(): Promise<void> {
    const { node, uplink } = this;
    await ip(
      '-n',
      node.name,
      'link',
      'add',
      'up0',
      'type',
      'veth',
      'peer',
      'name',
      'up1',
      'netns',
      uplink.name,
    );
    await ip('-n', node.name, 'addr', 'add', `${NODE_UPLINK_IP}/24`, 'dev', 'up0');
    await ip('-n', uplink.name, 'addr', 'add', `${UPLINK_PEER_IP}/24`, 'dev', 'up1');
    // What calico/node sets on a real node; a new netns starts from defaults or from the host's.
    // No DAD on the uplink: its link-local would change state in the middle of a test.
    await run(IP, [
      'netns',
      'exec',
      node.name,
      'sysctl',
      '-q',
      '-w',
      'net.ipv4.ip_forward=1',
      'net.ipv6.conf.all.forwarding=1',
      'net.ipv6.conf.up0.accept_dad=0',
    ]);
    for (const [ns, dev] of [
      [node.name, 'up0'],
      [node.name, 'lo'],
      [uplink.name, 'up1'],
      [uplink.name, 'lo'],
    ] as const) {
      await ip('-n', ns, 'link', 'set', dev, 'up');
    }
    await ip('-n', node.name, 'route', 'add', 'default', 'via', UPLINK_PEER_IP);
  }

  /** A fresh pod namespace with its loopback up (what a runtime hands the plugin). */
  async pod(): Promise<Netns> {
    const pod = await this.netns('p');
    await ip('-n', pod.name, 'link', 'set', 'lo', 'up');
    return pod;
  }

  /** Another namespace of this topology, named `dpt<tag><kind><n>`. */
  async netns(kind: string): Promise<Netns> {
    this.seq += 1;
    const ns = await addNetns(`${NETNS_PREFIX}${this.tag}${kind}${this.seq}`);
    this.owned.push(ns.name);
    return ns;
  }

  /** Delete a namespace before the end of the test (e.g. to simulate a vanished CNI_NETNS). */
  async remove(ns: Netns): Promise<void> {
    await ip('netns', 'del', ns.name);
    live.delete(ns.name);
  }

  /**
   * Run one lib/dataplane call inside the node namespace, as the plugin would run on a node, with
   * `env` added to this process's environment.
   */
  async driver(request: DriverRequest, env: Record<string, string> = {}): Promise<DriverReply> {
    const out = await run(
      IP,
      [
        'netns',
        'exec',
        this.node.name,
        // Extra environment through env(1): argv only, no shell.
        ...(Object.keys(env).length > 0
          ? ['/usr/bin/env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`)]
          : []),
        process.execPath,
        '--import',
        'tsx',
        DRIVER,
        JSON.stringify(request),
      ],
      60_000,
    );
    return JSON.parse(out) as DriverReply;
  }

  /** sysctl values read inside namespace `ns` (keys in slash form: net/ipv4/conf/x/proxy_arp). */
  async sysctls(ns: Netns, keys: readonly string[]): Promise<Record<string, string>> {
    const out = await run(IP, ['netns', 'exec', ns.name, 'sysctl', '-n', ...keys]);
    const values = out.trim().split('\n');
    return Object.fromEntries(keys.map((k, i) => [k, values[i] ?? '']));
  }

  /** Writes sysctls inside namespace `ns` (keys in slash form), as a test's starting point. */
  async setSysctls(ns: Netns, values: Record<string, string>): Promise<void> {
    const pairs = Object.entries(values).map(([key, value]) => `${key}=${value}`);
    await run(IP, ['netns', 'exec', ns.name, 'sysctl', '-q', '-w', ...pairs]);
  }

  /** True when one ping from `ns` to `target` is answered within 2 s. */
  async ping(ns: Netns, target: string): Promise<boolean> {
    const args = ['netns', 'exec', ns.name, 'ping', ...(target.includes(':') ? ['-6'] : [])];
    try {
      await run(IP, [...args, '-c1', '-W2', target]);
      return true;
    } catch {
      return false;
    }
  }

  /** Delete every namespace of this topology (their veths go with them). */
  async destroy(): Promise<void> {
    for (const name of this.owned.reverse()) {
      if (!live.has(name)) continue;
      try {
        await ip('netns', 'del', name);
      } catch {
        // Already gone.
      }
      live.delete(name);
    }
  }
}

/** The host's links and IPv4/IPv6 main routes, as comparable text (read-only). */
export async function hostSnapshot(): Promise<string[]> {
  const links = JSON.parse(await ip('-j', 'link', 'show')) as Record<string, unknown>[];
  const routes = [
    ...(JSON.parse(await ip('-j', 'route', 'show')) as Record<string, unknown>[]),
    ...(JSON.parse(await ip('-j', '-6', 'route', 'show')) as Record<string, unknown>[]),
  ];
  return [
    ...links.map(
      (l) =>
        `link ${String(l.ifname)} ${String(l.address)} mtu ${String(l.mtu)} ${JSON.stringify(l.flags)}`,
    ),
    ...routes.map((r) => `route ${String(r.dst)} ${String(r.gateway)} ${String(r.dev)}`),
  ].sort();
}

/** Namespaces named like ours that exist now (should be none after a suite). */
export async function leftoverNamespaces(): Promise<string[]> {
  return (await ip('netns', 'list'))
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n.startsWith(NETNS_PREFIX));
}
