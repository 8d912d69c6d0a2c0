import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { checkIpamConsistency } from '../../ipam/consistency-check';
import type { CalicoNode } from './calico-node';
import { ipJson, type Netns } from './topology';

// Crash consistency (issue 7 item 3): dist/calico ADD is SIGKILLed at a random moment, then the
// runtime's DEL with the same parameters must leave no veth, host route, address, handle or
// endpoint, and `ipam check` must find nothing wrong. Shared by the netns test (a few trials) and
// scripts/crash-trials.ts (50 and more).
//
// Two ways to die, chosen at random per trial: the plugin process alone (what a runtime's timeout
// does: exec.CommandContext kills the plugin, and any `ip` it started finishes as an orphan), or
// its whole process group (the node losing the cgroup: OOM kill, reboot of the pod sandbox).

const POD_ROUTES = '10.1.';
const WEPS = '/calico/resources/v3/projectcalico.org/workloadendpoints/';
const HANDLES = '/calico/ipam/v2/handle/';
const BLOCKS = '/calico/ipam/v2/assignment/';

/** A small seedable generator (mulberry32): the same seed gives the same kill moments. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What a pod may leave on the node and in etcd. */
export interface Leftovers {
  nodeLinks: string[];
  podLinks: string[];
  hostRoutes: string[];
  allocations: number;
  handles: number;
  endpoints: number;
}

/** One trial: when the kill came, what it left, and what DEL left. */
export interface TrialRecord {
  index: number;
  containerId: string;
  delayMs: number;
  mode: 'plugin' | 'group';
  /** `killed`, or `finished` when ADD exited before the kill moment (with its exit code). */
  outcome: 'killed' | 'finished';
  exitCode: number | null;
  /** What existed between the kill and the DEL, e.g. `veth+address` or `nothing`. */
  phase: string;
  delCode: number | null;
  delOutput: string;
  after: Leftovers;
  /** `ipam check` after the DEL: problems and leaks, as sentences. */
  check: string[];
}

/** The figures of a crash run. */
export interface CrashSummary {
  seed: number;
  trials: number;
  /** Median wall time of an undisturbed ADD, spawn to exit, measured first. */
  addMs: number;
  delays: { min: number; max: number };
  killed: number;
  finishedBeforeKill: number;
  byMode: Record<string, number>;
  /** How many trials left each state behind at the kill (before DEL). */
  phases: Record<string, number>;
  /** Trials whose DEL failed, left anything, or whose check was not clean: must be none. */
  failures: TrialRecord[];
}

/** Reads what is left on the node, in the pod and in etcd. */
export async function leftovers(node: CalicoNode, pod: Netns): Promise<Leftovers> {
  const names = (links: Record<string, unknown>[], keep: string[]) =>
    links.map((l) => String(l.ifname)).filter((n) => !keep.includes(n));
  const nodeNs = node.topology.node.name;
  let allocations = 0;
  for (const kv of (await node.kv.range(BLOCKS, { prefix: true })).kvs) {
    const block = JSON.parse(kv.value) as { allocations: (number | null)[] };
    allocations += block.allocations.filter((a) => a !== null).length;
  }
  const count = async (prefix: string) =>
    (await node.kv.range(prefix, { prefix: true, keysOnly: true })).kvs.length;
  return {
    nodeLinks: names(await ipJson(nodeNs, 'link', 'show'), ['lo', 'up0']),
    podLinks: names(await ipJson(pod.name, 'link', 'show'), ['lo']),
    hostRoutes: (await ipJson(nodeNs, 'route', 'show'))
      .map((r) => String(r.dst))
      .filter((d) => d.startsWith(POD_ROUTES)),
    allocations,
    handles: await count(HANDLES),
    endpoints: await count(WEPS),
  };
}

function phaseOf(left: Leftovers): string {
  const parts = [
    ...(left.nodeLinks.length + left.podLinks.length > 0 ? ['veth'] : []),
    ...(left.hostRoutes.length > 0 ? ['route'] : []),
    ...(left.allocations + left.handles > 0 ? ['address'] : []),
    ...(left.endpoints > 0 ? ['endpoint'] : []),
  ];
  return parts.length === 0 ? 'nothing' : parts.join('+');
}

function isEmpty(left: Leftovers): boolean {
  return phaseOf(left) === 'nothing';
}

/** True while some process of process group `pgid` is alive (orphans of a killed plugin). */
function groupAlive(pgid: number): boolean {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command name (which may hold spaces): state ppid pgrp …
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid && fields[0] !== 'Z') return true;
    } catch {
      // The process ended while we looked.
    }
  }
  return false;
}

async function waitForGroup(pgid: number): Promise<void> {
  const until = Date.now() + 10_000;
  while (groupAlive(pgid)) {
    if (Date.now() > until) throw new Error(`process group ${pgid} still alive after 10 s`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Starts dist/calico ADD in its own process group and SIGKILLs it (or its group) after
 * `delayMs`; waits until every process of the group is gone, as a runtime's next call would find.
 */
export async function addAndKill(
  node: CalicoNode,
  options: { pod: Netns; containerId: string; delayMs: number; mode: 'plugin' | 'group' },
): Promise<{ outcome: 'killed' | 'finished'; exitCode: number | null; ms: number }> {
  const [file = '', ...args] = node.calicoArgv();
  const started = performance.now();
  const child = spawn(file, args, {
    env: node.calicoEnv({ command: 'ADD', netns: options.pod, containerId: options.containerId }),
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  child.stdin.end(JSON.stringify(node.conf()));
  const pid = child.pid;
  if (pid === undefined) throw new Error('dist/calico did not start');
  const kill = { sent: false };
  const timer = Number.isFinite(options.delayMs)
    ? setTimeout(() => {
        kill.sent = true;
        process.kill(options.mode === 'group' ? -pid : pid, 'SIGKILL');
      }, options.delayMs)
    : undefined;
  const exitCode = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  const ms = performance.now() - started;
  clearTimeout(timer);
  await waitForGroup(pid);
  return { outcome: kill.sent ? 'killed' : 'finished', exitCode, ms };
}

/** The median wall time of `runs` undisturbed ADDs (each followed by its DEL). */
export async function measureAdd(node: CalicoNode, pod: Netns, runs = 3): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const containerId = `measure${i}`;
    const add = await addAndKill(node, { pod, containerId, delayMs: Infinity, mode: 'plugin' });
    if (add.exitCode !== 0) throw new Error(`undisturbed ADD failed with exit ${add.exitCode}`);
    times.push(add.ms);
    const del = await node.calico({ command: 'DEL', netns: pod, containerId, conf: node.conf() });
    if (del.code !== 0) throw new Error(`DEL after a measured ADD failed: ${del.stdout}`);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? 0;
}

/** Runs `trials` kill-then-DEL trials on one pod netns; `log` gets one line per trial. */
export async function runCrashTrials(
  node: CalicoNode,
  options: { pod: Netns; trials: number; seed: number; log?: (line: string) => void },
): Promise<{ summary: CrashSummary; records: TrialRecord[] }> {
  const { pod } = options;
  const random = seededRandom(options.seed);
  const addMs = await measureAdd(node, pod);
  const records: TrialRecord[] = [];
  for (let index = 0; index < options.trials; index++) {
    // Unique in the first 11 characters: the host veth is cali + those.
    const containerId = `k${String(index).padStart(5, '0')}s${String(options.seed % 10000).padStart(4, '0')}`;
    const delayMs = Math.round(random() * addMs * 10) / 10;
    const mode = random() < 0.5 ? 'plugin' : 'group';
    const add = await addAndKill(node, { pod, containerId, delayMs, mode });
    const phase = phaseOf(await leftovers(node, pod));
    const del = await node.calico({ command: 'DEL', netns: pod, containerId, conf: node.conf() });
    const after = await leftovers(node, pod);
    const report = await checkIpamConsistency(node.kv, { graceMs: 0, networks: ['net1'] });
    const record: TrialRecord = {
      index,
      containerId,
      delayMs,
      mode,
      outcome: add.outcome,
      exitCode: add.exitCode,
      phase,
      delCode: del.code,
      delOutput: del.code === 0 ? '' : `${del.stdout} ${del.stderr}`.trim(),
      after,
      check: [...report.problems.map((p) => p.message), ...report.leaks.map((l) => l.message)],
    };
    records.push(record);
    options.log?.(
      `trial ${index}: ${mode} kill at ${delayMs} ms → ${add.outcome} (exit ${add.exitCode ?? 'signal'}), left ${phase}; DEL exit ${del.code ?? 'signal'}, after DEL ${phaseOf(after)}${record.check.length > 0 ? `, check: ${record.check.join('; ')}` : ''}`,
    );
  }
  return { summary: summarise(records, { seed: options.seed, addMs }), records };
}

function summarise(
  records: readonly TrialRecord[],
  options: { seed: number; addMs: number },
): CrashSummary {
  const tally = (key: (r: TrialRecord) => string): Record<string, number> => {
    const counts: Record<string, number> = {};
    for (const r of records) counts[key(r)] = (counts[key(r)] ?? 0) + 1;
    return counts;
  };
  const delays = records.map((r) => r.delayMs);
  return {
    seed: options.seed,
    trials: records.length,
    addMs: Math.round(options.addMs),
    delays: { min: Math.min(...delays), max: Math.max(...delays) },
    killed: records.filter((r) => r.outcome === 'killed').length,
    finishedBeforeKill: records.filter((r) => r.outcome === 'finished').length,
    byMode: tally((r) => r.mode),
    phases: tally((r) => r.phase),
    failures: records.filter((r) => r.delCode !== 0 || !isEmpty(r.after) || r.check.length > 0),
  };
}
