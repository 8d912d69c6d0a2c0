import { encodeBlock } from '../lib/datastore/calico/block';
import type { BlockState } from './core';
import { blockToStored } from './stored-values';

// The exact text etcd holds for a block value this process read or wrote, so that a block can be
// handed to the next holder of the host lock (handed-state.ts) as etcd has it, without encoding it
// again, and compared byte for byte when the successor writes it back.

const texts = new WeakMap<BlockState, string>();

/** Records the stored text of `block` (as read from etcd, or as just written). */
export function rememberStoredText(block: BlockState, text: string): void {
  texts.set(block, text);
}

/** The stored text of `block`: the one recorded, else Calico's JSON of it. */
export function storedTextOf(block: BlockState): string {
  return texts.get(block) ?? encodeBlock(blockToStored(block));
}
