import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnPlugin, type Run } from '../../ipam/testing/ipam-binary';
import type { CalicoNode } from './calico-node';
import type { Netns } from './topology';

// A runtime on the node: conformance/libcni-client (libcni, as containerd, CRI-O and podman use it)
// runs inside the node netns with our bundles and Debian's plugins on its plugin path, a private
// result cache and the conflists a test writes.

const DIST = resolve(__dirname, '..', '..', 'dist');
const IP = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip'].find((p) => existsSync(p)) ?? 'ip';
/** Debian's containernetworking-plugins. */
export const DEBIAN_CNI_BIN = '/usr/lib/cni';

/** One libcni call on a container. */
export interface LibcniCall {
  conflist: string;
  netns: Netns;
  containerId: string;
  ifName?: string;
  capabilityArgs?: Record<string, unknown>;
  args?: string;
}

/** The libcni client on a Calico node, with its own cache and config directory. */
export class LibcniRuntime {
  readonly cacheDir: string;
  private constructor(
    readonly client: string,
    readonly node: CalicoNode,
    private readonly dir: string,
    private readonly path: string,
  ) {
    this.cacheDir = join(dir, 'cache');
  }

  /** A runtime for `node` using the built client at `client`; `path` is the PATH it runs with. */
  static create(client: string, node: CalicoNode, options: { path?: string } = {}): LibcniRuntime {
    const path = options.path ?? process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin';
    return new LibcniRuntime(client, node, mkdtempSync(join(tmpdir(), 'libcni-runtime-')), path);
  }

  /** Writes a conflist `{cniVersion, name, plugins}` and returns its path. */
  conflist(list: { cniVersion: string; name: string; plugins: object[] }): string {
    const path = join(this.dir, `${list.name}-${list.cniVersion}.conflist`);
    writeFileSync(path, JSON.stringify(list, null, 2));
    return path;
  }

  /** Where libcni caches the ADD result of (network, container, interface). */
  cacheFile(network: string, containerId: string, ifName = 'eth0'): string {
    return join(this.cacheDir, 'results', `${network}-${containerId}-${ifName}`);
  }

  /** `client validate` over a conflist. */
  validate(conflist: string): Promise<Run> {
    return this.exec(['validate', '--conflist', conflist, '--bin-dir', this.binDir()]);
  }

  /** `client add|check|del` inside the node netns. */
  run(verb: 'add' | 'check' | 'del', call: LibcniCall): Promise<Run> {
    return this.exec([
      verb,
      '--conflist',
      call.conflist,
      '--netns',
      call.netns.path,
      '--container-id',
      call.containerId,
      '--ifname',
      call.ifName ?? 'eth0',
      '--cache-dir',
      this.cacheDir,
      '--bin-dir',
      this.binDir(),
      ...(call.args === undefined ? [] : ['--args', call.args]),
      ...(call.capabilityArgs === undefined
        ? []
        : ['--capability-args', JSON.stringify(call.capabilityArgs)]),
    ]);
  }

  /** Removes the cache and the conflists. */
  close(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  private binDir(): string {
    return `${DIST}:${DEBIAN_CNI_BIN}`;
  }

  /** Runs the client in the node netns with PATH only, as a runtime's environment would be. */
  private exec(args: string[]): Promise<Run> {
    return spawnPlugin([IP, 'netns', 'exec', this.node.topology.node.name, this.client, ...args], {
      env: { PATH: this.path },
      stdin: '',
    });
  }
}

/** The plugin entry of `node`'s calico netconf for a conflist (libcni adds name and version). */
export function calicoPlugin(node: CalicoNode): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(node.conf()).filter(([k]) => k !== 'name' && k !== 'cniVersion'),
  );
}
