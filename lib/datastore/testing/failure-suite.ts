import { afterEach, expect, it } from 'vitest';
import { ErrorCode } from '../../cni/errors';
import { datastoreErrorToCni, DatastoreError } from '../errors';
import type { ClientFactory } from './clients';
import { timed } from './clients';
import { deadEndpoint, startHttpServer, startSilentServer, type FakeServer } from './fake-servers';
import { runExitProbe } from './exit-probe';

// Failures must be quick, bounded by the budget, and say which endpoint failed (calico#2098).

const BUDGET_SECONDS = 1.5;
/** Slack for timers and the first load of etcd3 (gRPC) on a busy test machine. */
const SLACK_MS = 1000;

/** Failure tests for one transport; `endpoint` is a live etcd. */
export function defineFailureTests(clients: ClientFactory, endpoint: () => string): void {
  const fakes: FakeServer[] = [];
  afterEach(async () => {
    await Promise.all(fakes.splice(0).map((fake) => fake.close()));
  });
  const fake = async (server: Promise<FakeServer>): Promise<FakeServer> => {
    const started = await server;
    fakes.push(started);
    return started;
  };

  it('fails fast with Unavailable, code 11 and the endpoint when nothing listens', async () => {
    const dead = await deadEndpoint();
    const kv = clients.open(dead, { etcd_timeout_seconds: BUDGET_SECONDS });
    const { ms, error } = await timed(kv.get('/x'));
    expect(error).toMatchObject({ kind: 'Unavailable' });
    const cni = datastoreErrorToCni(error);
    expect(cni.code).toBe(ErrorCode.tryAgainLater);
    expect(cni.message).toContain(`etcd unreachable at ${dead}`);
    expect(cni.message).toMatch(/ECONNREFUSED|No connection established/);
    expect(ms).toBeLessThan(BUDGET_SECONDS * 1000 + SLACK_MS);
  });

  it('gives up on a server that never answers within the budget', async () => {
    const silent = await fake(startSilentServer());
    const kv = clients.open(silent.endpoint, { etcd_timeout_seconds: BUDGET_SECONDS });
    const { ms, error } = await timed(kv.put('/x', 'v'));
    expect(error).toMatchObject({ kind: 'Unavailable' });
    expect((error as DatastoreError).message).toContain(`etcd unreachable at ${silent.endpoint}`);
    expect(datastoreErrorToCni(error).code).toBe(ErrorCode.tryAgainLater);
    expect(ms).toBeGreaterThan(BUDGET_SECONDS * 1000 - 200);
    expect(ms).toBeLessThan(BUDGET_SECONDS * 1000 + SLACK_MS);
  });

  it('shares one budget between all calls of a client', async () => {
    const silent = await fake(startSilentServer());
    const kv = clients.open(silent.endpoint, { etcd_timeout_seconds: BUDGET_SECONDS });
    await timed(kv.get('/x'));
    const second = await timed(kv.get('/x'));
    expect(second.error).toMatchObject({ kind: 'Unavailable' });
    expect((second.error as DatastoreError).message).toContain('budget of 1.5 s');
    expect(second.ms).toBeLessThan(300);
  });

  it('uses the second endpoint when the first is dead, for reads and writes', async () => {
    const dead = await deadEndpoint();
    const kv = clients.open(`${dead},${endpoint()}`, { etcd_timeout_seconds: 5 });
    await kv.put('/multi', 'v');
    expect((await kv.get('/multi'))?.value).toBe('v');
    const store = await kv.txn({
      compare: [{ key: '/multi', target: 'value', result: 'equal', value: 'v' }],
      success: [{ op: 'delete', key: '/multi' }],
      failure: [],
    });
    expect(store.succeeded).toBe(true);
  });

  // The plugins' transport; etcd3's gRPC balancer has its own endpoint selection.
  it.runIf(clients.transport === 'json')(
    'moves on from an endpoint that accepts and never answers after one attempt window',
    async () => {
      const silent = await fake(startSilentServer());
      const kv = clients.open(`${silent.endpoint},${endpoint()}`, { etcd_timeout_seconds: 5 });
      await clients.open(endpoint()).put('/hung', 'v');
      const { ms, error } = await timed(kv.get('/hung'));
      expect(error).toBeUndefined();
      // One attempt (2 s) on the hung member, then the live one: well inside the 5 s budget.
      expect(ms).toBeGreaterThan(1800);
      expect(ms).toBeLessThan(2000 + SLACK_MS);
      // Read-only txns (the allocator's reads) fail over as well; now straight to the live one.
      const read = await kv.txn({
        compare: [],
        success: [{ op: 'range', key: '/hung' }],
        failure: [],
      });
      expect(read.results[0]).toMatchObject({ op: 'range', kvs: [{ value: 'v' }] });
    },
  );

  it('names every endpoint when all of them are dead', async () => {
    const [a, b] = [await deadEndpoint(), await deadEndpoint()];
    const kv = clients.open(`${a},${b}`, { etcd_timeout_seconds: BUDGET_SECONDS });
    const { error } = await timed(kv.get('/x'));
    expect(error).toMatchObject({ kind: 'Unavailable' });
    expect((error as DatastoreError).message).toContain(`etcd unreachable at ${a}, ${b}`);
  });

  it('explains a server without the JSON gateway instead of hanging', async () => {
    for (const answer of [
      { status: 404, body: '404 page not found\n' },
      { status: 200, body: '<html>not etcd</html>' },
    ]) {
      const plain = await fake(
        startHttpServer((_req, res) => {
          res.writeHead(answer.status, { 'content-type': 'text/plain' });
          res.end(answer.body);
        }),
      );
      const kv = clients.open(plain.endpoint, { etcd_timeout_seconds: BUDGET_SECONDS });
      const { ms, error } = await timed(kv.get('/x'));
      expect(ms).toBeLessThan(BUDGET_SECONDS * 1000 + SLACK_MS);
      if (clients.transport === 'json') {
        expect(error).toMatchObject({ kind: 'Failed' });
        const { message } = error as DatastoreError;
        expect(message).toContain(`JSON gateway is unavailable at ${plain.endpoint}`);
        expect(message).toContain('"etcd_transport": "grpc"');
        expect(message).toContain(`HTTP ${answer.status}`);
      } else {
        // gRPC needs HTTP/2: an HTTP/1 server is simply not an etcd it can reach.
        expect(error).toBeInstanceOf(DatastoreError);
      }
    }
  });

  it('refuses calls after close', async () => {
    const kv = clients.open(endpoint());
    await kv.put('/closed', 'v');
    kv.close();
    await expect(kv.get('/closed')).rejects.toMatchObject({ kind: 'Failed' });
  });

  it('lets the process exit right after close, with nothing left holding the event loop', async () => {
    // A 10 s budget: a request timer left referenced would hold the process for 5 s.
    const ok = await runExitProbe(clients.transport, { endpoint: endpoint(), seconds: 10 });
    expect(ok).toMatchObject({ exitCode: 0, result: 'ok: v\n' });
    expect(ok.lingeredMs, `lingered ${ok.lingeredMs} ms`).toBeLessThan(1000);
    // Against a server that never answers, the call fails at the budget and a socket to it that
    // stayed open would keep the process alive for good.
    const silent = await fake(startSilentServer());
    const failed = await runExitProbe(clients.transport, { endpoint: silent.endpoint, seconds: 1 });
    expect(failed.exitCode).toBe(0);
    expect(failed.result).toMatch(/^Unavailable: etcd unreachable/);
    // etcd3's close() lets a still-connecting channel wait up to 1 s before closing it (its
    // workaround for grpc-node#1487): bounded, but longer than the JSON gateway's nothing.
    const allowedMs = clients.transport === 'grpc' ? 1500 : 1000;
    expect(failed.lingeredMs, `lingered ${failed.lingeredMs} ms`).toBeLessThan(allowedMs);
  });
}
