import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  deadEndpoint,
  startSilentServer,
  type FakeServer,
} from '../lib/datastore/testing/fake-servers';
import { ipamNetconf, runIpam } from '../ipam/testing/ipam-binary';

// Issue 7 item 1 for dist/calico-ipam: with etcd down, ADD and DEL answer code 11 naming the
// endpoints within the invocation's time budget (5 s by default, etcd_timeout_seconds otherwise),
// whether nothing listens or a blackhole accepts connections and never answers. (dist/calico's
// side, with the veth and a real etcd stopped and started, is in netns-tests/etcd-outage.test.ts.)

/** Node start, the bundle's load and timer slack on a busy 2-core machine. */
const SLACK_MS = 1500;

let silent: FakeServer[] = [];
let calls = 0;
let dead: string;

beforeAll(async () => {
  silent = await Promise.all([startSilentServer(), startSilentServer()]);
  dead = await deadEndpoint();
});
afterAll(async () => {
  await Promise.all(silent.map((s) => s.close()));
});

async function timedRun(
  command: 'ADD' | 'DEL',
  endpoints: string,
  extra: Record<string, unknown> = {},
): Promise<{ ms: number; json: Record<string, unknown> | undefined; code: number | null }> {
  const started = Date.now();
  const run = await runIpam({
    command,
    containerId: 'outage',
    // A lock of its own: the cases run at once, and must not wait for each other's host lock.
    netconf: ipamNetconf(endpoints, {
      node: 'node-a',
      extra: { ipam_lock_file: `/tmp/calico-outage-${process.pid}-${calls++}.lock`, ...extra },
    }),
  });
  expect(run.stdout.trim().split('\n')).toHaveLength(1);
  return { ms: Date.now() - started, json: run.json, code: run.code };
}

describe.concurrent('calico-ipam with etcd down', () => {
  for (const command of ['ADD', 'DEL'] as const) {
    it(`${command}: nothing listens: code 11 at once, naming the endpoint`, async () => {
      const run = await timedRun(command, dead);
      expect(run.code).toBe(1);
      expect(run.json).toMatchObject({ code: 11, msg: expect.stringContaining(dead) as unknown });
      expect(run.ms).toBeLessThan(SLACK_MS);
    });

    it(`${command}: blackholes and a dead member: code 11 within the default 5 s budget, naming all`, async () => {
      const endpoints = [silent[0]?.endpoint, silent[1]?.endpoint, dead].join(',');
      const run = await timedRun(command, endpoints);
      expect(run.json).toMatchObject({ code: 11 });
      expect(String(run.json?.msg)).toContain(
        `etcd unreachable at ${endpoints.replace(/,/g, ', ')}`,
      );
      // 2 s on each blackhole, then what is left of the 5 s for the dead one.
      expect(run.ms).toBeGreaterThan(3_900);
      expect(run.ms).toBeLessThan(5_000 + SLACK_MS);
    });

    it(`${command}: a blackhole: code 11 within a configured 1 s budget`, async () => {
      const endpoint = silent[0]?.endpoint ?? '';
      const run = await timedRun(command, endpoint, { etcd_timeout_seconds: 1 });
      expect(run.json).toMatchObject({
        code: 11,
        msg: expect.stringContaining(endpoint) as unknown,
      });
      expect(run.ms).toBeGreaterThan(900);
      expect(run.ms).toBeLessThan(1_000 + SLACK_MS);
    });
  }
});
