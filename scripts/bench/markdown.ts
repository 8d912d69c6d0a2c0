import type { BenchResults } from './results';

// bench-results/latest.md, also printed at the end of a run and pasted into the README.

const ms = (n: number) => n.toFixed(1);

/** The Markdown report of one run. */
export function markdown(r: BenchResults): string {
  const m = r.machine;
  const lines: string[] = [];
  const push = (...l: string[]) => lines.push(...l);
  push(
    `### ${r.mode === 'quick' ? 'Smoke run (--quick)' : 'Benchmark'}, ${r.startedAt.slice(0, 10)}`,
    '',
    `${m.cpus} × ${m.cpu}, Linux ${m.kernel}, Node ${m.node}, etcd ${m.etcd} on the node's loopback; ` +
      `load ${m.load[0].toFixed(1)} → ${m.load[1].toFixed(1)}; ${r.seconds.toFixed(0)} s in all. ` +
      `${r.options.runs} interleaved rounds, every command exec'd in the node netns with PATH and CNI_* only.`,
    '',
    '| command | median ms | p90 ms | min ms | × node -e 0 | etcd requests |',
    '| --- | --- | --- | --- | --- | --- |',
  );
  for (const s of r.series) {
    const calls = s.requests ?? [];
    const perMethod = Object.entries(s.methods ?? {})
      .map(([k, v]) => `${k} ${(v / calls.length).toFixed(1)}`)
      .join(', ');
    const requests =
      calls.length === 0 ? '' : `${Math.min(...calls)}–${Math.max(...calls)} (${perMethod})`;
    push(
      `| ${s.name} | ${ms(s.stats.median)} | ${ms(s.stats.p90)} | ${ms(s.stats.min)} | ${s.ratio.toFixed(2)} | ${requests} |`,
    );
  }
  push(
    '',
    `Peak RSS (GNU time %M, largest of ${r.options.rssRuns}): ` +
      r.rss.map((x) => `${x.name} ${x.maxMB.toFixed(1)} MB`).join(', ') +
      '.',
    '',
  );
  push(
    `Burst floor: ${r.burstFloor.size} concurrent \`node -e 0\` on the same node took ${(r.burstFloor.wallMs / 1000).toFixed(2)} s.`,
    '',
  );
  for (const b of r.bursts) {
    push(
      `Burst of ${b.size} concurrent ${b.build} calls on one node: ADD ${(b.add.wallMs / 1000).toFixed(2)} s, ` +
        `${b.add.failures} failures, ${b.add.duplicates} duplicate addresses among ${b.add.addresses}, ` +
        `${b.add.etcdRequests} etcd requests; DEL ${(b.del.wallMs / 1000).toFixed(2)} s, ${b.del.failures} failures, ` +
        `leftovers ${b.del.leftovers.links} veths / ${b.del.leftovers.endpoints} endpoints / ${b.del.leftovers.handles} handles, ` +
        `${b.del.etcdRequests} etcd requests.`,
    );
    // The first error of each wave says why; latest.json keeps a few more.
    for (const [verb, e] of [
      ['ADD', b.add.errors[0]],
      ['DEL', b.del.errors[0]],
    ] as const) {
      if (e !== undefined) push(`- first ${verb} error: \`${e.replace(/`/g, "'")}\``);
    }
    push('');
  }
  push(
    '| first ADD on a fresh node (calico-ipam, claims a block) | etcd requests (median) | ms (median) | runs |',
    '| --- | --- | --- | --- |',
  );
  for (const c of r.claim) {
    push(
      `| among ${c.others} blocks of other nodes | ${c.medianRequests} | ${ms(c.medianMs)} | ${c.runs.length} |`,
    );
  }
  push('', '| target (issue 6) | this run | verdict |', '| --- | --- | --- |');
  for (const t of r.targets) push(`| ${t.target} | ${t.figure} | ${t.verdict} |`);
  return `${lines.join('\n')}\n`;
}
