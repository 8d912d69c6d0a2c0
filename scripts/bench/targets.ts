import { FULL } from './options';
import type { BenchResults, TargetCheck } from './results';

// The targets (issue 6), each checked against the same run's figures. A missed target is
// a finding, not a failure of the benchmark: the command exits 0 either way.

/** The thresholds. */
export const TARGETS = {
  addRatio: 2.0,
  delRatio: 2.5,
  requests: 3,
  burstMs: 5000,
  claimRatio: 1.5,
  rssMB: 80,
};

const verdict = (ok: boolean): TargetCheck['verdict'] => (ok ? 'met' : 'not met');

/** Checks every target, for each build of calico; targets this run did not reproduce are `n/a`. */
export function checkTargets(r: Omit<BenchResults, 'targets'>): TargetCheck[] {
  const series = (name: string) => r.series.find((s) => s.name === name);
  const checks: TargetCheck[] = [];
  for (const build of ['calico', 'calico SEA'] as const) {
    for (const [verb, factor] of [
      ['ADD', TARGETS.addRatio],
      ['DEL', TARGETS.delRatio],
    ] as const) {
      const s = series(`${build} ${verb}`);
      const ratio = s?.ratio ?? NaN;
      checks.push({
        target: `${build} ${verb} median ≤ ${factor.toFixed(1)} × node -e 0`,
        figure: `${ratio.toFixed(2)} × (${s?.stats.median.toFixed(1) ?? '?'} ms)`,
        verdict: verdict(ratio <= factor),
      });
    }
  }
  for (const verb of ['ADD', 'DEL'] as const) {
    // Both builds run the same code: every call of either counts.
    const requests = [
      ...(series(`calico ${verb}`)?.requests ?? []),
      ...(series(`calico SEA ${verb}`)?.requests ?? []),
    ];
    const most = Math.max(...requests);
    checks.push({
      target: `etcd requests per calico ${verb}${verb === 'ADD' ? ' (room in an affine block)' : ''} ≤ ${TARGETS.requests}`,
      figure: `${most} (most in any run)`,
      verdict: verdict(requests.length > 0 && most <= TARGETS.requests),
    });
  }
  for (const b of r.bursts) {
    checks.push({
      target: `${FULL.burst} concurrent ${b.build} ADDs on one node: 0 failures, 0 duplicates, ≤ ${TARGETS.burstMs / 1000} s`,
      figure: `${b.size} ADDs: ${(b.add.wallMs / 1000).toFixed(2)} s, ${b.add.failures} failures, ${b.add.duplicates} duplicates (${r.burstFloor.size} × node -e 0: ${(r.burstFloor.wallMs / 1000).toFixed(2)} s)`,
      verdict:
        b.size === FULL.burst
          ? verdict(
              b.add.failures === 0 && b.add.duplicates === 0 && b.add.wallMs <= TARGETS.burstMs,
            )
          : 'n/a',
    });
  }
  const [small, large] = r.claim;
  const fullClaim = small?.others === FULL.claimSizes[0] && large?.others === FULL.claimSizes[1];
  const requestRatio = (large?.medianRequests ?? NaN) / (small?.medianRequests ?? NaN);
  const timeRatio = (large?.medianMs ?? NaN) / (small?.medianMs ?? NaN);
  checks.push({
    target: `claim among ${FULL.claimSizes[1]} blocks ≤ ${TARGETS.claimRatio} × requests and time among ${FULL.claimSizes[0]}`,
    figure: `${large?.others ?? '?'} vs ${small?.others ?? '?'}: ${requestRatio.toFixed(2)} × requests, ${timeRatio.toFixed(2)} × time`,
    verdict: fullClaim
      ? verdict(requestRatio <= TARGETS.claimRatio && timeRatio <= TARGETS.claimRatio)
      : 'n/a',
  });
  for (const build of ['calico', 'calico SEA'] as const) {
    const rss = r.rss.find((x) => x.name === `${build} ADD`)?.maxMB ?? NaN;
    checks.push({
      target: `peak RSS of one ${build} ADD ≤ ${TARGETS.rssMB} MB`,
      figure: `${rss.toFixed(1)} MB`,
      verdict: verdict(rss <= TARGETS.rssMB),
    });
  }
  return checks;
}
