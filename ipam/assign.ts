import { CniError, ErrorCode } from '../lib/cni/errors';
import { CAS_CONFLICT, withCasRetry } from '../lib/datastore/cas-retry';
import { Attempt } from './attempt';
import type { BlockStore, HostView, SideHooks } from './block-store';
import { findRoom } from './find-room';
import { stateAfterCommit, type HandedState } from './handed-state';
import {
  AddressInUseError,
  AddressReservedError,
  affinityNode,
  assignFromBlock,
  assignSpecific,
  blockCidr,
  blockContaining,
  formatCidr,
  formatIp,
  handleTotal,
  newBlock,
  ordinalsOfHandle,
  ipAtOrdinal,
  parseIp,
  parseReservedCidr,
  reservedOrdinals,
  workloadAttributes,
  type AssignResult,
  type BlockState,
  type Cidr,
  type IpFamily,
} from './core';
import { poolForAddress, usablePools, type UsablePool } from './pools';
import { UnsureCommits } from './unsure-commit';

/** What one ADD asks of IPAM. */
export interface AssignRequest {
  node: string;
  handleId: string;
  ipv4: boolean;
  ipv6: boolean;
  ipv4Pools: readonly string[];
  ipv6Pools: readonly string[];
  /** CNI_ARGS IP=: exactly this address, as /32 or /128 (§8.5). */
  specificIp?: string;
  namespace?: string;
  pod?: string;
  /** Unix time in nanoseconds: attribute timestamps and new blocks' sequence numbers. */
  now: () => bigint;
  random?: () => number;
  /** Keys of the caller read and written with this assignment (calico's endpoint). */
  side?: SideHooks;
  /** Block CIDRs to read with the first read of each attempt (see SideHooks.blockHints). */
  blockHints?: () => readonly string[];
  /**
   * The first attempt's view, read already (while waiting for the host lock, see handed-state.ts);
   * later attempts read for themselves.
   */
  firstView?: HostView;
}

/** The addresses held by the handle, in CIDR form, and whether they were there already. */
export interface AssignOutcome {
  addresses: string[];
  /** True when the handle already held addresses (a repeated ADD): nothing was assigned. */
  existing: boolean;
  /** Etcd round trips of the attempt that succeeded. */
  requests: number;
  /** This node's blocks as the attempt that succeeded saw them, a claimed one included. */
  blocks: string[];
  /** The node's keys as the commit left them, for the next holder of the host lock. */
  state?: HandedState;
}

/**
 * Assigns addresses for one handle in a single compare-and-swap commit: every block, the handle
 * and any claimed affinity are written together, so a lost race, a crash or a failed family
 * leaves nothing behind (no partial dual-stack assignment, no handle without its addresses).
 */
export function assignAddresses(store: BlockStore, request: AssignRequest): Promise<AssignOutcome> {
  const unsure = new UnsureCommits();
  const first = { view: request.firstView };
  return withCasRetry(() => attemptAssign(store, { request, unsure, first }), {
    what: `assign for handle ${request.handleId}`,
  });
}

async function attemptAssign(
  store: BlockStore,
  options: { request: AssignRequest; unsure: UnsureCommits; first: { view: HostView | undefined } },
): Promise<AssignOutcome | typeof CAS_CONFLICT> {
  const { request, unsure, first } = options;
  const { side } = request;
  const view =
    first.view ??
    (await unsure.read(() =>
      store.readHost(request.node, {
        handleIds: [request.handleId],
        ...(side === undefined ? {} : { side: side.reads }),
        ...(request.blockHints === undefined ? {} : { blocks: request.blockHints() }),
      }),
    ));
  first.view = undefined;
  side?.admit?.(view.side);
  const attempt = new Attempt(store, view);
  attempt.requests++;
  const held = view.handles.get(request.handleId);
  if (held !== undefined && handleTotal(held.value) > 0) {
    // A repeated ADD for the same container: report what it holds rather than a second address;
    // only the caller's side writes (if any) are committed. Unless our own commit of unknown
    // outcome made the handle (the host lock keeps other invocations for this container out):
    // then the addresses are new, and ours to release.
    const addresses = await addressesOfHandle(attempt, request.handleId);
    const sideOnly = () => attempt.commitWithSide(side, { addresses, alone: true });
    if ((await unsure.commit(sideOnly)) === CAS_CONFLICT) return CAS_CONFLICT;
    return {
      addresses,
      existing: !unsure.unknown,
      requests: attempt.requests,
      blocks: nodeBlocks(attempt),
    };
  }
  const owner = {
    handleId: request.handleId,
    attributes: workloadAttributes({
      node: request.node,
      unixNanos: request.now(),
      ...(request.namespace === undefined ? {} : { namespace: request.namespace }),
      ...(request.pod === undefined ? {} : { pod: request.pod }),
    }),
  };
  const reserved = view.reservedCidrs.map(parseReservedCidr);
  const ctx: FamilyContext = { attempt, request, owner, reserved, perBlock: new Map() };
  const addresses =
    request.specificIp === undefined
      ? await assignAuto(ctx)
      : [await assignRequested(ctx, request.specificIp)];
  if (view.node === undefined) attempt.add({ kind: 'node', name: request.node, expect: 0 });
  attempt.add({
    kind: 'handle',
    id: request.handleId,
    expect: held?.revision ?? 0,
    value: Attempt.grow(held?.value ?? null, ctx.perBlock),
  });
  const all = () => attempt.commitWithSide(side, { addresses, alone: false });
  if ((await unsure.commit(all)) === CAS_CONFLICT) return CAS_CONFLICT;
  const state = unsure.unknown ? undefined : stateAfterCommit(attempt, request.node);
  return {
    addresses,
    existing: false,
    requests: attempt.requests,
    blocks: nodeBlocks(attempt),
    ...(state === undefined ? {} : { state }),
  };
}

/** The node's affine blocks as read, and any the attempt claimed. */
function nodeBlocks(attempt: Attempt): string[] {
  const claimed = attempt
    .writes()
    .flatMap((w) => (w.kind === 'affinity' && w.value !== null ? [w.cidr] : []));
  return [...new Set([...attempt.view.affinities.map((a) => a.value.cidr), ...claimed])];
}

interface FamilyContext {
  attempt: Attempt;
  request: AssignRequest;
  owner: { handleId: string; attributes: Record<string, string> };
  reserved: readonly Cidr[];
  /** Addresses taken per block, for the handle. */
  perBlock: Map<string, number>;
}

async function assignAuto(ctx: FamilyContext): Promise<string[]> {
  const { attempt, request } = ctx;
  const families = ([4, 6] as const).filter((f) => (f === 4 ? request.ipv4 : request.ipv6));
  const pools = new Map(
    families.map((family) => [
      family,
      usablePools(attempt.view, {
        family,
        node: request.node,
        requested: family === 4 ? request.ipv4Pools : request.ipv6Pools,
      }),
    ]),
  );
  // This host's blocks of both families in one round trip: the common ADD needs nothing else.
  await attempt.fetch(attempt.view.affinities.map((a) => a.value.cidr));
  const addresses: string[] = [];
  for (const family of families) {
    addresses.push(await assignFamily(ctx, { family, pools: pools.get(family) ?? [] }));
  }
  return addresses;
}

async function assignFamily(
  ctx: FamilyContext,
  options: { family: IpFamily; pools: readonly UsablePool[] },
): Promise<string> {
  const { attempt, request } = ctx;
  const room = await findRoom(attempt, {
    ...options,
    node: request.node,
    reserved: ctx.reserved,
    newBlock: (cidr) => newBlock(cidr, newBlockOptions(ctx)),
    random: request.random ?? Math.random,
  });
  if (room.kind === 'none') {
    throw exhausted({ ...options, ...room, strict: attempt.view.settings.strictAffinity });
  }
  if (room.kind === 'claim') {
    // The affinity is written straight as confirmed: it commits with the block or not at all.
    attempt.add({
      kind: 'affinity',
      node: request.node,
      cidr: room.cidr,
      expect: 0,
      value: 'confirmed',
    });
  }
  const taken = takeOne(ctx, room.block);
  if (taken === null) throw new Error(`block ${room.block.cidr} was found with room but gave none`);
  return taken;
}

// Takes one address from `block` into the attempt; null when the block has no usable room.
function takeOne(ctx: FamilyContext, block: BlockState): string | null {
  const reserved = reservedOrdinals(blockCidr(block), ctx.reserved);
  const result = assignFromBlock(block, { ...ctx.owner, count: 1, reservedOrdinals: reserved });
  const ip = result.addresses[0];
  if (ip === undefined) return null;
  record(ctx, result);
  return `${formatIp(ip)}/${blockCidr(block).prefix}`;
}

function record(ctx: FamilyContext, result: AssignResult): void {
  ctx.attempt.setBlock(result.block.cidr, result.block);
  ctx.perBlock.set(
    result.block.cidr,
    (ctx.perBlock.get(result.block.cidr) ?? 0) + result.ordinals.length,
  );
}

function newBlockOptions(ctx: FamilyContext): { affinityNode: string; sequenceNumber: bigint } {
  return { affinityNode: ctx.request.node, sequenceNumber: ctx.request.now() };
}

// CNI_ARGS IP= (§8.5): the enabled pool holding it, its block claimed for this host if absent.
async function assignRequested(ctx: FamilyContext, text: string): Promise<string> {
  const { attempt, request } = ctx;
  const ip = parseIp(text);
  const pool = poolForAddress(attempt.view, ip);
  const cidr = formatCidr(blockContaining(ip, pool.spec.blockSize));
  await attempt.fetch([cidr]);
  const existing = attempt.block(cidr);
  if (
    existing !== null &&
    attempt.view.settings.strictAffinity &&
    affinityNode(existing) !== request.node
  ) {
    throw new CniError(
      ErrorCode.blockAffinityMismatch,
      `Block host affinity does not match: ${formatIp(ip)} is in block ${cidr}, affine to ${existing.affinity ?? 'no host'}, and strict affinity is on`,
    );
  }
  const block = existing ?? newBlock(blockCidr({ cidr }), newBlockOptions(ctx));
  const reserved = reservedOrdinals(blockCidr(block), ctx.reserved);
  let result: AssignResult;
  try {
    result = assignSpecific(block, ip, { ...ctx.owner, reservedOrdinals: reserved });
  } catch (err) {
    if (err instanceof AddressInUseError || err instanceof AddressReservedError) {
      throw new CniError(ErrorCode.addressInUse, err.message);
    }
    throw err;
  }
  record(ctx, result);
  if (existing === null) {
    attempt.add({ kind: 'affinity', node: request.node, cidr, expect: 0, value: 'confirmed' });
  }
  return `${formatIp(ip)}/${ip.family === 4 ? 32 : 128}`;
}

async function addressesOfHandle(attempt: Attempt, handleId: string): Promise<string[]> {
  const cidrs = Object.keys(attempt.view.handles.get(handleId)?.value.block ?? {});
  await attempt.fetch(cidrs);
  return cidrs.flatMap((cidr) => {
    const block = attempt.block(cidr);
    if (block === null) return [];
    const parsed = blockCidr(block);
    return ordinalsOfHandle(block, handleId).map(
      (o) => `${formatIp(ipAtOrdinal(parsed, o))}/${parsed.prefix}`,
    );
  });
}

function exhausted(options: {
  family: IpFamily;
  pools: readonly UsablePool[];
  strict: boolean;
  atLimit: boolean;
  limit: number;
}): CniError {
  const names = `[${options.pools.map((p) => p.spec.cidr).join(', ')}]`;
  const why = options.atLimit
    ? `cannot allocate new block due to per host block limit (${options.limit} blocks)`
    : options.strict
      ? 'No more free affine blocks and strict affinity enabled'
      : `No IPs available in pools: ${names}`;
  return new CniError(
    ErrorCode.poolsExhausted,
    `failed to request IPv${options.family} addresses: Assigned 0 out of 1 requested IPv${options.family} addresses; ${why}${options.atLimit || options.strict ? ` (pools ${names})` : ''}`,
  );
}
