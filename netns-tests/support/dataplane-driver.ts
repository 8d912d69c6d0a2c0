// Runs one lib/dataplane call in the process's own network namespace (the tests start it with
// `ip netns exec <node>`, so "the host" is the node netns) and prints one JSON line:
// {"ok":true,"value":…,"spawns":N,"ms":T} or {"ok":false,"code":N,"msg":"…","details":"…"}.
import { CniError } from '../../lib/cni/errors';
import {
  assertUsableNetns,
  inspectPodNetwork,
  netnsState,
  setupPodNetwork,
  spawnedProcessCount,
  teardownPodNetwork,
  type PodNetworkExpectation,
  type PodNetworkRef,
  type PodNetworkSpec,
} from '../../lib/dataplane';

/** One call, as the test serialises it. */
export type DriverRequest =
  | { op: 'setup'; spec: PodNetworkSpec }
  | { op: 'teardown'; ref: PodNetworkRef }
  | { op: 'inspect'; expect: PodNetworkExpectation }
  | { op: 'assertUsableNetns'; path: string }
  | { op: 'netnsState'; path: string };

async function call(request: DriverRequest): Promise<unknown> {
  switch (request.op) {
    case 'setup':
      return setupPodNetwork(request.spec);
    case 'teardown':
      return teardownPodNetwork(request.ref);
    case 'inspect':
      return inspectPodNetwork(request.expect);
    case 'assertUsableNetns':
      assertUsableNetns(request.path);
      return null;
    case 'netnsState':
      return netnsState(request.path);
  }
}

async function main(): Promise<void> {
  const request = JSON.parse(process.argv[2] ?? '') as DriverRequest;
  const started = process.hrtime.bigint();
  try {
    const value = await call(request);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    process.stdout.write(
      `${JSON.stringify({ ok: true, value: value ?? null, spawns: spawnedProcessCount(), ms })}\n`,
    );
  } catch (err: unknown) {
    if (!(err instanceof CniError)) throw err;
    process.stdout.write(
      `${JSON.stringify({ ok: false, code: err.code, msg: err.message, details: err.details ?? null, spawns: spawnedProcessCount() })}\n`,
    );
  }
}

void main();
