import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { spawnPlugin, type Run } from '../../ipam/testing/ipam-binary';

// Every command is timed as a container runtime starts it: exec'd directly (the benchmark itself
// runs inside the node netns), with PATH and CNI_* only. This machine's shells export
// NODE_EXTRA_CA_CERTS, which costs every Node start ~30 ms; a runtime never passes it.

/** The repository root. */
export const ROOT = resolve(__dirname, '..', '..');
/** The built bundles; the benchmark runs them as scripts/install puts them on a node. */
export const CALICO = join(ROOT, 'dist', 'calico');
export const CALICO_IPAM = join(ROOT, 'dist', 'calico-ipam');
/** The single executable (`npm run build:sea`): the same bundle and cache, no node, no script. */
export const CALICO_SEA = join(ROOT, 'dist', 'sea', 'calico');
/** The two ways calico ships, as the report names them. */
export type CalicoBuild = 'calico' | 'calico SEA';

/** The plugin files a runtime execs, as installed in the benchmark's own CNI bin dirs. */
export interface InstalledPlugins {
  /** Each build of calico by its report name: the script (`#!` this Node.js) and the SEA. */
  calico: Record<CalicoBuild, string>;
  /** calico-ipam as a script. */
  calicoIpam: string;
  /** The scripts' bin dir. */
  binDir: string;
  /**
   * This Node.js written as a new file: a process that maps a file just written takes far fewer
   * page faults (1,757 against 2,169 for `node -e 0` here, 14 ms of 56; once its page cache is
   * dropped and read back, the copy faults as the system's node does). The single executable, a copy of node that scripts/install
   * just wrote, starts that way too; this tells how much of its lead that is.
   */
  freshNode: string;
}
/** Debian's containernetworking-plugins: the Go reference. */
export const REFERENCE_DIR = '/usr/lib/cni';
/** GNU time (Debian package `time`), for the peak RSS. */
export const GNU_TIME = '/usr/bin/time';
/** containerd's default PATH for plugins. */
export const RUNTIME_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** One command line with its CNI environment and stdin. */
export interface Command {
  argv: string[];
  /** CNI_* variables; PATH is added. */
  env: Record<string, string>;
  stdin: string;
}

/** `node -e 0` with the Node.js of the benchmark: the floor of any Node plugin's start. */
export const NODE_FLOOR: Command = { argv: [process.execPath, '-e', '0'], env: {}, stdin: '' };

/** A finished run with its wall time from spawn to exit (stdout fully read). */
export interface Timed extends Run {
  ms: number;
}

/** Runs `command` with PATH and its CNI_* only and times it. */
export async function timed(command: Command): Promise<Timed> {
  const started = process.hrtime.bigint();
  const run = await spawnPlugin(command.argv, {
    env: { PATH: RUNTIME_PATH, ...command.env },
    stdin: command.stdin,
  });
  return { ...run, ms: Number(process.hrtime.bigint() - started) / 1e6 };
}

/** Like `timed`, but a non-zero exit is an error naming the command and what it printed. */
export async function mustSucceed(name: string, command: Command): Promise<Timed> {
  const run = await timed(command);
  if (run.code !== 0) {
    throw new Error(`${name} exited ${run.code}: ${run.stdout.trim()} ${run.stderr.trim()}`);
  }
  return run;
}

/** The CNI environment of one call. */
export function cniEnv(
  command: 'ADD' | 'DEL' | 'VERSION',
  options: { containerId: string; netns: string; cniPath: string },
): Record<string, string> {
  return {
    CNI_COMMAND: command,
    CNI_CONTAINERID: options.containerId,
    CNI_NETNS: options.netns,
    CNI_IFNAME: 'eth0',
    CNI_PATH: options.cniPath,
  };
}

/** What must exist before a run, with the package that provides it. */
export function missingPrerequisites(): string[] {
  const needs: [string, string][] = [
    [CALICO, 'npm run build'],
    [CALICO_IPAM, 'npm run build'],
    [CALICO_SEA, 'npm run build:sea'],
    [join(REFERENCE_DIR, 'ptp'), 'apt-get install containernetworking-plugins'],
    [GNU_TIME, 'apt-get install time'],
    ['/usr/bin/etcd', 'apt-get install etcd-server'],
    ['/usr/bin/etcdctl', 'apt-get install etcd-client'],
    ['/usr/bin/nsenter', 'apt-get install util-linux'],
  ];
  return needs.filter(([path]) => !existsSync(path)).map(([path, fix]) => `${path} (${fix})`);
}
