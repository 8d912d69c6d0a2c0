import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLUSTER_INFORMATION_KEY, ipPoolKey } from '../../lib/datastore/calico/keys';
import type { Kv } from '../../lib/datastore/kv';
import { rawKv, rawPool, READY_CLUSTER_INFORMATION } from '../../ipam/testing/ipam-binary';
import { verifyCounting } from './etcd-requests';
import { installPlugins } from './install-plugins';
import { REFERENCE_DIR, type InstalledPlugins } from './runner';

// What every section shares: the node's etcd, the two netconfs and a scratch directory. The pods'
// pool and host-local's subnet stay clear of 10.0.0.0/8, which the claim section fills with other
// nodes' blocks, and of the host's 192.0.2.0/24.

/** The pods' pool (calico). */
export const POD_POOL = '172.16.0.0/16';
/** host-local's subnet (the Go reference). */
export const REFERENCE_SUBNET = '172.17.0.0/16';
/** The node every pod runs on. */
export const NODE_NAME = 'bench-node';
/** The network name: handles are `net1.<containerID>`. */
export const NETWORK = 'net1';

/** The shared state of one benchmark run. */
export interface BenchSetup {
  endpoint: string;
  kv: Kv;
  calicoConf: string;
  ptpConf: string;
  /** What a runtime execs: the plugins as scripts/install put them in `work`. */
  plugins: InstalledPlugins;
  /** CNI_PATH for calico: our bundles first, then the reference plugins. */
  cniPath: string;
  work: string;
  close: () => void;
}

/** The calico netconf for `node` (calico-ipam in-process), as a runtime would pass it. */
export function calicoNetconf(
  endpoint: string,
  node: string,
  ipam: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    cniVersion: '0.3.1',
    name: NETWORK,
    type: 'calico',
    etcd_endpoints: endpoint,
    nodename: node,
    // An abstract socket name, not a file: nothing to clean up.
    ipam_lock_file: `/tmp/calico-bench-${process.pid}.lock`,
    ipam: { type: 'calico-ipam', ...ipam },
  };
}

/** Checks the request counting, marks the datastore ready and writes the pods' pool. */
export async function prepare(endpoint: string): Promise<BenchSetup> {
  const kv = rawKv(endpoint);
  const work = mkdtempSync(join(tmpdir(), 'calico-bench-'));
  // Ctrl-C ends the process without unwinding: the scratch directory goes in the exit hook too.
  const removeWork = () => {
    rmSync(work, { recursive: true, force: true });
  };
  process.on('exit', removeWork);
  let plugins: InstalledPlugins;
  try {
    plugins = installPlugins(work);
    await verifyCounting(endpoint, kv);
    await kv.put(CLUSTER_INFORMATION_KEY, READY_CLUSTER_INFORMATION);
    await kv.put(ipPoolKey('pool4'), rawPool('pool4', POD_POOL));
  } catch (err) {
    kv.close();
    removeWork();
    throw err;
  }
  return {
    endpoint,
    kv,
    calicoConf: JSON.stringify(calicoNetconf(endpoint, NODE_NAME)),
    ptpConf: JSON.stringify({
      cniVersion: '0.3.1',
      name: 'bench-ptp',
      type: 'ptp',
      ipam: { type: 'host-local', subnet: REFERENCE_SUBNET, dataDir: join(work, 'host-local') },
    }),
    plugins,
    cniPath: `${plugins.binDir}:${REFERENCE_DIR}`,
    work,
    close: () => {
      kv.close();
      removeWork();
    },
  };
}
