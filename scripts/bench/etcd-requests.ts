import type { Kv } from '../../lib/datastore/kv';

// etcd requests counted from etcd's own /metrics: etcd 3.4 serves its v3 JSON gateway by relaying
// each HTTP request to its gRPC server, so both transports show up in
// grpc_server_started_total{grpc_service="etcdserverpb.KV",grpc_method=...}. Reading /metrics is
// plain HTTP and counts nothing. `verifyCounting` proves this against known requests each run.

/** KV requests etcd has started so far, by gRPC method (Range, Put, DeleteRange, Txn, Compact). */
export type KvCounts = Record<string, number>;

/** Reads the KV counters from `endpoint`/metrics. */
export async function kvCounts(endpoint: string): Promise<KvCounts> {
  const response = await fetch(`${endpoint}/metrics`);
  if (!response.ok) throw new Error(`etcd /metrics answered HTTP ${response.status}`);
  const counts: KvCounts = {};
  for (const line of (await response.text()).split('\n')) {
    if (!line.startsWith('grpc_server_started_total{')) continue;
    if (!line.includes('grpc_service="etcdserverpb.KV"')) continue;
    const method = /grpc_method="([A-Za-z]+)"/.exec(line)?.[1] ?? '?';
    counts[method] = (counts[method] ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return counts;
}

/** `after - before`, per method, leaving out methods that did not move. */
export function countsDelta(after: KvCounts, before: KvCounts): KvCounts {
  const delta: KvCounts = {};
  for (const [method, n] of Object.entries(after)) {
    const d = n - (before[method] ?? 0);
    if (d !== 0) delta[method] = d;
  }
  return delta;
}

/** The sum over methods. */
export function countsTotal(counts: KvCounts): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

/** Adds `more` into `into`. */
export function addCounts(into: KvCounts, more: KvCounts): void {
  for (const [method, n] of Object.entries(more)) into[method] = (into[method] ?? 0) + n;
}

/**
 * Counts the requests `work` makes. Nothing else may talk to etcd meanwhile: the benchmark runs
 * one command at a time outside the burst.
 */
export async function counted<T>(
  endpoint: string,
  work: () => Promise<T>,
): Promise<{ value: T; counts: KvCounts }> {
  const before = await kvCounts(endpoint);
  const value = await work();
  return { value, counts: countsDelta(await kvCounts(endpoint), before) };
}

/** Makes one request of each kind through `kv` (the plugins' JSON gateway) and checks the count. */
export async function verifyCounting(endpoint: string, kv: Kv): Promise<void> {
  const key = '/bench/counter-check';
  const { counts } = await counted(endpoint, async () => {
    await kv.put(key, 'x');
    await kv.get(key);
    await kv.range(key, { prefix: true });
    await kv.txn({ compare: [], success: [{ op: 'put', key, value: 'y' }], failure: [] });
    await kv.delete(key);
  });
  const expected = { Put: 1, Range: 2, Txn: 1, DeleteRange: 1 };
  if (JSON.stringify(sorted(counts)) !== JSON.stringify(sorted(expected))) {
    throw new Error(
      `etcd request counting is off: 5 known requests counted as ${JSON.stringify(counts)}`,
    );
  }
}

function sorted(counts: KvCounts): [string, number][] {
  return Object.entries(counts).sort(([a], [b]) => a.localeCompare(b));
}
