import type { BurstResult } from './burst';
import type { ClaimSize } from './claim';
import type { Series } from './latency';
import type { BenchOptions } from './options';
import type { RssSeries } from './rss';
import { median, stats, type Stats } from './stats';

// bench-results/latest.json: every raw sample beside its summary, so that a later reader can
// recompute any figure.

/** A latency series with its summary and its median over `node -e 0`'s median. */
export type SeriesResult = Series & { stats: Stats; ratio: number };

/** A claim size with its medians. */
export type ClaimResult = ClaimSize & { medianMs: number; medianRequests: number };

/** One target of the issue checked against this run's figures. */
export interface TargetCheck {
  target: string;
  figure: string;
  /** `n/a` when this run did not measure what the target names (e.g. --quick). */
  verdict: 'met' | 'not met' | 'n/a';
}

/** Everything one run measured. */
export interface BenchResults {
  mode: 'full' | 'quick';
  startedAt: string;
  seconds: number;
  machine: {
    cpus: number;
    cpu: string;
    kernel: string;
    node: string;
    etcd: string;
    /** 1-minute load average at the start and the end: how busy the shared machine was. */
    load: [number, number];
  };
  options: BenchOptions;
  series: SeriesResult[];
  rss: (RssSeries & { maxMB: number })[];
  /** The same number of concurrent `node -e 0`: what no Node plugin's burst can beat. */
  burstFloor: { size: number; wallMs: number };
  /** One burst per build of calico: the script bundle, then the single executable. */
  bursts: BurstResult[];
  claim: ClaimResult[];
  targets: TargetCheck[];
}

/** Adds summaries to the raw measurements. */
export function summarise(raw: { series: Series[]; rss: RssSeries[]; claim: ClaimSize[] }): {
  series: SeriesResult[];
  rss: BenchResults['rss'];
  claim: ClaimResult[];
} {
  const floor = median(raw.series.find((s) => s.name === 'node -e 0')?.samples ?? []);
  return {
    series: raw.series.map((s) => {
      const st = stats(s.samples);
      return { ...s, stats: st, ratio: st.median / floor };
    }),
    rss: raw.rss.map((r) => ({ ...r, maxMB: (Math.max(...r.kib) * 1024) / 1e6 })),
    claim: raw.claim.map((c) => ({
      ...c,
      medianMs: median(c.runs.map((r) => r.ms)),
      medianRequests: median(c.runs.map((r) => r.requests)),
    })),
  };
}
