import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

// `npm run bench [-- --quick] [--runs N] [--burst N] [--out DIR]`: the full run measures what the
// issue's targets name (≥ 50 runs, a burst of 100, a claim among 10,000 blocks); --quick is the CI
// smoke run that only proves the instrument still works.

/** What one benchmark run measures. */
export interface BenchOptions {
  quick: boolean;
  /** Interleaved rounds of the latency series (each series runs once per round). */
  runs: number;
  /** ADDs measured under /usr/bin/time per command for the peak RSS. */
  rssRuns: number;
  /** Concurrent ADDs (then DELs) on one node. */
  burst: number;
  /** Blocks owned by other nodes before the small and the large claim. */
  claimSizes: [number, number];
  /** Fresh nodes that each claim a block, per claim size. */
  claimRepeats: number;
  /** Where latest.json, latest.md and latest.svg go. */
  outDir: string;
}

/** The figures the targets are stated for. */
export const FULL = { runs: 50, rssRuns: 5, burst: 100, claimSizes: [10, 10_000] as const };

/** Parses the command line; throws on unknown flags or bad numbers. */
export function parseOptions(argv: string[], root: string): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      runs: { type: 'string' },
      burst: { type: 'string' },
      out: { type: 'string' },
    },
    strict: true,
  });
  const quick = values.quick;
  const count = (flag: string, text: string | undefined, fallback: number): number => {
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${flag} must be a positive integer`);
    return n;
  };
  return {
    quick,
    runs: count('runs', values.runs, quick ? 5 : FULL.runs),
    rssRuns: quick ? 1 : FULL.rssRuns,
    burst: count('burst', values.burst, quick ? 10 : FULL.burst),
    claimSizes: quick ? [10, 200] : [...FULL.claimSizes],
    claimRepeats: quick ? 2 : 5,
    outDir: resolve(values.out ?? resolve(root, 'bench-results')),
  };
}
