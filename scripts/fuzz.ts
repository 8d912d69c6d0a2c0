// The full hostile-input run of issue 7 item 6: `npm run fuzz [-- --seed N --cases N]` (root,
// after `npm run build`). Prints the figures and every violation; exits 1 if there is any.
import { startEtcd } from '../lib/datastore/testing/etcd-server';
import { hostileCases } from '../netns-tests/fuzz/hostile-cases';
import { FuzzBench, formatSummary } from '../netns-tests/fuzz/run-cases';
import { CalicoNode } from '../netns-tests/support/calico-node';
import { Topology } from '../netns-tests/support/topology';

function flag(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  const value = at === -1 ? undefined : Number(process.argv[at + 1]);
  return value === undefined || Number.isNaN(value) ? fallback : value;
}

async function main(): Promise<void> {
  const seed = flag('seed', 2026);
  const count = flag('cases', 2000);
  const etcd = await startEtcd();
  const topology = await Topology.create();
  let failed = false;
  try {
    const node = await CalicoNode.create(topology, etcd);
    const bench = new FuzzBench(node, {
      podNetns: (await topology.pod()).path,
      etcdEndpoint: etcd.endpoint,
    });
    try {
      console.log(`seed ${seed}: ${count} cases, two at a time`);
      const summary = await bench.run(
        hostileCases({ seed, count }, (plugin) => bench.context(plugin)),
      );
      console.log(formatSummary(summary));
      failed = summary.violations.length > 0 || summary.cases !== count;
    } finally {
      bench.remove();
      await node.close();
    }
  } finally {
    await topology.destroy();
    await etcd.stop();
  }
  process.exit(failed ? 1 : 0);
}

void main();
