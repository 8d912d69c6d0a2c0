import { parseIpPool, type IpPool } from '../../lib/datastore/calico/ippool';
import { IP_POOLS_PREFIX, WORKLOAD_ENDPOINTS_PREFIX } from '../../lib/datastore/calico/keys';
import { parseWorkloadEndpoint } from '../../lib/datastore/calico/workload-endpoint';
import type { Kv } from '../../lib/datastore/kv';
import { EtcdBlockStore } from '../../ipam/etcd-block-store';
import {
  affinityNode,
  allocationOf,
  blockCidr,
  cidrContainsCidr,
  cidrContainsIp,
  cidrSize,
  parseNetwork,
  tryParseIp,
  type BlockState,
  type IpAddress,
} from '../../ipam/core';
import { CliError, type CliIo } from './io';
import { formatTable } from './table';

// `calicoctl ipam show [--show-blocks] [--ip ADDR]`: usage per pool and per block (with the node
// the block is affine to), or who holds one address. Read-only: pools, blocks and, for --ip, the
// WorkloadEndpoints, each listed once.

/** Prints the usage table, or the holder of `ip`. */
export async function ipamShow(
  kv: Kv,
  options: { showBlocks: boolean; ip?: string | undefined },
  io: CliIo,
): Promise<void> {
  const { kvs } = await kv.range(IP_POOLS_PREFIX, { prefix: true });
  const pools = kvs.map((p) => parseIpPool(p.key, p.value));
  const store = new EtcdBlockStore(kv);
  if (options.ip !== undefined) {
    const ip = tryParseIp(options.ip);
    if (ip === null) throw new CliError(`--ip: ${JSON.stringify(options.ip)} is not an IP address`);
    const blocks = (await store.listBlocks(ip.family)).map((b) => b.value);
    io.out(await describeAddress(kv, { ip, text: options.ip, pools, blocks }));
    return;
  }
  const blocks = [...(await store.listBlocks(4)), ...(await store.listBlocks(6))].map(
    (b) => b.value,
  );
  const rows: string[][] = [];
  const inPool = new Set<BlockState>();
  for (const pool of pools) {
    const network = parseNetwork(pool.spec.cidr);
    const mine = blocks.filter((b) => cidrContainsCidr(network, blockCidr(b)));
    mine.forEach((b) => inPool.add(b));
    const used = mine.reduce((sum, b) => sum + usedCount(b), 0);
    rows.push(
      usageRow({
        grouping: 'IP Pool',
        cidr: pool.spec.cidr,
        total: cidrSize(network),
        used,
        node: '',
      }),
    );
    if (options.showBlocks) rows.push(...mine.map(blockRow));
  }
  if (options.showBlocks) {
    // Blocks of a deleted pool still hold addresses: show them rather than hide a leak.
    rows.push(...blocks.filter((b) => !inPool.has(b)).map(blockRow));
  }
  const headers = ['GROUPING', 'CIDR', 'IPS TOTAL', 'IPS IN USE', 'IPS FREE', 'NODE'];
  // The NODE column only means something for blocks.
  const width = options.showBlocks ? headers.length : headers.length - 1;
  io.out(
    formatTable(
      headers.slice(0, width),
      rows.map((row) => row.slice(0, width)),
    ),
  );
}

function usedCount(block: BlockState): number {
  return block.allocations.filter((index) => index !== null).length;
}

function blockRow(block: BlockState): string[] {
  return usageRow({
    grouping: 'Block',
    cidr: block.cidr,
    total: BigInt(block.allocations.length),
    used: usedCount(block),
    node: affinityNode(block) ?? block.affinity ?? '(none)',
  });
}

function usageRow(usage: {
  grouping: string;
  cidr: string;
  total: bigint;
  used: number;
  node: string;
}): string[] {
  const { total, used } = usage;
  const free = total - BigInt(used);
  const percent = (n: bigint): string => `${(n * 100n) / (total === 0n ? 1n : total)}%`;
  return [
    usage.grouping,
    usage.cidr,
    total.toString(),
    `${used} (${percent(BigInt(used))})`,
    `${free} (${percent(free)})`,
    usage.node,
  ];
}

async function describeAddress(
  kv: Kv,
  target: { ip: IpAddress; text: string; pools: IpPool[]; blocks: BlockState[] },
): Promise<string> {
  const { ip, text, pools, blocks } = target;
  const pool = pools.find((p) => cidrContainsIp(parseNetwork(p.spec.cidr), ip));
  const block = blocks.find((b) => cidrContainsIp(blockCidr(b), ip));
  const poolText =
    pool === undefined ? 'no IP pool' : `pool ${pool.metadata.name} (${pool.spec.cidr})`;
  const allocation = block === undefined ? null : allocationOf(block, ip);
  if (block === undefined || allocation === null) {
    if (pool === undefined && block === undefined) return `IP ${text} is not in any IP pool\n`;
    const where = block === undefined ? 'no block allocated yet' : `block ${block.cidr}`;
    return `IP ${text} is not assigned (${where}, ${poolText})\n`;
  }
  const lines = [
    `IP ${text} is in use`,
    `  pool:      ${poolText}`,
    `  block:     ${block.cidr}, affinity ${block.affinity ?? 'none'}`,
    `  handle:    ${allocation.handleId ?? '(none)'}`,
  ];
  for (const [key, value] of Object.entries(allocation.secondary ?? {})) {
    lines.push(`  ${`${key}:`.padEnd(10)} ${value}`);
  }
  const { kvs } = await kv.range(WORKLOAD_ENDPOINTS_PREFIX, { prefix: true });
  for (const item of kvs) {
    const wep = parseWorkloadEndpoint(item.key, item.value);
    const holds = wep.spec.ipNetworks.some((net) => {
      const address = tryParseIp(net.split('/')[0] ?? '');
      return address !== null && address.family === ip.family && address.value === ip.value;
    });
    if (!holds) continue;
    lines.push(
      `  endpoint:  ${wep.metadata.namespace ?? 'default'}/${wep.metadata.name} on ${wep.spec.node ?? '?'}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
