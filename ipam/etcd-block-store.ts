import { parseBlockAffinity, encodeBlockAffinity } from '../lib/datastore/calico/affinity';
import { encodeBlock, parseBlock } from '../lib/datastore/calico/block';
import { encodeIpamHandle, parseIpamHandle } from '../lib/datastore/calico/handle';
import { parseIpamConfig } from '../lib/datastore/calico/ipam-config';
import { parseIpReservation } from '../lib/datastore/calico/ip-reservation';
import { parseIpPool } from '../lib/datastore/calico/ippool';
import {
  IP_POOLS_PREFIX,
  IP_RESERVATIONS_PREFIX,
  IPAM_CONFIG_KEY,
  blockAffinityKey,
  blockKey,
  blocksPrefix,
  handleKey,
  hostAffinitiesPrefix,
  nodeKey,
  parseBlockAffinityKey,
} from '../lib/datastore/calico/keys';
import { encodeNode, parseNode } from '../lib/datastore/calico/node';
import type { Compare, KeyValue, Kv, Op, OpResult } from '../lib/datastore/kv';
import type {
  BlockStore,
  HandleRead,
  HostView,
  SideRead,
  StoreWrite,
  Versioned,
} from './block-store';
import type { BlockState, HandleState } from './core';
import { rememberStoredText } from './stored-text';
import { blockFromStored, blockToStored, handleFromStored, handleToStored } from './stored-values';
import { newUid } from '../lib/datastore/calico/uid';

/**
 * The BlockStore on etcd, in Calico's key layout and JSON. Every method is one etcd request: reads
 * are one read-only txn of several ranges, and a commit is one txn whose compares guard every key
 * it writes (mod_revision == the revision read, 0 for "must not exist").
 */
export class EtcdBlockStore implements BlockStore {
  constructor(private readonly kv: Kv) {}

  async readHost(
    node: string,
    options: {
      handleIds: readonly string[];
      side?: readonly SideRead[];
      blocks?: readonly string[];
    },
  ): Promise<HostView> {
    const sideReads = options.side ?? [];
    const blockCidrs = options.blocks ?? [];
    const found = await this.reads([
      ...sideReads.map(sideRange),
      { op: 'range', key: IPAM_CONFIG_KEY },
      { op: 'range', key: IP_POOLS_PREFIX, prefix: true },
      { op: 'range', key: nodeKey(node) },
      { op: 'range', key: hostAffinitiesPrefix(node, 4), prefix: true },
      { op: 'range', key: hostAffinitiesPrefix(node, 6), prefix: true },
      { op: 'range', key: IP_RESERVATIONS_PREFIX, prefix: true },
      ...options.handleIds.map((id): Op => ({ op: 'range', key: handleKey(id) })),
      ...blockCidrs.map((cidr): Op => ({ op: 'range', key: blockKey(cidr) })),
    ]);
    const side = sideFrom(sideReads, found.splice(0, sideReads.length));
    const blockKvs = found.splice(found.length - blockCidrs.length, blockCidrs.length);
    const [config, pools, nodes, aff4, aff6, reservations, ...handles] = found;
    const settings = parseIpamConfig(IPAM_CONFIG_KEY, config?.[0]?.value);
    const nodeKv = nodes?.[0];
    return {
      settings,
      pools: (pools ?? []).map((kv) => {
        const { metadata, spec } = parseIpPool(kv.key, kv.value);
        return { ...spec, name: metadata.name };
      }),
      node:
        nodeKv === undefined
          ? undefined
          : {
              value: { labels: parseNode(nodeKv.key, nodeKv.value).metadata.labels ?? {} },
              revision: nodeKv.modRevision,
            },
      affinities: [...(aff4 ?? []), ...(aff6 ?? [])].flatMap((kv) => {
        const where = parseBlockAffinityKey(kv.key);
        if (where === undefined) return [];
        const { state } = parseBlockAffinity(kv.key, kv.value);
        return [{ value: { cidr: where.cidr, state }, revision: kv.modRevision }];
      }),
      handles: this.handlesFrom(options.handleIds, handles),
      reservedCidrs: (reservations ?? []).flatMap(
        (kv) => parseIpReservation(kv.key, kv.value).spec.reservedCIDRs,
      ),
      side,
      blocks: new Map(
        blockCidrs.map((cidr, i) => {
          const kv = blockKvs[i]?.[0];
          return [cidr, kv === undefined ? null : versionedBlock(kv)];
        }),
      ),
    };
  }

  async readHandles(
    ids: readonly string[],
    options?: { side?: readonly SideRead[] },
  ): Promise<HandleRead> {
    const sideReads = options?.side ?? [];
    if (ids.length === 0 && sideReads.length === 0) return { handles: new Map(), side: new Map() };
    const found = await this.reads([
      ...sideReads.map(sideRange),
      ...ids.map((id): Op => ({ op: 'range', key: handleKey(id) })),
    ]);
    const side = sideFrom(sideReads, found.splice(0, sideReads.length));
    return { handles: this.handlesFrom(ids, found), side };
  }

  async readBlocks(cidrs: readonly string[]): Promise<ReadonlyMap<string, Versioned<BlockState>>> {
    if (cidrs.length === 0) return new Map();
    const found = await this.reads(cidrs.map((c): Op => ({ op: 'range', key: blockKey(c) })));
    const blocks = new Map<string, Versioned<BlockState>>();
    cidrs.forEach((cidr, i) => {
      const kv = found[i]?.[0];
      if (kv !== undefined) blocks.set(cidr, versionedBlock(kv));
    });
    return blocks;
  }

  async listBlocks(family: 4 | 6): Promise<readonly Versioned<BlockState>[]> {
    const { kvs } = await this.kv.range(blocksPrefix(family), { prefix: true });
    return kvs.map(versionedBlock);
  }

  async commit(writes: readonly StoreWrite[]): Promise<number | undefined> {
    const compare: Compare[] = [];
    const success: Op[] = [];
    for (const write of writes) {
      const { key, value } = encodeWrite(write);
      compare.push({ key, target: 'modRevision', result: 'equal', value: write.expect });
      if (write.kind === 'block' && write.expectText !== undefined) {
        compare.push({ key, target: 'value', result: 'equal', value: write.expectText });
      }
      success.push(value === null ? { op: 'delete', key } : { op: 'put', key, value });
    }
    const result = await this.kv.txn({ compare, success, failure: [] });
    return result.succeeded ? result.revision : undefined;
  }

  // One read-only txn: the ranges of `ops`, answered at one revision.
  private async reads(ops: readonly Op[]): Promise<(KeyValue[] | undefined)[]> {
    const result = await this.kv.txn({ compare: [], success: [...ops], failure: [] });
    return result.results.map((r: OpResult) => (r.op === 'range' ? r.kvs : undefined));
  }

  private handlesFrom(
    ids: readonly string[],
    found: readonly (KeyValue[] | undefined)[],
  ): Map<string, Versioned<HandleState>> {
    const handles = new Map<string, Versioned<HandleState>>();
    ids.forEach((id, i) => {
      const kv = found[i]?.[0];
      if (kv === undefined) return;
      handles.set(id, {
        value: handleFromStored(parseIpamHandle(kv.key, kv.value)),
        revision: kv.modRevision,
      });
    });
    return handles;
  }
}

function sideRange(read: SideRead): Op {
  return { op: 'range', key: read.key, ...(read.keysOnly === true ? { keysOnly: true } : {}) };
}

function sideFrom(
  reads: readonly SideRead[],
  found: readonly (KeyValue[] | undefined)[],
): Map<string, Versioned<string>> {
  const side = new Map<string, Versioned<string>>();
  reads.forEach((read, i) => {
    const kv = found[i]?.[0];
    if (kv !== undefined) side.set(read.key, { value: kv.value, revision: kv.modRevision });
  });
  return side;
}

function versionedBlock(kv: KeyValue): Versioned<BlockState> {
  const value = blockFromStored(parseBlock(kv.key, kv.value));
  rememberStoredText(value, kv.value);
  return { value, revision: kv.modRevision };
}

function encodeWrite(write: StoreWrite): { key: string; value: string | null } {
  switch (write.kind) {
    case 'block': {
      if (write.value === null) return { key: blockKey(write.cidr), value: null };
      const text = encodeBlock(blockToStored(write.value));
      rememberStoredText(write.value, text);
      return { key: blockKey(write.cidr), value: text };
    }
    case 'handle':
      return {
        key: handleKey(write.id),
        value:
          write.value === null ? null : encodeIpamHandle(handleToStored(write.id, write.value)),
      };
    case 'affinity':
      return {
        key: blockAffinityKey(write.node, write.cidr),
        value:
          write.value === null ? null : encodeBlockAffinity({ state: write.value, deleted: false }),
      };
    case 'side':
      return { key: write.key, value: write.value };
    case 'node':
      // What calico/node would register: a Node with no labels and an empty spec.
      return {
        key: nodeKey(write.name),
        value: encodeNode({
          metadata: {
            name: write.name,
            uid: newUid(),
            creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
          },
          spec: {},
        }),
      };
  }
}
