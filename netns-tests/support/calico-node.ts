import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  rawKv,
  rawPool,
  READY_CLUSTER_INFORMATION,
  spawnPlugin,
  type Run,
} from '../../ipam/testing/ipam-binary';
import type { Kv } from '../../lib/datastore/kv';
import type { EtcdServer } from '../../lib/datastore/testing/etcd-server';
import { relayEtcd, type EtcdRelay } from './etcd-relay';
import type { Netns, Topology } from './topology';

// dist/calico run as a runtime runs it on a node: inside the node netns (`ip netns exec`), PATH
// and CNI_* only, the config on stdin, etcd reachable through a relay. Spawned asynchronously: a
// synchronous spawn would block the relay that lives in this process.

const DIST = resolve(__dirname, '..', '..', 'dist');
const IP = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip'].find((p) => existsSync(p)) ?? 'ip';

/** What one plugin run printed. */
export type PluginRun = Run;

/** One invocation of dist/calico on the node. */
export interface CalicoCall {
  command: 'ADD' | 'DEL' | 'CHECK' | 'GC' | 'STATUS';
  /** The pod's netns, or a raw CNI_NETNS value (a path, or '' for none). */
  netns?: Netns | string;
  containerId?: string;
  ifName?: string;
  conf: Record<string, unknown>;
  cniArgs?: string;
}

/** A Calico node: a topology with etcd relayed in, ClusterInformation ready and a pool. */
export class CalicoNode {
  private constructor(
    readonly topology: Topology,
    readonly relay: EtcdRelay,
    readonly kv: Kv,
  ) {}

  /** Relays `etcd` into the node, marks the datastore ready and writes 10.1.0.0/16 (and v6). */
  static async create(topology: Topology, etcd: Pick<EtcdServer, 'endpoint'>): Promise<CalicoNode> {
    const relay = await relayEtcd(topology.node.name, etcd.endpoint);
    const kv = rawKv(etcd.endpoint);
    await kv.put(
      '/calico/resources/v3/projectcalico.org/clusterinformations/default',
      READY_CLUSTER_INFORMATION,
    );
    await kv.put(
      '/calico/resources/v3/projectcalico.org/ippools/pool4',
      rawPool('pool4', '10.1.0.0/16'),
    );
    return new CalicoNode(topology, relay, kv);
  }

  /** A netconf for this node: network `net1`, calico-ipam unless overridden. */
  conf(
    options: {
      cniVersion?: string;
      ipam?: Record<string, unknown>;
      extra?: Record<string, unknown>;
    } = {},
  ): Record<string, unknown> {
    return {
      cniVersion: options.cniVersion ?? '0.3.1',
      name: 'net1',
      type: 'calico',
      etcd_endpoints: this.relay.endpoint,
      nodename: 'node-1',
      log_level: 'info',
      ipam_lock_file: `/tmp/calico-netns-test-${this.topology.node.name}.lock`,
      ipam: { type: 'calico-ipam', ...(options.ipam ?? {}) },
      ...(options.extra ?? {}),
    };
  }

  /** Runs dist/calico inside the node netns. */
  calico(call: CalicoCall): Promise<PluginRun> {
    const netns = typeof call.netns === 'string' ? call.netns : (call.netns?.path ?? '');
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
      CNI_COMMAND: call.command,
      CNI_PATH: `${DIST}:/usr/lib/cni`,
      ...(call.command === 'GC' || call.command === 'STATUS'
        ? {}
        : {
            CNI_CONTAINERID: call.containerId ?? 'c1',
            CNI_IFNAME: call.ifName ?? 'eth0',
            CNI_NETNS: netns,
          }),
      ...(call.cniArgs === undefined ? {} : { CNI_ARGS: call.cniArgs }),
    };
    return spawnPlugin([IP, 'netns', 'exec', this.topology.node.name, join(DIST, 'calico')], {
      env,
      stdin: JSON.stringify(call.conf),
    });
  }

  /** Every key under `prefix`, values parsed. */
  async keys(prefix: string): Promise<Map<string, Record<string, unknown>>> {
    const { kvs } = await this.kv.range(prefix, { prefix: true });
    return new Map(kvs.map((x) => [x.key, JSON.parse(x.value) as Record<string, unknown>]));
  }

  /** Undo the relay and the client (the topology is destroyed by its own hook). */
  async close(): Promise<void> {
    this.kv.close();
    await this.relay.close();
  }
}
