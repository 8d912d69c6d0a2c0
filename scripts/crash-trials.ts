// Crash consistency, the full run (issue 7 item 3): SIGKILL dist/calico at random moments of ADD
// (spread over an undisturbed ADD's measured duration), then DEL with the same parameters, and
// check that nothing is left: no veth, host route, address, handle or endpoint, and `ipam check`
// clean. The netns test runs a few trials of the same code in CI.
// Usage (root, after npm run build): node --import tsx scripts/crash-trials.ts [--trials N] [--seed S] [--quiet]
import { startEtcd } from '../lib/datastore/testing/etcd-server';
import { CalicoNode } from '../netns-tests/support/calico-node';
import { runCrashTrials } from '../netns-tests/support/crash-trials';
import { Topology } from '../netns-tests/support/topology';

function flag(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
}

const trials = flag('--trials', 50);
const seed = flag('--seed', Date.now() % 1_000_000);
const quiet = process.argv.includes('--quiet');

async function main(): Promise<boolean> {
  const etcd = await startEtcd();
  const topology = await Topology.create();
  let failed = true;
  try {
    const node = await CalicoNode.create(topology, etcd);
    try {
      const pod = await topology.pod();
      const started = Date.now();
      const { summary } = await runCrashTrials(node, {
        pod,
        trials,
        seed,
        ...(quiet
          ? {}
          : {
              log: (line: string) => {
                console.log(line);
              },
            }),
      });
      console.log(
        [
          `\ncrash trials: ${summary.trials} (seed ${summary.seed}, --seed ${summary.seed} repeats them), ${Math.round((Date.now() - started) / 1000)} s`,
          `undisturbed ADD: ${summary.addMs} ms (median of 3); kill moments ${summary.delays.min}–${summary.delays.max} ms after spawn`,
          `killed during ADD: ${summary.killed}; ADD finished before its kill moment: ${summary.finishedBeforeKill}`,
          `kill mode: ${Object.entries(summary.byMode)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')}`,
          `left at the kill, before DEL: ${Object.entries(summary.phases)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')}`,
          `left after DEL (veth, route, address, handle, endpoint, ipam check): ${summary.failures.length === 0 ? 'nothing, in every trial' : `${summary.failures.length} trial(s)`}`,
        ].join('\n'),
      );
      for (const f of summary.failures) console.log(JSON.stringify(f));
      failed = summary.failures.length > 0;
    } finally {
      await node.close();
    }
  } finally {
    await topology.destroy();
    await etcd.stop();
  }
  return !failed;
}

void main().then((ok) => process.exit(ok ? 0 : 1));
