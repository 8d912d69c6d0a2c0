import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release } from 'node:os';
import { join } from 'node:path';
import { measureBurst, measureBurstFloor } from './burst';
import { measureClaims } from './claim';
import { measureLatency } from './latency';
import { markdown } from './markdown';
import type { BenchOptions } from './options';
import { Pods } from './pods';
import { summarise, type BenchResults } from './results';
import { measureRss } from './rss';
import { prepare } from './setup';
import { svgChart } from './svg-chart';
import { checkTargets } from './targets';

// The benchmark proper, started by main.ts inside the node netns (nsenter --net): the plugins it
// execs find themselves on the node, as under a runtime, with no `ip netns exec` in between, and
// etcd answers on the node's own loopback.

/** What main.ts hands over on the command line. */
export interface InNodeArgs {
  options: BenchOptions;
  endpoint: string;
  podPrefix: string;
}

function etcdVersion(): string {
  const out = execFileSync('/usr/bin/etcd', ['--version'], { encoding: 'utf8', env: {} });
  return /etcd Version: (\S+)/.exec(out)?.[1] ?? '?';
}

function step(text: string): void {
  process.stderr.write(`bench: ${text}\n`);
}

async function main(args: InNodeArgs): Promise<void> {
  const { options } = args;
  const startedAt = new Date();
  const load0 = loadavg()[0] ?? NaN;
  const setup = await prepare(args.endpoint);
  const pods = new Pods(args.podPrefix);
  try {
    step(`latency: 1 warm-up + ${options.runs} interleaved rounds`);
    const series = await measureLatency(setup, { runs: options.runs, pods });
    step(`peak RSS: ${options.rssRuns} run(s) per command`);
    const rss = await measureRss(setup, { runs: options.rssRuns, pods });
    // An unrecorded small burst first, so that neither build's burst is the run's first; each
    // wave also waits for the node's CPUs to go quiet (quiet.ts) before it starts.
    step('burst warm-up: 10 concurrent ADDs, then DELs (not recorded)');
    await measureBurst(setup, { size: Math.min(10, options.burst), pods, build: 'calico' });
    step(`burst floor: ${options.burst} concurrent node -e 0`);
    const burstFloor = await measureBurstFloor(options.burst);
    const bursts = [];
    for (const build of ['calico', 'calico SEA'] as const) {
      step(`burst (${build}): ${options.burst} concurrent ADDs, then DELs`);
      bursts.push(await measureBurst(setup, { size: options.burst, pods, build }));
    }
    step(`block claim among ${options.claimSizes.join(' and ')} blocks of other nodes`);
    const claim = await measureClaims(setup, {
      sizes: options.claimSizes,
      repeats: options.claimRepeats,
    });
    const results: Omit<BenchResults, 'targets'> = {
      mode: options.quick ? 'quick' : 'full',
      startedAt: startedAt.toISOString(),
      seconds: (Date.now() - startedAt.getTime()) / 1000,
      machine: {
        cpus: cpus().length,
        cpu: cpus()[0]?.model.trim() ?? '?',
        kernel: release(),
        node: process.version,
        etcd: etcdVersion(),
        load: [load0, loadavg()[0] ?? NaN],
      },
      options,
      ...summarise({ series, rss, claim }),
      burstFloor,
      bursts,
    };
    const full: BenchResults = { ...results, targets: checkTargets(results) };
    const report = markdown(full);
    mkdirSync(options.outDir, { recursive: true });
    writeFileSync(join(options.outDir, 'latest.json'), `${JSON.stringify(full, null, 2)}\n`);
    writeFileSync(join(options.outDir, 'latest.md'), report);
    writeFileSync(
      join(options.outDir, 'latest.svg'),
      svgChart(
        full.series,
        `Latency, ${options.runs} interleaved runs each (${full.startedAt.slice(0, 10)})`,
      ),
    );
    process.stdout.write(`\n${report}\nwritten: ${options.outDir}/latest.{json,md,svg}\n`);
  } finally {
    await pods.removeAll();
    setup.close();
  }
}

// Ctrl-C reaches the whole process group: stop at once; the exit hooks delete the pods.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => process.exit(130));
}
main(JSON.parse(process.argv[2] ?? '{}') as InNodeArgs).catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
