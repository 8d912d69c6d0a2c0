import { encodeBlock, parseBlock } from '../lib/datastore/calico/block';
import { blockKey } from '../lib/datastore/calico/keys';
import type { Attempt } from './attempt';
import type { AffinityRecord, HostView, Versioned } from './block-store';
import type { BlockState } from './core';
import { blockFromStored, blockToStored } from './stored-values';

// In a burst of ADDs on one node every invocation waits for the host lock, then reads this node's
// IPAM keys and commits. The read was the larger half of each turn (~7 of ~18 ms with 100 ADDs on
// 2 cores, etcd answering among a hundred busy processes), and every waiter behind pays for every
// turn before its own. The holder knows those keys as its commit left them: it hands them to its
// successor with the lock, and the successor, which read its own keys (handle, endpoint, pools)
// while it waited, commits at once. Nothing here is trusted beyond a hint: every key a commit
// writes is compared against the revision this state claims, so a stale state (a DEL, an operator
// or another node changed a block meanwhile) costs a lost compare and a fresh read, never a
// duplicate address.

/** One node's IPAM keys as a commit left them, for the next holder of the host lock. */
export interface HandedState {
  readonly node: string;
  readonly nodeRecord: HostView['node'];
  readonly affinities: readonly Versioned<AffinityRecord>[];
  /** Every block affine to the node, and any other the commit read or wrote. */
  readonly blocks: ReadonlyMap<string, Versioned<BlockState>>;
  /** Side keys read or written (value null: deleted at that revision), e.g. calico's Profile. */
  readonly side: ReadonlyMap<string, Versioned<string | null>>;
}

/**
 * The node's keys after `attempt` committed, or undefined when the attempt does not know every
 * affine block (it would hand over a partial view).
 */
export function stateAfterCommit(attempt: Attempt, node: string): HandedState | undefined {
  const revision = attempt.committedAt;
  if (revision === undefined) return undefined;
  const affinities = new Map(attempt.view.affinities.map((a) => [a.value.cidr, a]));
  let nodeRecord = attempt.view.node;
  const side = new Map<string, Versioned<string | null>>(attempt.view.side);
  for (const write of attempt.writes()) {
    if (write.kind === 'affinity') {
      if (write.value === null) affinities.delete(write.cidr);
      else
        affinities.set(write.cidr, { value: { cidr: write.cidr, state: write.value }, revision });
    } else if (write.kind === 'node') {
      nodeRecord = { value: { labels: {} }, revision };
    } else if (write.kind === 'side') {
      side.set(write.key, { value: write.value, revision });
    }
  }
  // The node's blocks, and any other one written (a borrowed address): not every block of a pool
  // that an exhausted search listed.
  const written = new Set(attempt.writes().flatMap((w) => (w.kind === 'block' ? [w.cidr] : [])));
  const blocks = new Map(
    [...attempt.blocksAfterCommit()].filter(([cidr]) => affinities.has(cidr) || written.has(cidr)),
  );
  if (![...affinities.keys()].every((cidr) => blocks.has(cidr))) return undefined;
  return { node, nodeRecord, affinities: [...affinities.values()], blocks, side };
}

/** The state as text for the lock's wake-up message (blocks in Calico's stored JSON). */
export function encodeHandedState(state: HandedState): string {
  return JSON.stringify({
    node: state.node,
    nodeRecord: state.nodeRecord ?? null,
    affinities: state.affinities.map((a) => [a.value.cidr, a.value.state, a.revision]),
    blocks: [...state.blocks].map(([cidr, b]) => [
      cidr,
      encodeBlock(blockToStored(b.value)),
      b.revision,
    ]),
    side: [...state.side].map(([key, v]) => [key, v.value, v.revision]),
  });
}

/**
 * The state a predecessor handed over, if it is this node's and reads as one; else undefined (the
 * successor then reads for itself, as without it).
 */
export function decodeHandedState(text: string | undefined, node: string): HandedState | undefined {
  if (text === undefined) return undefined;
  try {
    const json = JSON.parse(text) as {
      node?: unknown;
      nodeRecord?: { value?: { labels?: unknown }; revision?: unknown } | null;
      affinities?: unknown;
      blocks?: unknown;
      side?: unknown;
    };
    if (json.node !== node) return undefined;
    const record = json.nodeRecord;
    const labels = record?.value?.labels;
    const nodeRecord =
      record === null || record === undefined
        ? undefined
        : {
            value: { labels: stringMap(labels) },
            revision: revisionOf(record.revision),
          };
    const affinities = tuples(json.affinities).map(([cidr, state, revision]) => ({
      value: { cidr: text3(cidr), state: text3(state) },
      revision: revisionOf(revision),
    }));
    const blocks = new Map<string, Versioned<BlockState>>();
    for (const [cidr, stored, revision] of tuples(json.blocks)) {
      const key = blockKey(text3(cidr));
      blocks.set(text3(cidr), {
        value: blockFromStored(parseBlock(key, text3(stored))),
        revision: revisionOf(revision),
      });
    }
    const side = new Map<string, Versioned<string | null>>();
    for (const [key, value, revision] of tuples(json.side)) {
      side.set(text3(key), {
        value: value === null ? null : text3(value),
        revision: revisionOf(revision),
      });
    }
    return { node, nodeRecord, affinities, blocks, side };
  } catch {
    return undefined;
  }
}

/**
 * `view` (the successor's own read, made while it waited) with the node's keys as the
 * predecessor left them. Of two versions of a key the later revision wins: the successor's read
 * may be older than the predecessor's commit, or newer than what the predecessor only read.
 * `asked`: the side keys the successor read (others in the state are not its business).
 */
export function withHandedState(
  view: HostView,
  state: HandedState,
  asked: readonly string[],
): HostView {
  const blocks = new Map(view.blocks ?? []);
  for (const [cidr, block] of state.blocks) {
    const mine = blocks.get(cidr);
    if (mine === undefined || mine === null || mine.revision < block.revision) {
      blocks.set(cidr, block);
    }
  }
  const affinities = new Map(view.affinities.map((a) => [a.value.cidr, a]));
  for (const a of state.affinities) {
    const mine = affinities.get(a.value.cidr);
    if (mine === undefined || mine.revision < a.revision) affinities.set(a.value.cidr, a);
  }
  const side = new Map(view.side);
  for (const [key, theirs] of state.side) {
    if (!asked.includes(key)) continue;
    const mine = side.get(key);
    if (theirs.value === null) {
      if (mine !== undefined && mine.revision < theirs.revision) side.delete(key);
    } else if (mine === undefined || mine.revision < theirs.revision) {
      side.set(key, { value: theirs.value, revision: theirs.revision });
    }
  }
  const node =
    view.node === undefined || (state.nodeRecord?.revision ?? 0) > view.node.revision
      ? state.nodeRecord
      : view.node;
  return {
    ...view,
    node,
    affinities: [...affinities.values()].sort((a, b) => compareText(a.value.cidr, b.value.cidr)),
    blocks,
    side,
  };
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function tuples(value: unknown): unknown[][] {
  if (!Array.isArray(value)) throw new TypeError('not a list');
  return value.map((item) => {
    if (!Array.isArray(item) || item.length !== 3) throw new TypeError('not a triple');
    return item as unknown[];
  });
}

function text3(value: unknown): string {
  if (typeof value !== 'string') throw new TypeError('not a string');
  return value;
}

function revisionOf(value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new TypeError('not a revision');
  }
  return value;
}

function stringMap(value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new TypeError('not a map');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v !== 'string') throw new TypeError('not a label');
    Object.defineProperty(out, k, {
      value: v,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}
