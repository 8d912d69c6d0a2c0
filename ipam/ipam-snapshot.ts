import {
  BLOCKS_PREFIX,
  HANDLES_PREFIX,
  WORKLOAD_ENDPOINTS_PREFIX,
  ipamHostKey,
} from '../lib/datastore/calico/keys';
import type { KeyValue, Kv, Op } from '../lib/datastore/kv';

// The raw keys `ipam check` looks at, read in one read-only transaction so that every key comes
// from the same etcd revision: a check that read blocks and handles at different moments would
// report a healthy ADD committed in between as a mismatch.

/** Every IPAM key and WorkloadEndpoint, raw, as stored at one revision. */
export interface IpamSnapshot {
  /** The etcd revision the keys were read at (what a repair's report refers to). */
  revision: number;
  blocks: KeyValue[];
  handles: KeyValue[];
  /** Everything under `/calico/ipam/v2/host/`: host keys and their block affinities. */
  hosts: KeyValue[];
  endpoints: KeyValue[];
}

/** The prefix of every host key and block affinity (`/calico/ipam/v2/host/`). */
export const IPAM_HOSTS_PREFIX = ipamHostKey('-').slice(0, -1);

/** Reads the snapshot in one etcd request. */
export async function readIpamSnapshot(kv: Kv): Promise<IpamSnapshot> {
  const prefixes = [BLOCKS_PREFIX, HANDLES_PREFIX, IPAM_HOSTS_PREFIX, WORKLOAD_ENDPOINTS_PREFIX];
  const { revision, results } = await kv.txn({
    compare: [],
    success: prefixes.map((key): Op => ({ op: 'range', key, prefix: true })),
    failure: [],
  });
  const [blocks, handles, hosts, endpoints] = results.map((r) => (r.op === 'range' ? r.kvs : []));
  return {
    revision,
    blocks: blocks ?? [],
    handles: handles ?? [],
    hosts: hosts ?? [],
    endpoints: endpoints ?? [],
  };
}
