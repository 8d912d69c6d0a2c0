import { expect, it } from 'vitest';
import type { PodNetworkExpectation } from '../lib/dataplane';
import { guardHost, useTopology } from './support/hooks';
import { describeAsRoot } from './support/root';
import { ip, type Topology } from './support/topology';
import { podSpec } from './support/pod-spec';

async function inspect(t: Topology, expectation: PodNetworkExpectation): Promise<string[]> {
  const reply = await t.driver({ op: 'inspect', expect: expectation });
  if (!reply.ok) throw new Error(`inspect failed: ${reply.code} ${reply.msg}`);
  return reply.value as string[];
}

describeAsRoot('inspectPodNetwork (CHECK)', () => {
  guardHost();
  const topology = useTopology();

  async function built(
    t: Topology,
    addresses: string[],
  ): Promise<PodNetworkExpectation & { pod: string }> {
    const pod = await t.pod();
    const reply = await t.driver({
      op: 'setup',
      spec: podSpec(pod, 'calii1', { addresses }),
    });
    if (!reply.ok) throw new Error(`setup failed: ${reply.code} ${reply.msg}`);
    const { containerMac } = reply.value as { containerMac: string };
    return {
      pod: pod.name,
      netns: pod.path,
      containerIfName: 'eth0',
      hostIfName: 'calii1',
      containerMac,
      addresses,
    };
  }

  it('finds nothing wrong right after setup (dual stack)', async () => {
    const t = topology();
    const e = await built(t, ['10.65.30.1', 'fd00:65:30::1']);
    expect(await inspect(t, e)).toEqual([]);
  });

  it('reports a deleted default route, a deleted host route and a wrong MAC', async () => {
    const t = topology();
    const e = await built(t, ['10.65.31.1', 'fd00:65:31::1']);
    await ip('-n', e.pod, 'route', 'del', 'default');
    await ip('-n', e.pod, '-6', 'route', 'del', 'default');
    await ip('-n', t.node.name, 'route', 'del', '10.65.31.1/32');
    expect(await inspect(t, { ...e, containerMac: '02:00:00:00:00:01' })).toEqual([
      `container interface eth0 has MAC ${e.containerMac}, expected 02:00:00:00:00:01`,
      'container route "default via 169.254.1.1 dev eth0" missing',
      'container route "default via fe80::ecee:eeff:feee:eeee dev eth0" missing',
      'host route 10.65.31.1/32 dev calii1 missing',
    ]);
  });

  it('reports a missing address, a host veth that is down and a host route on another interface', async () => {
    const t = topology();
    const e = await built(t, ['10.65.32.1']);
    await ip('-n', e.pod, 'addr', 'del', '10.65.32.1/32', 'dev', 'eth0');
    await ip('-n', t.node.name, 'link', 'set', 'calii1', 'down');
    await ip('-n', t.node.name, 'route', 'add', '10.65.32.1/32', 'dev', 'up0');
    // Removing the last IPv4 address of eth0 makes the kernel drop its IPv4 routes too.
    expect(await inspect(t, e)).toEqual([
      'container interface eth0 lacks address 10.65.32.1/32',
      'container route "169.254.1.1 dev eth0 scope link" missing',
      'container route "default via 169.254.1.1 dev eth0" missing',
      'host interface calii1 is not up',
      'host route 10.65.32.1/32 is on up0, not on calii1',
    ]);
  });

  it('reports a container interface that is down', async () => {
    const t = topology();
    const e = await built(t, ['10.65.34.1']);
    await ip('-n', e.pod, 'link', 'set', 'eth0', 'down');
    expect(await inspect(t, e)).toEqual([
      'container interface eth0 is not up',
      // Down also takes the routes through it.
      'container route "169.254.1.1 dev eth0 scope link" missing',
      'container route "default via 169.254.1.1 dev eth0" missing',
    ]);
  });

  it('reports missing interfaces', async () => {
    const t = topology();
    const e = await built(t, ['10.65.33.1']);
    await ip('-n', e.pod, 'link', 'del', 'eth0');
    expect(await inspect(t, e)).toEqual([
      `container interface eth0 not found in netns ${e.netns}`,
      'host interface calii1 not found',
    ]);
  });
});
