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
import { ipJson, type Netns, type Topology } from './topology';

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

/** Client TLS files for etcd with --client-cert-auth. */
export interface ClientTls {
  caFile: string;
  certFile: string;
  keyFile: string;
}

function tlsNetconf(tls: ClientTls): Record<string, string> {
  return {
    etcd_ca_cert_file: tls.caFile,
    etcd_cert_file: tls.certFile,
    etcd_key_file: tls.keyFile,
  };
}

/** A Calico node: a topology with etcd relayed in, ClusterInformation ready and a pool. */
export class CalicoNode {
  private constructor(
    readonly topology: Topology,
    readonly relay: EtcdRelay,
    readonly kv: Kv,
    private readonly tlsConf: Record<string, string>,
    /** The etcd itself (for its /metrics), as the test process reaches it. */
    readonly etcdEndpoint: string,
  ) {}

  /**
   * Relays `etcd` into the node, marks the datastore ready and writes 10.1.0.0/16 (and v6). With
   * `tls`, the test's client and every plugin call use these client files (etcd_*_file).
   */
  static async create(
    topology: Topology,
    etcd: Pick<EtcdServer, 'endpoint'>,
    options: { tls?: ClientTls } = {},
  ): Promise<CalicoNode> {
    const relay = await relayEtcd(topology.node.name, etcd.endpoint);
    const tlsConf = options.tls === undefined ? {} : tlsNetconf(options.tls);
    const kv = rawKv(etcd.endpoint, tlsConf);
    await kv.put(
      '/calico/resources/v3/projectcalico.org/clusterinformations/default',
      READY_CLUSTER_INFORMATION,
    );
    await kv.put(
      '/calico/resources/v3/projectcalico.org/ippools/pool4',
      rawPool('pool4', '10.1.0.0/16'),
    );
    return new CalicoNode(topology, relay, kv, tlsConf, etcd.endpoint);
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
      ...this.tlsConf,
      ...(options.extra ?? {}),
    };
  }

  /** Runs dist/calico inside the node netns. */
  calico(call: CalicoCall): Promise<PluginRun> {
    return spawnPlugin(this.calicoArgv(), {
      env: this.calicoEnv(call),
      stdin: JSON.stringify(call.conf),
    });
  }

  /** The argv that runs dist/calico inside the node netns (`ip netns exec` execs, no fork). */
  calicoArgv(): string[] {
    return [IP, 'netns', 'exec', this.topology.node.name, join(DIST, 'calico')];
  }

  /** The environment a runtime gives dist/calico for `call`: PATH and CNI_* only. */
  calicoEnv(call: Omit<CalicoCall, 'conf'>): Record<string, string> {
    const netns = typeof call.netns === 'string' ? call.netns : (call.netns?.path ?? '');
    return {
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
  }

  /** Every key under `prefix`, values parsed. */
  async keys(prefix: string): Promise<Map<string, Record<string, unknown>>> {
    const { kvs } = await this.kv.range(prefix, { prefix: true });
    return new Map(kvs.map((x) => [x.key, JSON.parse(x.value) as Record<string, unknown>]));
  }

  /** Addresses allocated in the IPAM blocks in etcd. */
  async allocations(): Promise<number> {
    let n = 0;
    for (const block of (await this.keys('/calico/ipam/v2/assignment/')).values()) {
      n += (block.allocations as (number | null)[]).filter((a) => a !== null).length;
    }
    return n;
  }

  /**
   * What pods leave behind on the node and in etcd: links besides lo and the uplink, host routes
   * into the pool, allocations, handles and WorkloadEndpoints. All empty once every pod is gone.
   */
  async leftovers(): Promise<{
    links: string[];
    routes: string[];
    allocations: number;
    handles: number;
    endpoints: number;
  }> {
    const ns = this.topology.node.name;
    return {
      links: (await ipJson(ns, 'link', 'show'))
        .map((l) => String(l.ifname))
        .filter((n) => n !== 'lo' && n !== 'up0'),
      routes: (await ipJson(ns, 'route', 'show'))
        .map((r) => String(r.dst))
        .filter((d) => d.startsWith('10.1.')),
      allocations: await this.allocations(),
      handles: (await this.keys('/calico/ipam/v2/handle/')).size,
      endpoints: (await this.keys('/calico/resources/v3/projectcalico.org/workloadendpoints/'))
        .size,
    };
  }

  /** Undo the relay and the client (the topology is destroyed by its own hook). */
  async close(): Promise<void> {
    this.kv.close();
    await this.relay.close();
  }
}
