import { join } from 'node:path';
import { rawKv, rawPool, READY_CLUSTER_INFORMATION } from '../ipam/testing/ipam-binary';
import { etcdMissingReason, startEtcd } from '../lib/datastore/testing/etcd-server';
import { relayEtcd } from '../netns-tests/support/etcd-relay';
import { calicoBlockAllocations, type Allocation } from './allocations';
import { catchSignals } from './cleanup';
import {
  ONLY_ADDRESS,
  ONLY_ADDRESS6,
  WIDE_SUBNET,
  withVersion,
  type ConfSource,
  type ConfVariant,
  type NetConf,
  type PluginKind,
  type TempArea,
} from './netconf';

// Calico IPAM (calico-ipam, and calico with it) keeps its state in etcd, not in a dataDir. With an
// etcd the run owns, the harness can still give every item the same starting point as host-local's
// fresh dataDir: one pool of exactly ONLY_ADDRESS, no blocks, handles or affinities.

const WEPS_PREFIX = '/calico/resources/v3/projectcalico.org/workloadendpoints/';
const CLUSTER_INFORMATION = '/calico/resources/v3/projectcalico.org/clusterinformations/default';

const POOLS_PREFIX = '/calico/resources/v3/projectcalico.org/ippools/';

/** The one pool, as calicoctl would store it. */
export const POOL_KEY = `${POOLS_PREFIX}cnf-pool`;

/** Pools of the config variants, written only while an item uses them (STATUS sees the rest). */
const VARIANT_POOLS: Readonly<Record<ConfVariant, readonly [string, string, number][]>> = {
  wide: [['cnf-wide', WIDE_SUBNET, 26]],
  dual: [['cnf-pool6', `${ONLY_ADDRESS6}/128`, 128]],
};

/** Where Calico keeps its blocks (calico-behaviour.md §7.4). */
const BLOCKS_PREFIX = '/calico/ipam/v2/assignment/';

/** Everything Calico IPAM writes (blocks, affinities, handles, IPAM config) lives under here. */
export const IPAM_PREFIX = '/calico/ipam/';

/** The Calico node name the configs give (`nodename`), so affinities do not follow the host. */
export const NODE_NAME = 'cnf-node';

/** An etcd owned by the run: none of its content matters to anyone else. */
export interface OwnedEtcd {
  /** Client URL on the harness's own loopback. */
  readonly endpoint: string;
}

/** Configs over an owned etcd, and how to let go of what reaching it took. */
export interface EtcdConfs {
  readonly confs: ConfSource;
  /** The etcd_endpoints the plugins get (relayed when they run in a netns). */
  readonly pluginEndpoint: string;
  /** Stops the relay, if there is one; the etcd itself stays its owner's. */
  readonly close: () => Promise<void>;
}

/**
 * Delete every IPAM key and every WorkloadEndpoint, then write the one-address pool and a ready
 * ClusterInformation (the main plugin refuses to work without one) again, in one transaction.
 */
async function resetIpam(endpoint: string): Promise<void> {
  const kv = rawKv(endpoint);
  try {
    const pool = rawPool('cnf-pool', `${ONLY_ADDRESS}/32`, { blockSize: 32 });
    await kv.txn({
      compare: [],
      success: [
        { op: 'delete', key: IPAM_PREFIX, prefix: true },
        { op: 'delete', key: WEPS_PREFIX, prefix: true },
        ...Object.values(VARIANT_POOLS)
          .flat()
          .map(([name]) => ({ op: 'delete' as const, key: `${POOLS_PREFIX}${name}` })),
        { op: 'put', key: POOL_KEY, value: pool },
        { op: 'put', key: CLUSTER_INFORMATION, value: READY_CLUSTER_INFORMATION },
      ],
      failure: [],
    });
  } finally {
    kv.close();
  }
}

/**
 * A ConfSource over `etcd`, as the harness's other default but with Calico IPAM: `type` ptp for an
 * IPAM plugin under test (ipam.type is the plugin) or the plugin itself, ipam.type calico-ipam.
 * `pluginEndpoint` is where plugins reach etcd; `reset()` talks to `etcd.endpoint` directly.
 */
export function etcdConfSource(opts: {
  readonly kind: PluginKind;
  readonly pluginName: string;
  readonly tmp: TempArea;
  readonly etcd: OwnedEtcd;
  readonly pluginEndpoint: string;
}): ConfSource {
  // The lock is per host; a private path keeps the run out of a real node's IPAM lock.
  const lockFile = join(opts.tmp.dir('ipam-lock'), 'ipam.lock');
  const build = (version: string | undefined, ipam: Record<string, unknown>): NetConf =>
    withVersion(
      {
        cniVersion: version,
        name: 'cnf-net',
        type: opts.kind === 'main' ? opts.pluginName : 'ptp',
        etcd_endpoints: opts.pluginEndpoint,
        nodename: NODE_NAME,
        ipam_lock_file: lockFile,
        ipam: { type: opts.kind === 'main' ? 'calico-ipam' : opts.pluginName, ...ipam },
      },
      version,
    );
  return {
    harnessOwned: true,
    make: (version) => build(version, { ipv4_pools: ['cnf-pool'] }),
    reset: () => resetIpam(opts.etcd.endpoint),
    variant: async (variant, version) => {
      await putPools(opts.etcd.endpoint, VARIANT_POOLS[variant]);
      return variant === 'wide'
        ? build(version, { ipv4_pools: ['cnf-wide'] })
        : build(version, {
            assign_ipv6: 'true',
            ipv4_pools: ['cnf-pool'],
            ipv6_pools: ['cnf-pool6'],
          });
    },
    allocations: (conf) => etcdAllocations(opts.etcd.endpoint, String(conf.name)),
  };
}

/** Write pools `[name, cidr, blockSize]` (removed again by the next reset). */
async function putPools(
  endpoint: string,
  pools: readonly (readonly [string, string, number])[],
): Promise<void> {
  const kv = rawKv(endpoint);
  try {
    for (const [name, cidr, blockSize] of pools) {
      await kv.put(`${POOLS_PREFIX}${name}`, rawPool(name, cidr, { blockSize }));
    }
  } finally {
    kv.close();
  }
}

/** Every address allocated in the blocks of the run's etcd. */
async function etcdAllocations(endpoint: string, network: string): Promise<Allocation[]> {
  const kv = rawKv(endpoint);
  try {
    const { kvs } = await kv.range(BLOCKS_PREFIX, { prefix: true });
    return kvs.flatMap((x) => calicoBlockAllocations(JSON.parse(x.value), network));
  } finally {
    kv.close();
  }
}

/**
 * Configs over `etcd` for plugins that run in network namespace `netns` (relayed there, since the
 * host's loopback is out of its reach) or, when undefined, in the harness's own. The pool is
 * written before this returns.
 */
export async function openEtcdConfs(opts: {
  readonly kind: PluginKind;
  readonly pluginName: string;
  readonly tmp: TempArea;
  readonly etcd: OwnedEtcd;
  readonly netns: string | undefined;
}): Promise<EtcdConfs> {
  const relay =
    opts.netns === undefined ? undefined : await relayEtcd(opts.netns, opts.etcd.endpoint);
  const pluginEndpoint = relay?.endpoint ?? opts.etcd.endpoint;
  const confs = etcdConfSource({ ...opts, pluginEndpoint });
  try {
    await confs.reset?.();
  } catch (err) {
    await relay?.close();
    throw err;
  }
  return { confs, pluginEndpoint, close: () => relay?.close() ?? Promise.resolve() };
}

/**
 * Run `body` with a private etcd on free loopback ports (lib/datastore/testing/etcd-server.ts),
 * stopped and deleted afterwards, and by a signal or exit meanwhile.
 */
export async function withPrivateEtcd<T>(body: (etcd: OwnedEtcd) => Promise<T>): Promise<T> {
  const missing = etcdMissingReason();
  if (missing !== undefined) throw new Error(`cannot start a private etcd: ${missing}`);
  // startEtcd kills etcd from an `exit` listener: a signal must end in process.exit to run it.
  catchSignals();
  const server = await startEtcd();
  try {
    return await body({ endpoint: server.endpoint });
  } finally {
    await server.stop();
  }
}
