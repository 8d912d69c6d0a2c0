import { beforeEach, expect, it } from 'vitest';
import type { CalicoNode } from './support/calico-node';
import { runCrashTrials } from './support/crash-trials';
import { useCalicoNode } from './support/hooks';
import type { Topology } from './support/topology';
import { describeAsRoot } from './support/root';

// Issue 7 item 3: SIGKILL dist/calico at random moments of ADD; the runtime's DEL must leave
// nothing and `ipam check` must find nothing wrong. CI runs CRASH_TRIALS (default 12) trials;
// `node --import tsx scripts/crash-trials.ts` runs 50 and more with a summary.

const TRIALS = Number(process.env.CRASH_TRIALS ?? 12);
const SEED = Number(process.env.CRASH_SEED ?? 20260301);

let node: CalicoNode;

describeAsRoot('crash consistency: dist/calico killed during ADD', () => {
  const current = useCalicoNode();
  const topology = (): Topology => current().topology;
  beforeEach(() => {
    node = current();
  });

  it(`after ${TRIALS} kills at random moments, DEL leaves nothing and the check is clean`, async () => {
    const pod = await topology().pod();
    const { summary, records } = await runCrashTrials(node, { pod, trials: TRIALS, seed: SEED });
    expect(summary.failures).toEqual([]);
    expect(records).toHaveLength(TRIALS);
    // The kills must land inside ADDs, not only before or after them: most trials are real
    // kills, and they left more than one kind of state behind.
    expect(summary.killed).toBeGreaterThanOrEqual(Math.ceil(TRIALS / 2));
    expect(Object.keys(summary.phases).length).toBeGreaterThanOrEqual(2);
  }, 120_000);
});
