import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Pods } from './pods';
import { cniEnv, GNU_TIME, mustSucceed, NODE_FLOOR, REFERENCE_DIR, type Command } from './runner';
import type { BenchSetup } from './setup';

// Peak RSS from the kernel: GNU time reports ru_maxrss of the process it waits for, which Linux
// also raises to the peak of every descendant that process waited for (the plugin's `ip` children),
// so it is the largest resident set any process of the ADD reached. Sampling /proc/PID/status
// cannot catch a short-lived process's peak, and Node cannot read a child's rusage.

/** Peak resident set sizes of one command, in KiB, one per run. */
export interface RssSeries {
  name: string;
  kib: number[];
}

/** Runs each ADD (and `node -e 0`) `runs` times under GNU time, each followed by its DEL. */
export async function measureRss(
  setup: BenchSetup,
  options: { runs: number; pods: Pods },
): Promise<RssSeries[]> {
  const out = join(setup.work, 'rss');
  const series: RssSeries[] = [
    { name: 'node -e 0', kib: [] },
    { name: 'ptp + host-local ADD', kib: [] },
    { name: 'calico ADD', kib: [] },
    { name: 'calico-ipam ADD', kib: [] },
    { name: 'calico SEA ADD', kib: [] },
  ];
  const underTime = (c: Command): Command => ({
    ...c,
    argv: [GNU_TIME, '-f', '%M', '-o', out, ...c.argv],
  });
  for (let i = 0; i < options.runs; i++) {
    const pod = await options.pods.create();
    const call = (argv: string[], verb: 'ADD' | 'DEL', conf: string, cniPath: string): Command => ({
      argv,
      env: cniEnv(verb, { containerId: `rss-${i}`, netns: pod.path, cniPath }),
      stdin: conf,
    });
    const commands: [RssSeries | undefined, Command, Command | undefined][] = [
      [series[0], NODE_FLOOR, undefined],
      [
        series[1],
        call([`${REFERENCE_DIR}/ptp`], 'ADD', setup.ptpConf, REFERENCE_DIR),
        call([`${REFERENCE_DIR}/ptp`], 'DEL', setup.ptpConf, REFERENCE_DIR),
      ],
      [
        series[2],
        call([setup.plugins.calico.calico], 'ADD', setup.calicoConf, setup.cniPath),
        call([setup.plugins.calico.calico], 'DEL', setup.calicoConf, setup.cniPath),
      ],
      [
        series[3],
        call([setup.plugins.calicoIpam], 'ADD', setup.calicoConf, setup.cniPath),
        call([setup.plugins.calicoIpam], 'DEL', setup.calicoConf, setup.cniPath),
      ],
      [
        series[4],
        call([setup.plugins.calico['calico SEA']], 'ADD', setup.calicoConf, setup.cniPath),
        call([setup.plugins.calico['calico SEA']], 'DEL', setup.calicoConf, setup.cniPath),
      ],
    ];
    for (const [s, add, del] of commands) {
      if (s === undefined) continue;
      await mustSucceed(`${s.name} under ${GNU_TIME}`, underTime(add));
      const kib = Number(readFileSync(out, 'utf8').trim().split('\n').at(-1));
      if (!Number.isInteger(kib) || kib <= 0)
        throw new Error(`${GNU_TIME} gave no RSS for ${s.name}`);
      s.kib.push(kib);
      if (del !== undefined) await mustSucceed(`${s.name} (its DEL)`, del);
    }
    await options.pods.remove(pod);
  }
  return series;
}
