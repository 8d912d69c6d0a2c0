import { parseBlockAffinity } from '../lib/datastore/calico/affinity';
import { parseBlock } from '../lib/datastore/calico/block';
import { parseIpamHandle } from '../lib/datastore/calico/handle';
import { parseBlockAffinityKey } from '../lib/datastore/calico/keys';
import {
  parseWorkloadEndpoint,
  type WorkloadEndpoint,
} from '../lib/datastore/calico/workload-endpoint';
import type { KeyValue, Kv } from '../lib/datastore/kv';
import type { ConsistencyReport, Problem } from './consistency-report';
import {
  affinityNode,
  blockCidr,
  blockContaining,
  checkBlock,
  countsByHandle,
  formatCidr,
  formatIp,
  handleTotal,
  hostAffinity,
  ipAtOrdinal,
  isValidBlockSize,
  tryParseIp,
  type BlockState,
  type HandleState,
} from './core';
import { readIpamSnapshot, type IpamSnapshot } from './ipam-snapshot';
import { findLeaks, type Allocated, type LeakOptions } from './leak-finder';
import { blockFromStored, handleFromStored } from './stored-values';

// `ipam check` (issue 7 item 8): reads every block, handle, affinity and WorkloadEndpoint at one
// revision and reports what breaks Calico's IPAM invariants (calico-behaviour.md §7–§8), and
// which allocations are leaks (leak-finder.ts says how a leak is recognised).

/** Options of the check: see LeakOptions (grace period, clock, networks served by calico). */
export type CheckOptions = LeakOptions;

/** Reads the datastore once and checks it. */
export async function checkIpamConsistency(
  kv: Kv,
  options: CheckOptions = {},
): Promise<ConsistencyReport> {
  return checkIpamSnapshot(await readIpamSnapshot(kv), options);
}

interface Parsed {
  blocks: Map<string, { key: string; block: BlockState }>;
  handles: Map<string, { key: string; handle: HandleState }>;
  endpoints: { key: string; endpoint: WorkloadEndpoint }[];
}

/** The check over keys already read (pure: the clock comes in through `options.now`). */
export function checkIpamSnapshot(
  snapshot: IpamSnapshot,
  options: CheckOptions = {},
): ConsistencyReport {
  const problems: Problem[] = [];
  const parsed = parse(snapshot, problems);
  const allocations = allocationsOf(parsed, problems);
  checkHandles(parsed, problems);
  const affinities = checkAffinities(parsed, { hosts: snapshot.hosts, problems });
  const endpointIps = checkEndpoints(parsed, { allocations, problems });
  const leaks = findLeaks({ allocations, endpointIps, endpoints: parsed.endpoints }, options);
  return {
    revision: snapshot.revision,
    checked: {
      blocks: parsed.blocks.size,
      allocations: allocations.length,
      handles: parsed.handles.size,
      affinities,
      endpoints: parsed.endpoints.length,
    },
    problems,
    ...leaks,
  };
}

function parse(snapshot: IpamSnapshot, problems: Problem[]): Parsed {
  const readAll = <T>(kvs: KeyValue[], read: (kv: KeyValue) => T): [KeyValue, T][] =>
    kvs.flatMap((kv): [KeyValue, T][] => {
      try {
        return [[kv, read(kv)]];
      } catch (err) {
        problems.push({ kind: 'unreadable', key: kv.key, message: messageOf(err) });
        return [];
      }
    });
  const blocks = readAll(snapshot.blocks, (kv) => blockFromStored(parseBlock(kv.key, kv.value)));
  const handles = readAll(snapshot.handles, (kv) => parseIpamHandle(kv.key, kv.value));
  const endpoints = readAll(snapshot.endpoints, (kv) => parseWorkloadEndpoint(kv.key, kv.value));
  return {
    blocks: new Map(blocks.map(([kv, block]) => [block.cidr, { key: kv.key, block }])),
    handles: new Map(
      handles.map(([kv, h]) => [h.handleId, { key: kv.key, handle: handleFromStored(h) }]),
    ),
    endpoints: endpoints.map(([kv, endpoint]) => ({ key: kv.key, endpoint })),
  };
}

// Every allocated address, and the block invariants; addresses allocated twice (overlapping
// blocks, e.g. pools of different block sizes over one range) are the duplicate IPs of §12.2.
function allocationsOf(parsed: Parsed, problems: Problem[]): Allocated[] {
  const allocations: Allocated[] = [];
  const byIp = new Map<string, Allocated[]>();
  for (const { key, block } of parsed.blocks.values()) {
    for (const message of checkBlock(block)) {
      problems.push({ kind: 'block', key, message: `block ${block.cidr}: ${message}` });
    }
    let cidr;
    try {
      cidr = blockCidr(block);
    } catch {
      continue; // checkBlock reported it
    }
    for (const [ordinal, index] of block.allocations.entries()) {
      const attribute = index === null ? undefined : block.attributes[index];
      if (attribute === undefined) continue; // free, or a bad index checkBlock reported
      const ip = formatIp(ipAtOrdinal(cidr, ordinal));
      const handleId = attribute.handle_id ?? null;
      if (handleId === null) {
        problems.push({
          kind: 'missing-handle',
          key,
          message: `${ip} in block ${block.cidr} is allocated without a handle: no DEL can release it`,
        });
        continue;
      }
      const allocated: Allocated = { ip, block: block.cidr, ordinal, handleId, key, attribute };
      allocations.push(allocated);
      byIp.set(ip, [...(byIp.get(ip) ?? []), allocated]);
    }
  }
  for (const [ip, holders] of byIp) {
    if (holders.length < 2) continue;
    problems.push({
      kind: 'duplicate-address',
      key: holders[0]?.key ?? '',
      message: `${ip} is allocated ${holders.length} times: ${holders.map((h) => `in block ${h.block} to handle ${h.handleId}`).join(', ')}`,
    });
  }
  return allocations;
}

// Handles count, per block, the addresses they hold (§8.1): each count must equal what the block
// says, and a handle must count every block that holds addresses for it.
function checkHandles(parsed: Parsed, problems: Problem[]): void {
  const actual = new Map<string, Map<string, number>>();
  for (const { block } of parsed.blocks.values()) {
    for (const [handleId, count] of countsByHandle(block)) {
      if (handleId === null) continue; // reported per address
      const perBlock = actual.get(handleId) ?? new Map<string, number>();
      perBlock.set(block.cidr, count);
      actual.set(handleId, perBlock);
    }
  }
  for (const [handleId, perBlock] of actual) {
    if (parsed.handles.has(handleId)) continue;
    for (const [cidr, count] of perBlock) {
      problems.push({
        kind: 'missing-handle',
        key: parsed.blocks.get(cidr)?.key ?? cidr,
        message: `block ${cidr} holds ${count} address(es) for handle ${handleId}, which does not exist`,
      });
    }
  }
  for (const [handleId, { key, handle }] of parsed.handles) {
    if (handleTotal(handle) === 0) {
      problems.push({
        kind: 'empty-handle',
        key,
        message: `handle ${handleId} holds no addresses (Calico deletes a handle when its count reaches zero)`,
      });
    }
    const held = actual.get(handleId) ?? new Map<string, number>();
    for (const [cidr, count] of Object.entries(handle.block)) {
      if (count === 0) continue;
      const inBlock = held.get(cidr) ?? 0;
      if (!parsed.blocks.has(cidr)) {
        problems.push({
          kind: 'handle-count',
          key,
          message: `handle ${handleId} counts ${count} address(es) in block ${cidr}, which does not exist`,
        });
      } else if (inBlock !== count) {
        problems.push({
          kind: 'handle-count',
          key,
          message: `handle ${handleId} counts ${count} address(es) in block ${cidr}, but the block holds ${inBlock} for it`,
        });
      }
    }
    for (const [cidr, count] of held) {
      if (Object.hasOwn(handle.block, cidr)) continue;
      problems.push({
        kind: 'handle-count',
        key,
        message: `handle ${handleId} does not count block ${cidr}, which holds ${count} address(es) for it`,
      });
    }
  }
}

// Every affinity key must name a block whose `affinity` is `host:<that host>`, and every block
// affine to a host must have that host's affinity key (calico#6486, calico#4471). Returns the
// number of affinities checked.
function checkAffinities(
  parsed: Parsed,
  options: { hosts: readonly KeyValue[]; problems: Problem[] },
): number {
  const { problems } = options;
  const seen = new Set<string>();
  let count = 0;
  for (const kv of options.hosts) {
    const where = parseBlockAffinityKey(kv.key);
    if (where === undefined) continue; // the host key itself
    count++;
    seen.add(`${where.host}|${where.cidr}`);
    let state;
    try {
      ({ state } = parseBlockAffinity(kv.key, kv.value));
    } catch (err) {
      problems.push({ kind: 'unreadable', key: kv.key, message: messageOf(err) });
      continue;
    }
    const block = parsed.blocks.get(where.cidr)?.block;
    const wanted = hostAffinity(where.host);
    if (block === undefined) {
      problems.push({
        kind: 'affinity',
        key: kv.key,
        message: `host ${where.host} has a ${state} affinity for block ${where.cidr}, which does not exist`,
      });
    } else if (block.affinity !== wanted) {
      problems.push({
        kind: 'affinity',
        key: kv.key,
        message: `host ${where.host} has a ${state} affinity for block ${where.cidr}, but the block's affinity is ${JSON.stringify(block.affinity)}`,
      });
    }
  }
  for (const { key, block } of parsed.blocks.values()) {
    const host = affinityNode(block);
    if (host === null || seen.has(`${host}|${block.cidr}`)) continue;
    problems.push({
      kind: 'affinity',
      key,
      message: `block ${block.cidr} has affinity ${block.affinity ?? ''}, but host ${host} has no affinity for it`,
    });
  }
  return count;
}

// The addresses endpoints use: two endpoints on one address is a duplicate IP; an endpoint on an
// address its block has free will meet a second pod there after the next ADD.
function checkEndpoints(
  parsed: Parsed,
  options: { allocations: readonly Allocated[]; problems: Problem[] },
): Map<string, string[]> {
  const { problems } = options;
  const allocated = new Set(options.allocations.map((a) => a.ip));
  const prefixes = new Set<number>();
  for (const cidr of parsed.blocks.keys()) prefixes.add(Number(cidr.slice(cidr.indexOf('/') + 1)));
  const byIp = new Map<string, string[]>();
  for (const { key, endpoint } of parsed.endpoints) {
    const name = endpoint.metadata.name;
    for (const network of endpoint.spec.ipNetworks) {
      const address = tryParseIp(network.split('/')[0] ?? '');
      if (address === null) continue;
      const ip = formatIp(address);
      const users = byIp.get(ip) ?? [];
      if (users.length === 1) {
        problems.push({
          kind: 'duplicate-address',
          key,
          message: `${ip} is used by two WorkloadEndpoints: ${users[0] ?? ''} and ${name}`,
        });
      }
      byIp.set(ip, [...users, name]);
      if (allocated.has(ip)) continue;
      for (const prefix of prefixes) {
        if (!isValidBlockSize(address.family, prefix)) continue;
        const cidr = formatCidr(blockContaining(address, prefix));
        if (!parsed.blocks.has(cidr)) continue;
        problems.push({
          kind: 'unallocated-endpoint-address',
          key,
          message: `WorkloadEndpoint ${name} uses ${ip}, which block ${cidr} has free: another pod can be given it`,
        });
      }
    }
  }
  return byIp;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
