import { expect, it } from 'vitest';
import type { PodNetworkSpec } from '../lib/dataplane';
import { guardHost, useTopology } from './support/hooks';
import { describeAsRoot } from './support/root';
import { ipJson, NODE_UPLINK_IP, type Netns, type Topology } from './support/topology';
import { podSpec } from './support/pod-spec';

async function addPod(
  t: Topology,
  host: string,
  addresses: string[],
  extra: Partial<PodNetworkSpec> = {},
): Promise<Netns> {
  const pod = await t.pod();
  const reply = await t.driver({
    op: 'setup',
    spec: podSpec(pod, host, { ...extra, addresses }),
  });
  if (!reply.ok) throw new Error(`setup of ${host} failed: ${reply.code} ${reply.msg}`);
  if (addresses.some((a) => a.includes(':'))) {
    process.stderr.write(
      `setupPodNetwork (dual stack): ${reply.spawns} processes, ${reply.ms.toFixed(1)} ms\n`,
    );
  }
  return pod;
}

describeAsRoot('pod connectivity through the node (proxy ARP, host routes)', () => {
  guardHost();
  const topology = useTopology();

  it('two IPv4 pods ping each other and the node', async () => {
    const t = topology();
    const a = await addPod(t, 'calic1', ['10.65.10.1']);
    const b = await addPod(t, 'calic2', ['10.65.10.2']);
    expect(await t.ping(a, '10.65.10.2')).toBe(true);
    expect(await t.ping(b, '10.65.10.1')).toBe(true);
    expect(await t.ping(a, NODE_UPLINK_IP)).toBe(true);
    // The pod resolved its gateway by proxy ARP: the host end's pinned MAC.
    const neigh = await ipJson(a.name, 'neigh', 'show', '169.254.1.1');
    expect(neigh.map((n) => n.lladdr)).toEqual(['ee:ee:ee:ee:ee:ee']);
  });

  it('dual-stack pods get the IPv6 gateway route and sysctls, and ping each other over both families', async () => {
    const t = topology();
    const a = await addPod(t, 'calid1', ['10.65.11.1', 'fd00:65:11::1']);
    const b = await addPod(t, 'calid2', ['10.65.11.2', 'fd00:65:11::2'], {
      allowIpForwarding: true,
    });

    const v6default = await ipJson(a.name, '-6', 'route', 'show', 'default');
    expect(v6default.map((r) => [r.gateway, r.dev, r.metric])).toEqual([
      ['fe80::ecee:eeff:feee:eeee', 'eth0', 1024],
    ]);
    const [eth0] = await ipJson(a.name, 'addr', 'show', 'dev', 'eth0');
    const globals = (eth0?.addr_info as Record<string, unknown>[])
      .filter((x) => x.scope === 'global')
      .map((x) => `${String(x.local)}/${String(x.prefixlen)}`);
    expect(globals.sort()).toEqual(['10.65.11.1/32', 'fd00:65:11::1/128']);
    const hostRoute = await ipJson(t.node.name, '-6', 'route', 'show', 'fd00:65:11::1/128');
    expect(hostRoute.map((r) => r.dev)).toEqual(['calid1']);
    const [hostLl] = await ipJson(
      t.node.name,
      '-6',
      'addr',
      'show',
      'dev',
      'calid1',
      'scope',
      'link',
    );
    expect(
      (hostLl?.addr_info as Record<string, unknown>[]).map((x) => [x.local, x.tentative]),
    ).toEqual([['fe80::ecee:eeff:feee:eeee', undefined]]);

    expect(
      await t.sysctls(t.node, [
        'net/ipv6/conf/calid1/proxy_ndp',
        'net/ipv6/conf/calid1/forwarding',
        'net/ipv6/conf/calid1/disable_ipv6',
        'net/ipv6/conf/calid1/accept_dad',
        'net/ipv6/conf/calid1/accept_ra',
      ]),
    ).toEqual({
      'net/ipv6/conf/calid1/proxy_ndp': '1',
      'net/ipv6/conf/calid1/forwarding': '1',
      'net/ipv6/conf/calid1/disable_ipv6': '0',
      'net/ipv6/conf/calid1/accept_dad': '0',
      'net/ipv6/conf/calid1/accept_ra': '0',
    });
    const keys = [
      'net/ipv4/ip_forward',
      'net/ipv6/conf/all/forwarding',
      'net/ipv6/conf/eth0/accept_dad',
    ];
    expect(Object.values(await t.sysctls(a, keys))).toEqual(['0', '0', '0']);
    expect(Object.values(await t.sysctls(b, keys))).toEqual(['1', '1', '0']);

    expect(await t.ping(a, '10.65.11.2')).toBe(true);
    expect(await t.ping(a, 'fd00:65:11::2')).toBe(true);
    expect(await t.ping(b, 'fd00:65:11::1')).toBe(true);
  });
});
