import type { Kv } from '../../lib/datastore/kv';
import { checkIpamConsistency, type CheckOptions } from '../../ipam/consistency-check';
import type { ConsistencyReport } from '../../ipam/consistency-report';
import { releaseLeaks, type RepairProgress } from '../../ipam/release-leaks';
import { CliError, type CliIo } from './io';

// `calicoctl ipam check [--release-leaks] [--dry-run]` over ipam/consistency-check.ts and
// ipam/release-leaks.ts. The report goes to stdout; progress of a repair goes to stderr, about
// twenty lines however many handles leak. A check that finds problems or leaks exits 1, so that
// scripts and monitoring can act on it.

/** What `ipam check` was asked to do. */
export interface IpamCheckRequest extends CheckOptions {
  releaseLeaks: boolean;
  dryRun: boolean;
}

/** Checks IPAM, prints the report, and releases leaks when asked (not on --dry-run). */
export async function ipamCheck(kv: Kv, request: IpamCheckRequest, io: CliIo): Promise<void> {
  const { releaseLeaks: repair, dryRun, ...checkOptions } = request;
  if (dryRun && !repair) throw new CliError('--dry-run only goes with --release-leaks');
  if (!repair) {
    const report = await checkIpamConsistency(kv, checkOptions);
    io.out(formatReport(report));
    const broken = report.problems.length + report.leaks.length;
    if (broken > 0) {
      io.out('Run `calicoctl ipam check --release-leaks` to release the leaked addresses.\n');
      throw new CliError(
        `IPAM check found ${report.problems.length} problem(s) and ${report.leaks.length} leaked address(es)`,
      );
    }
    return;
  }
  const result = await releaseLeaks(kv, {
    ...checkOptions,
    apply: !dryRun,
    onProgress: (progress: RepairProgress) => {
      const step = Math.max(1, Math.ceil(progress.total / 20));
      if (progress.done % step === 0 || progress.done === progress.total) {
        io.err(
          `${dryRun ? 'checked' : 'released'} ${progress.done}/${progress.total} leaked handles (${progressNote(progress)})\n`,
        );
      }
    },
  });
  io.out(formatReport(result.report));
  for (const handle of result.handles) {
    const ips = handle.ips.join(', ');
    if (handle.outcome === 'skipped')
      io.out(`skipped ${handle.handleId} (${ips}): ${handle.reason ?? ''}\n`);
    else if (handle.outcome === 'would-release')
      io.out(`would release ${handle.handleId}: ${ips}\n`);
    else io.out(`released ${handle.handleId}: ${ips}\n`);
  }
  io.out(
    dryRun
      ? `Dry run: ${result.handles.filter((h) => h.outcome === 'would-release').length} handle(s) would be released; nothing changed.\n`
      : `Released ${result.released} address(es).\n`,
  );
  if (result.report.problems.length > 0) {
    throw new CliError(
      `IPAM check found ${result.report.problems.length} problem(s) that releasing leaks does not fix`,
    );
  }
}

function progressNote(progress: RepairProgress): string {
  return `${progress.handle.handleId}: ${progress.handle.outcome}`;
}

function plural(n: number, word: string): string {
  if (n === 1) return `${n} ${word}`;
  if (word.endsWith('y')) return `${n} ${word.slice(0, -1)}ies`;
  return `${n} ${word}${word.endsWith('s') ? 'es' : 's'}`;
}

/** The report as calicoctl users read it: counts, then one line per problem and leak. */
export function formatReport(report: ConsistencyReport): string {
  const { checked } = report;
  const lines = [
    `Checked ${plural(checked.blocks, 'block')}, ${plural(checked.allocations, 'allocation')}, ${plural(checked.handles, 'handle')}, ${plural(checked.affinities, 'affinity')}, ${plural(checked.endpoints, 'endpoint')} at etcd revision ${report.revision}.`,
    `Found ${plural(report.problems.length, 'problem')}${report.problems.length > 0 ? ':' : '.'}`,
    ...report.problems.map((p) => `  [${p.kind}] ${p.message}`),
    `Found ${plural(report.leaks.length, 'leaked address')}${report.leaks.length > 0 ? ':' : '.'}`,
    ...report.leaks.map((leak) => `  ${leak.message}`),
  ];
  if (report.inGrace > 0) {
    lines.push(
      `${plural(report.inGrace, 'allocation')} without endpoint younger than the grace period (ADDs in flight?): not counted.`,
    );
  }
  if (report.unverified.length > 0) {
    lines.push(
      `${plural(report.unverified.length, 'allocation')} without endpoint in networks no endpoint shows to be calico's (calico-ipam under another plugin?); name them with --network to count them:`,
      ...report.unverified.map((u) => `  ${u.message}`),
    );
  }
  return `${lines.join('\n')}\n`;
}
