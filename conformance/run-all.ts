import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { etcdMissingReason } from '../lib/datastore/testing/etcd-server';
import { judgeReport, OPEN_FINDINGS, REFERENCE_DEVIATIONS, type Target } from './deviations';
import { withPrivateEtcd } from './etcd-confs';
import { runHarness, type HarnessOptions } from './harness';
import { addTallies, formatItem, formatTally, tally, type Tally } from './report';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Our two bundles (as scripts and as the single executable) must pass outright; the reference plugins may fail only as tabled. Both of ours
 * keep their state in a private etcd (relayed into the node netns): calico runs calico-ipam
 * in-process and writes WorkloadEndpoints there.
 */
const TARGETS: readonly Target[] = [
  {
    label: 'dist/calico',
    plugin: join(repo, 'dist/calico'),
    kind: 'main',
    deviations: [],
    findings: OPEN_FINDINGS.calico,
    etcd: true,
  },
  {
    label: 'dist/calico-ipam',
    plugin: join(repo, 'dist/calico-ipam'),
    kind: 'ipam',
    deviations: [],
    findings: OPEN_FINDINGS['calico-ipam'],
    etcd: true,
  },
  // The single executable (npm run build:sea): the same bundles, run from one binary by name.
  {
    label: 'dist/sea/calico',
    plugin: join(repo, 'dist/sea/calico'),
    kind: 'main',
    deviations: [],
    findings: OPEN_FINDINGS.calico,
    etcd: true,
  },
  {
    label: 'dist/sea/calico-ipam',
    plugin: join(repo, 'dist/sea/calico-ipam'),
    kind: 'ipam',
    deviations: [],
    findings: OPEN_FINDINGS['calico-ipam'],
    etcd: true,
  },
  {
    label: '/usr/lib/cni/ptp',
    plugin: '/usr/lib/cni/ptp',
    kind: 'main',
    deviations: REFERENCE_DEVIATIONS.ptp,
  },
  {
    label: '/usr/lib/cni/host-local',
    plugin: '/usr/lib/cni/host-local',
    kind: 'ipam',
    deviations: REFERENCE_DEVIATIONS['host-local'],
  },
];

const say = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

/**
 * Run one target; returns its tally of requirements (an expected deviation of a reference plugin
 * counts as passed: the harness saw what it should) and the requirement violations.
 */
async function runTarget(target: Target): Promise<[Tally, string[]]> {
  say(`== ${target.label} (${target.kind}) ==`);
  if (!existsSync(target.plugin)) {
    const hint = target.label.startsWith('dist/sea/')
      ? ': run `npm run build:sea` first'
      : target.label.startsWith('dist/')
        ? ': run `npm run build` first'
        : '';
    say(`missing ${target.plugin}${hint}`);
    return [{ passed: 0, failed: 0, skipped: 0 }, [`${target.label}: binary missing${hint}`]];
  }
  const noEtcd = target.etcd === true ? etcdMissingReason() : undefined;
  if (noEtcd !== undefined) {
    say(`cannot start its private etcd: ${noEtcd}`);
    // Counted as one failure: the closing line must not read "0 failed" for a target never run.
    return [{ passed: 0, failed: 1, skipped: 0 }, [`${target.label}: no etcd: ${noEtcd}`]];
  }
  const options: HarnessOptions = {
    plugin: target.plugin,
    kind: target.kind,
    onItem: (item) => {
      say(formatItem(item));
    },
    log: (line) => process.stderr.write(`${line}\n`),
    // CNF_TIMINGS=1: each item's run time on stderr.
    timings: process.env.CNF_TIMINGS === '1',
  };
  const items =
    target.etcd === true
      ? await withPrivateEtcd((etcd) => runHarness({ ...options, etcd }))
      : await runHarness(options);
  const t = tally(items);
  // Not a bare "N passed, N failed" line: CI reads that form as the run's verdict.
  say(`items of ${target.label} -> ${formatTally(t)}`);
  const findings = target.findings ?? [];
  const { violations, notes, expected } = judgeReport(items, [...target.deviations, ...findings]);
  for (const n of notes) say(`note: ${n}`);
  // An open finding of our own is tolerated so the lead can fix it apart, but never passed.
  const open = items.filter(
    (i) => i.outcome.status === 'fail' && findings.some((f) => f.id === i.id),
  ).length;
  for (const f of findings) say(`OPEN FINDING ${f.id} (to fix, counted as skipped): ${f.why}`);
  if (expected - open > 0) {
    say(`expected deviations seen: ${expected - open} (see conformance/deviations.ts)`);
  }
  const requirements = {
    passed: t.passed + expected - open,
    failed: Math.max(t.failed - expected, violations.length),
    skipped: t.skipped + open,
  };
  return [requirements, violations.map((v) => `${target.label}: ${v}`)];
}

/** Run all four targets; exit 0 iff every requirement holds. */
async function main(): Promise<number> {
  const tallies: Tally[] = [];
  const violations: string[] = [];
  for (const target of TARGETS) {
    const [t, v] = await runTarget(target);
    tallies.push(t);
    violations.push(...v);
    say('');
  }
  say(violations.length === 0 ? 'requirements: all hold' : 'requirements NOT met:');
  for (const v of violations) say(`  ${v}`);
  say(`requirements over all ${TARGETS.length} binaries:`);
  say(formatTally(addTallies(tallies)));
  return violations.length === 0 ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`conformance: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 2;
  },
);
