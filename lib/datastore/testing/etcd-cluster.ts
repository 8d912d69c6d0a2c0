import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ETCD_BINARY, freePorts, helperClient, terminate, waitHealthy } from './etcd-server';

// A throw-away etcd cluster of N members on loopback ports, whose members can be killed, stopped
// and started again on the same data directory: the fault injection of the reliability tests
// (issue 7). One member is the single-node etcd restarted in the middle of a burst.

/** One member of the cluster. */
export interface EtcdMember {
  name: string;
  /** Its client URL, `http://127.0.0.1:PORT`. */
  endpoint: string;
  /** True while its process runs. */
  readonly running: boolean;
  /** SIGKILL, as a crash or a power cut would stop it; resolves once it has exited. */
  kill(): Promise<void>;
  /** SIGTERM, a clean shutdown. */
  stop(): Promise<void>;
  /** Starts it again on the same data directory and ports; resolves once it serves clients. */
  start(): Promise<void>;
}

/** A running cluster. */
export interface EtcdCluster {
  members: EtcdMember[];
  /** Every member's client URL, comma-separated: a netconf `etcd_endpoints` value. */
  endpoints: string;
  /** The member that is leader now (asks each running member), or undefined during an election. */
  leader(): Promise<EtcdMember | undefined>;
  /** Stops every member and removes the data directories; safe to call twice. */
  destroy(): Promise<void>;
}

interface MemberPorts {
  name: string;
  client: number;
  peer: number;
}

/**
 * Starts `size` members (3 for a cluster that survives one loss) and waits until all serve. The
 * election timeout is etcd's default (1 s), as a plugin meets it in production.
 */
export async function startEtcdCluster(size: number): Promise<EtcdCluster> {
  const ports = await freePorts(size * 2);
  const layout: MemberPorts[] = Array.from({ length: size }, (_, i) => ({
    name: `m${i}`,
    client: ports[2 * i] ?? 0,
    peer: ports[2 * i + 1] ?? 0,
  }));
  const initialCluster = layout.map((m) => `${m.name}=http://127.0.0.1:${m.peer}`).join(',');
  // tmpfs when there is one: etcd fsyncs every write (see etcd-server.ts).
  const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  const root = mkdtempSync(join(base, 'calico-ts-etcd-cluster-'));
  const members = layout.map((m) => new Member(m, { root, initialCluster }));
  const cleanupOnExit = (): void => {
    for (const m of members) m.killNow();
    rmSync(root, { recursive: true, force: true });
  };
  process.once('exit', cleanupOnExit);
  let destroyed = false;
  const destroy = async (): Promise<void> => {
    if (destroyed) return;
    destroyed = true;
    await Promise.all(members.map((m) => m.stop()));
    rmSync(root, { recursive: true, force: true });
    process.removeListener('exit', cleanupOnExit);
  };
  try {
    await Promise.all(members.map((m) => m.start()));
  } catch (err) {
    await destroy();
    throw err;
  }
  return {
    members,
    endpoints: members.map((m) => m.endpoint).join(','),
    leader: async () => {
      for (const m of members.filter((x) => x.running)) {
        const id = await m.status().catch(() => undefined);
        if (id !== undefined && id.member === id.leader) return m;
      }
      return undefined;
    },
    destroy,
  };
}

class Member implements EtcdMember {
  readonly name: string;
  readonly endpoint: string;
  private child: ChildProcess | undefined;
  private readonly args: string[];
  private readonly client;

  constructor(ports: MemberPorts, cluster: { root: string; initialCluster: string }) {
    this.name = ports.name;
    this.endpoint = `http://127.0.0.1:${ports.client}`;
    const peer = `http://127.0.0.1:${ports.peer}`;
    this.args = [
      `--name=${ports.name}`,
      `--data-dir=${join(cluster.root, ports.name)}`,
      `--listen-client-urls=${this.endpoint}`,
      `--advertise-client-urls=${this.endpoint}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=${cluster.initialCluster}`,
      '--initial-cluster-state=new',
      '--initial-cluster-token=calico-ts-test',
      '--logger=zap',
      '--log-level=error',
    ];
    this.client = helperClient(this.endpoint, undefined);
  }

  get running(): boolean {
    return (
      this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null
    );
  }

  async start(): Promise<void> {
    if (this.running) return;
    // etcd reads every ETCD_* variable as a flag: give it a clean environment.
    const child = spawn(ETCD_BINARY, this.args, {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    });
    this.child = child;
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    await waitHealthy(child, this.client, () => stderr);
  }

  async kill(): Promise<void> {
    const child = this.child;
    if (child === undefined || !this.running) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    if (this.child !== undefined) await terminate(this.child);
  }

  killNow(): void {
    this.child?.kill('SIGKILL');
  }

  /** This member's ID and the leader it knows (etcd's maintenance status). */
  async status(): Promise<{ member: string; leader: string }> {
    const { status, text } = await this.client('/v3/maintenance/status', {});
    if (status !== 200) throw new Error(`status of ${this.name}: HTTP ${status}`);
    const json = JSON.parse(text) as { header?: { member_id?: string }; leader?: string };
    return { member: json.header?.member_id ?? '', leader: json.leader ?? '' };
  }
}
