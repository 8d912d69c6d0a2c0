import { writeFileSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { guardHost, useTopology } from './support/hooks';
import { describeAsRoot } from './support/root';
import { ip, ipJson, type DriverReply, type Netns, type Topology } from './support/topology';
import { podSpec } from './support/pod-spec';

function expectOk(reply: DriverReply): void {
  expect(reply.ok ? 'ok' : `code ${reply.code}: ${reply.msg}`).toBe('ok');
}

async function linkNames(ns: string): Promise<string[]> {
  return (await ipJson(ns, 'link', 'show')).map((l) => String(l.ifname));
}

async function setUp(t: Topology, host: string, address: string): Promise<Netns> {
  const pod = await t.pod();
  expectOk(
    await t.driver({
      op: 'setup',
      spec: podSpec(pod, host, { addresses: [address] }),
    }),
  );
  return pod;
}

describeAsRoot('teardownPodNetwork (in a node netns)', () => {
  guardHost();
  const topology = useTopology();
  let scratch: string | undefined;
  afterEach(() => {
    if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
    scratch = undefined;
  });

  it('removes both ends and the host route, and a second teardown succeeds', async () => {
    const t = topology();
    const pod = await setUp(t, 'calit1', '10.65.20.1');
    const ref = { netns: pod.path, containerIfName: 'eth0', hostIfName: 'calit1' };
    const first = await t.driver({ op: 'teardown', ref });
    expectOk(first);
    expect(first.spawns).toBe(1);
    expect(await linkNames(pod.name)).toEqual(['lo']);
    expect(await linkNames(t.node.name)).not.toContain('calit1');
    expect(await ipJson(t.node.name, 'route', 'show', '10.65.20.1/32')).toEqual([]);
    const second = await t.driver({ op: 'teardown', ref });
    expectOk(second);
  });

  it('succeeds for a netns that was never set up, an empty netns, a missing one and a plain file', async () => {
    const t = topology();
    const fresh = await t.pod();
    scratch = mkdtempSync(join(tmpdir(), 'dpt-'));
    const plain = join(scratch, 'not-a-netns');
    writeFileSync(plain, '');
    for (const netns of [fresh.path, '', undefined, '/var/run/netns/dpt-absent', plain]) {
      const ref = {
        ...(netns === undefined ? {} : { netns }),
        containerIfName: 'eth0',
        hostIfName: 'calit2',
      };
      expectOk(await t.driver({ op: 'teardown', ref }));
    }
  });

  it('cleans up after the pod netns is gone (the kernel already took the veth)', async () => {
    const t = topology();
    const pod = await setUp(t, 'calit3', '10.65.20.3');
    await t.remove(pod);
    expectOk(
      await t.driver({
        op: 'teardown',
        ref: { netns: pod.path, containerIfName: 'eth0', hostIfName: 'calit3' },
      }),
    );
    expect(await linkNames(t.node.name)).not.toContain('calit3');
  });

  it('removes a host end left by a half-built ADD, but only when given its name', async () => {
    const t = topology();
    await ip('-n', t.node.name, 'link', 'add', 'calit4', 'type', 'veth', 'peer', 'name', 'half4');
    expectOk(await t.driver({ op: 'teardown', ref: { netns: '', containerIfName: 'eth0' } }));
    expect(await linkNames(t.node.name)).toContain('calit4');
    expectOk(
      await t.driver({
        op: 'teardown',
        ref: { netns: '', containerIfName: 'eth0', hostIfName: 'calit4' },
      }),
    );
    expect(await linkNames(t.node.name)).not.toContain('calit4');
    expect(await linkNames(t.node.name)).not.toContain('half4');
  });

  it("never deletes CNI_IFNAME from the plugin's own namespace", async () => {
    const t = topology();
    // up0 is the node's uplink: a DEL pointing at the node's own netns must not remove it.
    for (const netns of ['/proc/self/ns/net', t.node.path]) {
      expectOk(
        await t.driver({
          op: 'teardown',
          ref: { netns, containerIfName: 'up0', hostIfName: 'calit5' },
        }),
      );
      expect(await linkNames(t.node.name)).toContain('up0');
    }
  });
});
