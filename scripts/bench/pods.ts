import { execFileSync } from 'node:child_process';
import { ip } from '../../netns-tests/support/topology';

// Pod network namespaces made by the benchmark (which runs inside the node netns): named
// `<prefix>p<n>` so that the entry process can sweep whatever a killed run left behind. Their
// loopback stays down: calico does not need it, and runtimes bring it up with a separate plugin.

/** A pod namespace: its name and the CNI_NETNS path a runtime would pass. */
export interface Pod {
  name: string;
  path: string;
}

/** Creates and deletes pod namespaces; deletes the remaining ones when the process exits. */
export class Pods {
  private readonly live = new Set<string>();
  private seq = 0;

  constructor(private readonly prefix: string) {
    process.on('exit', () => {
      this.removeAllNow();
    });
  }

  /** A fresh pod namespace. */
  async create(): Promise<Pod> {
    this.seq += 1;
    const name = `${this.prefix}p${this.seq}`;
    this.live.add(name);
    await ip('netns', 'add', name);
    return { name, path: `/var/run/netns/${name}` };
  }

  /** `count` fresh pod namespaces, created a few at a time. */
  async createMany(count: number): Promise<Pod[]> {
    const pods: Pod[] = [];
    while (pods.length < count) {
      const n = Math.min(8, count - pods.length);
      pods.push(...(await Promise.all(Array.from({ length: n }, () => this.create()))));
    }
    return pods;
  }

  /** Deletes `pods` (and with them the pod ends of their veths). */
  async remove(...pods: Pod[]): Promise<void> {
    for (const pod of pods) {
      await ip('netns', 'del', pod.name).catch(() => undefined);
      this.live.delete(pod.name);
    }
  }

  /** Deletes every pod namespace still there. */
  async removeAll(): Promise<void> {
    for (const name of [...this.live]) {
      await ip('netns', 'del', name).catch(() => undefined);
      this.live.delete(name);
    }
  }

  /** Synchronous cleanup for the exit hook. */
  private removeAllNow(): void {
    for (const name of this.live) {
      try {
        execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
      } catch {
        // Already gone.
      }
    }
    this.live.clear();
  }
}
