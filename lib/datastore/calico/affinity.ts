import type { JsonObject } from '../../cni/json-fields';
import { mergeRaw, StoredReader, toStoredText } from './stored';

// libcalico-go model.BlockAffinity: `{"state":"confirmed","deleted":false}` at
// /calico/ipam/v2/host/<host>/ipv4/block/<cidr-dash> (calico-behaviour.md §7.5, §8.3).

/** Where a two-phase block claim stands. */
export type AffinityState = 'pending' | 'confirmed' | 'pendingDeletion';

/** A host's claim on a block. */
export interface BlockAffinity {
  state: AffinityState;
  deleted: boolean;
  /** The value as read: unknown fields survive a write-back. */
  raw?: JsonObject;
}

const STATES: readonly string[] = ['pending', 'confirmed', 'pendingDeletion'];

/**
 * Parses an affinity value. As in Calico, an empty value reads as `{}` and an empty or missing
 * state counts as confirmed (affinities written before the claim protocol had states).
 */
export function parseBlockAffinity(key: string, text: string): BlockAffinity {
  const read = new StoredReader('BlockAffinity', key);
  const json = read.parse(text, { emptyIsObject: true });
  const state = read.optionalString(json.state, 'state') ?? '';
  if (state !== '' && !STATES.includes(state)) {
    throw read.fail('state', `must be one of ${STATES.join(', ')}, got ${JSON.stringify(state)}`);
  }
  return {
    state: state === '' ? 'confirmed' : (state as AffinityState),
    deleted: read.boolean(json.deleted, 'deleted'),
    raw: json,
  };
}

/** The JSON Calico stores for an affinity. */
export function encodeBlockAffinity(affinity: BlockAffinity): string {
  return toStoredText(mergeRaw({ state: affinity.state, deleted: affinity.deleted }, affinity.raw));
}
