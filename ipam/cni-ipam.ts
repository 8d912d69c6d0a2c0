import { determineNodeName } from '../lib/calico/node-name';
import { parseIpamNetConf, type IpamNetConf } from '../lib/calico/ipam-netconf';
import type { ClusterArgs, CmdArgs } from '../lib/cni/dispatcher';
import { CniError, ErrorCode } from '../lib/cni/errors';
import type { Result } from '../lib/cni/result/types';
import { etcdSettings } from '../lib/datastore/config';
import { DatastoreError, datastoreErrorToCni } from '../lib/datastore/errors';
import type { Kv } from '../lib/datastore/kv';
import { openKv } from '../lib/datastore/open-kv';
import { assignAddresses } from './assign';
import type { BlockStore, HostView, SideHooks } from './block-store';
import { cniHandleId, DEFAULT_IFNAME, parseNetwork } from './core';
import { EtcdBlockStore } from './etcd-block-store';
import { firstReadBlocks } from './block-hints';
import {
  decodeHandedState,
  encodeHandedState,
  withHandedState,
  type HandedState,
} from './handed-state';
import { acquireHostLock, hostLockBusy, type HostLock } from './host-lock';
import { collectGarbage, requireAllocation, requireCapacity } from './inspect';
import {
  readReleaseAhead,
  releaseHandles,
  type ReleaseOutcome,
  type ReleaseReads,
} from './release';

// calico-ipam's verbs as functions of the CNI arguments, shared by the calico-ipam binary and by
// calico, which runs them in-process when ipam.type is calico-ipam (no second Node process).

/** How long an invocation waits for this host's other IPAM invocations before going on alone. */
const LOCK_WAIT_MS = 10_000;

interface Session {
  store: BlockStore;
  node: string;
  ipam: IpamNetConf;
  /** Block CIDRs the lock's previous holder read (a burst: most likely ours too). */
  handedOver: readonly string[];
  /** Block CIDRs, and the node's keys as this session's commit left them, for the next holder. */
  handOver: (cidrs: readonly string[], state?: HandedState) => void;
  /** The view read while queued (readEarly), given only with what the predecessor handed over. */
  viewAhead?: HostView;
  /** The node's blocks as the previous holder's commit left them, when it handed them over. */
  handedState?: HandedState;
}

type Common = Pick<CmdArgs, 'netConf' | 'env'>;

/**
 * calico runs IPAM in-process on its own etcd client (one client, one time budget), with the node
 * name it already resolved.
 */
export interface SessionOptions {
  kv?: Kv;
  node?: string;
}

/** calico's extras for an in-process ADD or DEL: keys read and written along (SideHooks). */
export interface SideOptions extends SessionOptions {
  side?: SideHooks;
}

/**
 * Runs `work` with this host's IPAM lock held (when `lock`), then an etcd client whose time
 * budget starts after the lock ("lock then clock", calico PR #11824), unless the caller lends its
 * own. A burst of invocations on one node thus queues on the lock, not on etcd (a retry storm on
 * one block, and 100 processes dialling at once on a 2-core node, both fail ADDs). `lockAfter`
 * (calico DEL: its veth must be gone first) settles before the lock is taken, so that the queue
 * never waits for another pod's kernel work; `readAhead` reads meanwhile (readWhileWaiting) and
 * `work` gets what it read. Datastore failures become CNI errors: unreachable etcd is code 11 with
 * the endpoints named.
 */
async function session<T, A = never>(
  args: Common,
  options: SessionOptions & {
    lock: boolean;
    lockAfter?: Promise<unknown>;
    readAhead?: (store: BlockStore) => Promise<A>;
    /** ADD: the host view, read on a client of its own while it waits for the lock (readEarly). */
    viewAhead?: (store: BlockStore, node: string) => Promise<HostView>;
  },
  work: (s: Session & { ahead?: A }) => Promise<T>,
): Promise<T> {
  const ipam = parseIpamNetConf(args.netConf.raw);
  const node = options.node ?? determineNodeName(args.netConf.raw).name;
  // A lent client, or settings checked (TLS files read) before any wait for the lock.
  const client =
    options.kv === undefined
      ? { settings: etcdSettings(args.netConf.raw, args.env) }
      : { lent: options.kv };
  const ahead =
    options.readAhead === undefined || options.lockAfter === undefined
      ? undefined
      : readWhileWaiting(args, { ipam, readAhead: options.readAhead });
  const view = options.viewAhead;
  let early: ReturnType<typeof readEarly> | undefined;
  // Once the lock turns out to be held. On a client of its own even when the caller lends one: a
  // lent client's time budget starts at its first call, which must come after the lock.
  const readWhileQueued =
    view === undefined
      ? undefined
      : () => {
          early = readEarly(
            'lent' in client ? etcdSettings(args.netConf.raw, args.env) : client.settings,
            (store) => view(store, node),
          );
        };
  await options.lockAfter?.catch(() => undefined);
  let lock: HostLock | undefined;
  try {
    lock = options.lock
      ? await acquireHostLock(ipam.lockFile, {
          waitMs: LOCK_WAIT_MS,
          ...(readWhileQueued === undefined ? {} : { onWait: readWhileQueued }),
        })
      : undefined;
  } catch (err) {
    ahead?.discard();
    early?.discard();
    throw err;
  }
  // Another invocation ran first: what was read ahead is likely stale, so it is read again.
  if (lock?.waited === true) ahead?.discard();
  const handedState = lock?.waited === true ? decodeHandedState(lock.handedState, node) : undefined;
  // What was read while queued is stale unless joined with what the predecessor handed over.
  if (handedState === undefined) early?.discard();
  const kv = 'lent' in client ? client.lent : openKv(client.settings);
  let reader: Kv | undefined;
  let handOver: readonly string[] = [];
  let stateText: string | undefined;
  try {
    const read = handedState === undefined ? undefined : await early?.result;
    // Its client's budget started before the wait: the rest runs on one whose budget starts now.
    read?.kv.close();
    const taken = lock?.waited === true ? undefined : await ahead?.result;
    reader = taken?.kv;
    // etcd failed the reads ahead (they had the whole budget): that is this session's answer,
    // not a reason to spend a second budget on the same reads.
    if (taken?.error !== undefined) throw taken.error;
    // Reads ahead that are used go on on their client: its connection is open already, and no
    // lock wait came after its clock started.
    return await work({
      store: new EtcdBlockStore(reader ?? kv),
      node,
      ipam,
      // Only block CIDRs: they become etcd keys of the successor's first read.
      handedOver: (lock?.handedOver ?? []).filter(isBlockCidr),
      handOver: (cidrs, state) => {
        handOver = cidrs;
        // Encoded with the lock still held: the successor needs it before anything else.
        stateText = state === undefined ? undefined : encodeHandedState(state);
      },
      ...(read === undefined || handedState === undefined
        ? {}
        : { viewAhead: read.view, handedState }),
      ...(taken?.value === undefined ? {} : { ahead: taken.value }),
    });
  } catch (err) {
    // Other errors pass unchanged: a caller's hook may throw its own (calico's repeated ADD).
    throw err instanceof DatastoreError ? datastoreErrorToCni(err) : err;
  } finally {
    if (!('lent' in client)) kv.close();
    reader?.close();
    await lock?.release(handOver, stateText);
  }
}

/**
 * An ADD that finds the host lock held (a burst) reads its host view on a client of its own while
 * it waits, and joins it on its turn with the keys the predecessor hands over (handed-state.ts),
 * so that its turn holds only the commit. A free lock means no wait to fill: the ADD then reads
 * once it holds the lock, with a client whose budget starts then. A failed early read is no
 * answer (with a hundred plugins dialling at once, a connect may time out): the session reads
 * again.
 */
function readEarly(
  settings: ReturnType<typeof etcdSettings>,
  read: (store: BlockStore) => Promise<HostView>,
): { result: Promise<{ kv: Kv; view: HostView } | undefined>; discard: () => void } {
  const kv = openKv(settings);
  const result = read(new EtcdBlockStore(kv)).then(
    (view) => ({ kv, view }),
    () => {
      kv.close();
      return undefined;
    },
  );
  // A discarded read is never awaited: closing its client is all there is to do.
  return {
    result,
    discard: () => {
      kv.close();
    },
  };
}

/** What reading ahead came to: the value read on its open client, or the datastore's failure. */
interface ReadAhead<A> {
  kv: Kv;
  value?: A;
  error?: DatastoreError;
}

/**
 * Reads ahead while the caller's gate (calico DEL: its veth teardown, ~20 ms of kernel work) runs,
 * unless another invocation holds the host lock (a burst: the reads would be stale by the time
 * this one's turn comes; `result` is then undefined). It uses an etcd client of its own, so that
 * the session's client still starts its time budget after the lock; `discard` closes it when the
 * reads are not wanted after all. A failure other than the datastore's leaves the session to read
 * again.
 */
function readWhileWaiting<A>(
  args: Common,
  options: { ipam: IpamNetConf; readAhead: (store: BlockStore) => Promise<A> },
): { result: Promise<ReadAhead<A> | undefined>; discard: () => void } {
  let kv: Kv | undefined;
  let discarded = false;
  // Read through a call: discard may set it while the reads below await.
  const wasDiscarded = (): boolean => discarded;
  const read = async (): Promise<ReadAhead<A> | undefined> => {
    if (await hostLockBusy(options.ipam.lockFile)) return undefined;
    if (wasDiscarded()) return undefined;
    const client = openKv(etcdSettings(args.netConf.raw, args.env));
    kv = client;
    try {
      return { kv: client, value: await options.readAhead(new EtcdBlockStore(client)) };
    } catch (err) {
      if (err instanceof DatastoreError && !wasDiscarded()) return { kv: client, error: err };
      client.close();
      return undefined;
    }
  };
  const result = read().catch(() => undefined);
  return {
    result,
    discard: () => {
      discarded = true;
      kv?.close();
    },
  };
}

/** Unix time in nanoseconds, for attribute timestamps and block sequence numbers. */
function nowNanos(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

/** The handle of this attachment: `<network>.<containerID>` (calico-behaviour.md §8.1). */
export function handleIdOf(args: Pick<CmdArgs, 'netConf' | 'containerId' | 'ifName'>): string {
  return cniHandleId(args.netConf.name, args.containerId, args.ifName);
}

/** ADD: addresses for the container, as an IPAM result (no interfaces; block prefix lengths). */
export async function ipamAdd(args: CmdArgs, options: SessionOptions = {}): Promise<Result> {
  return (await assignForAttachment(args, options)).result;
}

/**
 * ADD, also telling whether the addresses were already the container's (a repeated ADD): calico
 * must not release those when a later step fails, they belong to the existing endpoint.
 */
export function assignForAttachment(
  args: CmdArgs,
  options: SideOptions = {},
): Promise<{ result: Result; existing: boolean }> {
  const handleId = handleIdOf(args);
  const sideReads = options.side?.reads ?? [];
  const viewAhead = (store: BlockStore, node: string): Promise<HostView> =>
    store.readHost(node, {
      handleIds: [handleId],
      side: sideReads,
      blocks: firstReadBlocks([], options.side?.blockHints),
    });
  return session(args, { ...options, lock: true, viewAhead }, async (s) => {
    const { store, node, ipam } = s;
    const firstView =
      s.viewAhead === undefined || s.handedState === undefined
        ? undefined
        : withHandedState(
            s.viewAhead,
            s.handedState,
            sideReads.map((r) => r.key),
          );
    if (!ipam.assignIpv4 && !ipam.assignIpv6 && args.args.ip === undefined) {
      throw new CniError(
        ErrorCode.invalidNetworkConfig,
        'invalid network config: ipam.assign_ipv4 is "false" and ipam.assign_ipv6 is not "true": nothing to assign',
      );
    }
    const outcome = await assignAddresses(store, {
      node,
      handleId,
      ipv4: ipam.assignIpv4,
      ipv6: ipam.assignIpv6,
      ipv4Pools: ipam.ipv4Pools,
      ipv6Pools: ipam.ipv6Pools,
      ...(args.args.ip === undefined ? {} : { specificIp: args.args.ip }),
      ...(args.args.k8sPodNamespace === undefined ? {} : { namespace: args.args.k8sPodNamespace }),
      ...(args.args.k8sPodName === undefined ? {} : { pod: args.args.k8sPodName }),
      ...sideOf(options),
      blockHints: () => firstReadBlocks(s.handedOver, options.side?.blockHints),
      now: nowNanos,
      ...(firstView === undefined ? {} : { firstView }),
    });
    s.handOver(outcome.blocks, outcome.state);
    const ips = outcome.addresses.map((address) => ({ address }));
    return { result: { interfaces: [], ips, routes: [], dns: {} }, existing: outcome.existing };
  });
}

/**
 * DEL: releases the attachment's handle and, for the default interface, the legacy workload-ID
 * handle (`<ns>.<pod>` for Kubernetes, else the container ID), as upstream does. Nothing to
 * release is success.
 */
export async function ipamDel(args: CmdArgs, options: SideOptions = {}): Promise<void> {
  const { k8sPodNamespace: ns, k8sPodName: pod } = args.args;
  const legacy = ns !== undefined && pod !== undefined ? `${ns}.${pod}` : args.containerId;
  // A legacy ID that cannot be an etcd key (K8S_POD_NAMESPACE=../x) names no handle: skipping it
  // keeps DEL from failing for ever, and with it the release of the attachment's own handle.
  const legacyUsable = legacy !== '' && !legacy.includes('/');
  const handles =
    args.ifName === DEFAULT_IFNAME && legacyUsable
      ? [handleIdOf(args), legacy]
      : [handleIdOf(args)];
  const lockAfter = options.side?.gate;
  await session<ReleaseOutcome, ReleaseReads>(
    args,
    {
      ...options,
      lock: true,
      ...(lockAfter === undefined ? {} : { lockAfter }),
      readAhead: (store) => readReleaseAhead(store, handles, sideOf(options)),
    },
    ({ store, ahead }) =>
      releaseHandles(store, handles, {
        ...sideOf(options),
        ...(ahead === undefined ? {} : { ahead }),
      }),
  );
}

/** CHECK: the attachment's handle must hold an address. */
export function ipamCheck(args: CmdArgs, options: SessionOptions = {}): Promise<void> {
  return session(args, { ...options, lock: false }, ({ store }) =>
    requireAllocation(store, handleIdOf(args)),
  );
}

/** GC: releases this node's addresses on this network whose attachment is no longer valid. */
export async function ipamGc(args: ClusterArgs): Promise<void> {
  const valid = args.netConf.validAttachments;
  // No attachment list means the runtime told us nothing: release nothing (contract §7.4).
  if (valid === undefined) return;
  const validHandles = new Set(
    valid.map((a) => cniHandleId(args.netConf.name, a.containerId, a.ifName)),
  );
  await session(args, { lock: true }, ({ store, node }) =>
    collectGarbage(store, { node, network: args.netConf.name, validHandles }),
  );
}

/** STATUS: code 50 unless etcd answers and a usable pool has a free address for this node. */
export async function ipamStatus(args: ClusterArgs): Promise<void> {
  try {
    await session(args, { lock: false }, ({ store, node, ipam }) =>
      requireCapacity(store, {
        node,
        families: [
          ...(ipam.assignIpv4 ? [4 as const] : []),
          ...(ipam.assignIpv6 ? [6 as const] : []),
        ],
        requested: { 4: ipam.ipv4Pools, 6: ipam.ipv6Pools },
      }),
    );
  } catch (err) {
    if (err instanceof CniError && err.code === ErrorCode.statusUnavailable) throw err;
    // The spec has STATUS speak in codes 50/51 only: etcd down is "cannot service ADD".
    const reason = err instanceof Error ? err.message : String(err);
    throw new CniError(ErrorCode.statusUnavailable, `calico-ipam cannot service ADD: ${reason}`);
  }
}

function isBlockCidr(text: string): boolean {
  try {
    parseNetwork(text, { what: 'block' });
    return true;
  } catch {
    return false;
  }
}

function sideOf(options: SideOptions): { side?: SideHooks } {
  return options.side === undefined ? {} : { side: options.side };
}
