// The report both pod-start benchmarks print: one Markdown table of medians against `node -e 0`
// measured in the same run, the etcd requests per verb, and the target.

/** Median, 90th percentile and minimum of a sample. */
export function stats(samples: number[]): { median: number; p90: number; min: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  return { median: at(0.5), p90: at(0.9), min: sorted[0] ?? NaN };
}

/** Prints the table (samples must include `node -e 0`), etcd requests and the target line. */
export function printReport(report: {
  heading: string;
  samples: Record<string, number[]>;
  /** Total etcd KV requests of the plugin's ADDs and DELs over `runs`. */
  requests: { what: string; add: number; del: number; runs: number };
  target: { command: string; factor: number };
}): void {
  const { samples, requests, target } = report;
  const floor = stats(samples['node -e 0'] ?? []).median;
  console.log(`\n${report.heading}\n`);
  console.log('| command | median ms | p90 ms | min ms | median / node -e 0 |');
  console.log('|---|---|---|---|---|');
  for (const [name, values] of Object.entries(samples)) {
    const s = stats(values);
    const cells = [s.median, s.p90, s.min].map((v) => v.toFixed(1));
    console.log(`| ${name} | ${cells.join(' | ')} | ${(s.median / floor).toFixed(2)} |`);
  }
  const per = (n: number) => (n / requests.runs).toFixed(2);
  console.log(
    `\n${requests.what} etcd KV requests: ${per(requests.add)} per ADD, ${per(requests.del)} per DEL`,
  );
  const ratio = stats(samples[target.command] ?? []).median / floor;
  const verdict = ratio <= target.factor ? 'met' : 'NOT met';
  console.log(
    `target: ${target.command} median <= ${target.factor} x node -e 0 -> ${verdict} (${ratio.toFixed(2)}x)`,
  );
}
