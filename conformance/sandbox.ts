import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { parseLinks, parseRoutes, type IpLink, type IpRoute } from '../lib/dataplane/ip-json';
import { onCleanup } from './cleanup';

const execFileAsync = promisify(execFile);

/** Run iproute2 with a timeout: a hung `ip` must not hang the harness. */
const run = (file: string, args: readonly string[]) =>
  execFileAsync(file, args, { timeout: 10_000 });

/** A network namespace created by the harness, as a runtime would pass it in CNI_NETNS. */
export interface Pod {
  readonly name: string;
  readonly path: string;
}

/** A link of a namespace as `ip -j -d addr show` reports it. */
export interface PodLinkInfo extends IpLink {
  readonly ifindex: number;
  /** ifindex of a veth's peer (in the peer's namespace). */
  readonly peerIndex: number | undefined;
  readonly operstate: string | undefined;
}

/** A route with the family it was listed under. */
export interface FamilyRoute extends IpRoute {
  readonly family: 4 | 6;
}

/** Links, addresses and routes of a namespace, comparable as strings. */
export interface NetnsState {
  readonly links: readonly string[];
  readonly routes: readonly string[];
}

/** True when the harness may create network namespaces. */
export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** Absolute path of iproute2's `ip`, or undefined when it is not installed. */
export function findIp(): string | undefined {
  return ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'].find((p) => existsSync(p));
}

/**
 * A "node" netns that plays the host plus pod namespaces, all created and removed by the harness
 * so that plugins never touch the real host's interfaces, routes or sysctls.
 */
export class Sandbox {
  readonly node: string;
  readonly #ip: string;
  readonly #owned = new Set<string>();
  readonly #unregister = onCleanup(() => {
    this.disposeSync();
  });

  private constructor(ip: string, node: string) {
    this.#ip = ip;
    this.node = node;
  }

  /** Create the node namespace (root only). */
  static async create(ip: string): Promise<Sandbox> {
    const sandbox = new Sandbox(ip, `cnf-node-${randomBytes(4).toString('hex')}`);
    await sandbox.#add(sandbox.node);
    return sandbox;
  }

  /** Argv prefix that runs a binary inside the node namespace. */
  get wrapper(): readonly string[] {
    return [this.#ip, 'netns', 'exec', this.node];
  }

  /** A fresh, empty pod namespace. */
  async newPod(): Promise<Pod> {
    const name = `cnf-pod-${randomBytes(4).toString('hex')}`;
    await this.#add(name);
    return { name, path: `/var/run/netns/${name}` };
  }

  /** Delete a pod namespace (with whatever the plugin left in it). */
  async removePod(pod: Pod): Promise<void> {
    await this.#del(pod.name);
  }

  /**
   * Create link `ifname` in namespace `ns` (to provoke "interface already exists"): a veth pair
   * with both ends in `ns`, since veth is what CNI hosts have (dummy may not be built).
   */
  async addLink(ns: string, ifname: string): Promise<void> {
    const peer = `cnfp${randomBytes(4).toString('hex')}`;
    await run(this.#ip, ['-n', ns, 'link', 'add', ifname, 'type', 'veth', 'peer', 'name', peer]);
  }

  /** Run `ip -n ns …args` (a change the harness makes to its own namespace, e.g. `link del`). */
  async ip(ns: string, args: readonly string[]): Promise<string> {
    return (await run(this.#ip, ['-n', ns, ...args])).stdout;
  }

  /** Links of `ns` with their addresses (`ip -j -d addr show`), plus ifindex and veth peer index. */
  async links(ns: string): Promise<PodLinkInfo[]> {
    const out = await this.ip(ns, ['-j', '-d', 'addr', 'show']);
    const extra = new Map(
      (JSON.parse(out) as Record<string, unknown>[]).map((r) => [
        r.ifname,
        {
          ifindex: typeof r.ifindex === 'number' ? r.ifindex : -1,
          peerIndex: typeof r.link_index === 'number' ? r.link_index : undefined,
          operstate: typeof r.operstate === 'string' ? r.operstate : undefined,
        },
      ]),
    );
    return parseLinks(out).map((l) => ({
      ...l,
      ...(extra.get(l.ifname) ?? { ifindex: -1, peerIndex: undefined, operstate: undefined }),
    }));
  }

  /** IPv4 and IPv6 routes of every table in `ns` (`ip -j route show table all`). */
  async routes(ns: string): Promise<FamilyRoute[]> {
    const v4 = await this.ip(ns, ['-j', 'route', 'show', 'table', 'all']);
    const v6 = await this.ip(ns, ['-j', '-6', 'route', 'show', 'table', 'all']);
    return [
      ...parseRoutes(v4).map((r) => ({ ...r, family: 4 as const })),
      ...parseRoutes(v6).map((r) => ({ ...r, family: 6 as const })),
    ];
  }

  /**
   * Write `value` to /proc/sys/`key` (slashes) as seen from inside namespace `ns`: sysctls of
   * the harness's own pod namespaces only, never the host's.
   */
  async sysctl(ns: string, key: string, value: string): Promise<void> {
    const write = 'require("node:fs").writeFileSync(process.argv[1], process.argv[2])';
    await run(this.#ip, [
      'netns',
      'exec',
      ns,
      process.execPath,
      '-e',
      write,
      `/proc/sys/${key}`,
      value,
    ]);
  }

  /** Link names and route lines of namespace `ns`. */
  async state(ns: string): Promise<NetnsState> {
    const links = await run(this.#ip, ['-n', ns, '-o', 'link', 'show']);
    const routes = await run(this.#ip, ['-n', ns, 'route', 'show', 'table', 'all']);
    const routes6 = await run(this.#ip, ['-n', ns, '-6', 'route', 'show', 'table', 'all']);
    return {
      links: links.stdout
        .split('\n')
        .map((l) => /^\d+:\s+([^:@]+)/.exec(l)?.[1])
        .filter((n): n is string => n !== undefined)
        .sort(),
      routes: `${routes.stdout}\n${routes6.stdout}`
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== '')
        .sort(),
    };
  }

  /** Delete every namespace this sandbox created. */
  async dispose(): Promise<void> {
    for (const name of [...this.#owned]) await this.#del(name);
    this.#unregister();
  }

  /** Synchronous variant of dispose for signal and exit handlers. */
  disposeSync(): void {
    for (const name of [...this.#owned]) {
      try {
        execFileSync(this.#ip, ['netns', 'del', name], { stdio: 'ignore' });
      } catch {
        // Already gone.
      }
      this.#owned.delete(name);
    }
    this.#unregister();
  }

  async #add(name: string): Promise<void> {
    this.#owned.add(name);
    await run(this.#ip, ['netns', 'add', name]);
  }

  async #del(name: string): Promise<void> {
    try {
      await run(this.#ip, ['netns', 'del', name]);
    } catch {
      // Already gone.
    }
    this.#owned.delete(name);
  }
}

/**
 * Differences between two states of a namespace, as a short text; undefined when equal. With
 * `addedOnly`, only new links and routes count: in the node netns, host veths of pods deleted
 * earlier vanish asynchronously (the kernel frees a netns later), which is no plugin's doing.
 */
export function diffState(
  before: NetnsState,
  after: NetnsState,
  addedOnly = false,
): string | undefined {
  const added = (a: readonly string[], b: readonly string[]): string[] =>
    b.filter((x) => !a.includes(x));
  const parts = [
    ...added(before.links, after.links).map((l) => `new link ${l}`),
    ...added(before.routes, after.routes).map((r) => `new route "${r}"`),
    ...(addedOnly
      ? []
      : [
          ...added(after.links, before.links).map((l) => `link ${l} gone`),
          ...added(after.routes, before.routes).map((r) => `route "${r}" gone`),
        ]),
  ];
  return parts.length === 0 ? undefined : parts.join(', ');
}
