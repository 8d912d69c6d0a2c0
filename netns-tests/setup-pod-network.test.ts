import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { ErrorCode } from '../lib/cni/errors';
import type { PodNetworkSpec } from '../lib/dataplane';
import { guardHost, useTopology } from './support/hooks';
import { describeAsRoot } from './support/root';
import { ip, ipJson, type DriverReply, type Netns, type Topology } from './support/topology';
import { podSpec } from './support/pod-spec';

const HOST_MAC = 'ee:ee:ee:ee:ee:ee';

function spec(pod: Netns, host: string, addresses: string[]): PodNetworkSpec {
  return podSpec(pod, host, { addresses, mtu: 1450 });
}

function ok(reply: DriverReply): { value: unknown; spawns: number; ms: number } {
  if (!reply.ok) throw new Error(`expected success, got code ${reply.code}: ${reply.msg}`);
  return reply;
}

/** Links of `ns` with the fields that matter here. */
async function links(ns: string): Promise<{ name: string; mac: unknown; up: boolean }[]> {
  return (await ipJson(ns, 'link', 'show')).map((l) => ({
    name: String(l.ifname),
    mac: l.address,
    up: Array.isArray(l.flags) && l.flags.includes('UP'),
  }));
}

/** Everything of `ns` that an ADD might touch, as comparable JSON. */
async function state(ns: string): Promise<string> {
  return JSON.stringify([
    await ipJson(ns, 'addr', 'show'),
    await ipJson(ns, 'route', 'show', 'table', 'all'),
  ]);
}

async function expectNoVeth(t: Topology, pod: Netns, host: string): Promise<void> {
  expect((await links(t.node.name)).map((l) => l.name)).not.toContain(host);
  expect((await links(pod.name)).map((l) => l.name)).toEqual(['lo']);
}

describeAsRoot('setupPodNetwork (in a node netns)', () => {
  guardHost();
  const topology = useTopology();

  it('builds an IPv4 pod exactly as Calico does: routes, /32, host veth, sysctls, host route', async () => {
    const t = topology();
    const pod = await t.pod();
    // A new netns takes ip_forward from the host's initial namespace, which may have it on.
    await t.setSysctls(pod, { 'net/ipv4/ip_forward': '1' });
    const reply = ok(await t.driver({ op: 'setup', spec: spec(pod, 'calia1', ['10.65.1.2']) }));
    process.stderr.write(
      `setupPodNetwork (IPv4): ${reply.spawns} processes, ${reply.ms.toFixed(1)} ms\n`,
    );
    // A pod netns named under /var/run/netns: the host's batch alone, which runs the pod's
    // sysctls and its end's own batch in it with `netns exec`.
    expect(reply.spawns).toBe(1);
    const { containerMac } = reply.value as { containerMac: string };

    // Pod routes: the link route to 169.254.1.1 and the default via it, nothing else (no subnet).
    const routes = (await ipJson(pod.name, 'route', 'show')).map((r) => ({
      dst: r.dst,
      gateway: r.gateway,
      dev: r.dev,
      scope: r.scope,
    }));
    expect(routes).toEqual([
      { dst: 'default', gateway: '169.254.1.1', dev: 'eth0', scope: undefined },
      { dst: '169.254.1.1', gateway: undefined, dev: 'eth0', scope: 'link' },
    ]);
    expect(await ipJson(pod.name, '-6', 'route', 'show', 'default')).toEqual([]);

    const [eth0] = await ipJson(pod.name, 'addr', 'show', 'dev', 'eth0');
    expect(eth0?.address).toBe(containerMac);
    expect(eth0?.mtu).toBe(1450);
    expect(eth0?.flags).toContain('UP');
    const v4 = (eth0?.addr_info as Record<string, unknown>[]).filter((a) => a.family === 'inet');
    expect(v4.map((a) => `${String(a.local)}/${String(a.prefixlen)}`)).toEqual(['10.65.1.2/32']);

    const [host] = await ipJson(t.node.name, 'link', 'show', 'dev', 'calia1');
    expect(host?.address).toBe(HOST_MAC);
    expect(host?.mtu).toBe(1450);
    expect(host?.flags).toContain('UP');
    expect(host?.flags).toContain('LOWER_UP');

    expect(
      await t.sysctls(t.node, [
        'net/ipv4/conf/calia1/proxy_arp',
        'net/ipv4/neigh/calia1/proxy_delay',
        'net/ipv4/conf/calia1/forwarding',
        'net/ipv4/conf/calia1/route_localnet',
        'net/ipv6/conf/calia1/accept_ra',
      ]),
    ).toEqual({
      'net/ipv4/conf/calia1/proxy_arp': '1',
      'net/ipv4/neigh/calia1/proxy_delay': '0',
      'net/ipv4/conf/calia1/forwarding': '1',
      'net/ipv4/conf/calia1/route_localnet': '1',
      'net/ipv6/conf/calia1/accept_ra': '0',
    });
    // It was 1, so 0 proves it was written.
    expect(await t.sysctls(pod, ['net/ipv4/ip_forward'])).toEqual({ 'net/ipv4/ip_forward': '0' });

    const hostRoutes = await ipJson(t.node.name, '-d', 'route', 'show', '10.65.1.2/32');
    expect(hostRoutes.map((r) => [r.dst, r.dev, r.scope, r.protocol])).toEqual([
      ['10.65.1.2', 'calia1', 'link', 'boot'],
    ]);
  });

  it('refuses with 120 when CNI_IFNAME exists in the pod, and changes nothing', async () => {
    const t = topology();
    const pod = await t.pod();
    await ip('-n', pod.name, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'other0');
    await ip('-n', pod.name, 'addr', 'add', '10.65.2.9/24', 'dev', 'eth0');
    await ip('-n', pod.name, 'link', 'set', 'eth0', 'up');
    const podBefore = await state(pod.name);
    const nodeBefore = await state(t.node.name);

    const reply = await t.driver({ op: 'setup', spec: spec(pod, 'calia2', ['10.65.2.2']) });
    expect(reply).toMatchObject({ ok: false, code: ErrorCode.interfaceExists });
    expect(reply.ok ? '' : reply.msg).toContain('(eth0) already exists');
    expect(await state(pod.name)).toBe(podBefore);
    expect(await state(t.node.name)).toBe(nodeBefore);
  });

  it('refuses with 120 before removing a stale host veth of the same name', async () => {
    const t = topology();
    const pod = await t.pod();
    await ip('-n', pod.name, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'other0');
    await ip('-n', t.node.name, 'link', 'add', 'calia3', 'type', 'veth', 'peer', 'name', 'stale3');
    const nodeBefore = await state(t.node.name);

    const reply = await t.driver({ op: 'setup', spec: spec(pod, 'calia3', ['10.65.3.2']) });
    expect(reply).toMatchObject({ ok: false, code: ErrorCode.interfaceExists });
    expect(await state(t.node.name)).toBe(nodeBefore);
  });

  it('replaces a pre-existing host link of the same name', async () => {
    const t = topology();
    const pod = await t.pod();
    await ip('-n', t.node.name, 'link', 'add', 'calia4', 'type', 'veth', 'peer', 'name', 'stale4');
    const [stale] = await ipJson(t.node.name, 'link', 'show', 'dev', 'calia4');

    ok(await t.driver({ op: 'setup', spec: spec(pod, 'calia4', ['10.65.4.2']) }));
    const nodeLinks = await links(t.node.name);
    expect(nodeLinks.map((l) => l.name)).not.toContain('stale4');
    const [host] = await ipJson(t.node.name, 'link', 'show', 'dev', 'calia4');
    expect(host?.ifindex).not.toBe(stale?.ifindex);
    expect(host?.address).toBe(HOST_MAC);
    expect(host?.link_netnsid).toBeDefined();
    expect((await links(pod.name)).find((l) => l.name === 'eth0')?.up).toBe(true);
  });

  it.each([
    ['IPv4', '10.65.5.7', 'scope link'],
    ['IPv6', 'fd00:65:5::7', ''],
  ])(
    'fails with 121 naming both veths when the %s host route is on another interface, and removes its veth',
    async (_family, address) => {
      const t = topology();
      const first = await t.pod();
      const second = await t.pod();
      ok(await t.driver({ op: 'setup', spec: spec(first, 'calib1', [address]) }));

      const reply = await t.driver({ op: 'setup', spec: spec(second, 'calib2', [address]) });
      expect(reply).toMatchObject({ ok: false, code: ErrorCode.hostRouteConflict });
      const msg = reply.ok ? '' : reply.msg;
      expect(msg).toContain("'calib2'");
      expect(msg).toContain('Iface: calib1');
      expect(msg).toContain(address);
      await expectNoVeth(t, second, 'calib2');
      // The first pod's route is untouched.
      const family = address.includes(':') ? '-6' : '-4';
      const owner = await ipJson(t.node.name, family, 'route', 'show', address);
      expect(owner.map((r) => r.dev)).toEqual(['calib1']);
    },
  );

  it('removes the veth it created when it runs out of time', async () => {
    const t = topology();
    const pod = await t.pod();
    const reply = await t.driver({
      op: 'setup',
      spec: { ...spec(pod, 'calia6', ['10.65.6.2']), timeoutMs: 1 },
    });
    expect(reply).toMatchObject({ ok: false, code: ErrorCode.dataplaneFailed });
    expect(reply.ok ? '' : reply.msg).toContain('timed out');
    await expectNoVeth(t, pod, 'calia6');
  });

  it('removes the veth it created when configuring the pod side fails', async () => {
    const t = topology();
    const pod = await t.pod();
    // The second `addr add` of the same address fails inside the pod, after the veth exists.
    const reply = await t.driver({
      op: 'setup',
      spec: spec(pod, 'calia8', ['10.65.8.2', '10.65.8.2']),
    });
    expect(reply).toMatchObject({ ok: false, code: ErrorCode.dataplaneFailed });
    expect(reply.ok ? '' : reply.msg).toMatch(
      /^configure eth0 in netns \S+: "ip addr add 10\.65\.8\.2\/32 dev eth0" failed: .*already assigned/,
    );
    await expectNoVeth(t, pod, 'calia8');
    expect(await ipJson(t.node.name, 'route', 'show', '10.65.8.2/32')).toEqual([]);
  });

  it('creates the veth in a netns whose path has a space, quotes and a # (batch lines cannot carry it)', async () => {
    const t = topology();
    const pod = await t.pod();
    await t.setSysctls(pod, { 'net/ipv4/ip_forward': '1' });
    const dir = await mkdtemp(join(tmpdir(), 'dpt-odd-'));
    const odd = join(dir, `pod "one's" #1`);
    await writeFile(odd, '');
    execFileSync('mount', ['--bind', pod.path, odd]);
    try {
      const reply = ok(
        await t.driver({
          op: 'setup',
          spec: spec({ name: pod.name, path: odd }, 'calia9', ['10.65.9.2']),
        }),
      );
      const [eth0] = await ipJson(pod.name, 'addr', 'show', 'dev', 'eth0');
      expect(eth0?.address).toBe((reply.value as { containerMac: string }).containerMac);
      expect((await links(t.node.name)).map((l) => l.name)).toContain('calia9');
      // No name iproute2 could use: nsenter for the pod end, and a sysctl process of its own.
      expect(reply.spawns).toBe(3);
      expect(await t.sysctls(pod, ['net/ipv4/ip_forward'])).toEqual({
        'net/ipv4/ip_forward': '0',
      });
    } finally {
      execFileSync('umount', [odd]);
      await rm(dir, { recursive: true });
    }
  });

  it('configures the pod end from processes of its own when the temporary directory refuses a file', async () => {
    const t = topology();
    const pod = await t.pod();
    await t.setSysctls(pod, { 'net/ipv4/ip_forward': '1' });
    const reply = ok(
      await t.driver(
        { op: 'setup', spec: spec(pod, 'calia11', ['10.65.11.2']) },
        // tsx, which runs the driver, would make its cache directory there otherwise.
        { TMPDIR: '/nonexistent-calico-tmp', TSX_DISABLE_CACHE: '1' },
      ),
    );
    // The host's batch, the pod end's batch and the sysctl, each a process of its own.
    expect(reply.spawns).toBe(3);
    const [eth0] = await ipJson(pod.name, 'addr', 'show', 'dev', 'eth0');
    expect(eth0?.address).toBe((reply.value as { containerMac: string }).containerMac);
    const addresses = (eth0?.addr_info as { local: string; prefixlen: number }[]).map(
      (a) => `${a.local}/${a.prefixlen}`,
    );
    expect(addresses).toContain('10.65.11.2/32');
    expect(await t.sysctls(pod, ['net/ipv4/ip_forward'])).toEqual({ 'net/ipv4/ip_forward': '0' });
  });

  it.each([
    ['the families it got', { v4: true, v6: false }, { ip_forward: '0', v6: 'unchanged' }],
    ['other families than it got', { v4: false, v6: true }, { ip_forward: '0', v6: 'set' }],
  ])(
    'sets the pod sysctls while IPAM runs when told %s, and those of its addresses in the end',
    async (_told, families, want) => {
      const t = topology();
      const pod = await t.pod();
      const keys = ['net/ipv4/ip_forward', 'net/ipv6/conf/all/forwarding'];
      // Both on, so that a 0 proves a write.
      await t.setSysctls(pod, {
        'net/ipv4/ip_forward': '1',
        'net/ipv6/conf/all/forwarding': '1',
      });
      const reply = ok(
        await t.driver({
          op: 'setup',
          spec: { ...spec(pod, 'calia10', ['10.65.10.2']), families },
        }),
      );
      expect(reply.spawns).toBe(1);
      expect(await t.sysctls(pod, keys)).toEqual({
        'net/ipv4/ip_forward': want.ip_forward,
        // allow_ip_forwarding is off: a hint of IPv6 wrote its forwarding 0 while IPAM ran.
        'net/ipv6/conf/all/forwarding': want.v6 === 'set' ? '0' : '1',
      });
    },
  );

  it('refuses an unusable netns with 8 before creating anything', async () => {
    const t = topology();
    const nodeBefore = await state(t.node.name);
    for (const path of ['/var/run/netns/dpt-absent', '/etc/hostname', '/proc/self/ns/net']) {
      const reply = await t.driver({
        op: 'setup',
        spec: { ...spec({ name: '', path }, 'calia7', ['10.65.7.2']) },
      });
      expect(reply, path).toMatchObject({ ok: false, code: ErrorCode.invalidNetns });
    }
    expect(await state(t.node.name)).toBe(nodeBefore);
  });
});
