import type { HostView } from '../block-store';
import {
  decodeHandedState,
  encodeHandedState,
  withHandedState,
  type HandedState,
} from '../handed-state';

// Helpers for the hand-over's tests (handed-state.ts), on the memory store and on etcd.

/** The successor's view joined with a hand-over; throws if it is refused. */
export function joined(view: HostView, state: HandedState): HostView {
  const out = withHandedState(view, state, []);
  if (out === undefined) throw new Error('hand-over refused');
  return out;
}

/** The state as it travels: through its text, as the lock's wake-up carries it. */
export function handed(state: HandedState | undefined, node = 'node-a'): HandedState {
  if (state === undefined) throw new Error('nothing was handed over');
  const decoded = decodeHandedState(encodeHandedState(state), node);
  if (decoded === undefined) throw new Error('state did not survive its text');
  return decoded;
}

/**
 * What a local process that bound the lock's name might hand over: `state`'s blocks at their
 * right revisions (easy to guess), with every address freed.
 */
export function forgedWithFreeBlocks(state: HandedState | undefined, node = 'node-a'): HandedState {
  if (state === undefined) throw new Error('nothing was handed over');
  const json = JSON.parse(encodeHandedState(state)) as { blocks: [string, string, number][] };
  for (const entry of json.blocks) {
    const block = JSON.parse(entry[1]) as { allocations: (number | null)[]; unallocated: number[] };
    block.unallocated = [...block.allocations.keys()];
    block.allocations = block.allocations.map(() => null);
    entry[1] = JSON.stringify(block);
  }
  const forged = decodeHandedState(JSON.stringify(json), node);
  if (forged === undefined) throw new Error('forged state did not decode');
  return forged;
}
