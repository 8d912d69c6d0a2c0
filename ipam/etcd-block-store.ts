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
import type { BlockStore, HostView, StoreWrite, Versioned } from './block-store';
import type { BlockState, HandleState } from './core';
import { blockFromStored, blockToStored, handleFromStored, handleToStored } from './stored-values';

/**
 * The BlockStore on etcd, in Calico's key layout and JSON. Every method is one etcd request: reads
 * are one read-only txn of several ranges, and a commit is one txn whose compares guard every key
 * it writes (mod_revision == the revision read, 0 for "must not exist").
 */
export class EtcdBlockStore implements BlockStore {
  constructor(private readonly kv: Kv) {}

  async readHost(node: string, options: { handleIds: readonly string[] }): Promise<HostView> {
    const [config, pools, nodes, aff4, aff6, reservations, ...handles] = await this.reads([
      { op: 'range', key: IPAM_CONFIG_KEY },
      { op: 'range', key: IP_POOLS_PREFIX, prefix: true },
      { op: 'range', key: nodeKey(node) },
      { op: 'range', key: hostAffinitiesPrefix(node, 4), prefix: true },
      { op: 'range', key: hostAffinitiesPrefix(node, 6), prefix: true },
      { op: 'range', key: IP_RESERVATIONS_PREFIX, prefix: true },
      ...options.handleIds.map((id): Op => ({ op: 'range', key: handleKey(id) })),
    ]);
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
    };
  }

  async readHandles(ids: readonly string[]): Promise<ReadonlyMap<string, Versioned<HandleState>>> {
    if (ids.length === 0) return new Map();
    const found = await this.reads(ids.map((id): Op => ({ op: 'range', key: handleKey(id) })));
    return this.handlesFrom(ids, found);
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

  async commit(writes: readonly StoreWrite[]): Promise<boolean> {
    const compare: Compare[] = [];
    const success: Op[] = [];
    for (const write of writes) {
      const { key, value } = encodeWrite(write);
      compare.push({ key, target: 'modRevision', result: 'equal', value: write.expect });
      success.push(value === null ? { op: 'delete', key } : { op: 'put', key, value });
    }
    const result = await this.kv.txn({ compare, success, failure: [] });
    return result.succeeded;
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

function versionedBlock(kv: KeyValue): Versioned<BlockState> {
  return { value: blockFromStored(parseBlock(kv.key, kv.value)), revision: kv.modRevision };
}

function encodeWrite(write: StoreWrite): { key: string; value: string | null } {
  switch (write.kind) {
    case 'block':
      return {
        key: blockKey(write.cidr),
        value: write.value === null ? null : encodeBlock(blockToStored(write.value)),
      };
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
    case 'node':
      // What calico/node would register: a Node with no labels and an empty spec.
      return {
        key: nodeKey(write.name),
        value: encodeNode({
          metadata: {
            name: write.name,
            // globalThis.crypto loads on first use: only registrations pay for it, not every ADD.
            uid: globalThis.crypto.randomUUID(),
            creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
          },
          spec: {},
        }),
      };
  }
}
