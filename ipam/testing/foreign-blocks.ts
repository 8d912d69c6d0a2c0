import { encodeBlockAffinity } from '../../lib/datastore/calico/affinity';
import { encodeBlock } from '../../lib/datastore/calico/block';
import { blockAffinityKey, blockKey, blocksPrefix } from '../../lib/datastore/calico/keys';
import type { Kv } from '../../lib/datastore/kv';
import {
  assignFromBlock,
  blockWalk,
  formatCidr,
  newBlock,
  parseNetwork,
  poolGeometry,
} from '../core';
import { blockToStored } from '../stored-values';

// Other nodes' blocks written raw and in bulk, for claim-cost tests and the benchmark: a pool
// where thousands of blocks are already owned must not make a new node's claim read them all
// (libcalico-go#1236). Each node's block sits where that node's own hashed walk puts it, with a
// confirmed affinity and one address assigned, as Calico leaves a node that runs one pod.

/** Puts per etcd txn: below etcd's default --max-txn-ops (128), two keys per block. */
const PUTS_PER_TXN = 120;

/**
 * Writes one block (and its affinity) for each node `other-<i>`, i in [from, to), in `poolCidr`;
 * returns how many blocks it wrote.
 */
export async function writeForeignBlocks(
  kv: Kv,
  options: { poolCidr: string; blockSize: number; from: number; to: number },
): Promise<number> {
  const geometry = poolGeometry(parseNetwork(options.poolCidr), options.blockSize);
  const prefix = blocksPrefix(geometry.pool.family);
  const taken = new Set(
    (await kv.range(prefix, { prefix: true, keysOnly: true })).kvs.map((k) => k.key),
  );
  let batch: { op: 'put'; key: string; value: string }[] = [];
  let written = 0;
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    await kv.txn({ compare: [], success: batch, failure: [] });
    batch = [];
  };
  for (let i = options.from; i < options.to; i++) {
    const node = `other-${i}`;
    for (const cidr of blockWalk(geometry, { nodeName: node })) {
      const text = formatCidr(cidr);
      const key = blockKey(text);
      if (taken.has(key)) continue;
      taken.add(key);
      const block = assignFromBlock(newBlock(cidr, { affinityNode: node, sequenceNumber: 1n }), {
        count: 1,
        handleId: `net1.${node}`,
      }).block;
      batch.push({ op: 'put', key, value: encodeBlock(blockToStored(block)) });
      batch.push({
        op: 'put',
        key: blockAffinityKey(node, text),
        value: encodeBlockAffinity({ state: 'confirmed', deleted: false }),
      });
      written += 1;
      break;
    }
    if (batch.length >= PUTS_PER_TXN) await flush();
  }
  await flush();
  return written;
}
