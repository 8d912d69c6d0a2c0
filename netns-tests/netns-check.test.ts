import { mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CniError, ErrorCode } from '../lib/cni/errors';
import { assertUsableNetns, netnsState } from '../lib/dataplane';
import { guardHost, useTopology } from './support/hooks';
import { describeAsRoot } from './support/root';

// assertUsableNetns and netnsState only stat and read: safe to call in the test process itself
// (the host's namespace), which then plays "the plugin's own namespace".

function codeOf(path: string): { code: number; msg: string } | 'usable' {
  try {
    assertUsableNetns(path);
    return 'usable';
  } catch (err: unknown) {
    if (!(err instanceof CniError)) throw err;
    return { code: err.code, msg: err.message };
  }
}

describeAsRoot('netns checks', () => {
  guardHost();
  const topology = useTopology();
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'dpt-'));
    writeFileSync(join(dir, 'plain'), '');
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('accepts a pod netns, by bind mount and by /proc/<pid>/ns/net', async () => {
    const pod = await topology().pod();
    expect(codeOf(pod.path)).toBe('usable');
    expect(netnsState(pod.path)).toBe('netns');
  });

  it('refuses a missing path with 8', () => {
    const path = join(dir, 'absent');
    expect(codeOf(path)).toEqual({
      code: ErrorCode.invalidNetns,
      msg: `netns path ${path} does not exist`,
    });
    expect(netnsState(path)).toBe('missing');
    expect(netnsState(join(dir, 'plain', 'below'))).toBe('missing');
  });

  it('refuses a plain file and a namespace of another type with 8', () => {
    const plain = join(dir, 'plain');
    expect(codeOf(plain)).toEqual({
      code: ErrorCode.invalidNetns,
      msg: `netns path ${plain} is not a network namespace: unknown FS magic 0x${statfsSync(plain).type.toString(16)}`,
    });
    expect(netnsState(plain)).toBe('other');
    expect(codeOf('/proc/self/ns/mnt')).toEqual({
      code: ErrorCode.invalidNetns,
      msg: 'netns path /proc/self/ns/mnt is not a network namespace: it is a mnt namespace',
    });
    expect(netnsState('/proc/self/ns/mnt')).toBe('other');
  });

  it("refuses the plugin's own namespace with 8", () => {
    expect(codeOf('/proc/self/ns/net')).toEqual({
      code: ErrorCode.invalidNetns,
      msg: "CNI_NETNS /proc/self/ns/net is the plugin's own network namespace",
    });
    expect(codeOf(`/proc/${process.pid}/ns/net`)).toMatchObject({ code: ErrorCode.invalidNetns });
    expect(netnsState('/proc/self/ns/net')).toBe('own');
  });

  it("sees the node netns as the plugin's own from inside it", async () => {
    const t = topology();
    expect(await t.driver({ op: 'assertUsableNetns', path: t.node.path })).toMatchObject({
      ok: false,
      code: ErrorCode.invalidNetns,
    });
    expect(await t.driver({ op: 'netnsState', path: t.node.path })).toMatchObject({
      ok: true,
      value: 'own',
    });
    const pod = await t.pod();
    expect(await t.driver({ op: 'netnsState', path: pod.path })).toMatchObject({
      ok: true,
      value: 'netns',
    });
  });
});
