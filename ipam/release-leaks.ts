import type { Kv } from '../lib/datastore/kv';
import { checkIpamConsistency, type CheckOptions } from './consistency-check';
import type { ConsistencyReport, Leak } from './consistency-report';
import { EtcdBlockStore } from './etcd-block-store';
import { releaseHandles } from './release';

// The repair mode of `ipam check`: releases leaked addresses through the normal CAS release path
// (the one calico-ipam DEL uses), one handle at a time, dry-run unless asked. A handle is released
// only when every address it holds is a leak, and only if it has not changed since the check read
// it: a handle written meanwhile belongs to a live ADD.

/** What happened (or would happen) to one leaked handle. */
export interface HandleRepair {
  handleId: string;
  ips: string[];
  outcome: 'released' | 'would-release' | 'skipped';
  /** Addresses actually freed (0 on a dry run or a skip). */
  released: number;
  /** Why a handle was skipped. */
  reason?: string;
}

/** Progress of a repair, after each handle. */
export interface RepairProgress {
  done: number;
  total: number;
  handle: HandleRepair;
}

/** Options of releaseLeaks: the check's, plus whether to write. */
export interface ReleaseLeaksOptions extends CheckOptions {
  /** Release for real; false (the default) only reports what would be released. */
  apply?: boolean;
  /** Called after each handle; a returned promise is awaited before the next one. */
  onProgress?: (progress: RepairProgress) => void | Promise<void>;
}

/** The outcome of a repair. */
export interface ReleaseLeaksResult {
  dryRun: boolean;
  /** The check the repair acted on. */
  report: ConsistencyReport;
  handles: HandleRepair[];
  /** Addresses freed in total. */
  released: number;
}

/** Checks the datastore, then releases (or, dry-run, lists) every leaked handle. */
export async function releaseLeaks(
  kv: Kv,
  options: ReleaseLeaksOptions = {},
): Promise<ReleaseLeaksResult> {
  const apply = options.apply === true;
  const report = await checkIpamConsistency(kv, options);
  const byHandle = new Map<string, Leak[]>();
  for (const leak of report.leaks) {
    byHandle.set(leak.handleId, [...(byHandle.get(leak.handleId) ?? []), leak]);
  }
  const store = new EtcdBlockStore(kv);
  const handles: HandleRepair[] = [];
  for (const [handleId, leaks] of byHandle) {
    const repair = await repairHandle(store, { handleId, leaks, apply, revision: report.revision });
    handles.push(repair);
    await options.onProgress?.({ done: handles.length, total: byHandle.size, handle: repair });
  }
  return {
    dryRun: !apply,
    report,
    handles,
    released: handles.reduce((sum, h) => sum + h.released, 0),
  };
}

async function repairHandle(
  store: EtcdBlockStore,
  options: { handleId: string; leaks: Leak[]; apply: boolean; revision: number },
): Promise<HandleRepair> {
  const { handleId, leaks } = options;
  const ips = leaks.map((l) => l.ip);
  const base = { handleId, ips, released: 0 };
  const holds = leaks[0]?.handleAddresses ?? 0;
  if (leaks.length < holds) {
    const reason = `handle ${handleId} holds ${holds} addresses, ${holds - leaks.length} of them in use or too young`;
    return { ...base, outcome: 'skipped', reason };
  }
  if (!options.apply) return { ...base, outcome: 'would-release' };
  const handle = (await store.readHandles([handleId])).handles.get(handleId);
  if (handle !== undefined && handle.revision > options.revision) {
    const reason = `handle ${handleId} changed after the check (revision ${handle.revision} > ${options.revision})`;
    return { ...base, outcome: 'skipped', reason };
  }
  const { released } = await releaseHandles(store, [handleId]);
  return { ...base, outcome: 'released', released };
}
