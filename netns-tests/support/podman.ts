import { execFile, execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { onCleanup } from '../../conformance/cleanup';
import { DEBIAN_CNI_BIN } from './libcni-runtime';
import type { Netns } from './topology';

// podman with its CNI backend on a node netns, configured entirely through private files
// (CONTAINERS_CONF, CONTAINERS_STORAGE_CONF, a private storage root, runroot and network config
// dir) so nothing under /etc changes. podman runs under `nsenter --net=` rather than
// `ip netns exec`: the latter remounts /sys, where podman then finds no cgroups. runc, because
// crun fails in these machines. The image is Debian's static busybox, imported with `podman import`.

const execFileAsync = promisify(execFile);
const DIST = resolve(__dirname, '..', '..', 'dist');
const BUSYBOX = '/bin/busybox';
const NSENTER = ['/usr/bin/nsenter', '/bin/nsenter'].find((p) => existsSync(p)) ?? 'nsenter';
/** libcni's default cache, which podman's CNI backend uses whatever its config says. */
const LIBCNI_RESULTS = '/var/lib/cni/results';
const IMAGE = 'localhost/calico-test-busybox';

/** True when an ELF64 little-endian binary asks for a dynamic loader (a PT_INTERP header). */
function hasInterpreter(elf: Buffer): boolean {
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const size = elf.readUInt16LE(0x36);
  const count = elf.readUInt16LE(0x38);
  for (let i = 0; i < count; i++) {
    if (elf.readUInt32LE(phoff + i * size) === 3) return true;
  }
  return false;
}

/** Why podman cannot be tested here, or undefined. */
export function podmanMissing(): string | undefined {
  for (const [bin, pkg] of [
    ['/usr/bin/podman', 'podman'],
    ['/usr/sbin/runc', 'runc'],
    [NSENTER, 'util-linux'],
  ] as const) {
    if (!existsSync(bin) && !existsSync(bin.replace('/usr/sbin/', '/usr/bin/')))
      return `${bin} not found (install the Debian package ${pkg})`;
  }
  // The image holds this one binary: a dynamically linked busybox would find no libc in it.
  if (!existsSync(BUSYBOX) || hasInterpreter(readFileSync(BUSYBOX)))
    return `no static ${BUSYBOX} (install the Debian package busybox-static)`;
  return undefined;
}

/** A podman whose only network is `conflist`, run inside `node`. */
export class Podman {
  private readonly unregister: () => void;
  private constructor(
    private readonly node: Netns,
    private readonly dir: string,
  ) {
    this.unregister = onCleanup(() => {
      this.closeSync();
    });
  }

  /** The image every container runs (busybox applets as /bin/*). */
  static readonly image = IMAGE;

  /** Writes the private configuration and the conflist, links the plugins, imports the image. */
  static async create(
    node: Netns,
    conflist: { name: string; cniVersion: string; plugins: object[] },
  ): Promise<Podman> {
    const dir = mkdtempSync(join(tmpdir(), 'podman-cni-'));
    const podman = new Podman(node, dir);
    try {
      for (const sub of ['net.d', 'cni-bin', 'tmp', 'image/bin']) {
        mkdirSync(join(dir, sub), { recursive: true });
      }
      for (const plugin of ['calico', 'calico-ipam']) {
        symlinkSync(join(DIST, plugin), join(dir, 'cni-bin', plugin));
      }
      for (const plugin of readdirSync(DEBIAN_CNI_BIN)) {
        symlinkSync(join(DEBIAN_CNI_BIN, plugin), join(dir, 'cni-bin', plugin));
      }
      writeFileSync(
        join(dir, 'net.d', `${conflist.name}.conflist`),
        JSON.stringify(conflist, null, 2),
      );
      writeFileSync(
        join(dir, 'containers.conf'),
        [
          '[containers]',
          'default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]',
          '[engine]',
          'runtime = "runc"',
          'cgroup_manager = "cgroupfs"',
          'events_logger = "file"',
          `events_logfile_path = "${join(dir, 'events.log')}"`,
          `tmp_dir = "${join(dir, 'tmp')}"`,
          '[network]',
          'network_backend = "cni"',
          `network_config_dir = "${join(dir, 'net.d')}"`,
          `cni_plugin_dirs = ["${join(dir, 'cni-bin')}"]`,
          '',
        ].join('\n'),
      );
      writeFileSync(
        join(dir, 'storage.conf'),
        [
          '[storage]',
          'driver = "vfs"',
          `runroot = "${join(dir, 'run')}"`,
          `graphroot = "${join(dir, 'storage')}"`,
          '',
        ].join('\n'),
      );
      copyFileSync(BUSYBOX, join(dir, 'image', 'bin', 'busybox'));
      for (const applet of ['sh', 'sleep', 'ping', 'ip']) {
        symlinkSync('busybox', join(dir, 'image', 'bin', applet));
      }
      await execFileAsync('tar', ['-C', join(dir, 'image'), '-cf', join(dir, 'image.tar'), '.']);
      await podman.run('import', join(dir, 'image.tar'), IMAGE);
      return podman;
    } catch (err: unknown) {
      await podman.close();
      throw err;
    }
  }

  /** `podman ARGS` inside the node netns; resolves with stdout, rejects with stderr. */
  async run(...args: string[]): Promise<string> {
    const { stdout } = await execFileAsync(
      NSENTER,
      [`--net=${this.node.path}`, 'podman', ...args],
      { env: this.env(), timeout: 120_000 },
    );
    return stdout;
  }

  /** The container's address on `network`, from `podman inspect`. */
  async address(container: string, network: string): Promise<string> {
    const out = await this.run(
      'inspect',
      '--format',
      `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`,
      container,
    );
    return out.trim();
  }

  /** libcni result cache files podman left for `containerId` (none once it is removed). */
  static cachedResults(containerId: string): string[] {
    if (!existsSync(LIBCNI_RESULTS)) return [];
    return readdirSync(LIBCNI_RESULTS).filter((f) => f.includes(containerId));
  }

  /** Removes every container and image of this podman, then its files. */
  async close(): Promise<void> {
    await this.run('rm', '--all', '--force', '--time', '0').catch(() => undefined);
    await this.run('rmi', '--all', '--force').catch(() => undefined);
    this.closeSync();
  }

  /** The last resort on a signal: force-remove synchronously, then delete the files. */
  private closeSync(): void {
    if (!existsSync(this.dir)) return;
    for (const args of [
      ['rm', '--all', '--force', '--time', '0'],
      ['rmi', '--all', '--force'],
    ]) {
      try {
        execFileSync(NSENTER, [`--net=${this.node.path}`, 'podman', ...args], {
          env: this.env(),
          stdio: 'ignore',
          timeout: 60_000,
        });
      } catch {
        // Best effort: the node netns may be gone already.
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
    this.unregister();
  }

  private env(): Record<string, string> {
    return {
      PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
      HOME: this.dir,
      CONTAINERS_CONF: join(this.dir, 'containers.conf'),
      CONTAINERS_STORAGE_CONF: join(this.dir, 'storage.conf'),
    };
  }
}
