import { parseBlock } from '../lib/datastore/calico/block';
import { blockKey } from '../lib/datastore/calico/keys';
import type { Attempt } from './attempt';
import type { AffinityRecord, HostView, Versioned, ViewBlock } from './block-store';
import { rememberStoredText, storedTextOf } from './stored-text';
import { blockFromStored } from './stored-values';

// In a burst of ADDs on one node every invocation waits for the host lock, then reads this node's
// IPAM keys and commits. The read was the larger half of each turn (~7 of ~18 ms with 100 ADDs on
// 2 cores, etcd answering among a hundred busy processes), and every waiter behind pays for every
// turn before its own. The holder knows the node's blocks as its commit left them: it hands them
// to its successor with the lock, and the successor, which read its own keys (handle, endpoint,
// pools, affinities) while it waited, commits at once.
//
// Nothing handed over is trusted. Any local process can bind the lock's abstract socket name, so
// a handed block is written back only if etcd still holds exactly that text at that revision: the
// commit compares both (ViewBlock.stored). A stale or forged hand-over costs a lost compare and a
// fresh read, never a wrong write. Affinities handed over only add blocks the successor's own read
// may have missed (claimed since), and only with the block itself; they never hide one it read.
// Side keys and the Node come from the successor's own read. Where that read is older than keys the
// predecessor created (the Node registered, calico's Profile, in a node's first burst), the
// successor reads again under the lock, as without a hand-over: its commit would lose anyway.

/** The node's blocks as a commit left them, for the next holder of the host lock. */
export interface HandedState {
  readonly node: string;
  readonly affinities: readonly Versioned<AffinityRecord>[];
  /** Every block affine to the node (and any other one written), with etcd's text of it. */
  readonly blocks: ReadonlyMap<string, ViewBlock & { readonly stored: string }>;
  /** Side keys the commit created (a successor's read without them is too old to use). */
  readonly created: readonly string[];
}

/**
 * The node's blocks after `attempt` committed, or undefined when the attempt does not know every
 * affine block (it would hand over a partial view).
 */
export function stateAfterCommit(attempt: Attempt, node: string): HandedState | undefined {
  const revision = attempt.committedAt;
  if (revision === undefined) return undefined;
  const affinities = new Map(attempt.view.affinities.map((a) => [a.value.cidr, a]));
  const written = new Set<string>();
  const created: string[] = [];
  for (const write of attempt.writes()) {
    if (write.kind === 'block') written.add(write.cidr);
    if (write.kind === 'side' && write.expect === 0 && write.value !== null)
      created.push(write.key);
    if (write.kind !== 'affinity') continue;
    if (write.value === null) affinities.delete(write.cidr);
    else affinities.set(write.cidr, { value: { cidr: write.cidr, state: write.value }, revision });
  }
  // The node's blocks, and any other one written (a borrowed address): not every block of a pool
  // that an exhausted search listed.
  const blocks = new Map<string, ViewBlock & { stored: string }>();
  for (const [cidr, block] of attempt.blocksAfterCommit()) {
    if (!affinities.has(cidr) && !written.has(cidr)) continue;
    blocks.set(cidr, { ...block, stored: storedTextOf(block.value) });
  }
  if (![...affinities.keys()].every((cidr) => blocks.has(cidr))) return undefined;
  return { node, affinities: [...affinities.values()], blocks, created };
}

/** The state as text for the lock's wake-up message (blocks as etcd holds them). */
export function encodeHandedState(state: HandedState): string {
  return JSON.stringify({
    node: state.node,
    affinities: state.affinities.map((a) => [a.value.cidr, a.value.state, a.revision]),
    blocks: [...state.blocks].map(([cidr, b]) => [cidr, b.stored, b.revision]),
    created: state.created,
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
      affinities?: unknown;
      blocks?: unknown;
      created?: unknown;
    };
    if (json.node !== node) return undefined;
    const affinities = triples(json.affinities).map(([cidr, state, revision]) => ({
      value: { cidr: textOf(cidr), state: textOf(state) },
      revision: revisionOf(revision),
    }));
    const blocks = new Map<string, ViewBlock & { stored: string }>();
    for (const [cidr, stored, revision] of triples(json.blocks)) {
      const text = textOf(stored);
      const value = blockFromStored(parseBlock(blockKey(textOf(cidr)), text));
      // Handed on unchanged by this holder, it travels as this text, not encoded again.
      rememberStoredText(value, text);
      blocks.set(textOf(cidr), { value, revision: revisionOf(revision), stored: text });
    }
    if (!Array.isArray(json.created)) return undefined;
    const created = json.created.map(textOf);
    return { node, affinities, blocks, created };
  } catch {
    return undefined;
  }
}

/**
 * `view` (the successor's own read, made while it waited) with the node's blocks as the
 * predecessor left them, where they are later than the ones read, and with any affinity the read
 * did not see; undefined when the read is older than the Node's registration or than a side key
 * it asked for (`asked`) that the predecessor created.
 */
export function withHandedState(
  view: HostView,
  state: HandedState,
  asked: readonly string[],
): HostView | undefined {
  const missed = state.created.some((key) => asked.includes(key) && !view.side.has(key));
  if (view.node === undefined || missed) return undefined;
  const blocks = new Map(view.blocks ?? []);
  for (const [cidr, block] of state.blocks) {
    const mine = blocks.get(cidr);
    if (mine === undefined || mine === null || mine.revision < block.revision) {
      blocks.set(cidr, block);
    }
  }
  const read = new Set(view.affinities.map((a) => a.value.cidr));
  // Only with its block: a handed block is compared with etcd's before it is written, a bare
  // affinity could not be.
  const added = state.affinities.filter(
    (a) => !read.has(a.value.cidr) && state.blocks.has(a.value.cidr),
  );
  const affinities = [...view.affinities, ...added].sort((a, b) =>
    compareText(a.value.cidr, b.value.cidr),
  );
  return { ...view, affinities, blocks };
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function triples(value: unknown): unknown[][] {
  if (!Array.isArray(value)) throw new TypeError('not a list');
  return value.map((item) => {
    if (!Array.isArray(item) || item.length !== 3) throw new TypeError('not a triple');
    return item as unknown[];
  });
}

function textOf(value: unknown): string {
  if (typeof value !== 'string') throw new TypeError('not a string');
  return value;
}

function revisionOf(value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new TypeError('not a revision');
  }
  return value;
}
