import { describe, expect, it } from 'vitest';
import { countsDelta, countsTotal } from './etcd-requests';
import { FULL, parseOptions } from './options';
import { summarise, type BenchResults } from './results';
import { svgChart } from './svg-chart';
import { checkTargets } from './targets';

// The report's arithmetic on hand-made figures: ratios against node -e 0, the request maxima,
// and targets that a --quick run cannot judge.

function results(overrides: { burst?: number; claim?: [number, number] } = {}) {
  const series = [
    { name: 'node -e 0', samples: [20, 20, 20] },
    { name: 'calico ADD', samples: [39, 40, 41], requests: [3, 3, 3], methods: { Txn: 9 } },
    { name: 'calico DEL', samples: [51, 60, 61], requests: [3, 4, 3], methods: { Txn: 10 } },
    { name: 'calico SEA ADD', samples: [39, 42, 41], requests: [3, 3, 3], methods: { Txn: 9 } },
    { name: 'calico SEA DEL', samples: [40, 50, 61], requests: [3, 3, 3], methods: { Txn: 9 } },
  ];
  const [small = 10, large = 10_000] = overrides.claim ?? [];
  const summary = summarise({
    series,
    rss: [
      { name: 'calico ADD', kib: [50_000, 78_125] },
      { name: 'calico SEA ADD', kib: [78_126] },
    ],
    claim: [
      { others: small, writeMs: 1, runs: [{ ms: 100, requests: 3 }] },
      { others: large, writeMs: 1, runs: [{ ms: 140, requests: 4 }] },
    ],
  });
  const wave = { wallMs: 4000, failures: 0, errors: [], etcdRequests: 500 };
  const r: Omit<BenchResults, 'targets'> = {
    mode: 'full',
    startedAt: '2026-01-01T00:00:00Z',
    seconds: 1,
    machine: { cpus: 2, cpu: 'x', kernel: 'k', node: 'v20', etcd: '3.4', load: [1, 1] },
    options: parseOptions([], '/repo'),
    ...summary,
    burstFloor: { size: overrides.burst ?? FULL.burst, wallMs: 3000 },
    bursts: [
      {
        build: 'calico',
        size: overrides.burst ?? FULL.burst,
        add: { ...wave, addresses: 100, duplicates: 0 },
        del: { ...wave, leftovers: { links: 0, endpoints: 0, handles: 0 } },
      },
      {
        build: 'calico SEA',
        size: overrides.burst ?? FULL.burst,
        add: { ...wave, wallMs: 5001, addresses: 100, duplicates: 0 },
        del: { ...wave, leftovers: { links: 0, endpoints: 0, handles: 0 } },
      },
    ],
  };
  return r;
}

describe('checkTargets', () => {
  it('judges each target on the same run', () => {
    const verdicts = checkTargets(results()).map((t) => [t.target, t.verdict]);
    expect(verdicts).toEqual([
      ['calico ADD median ≤ 2.0 × node -e 0', 'met'], // 40 / 20 = 2.0
      ['calico DEL median ≤ 2.5 × node -e 0', 'not met'], // 60 / 20 = 3.0
      ['calico SEA ADD median ≤ 2.0 × node -e 0', 'not met'], // 41 / 20 = 2.05
      ['calico SEA DEL median ≤ 2.5 × node -e 0', 'met'], // 50 / 20 = 2.5
      ['etcd requests per calico ADD (room in an affine block) ≤ 3', 'met'],
      ['etcd requests per calico DEL ≤ 3', 'not met'], // the script bundle's DEL once made 4
      ['100 concurrent calico ADDs on one node: 0 failures, 0 duplicates, ≤ 5 s', 'met'],
      ['100 concurrent calico SEA ADDs on one node: 0 failures, 0 duplicates, ≤ 5 s', 'not met'],
      ['claim among 10000 blocks ≤ 1.5 × requests and time among 10', 'met'], // 4/3, 1.4 ×
      ['peak RSS of one calico ADD ≤ 80 MB', 'met'], // 78,125 KiB = 80.0 MB
      ['peak RSS of one calico SEA ADD ≤ 80 MB', 'not met'], // 78,126 KiB
    ]);
  });

  it('does not judge what a --quick run did not reproduce', () => {
    const checks = checkTargets(results({ burst: 10, claim: [10, 200] }));
    expect(checks.filter((t) => t.verdict === 'n/a').map((t) => t.target.split(' ')[0])).toEqual([
      '100',
      '100',
      'claim',
    ]);
  });
});

describe('etcd request counts', () => {
  it('subtracts per method and drops methods that did not move', () => {
    const delta = countsDelta({ Range: 5, Txn: 9, Put: 1 }, { Range: 3, Txn: 9 });
    expect(delta).toEqual({ Range: 2, Put: 1 });
    expect(countsTotal(delta)).toBe(3);
  });
});

describe('svgChart', () => {
  it('draws one row and one dot per sample of each series', () => {
    const svg = svgChart(summarise({ ...results(), rss: [], claim: [] }).series, 'a < b');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.match(/<circle /g)).toHaveLength(15);
    expect(svg).toContain('a &lt; b');
    expect(svg).toContain('>calico DEL</text>');
  });
});
