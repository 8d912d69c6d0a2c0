import { ipPoolKey } from '../../lib/datastore/calico/keys';
import { rawPool } from '../../ipam/testing/ipam-binary';
import { writeForeignBlocks } from '../../ipam/testing/foreign-blocks';
import { counted, countsTotal } from './etcd-requests';
import { cniEnv, mustSucceed } from './runner';
import { calicoNetconf, type BenchSetup } from './setup';

// The cost of a fresh node's first ADD, which must claim a block, in a pool where few and where
// many blocks are already owned by other nodes: Calico read every block of the pool to find a
// free one (libcalico-go#1236), so its claim grew with the cluster.

/** The claim pool: 2^18 blocks of /26, none overlapping the pods' pool. */
export const CLAIM_POOL = { name: 'claim', cidr: '10.0.0.0/8', blockSize: 26 };

/** Claims among `others` blocks of other nodes. */
export interface ClaimSize {
  others: number;
  /** How long writing the other nodes' blocks and affinities took (setup, not measured). */
  writeMs: number;
  runs: { ms: number; requests: number }[];
}

/** For each size, fills the pool up to it, then times `repeats` fresh nodes' first ADD. */
export async function measureClaims(
  setup: BenchSetup,
  options: { sizes: readonly number[]; repeats: number },
): Promise<ClaimSize[]> {
  await setup.kv.put(
    ipPoolKey(CLAIM_POOL.name),
    rawPool(CLAIM_POOL.name, CLAIM_POOL.cidr, { blockSize: CLAIM_POOL.blockSize }),
  );
  const results: ClaimSize[] = [];
  let made = 0;
  for (const others of options.sizes) {
    const started = Date.now();
    await writeForeignBlocks(setup.kv, {
      poolCidr: CLAIM_POOL.cidr,
      blockSize: CLAIM_POOL.blockSize,
      from: made,
      to: others,
    });
    made = others;
    const size: ClaimSize = { others, writeMs: Date.now() - started, runs: [] };
    for (let r = 0; r < options.repeats; r++) {
      const node = `claimer-${others}-${r}`;
      const conf = calicoNetconf(setup.endpoint, node, { ipv4_pools: [CLAIM_POOL.name] });
      const { value: run, counts } = await counted(setup.endpoint, () =>
        mustSucceed(`claim among ${others} blocks`, {
          argv: [setup.plugins.calicoIpam],
          env: cniEnv('ADD', {
            containerId: node,
            netns: '/var/run/netns/unused',
            cniPath: setup.cniPath,
          }),
          stdin: JSON.stringify(conf),
        }),
      );
      size.runs.push({ ms: run.ms, requests: countsTotal(counts) });
    }
    results.push(size);
  }
  return results;
}
