import { rmSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { etcdKvRequests } from '../ipam/testing/ipam-binary';
import type { CalicoNode, PluginRun } from './support/calico-node';
import { useCalicoNode } from './support/hooks';
import { describeAsRoot } from './support/root';
import { ip, ipJson, NODE_UPLINK_IP, type Netns, type Topology } from './support/topology';

// dist/calico end to end on a node netns with a real etcd (calico-behaviour.md §4–§6; issue 4).

const WEPS = '/calico/resources/v3/projectcalico.org/workloadendpoints/';
const PROFILES = '/calico/resources/v3/projectcalico.org/profiles/';
const HANDLES = '/calico/ipam/v2/handle/';
const BLOCKS = '/calico/ipam/v2/assignment/';

let node: CalicoNode;

function ok(run: PluginRun): Record<string, unknown> {
  if (run.code !== 0)
    throw new Error(`expected success, got exit ${run.code}: ${run.stdout} ${run.stderr}`);
  return run.json ?? {};
}

function podIp(result: Record<string, unknown>, n = 0): string {
  const ips = result.ips as { address: string }[];
  return ips[n]?.address.split('/')[0] ?? '';
}

/** Links of the node besides its loopback and uplink. */
async function nodeVeths(): Promise<string[]> {
  return (await ipJson(node.topology.node.name, 'link', 'show'))
    .map((l) => String(l.ifname))
    .filter((n) => n !== 'lo' && n !== 'up0');
}

async function allocations(): Promise<number> {
  let n = 0;
  for (const block of (await node.keys(BLOCKS)).values()) {
    n += (block.allocations as (number | null)[]).filter((a) => a !== null).length;
  }
  return n;
}

/** Nothing of a failed or deleted pod may remain: veth, host route, address, handle, endpoint. */
async function expectNothingLeft(): Promise<void> {
  expect(await nodeVeths()).toEqual([]);
  const routes = (await ipJson(node.topology.node.name, 'route', 'show')).map((r) => String(r.dst));
  expect(routes.filter((d) => d.startsWith('10.1.'))).toEqual([]);
  expect(await allocations()).toBe(0);
  expect((await node.keys(HANDLES)).size).toBe(0);
  expect((await node.keys(WEPS)).size).toBe(0);
}

describeAsRoot('calico plugin on a node netns with etcd', () => {
  const current = useCalicoNode();
  const topology = (): Topology => current().topology;
  beforeEach(() => {
    node = current();
  });
  // What a test puts in /tmp (host-local's state, a plain file posing as a netns), removed after
  // each test whatever its outcome.
  const scratch: string[] = [];
  const scratchPath = (name: string): string => {
    const path = `/tmp/${name}`;
    scratch.push(path);
    return path;
  };
  afterEach(() => {
    for (const path of scratch.splice(0)) rmSync(path, { recursive: true, force: true });
  });

  it('ADD builds the pod network, the endpoint and the profile as Calico does', async () => {
    const pod = await topology().pod();
    const result = ok(
      await node.calico({
        command: 'ADD',
        netns: pod,
        containerId: 'abc123def4567',
        conf: node.conf(),
      }),
    );
    const addr = podIp(result);
    expect(addr).toMatch(/^10\.1\.\d+\.\d+$/);
    expect(result).toEqual({
      cniVersion: '0.3.1',
      interfaces: [
        { name: 'caliabc123def45', mac: 'ee:ee:ee:ee:ee:ee' },
        {
          name: 'eth0',
          mac: expect.stringMatching(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/) as unknown,
          sandbox: pod.path,
        },
      ],
      ips: [{ version: '4', address: `${addr}/32`, interface: 1 }],
      routes: [{ dst: '0.0.0.0/0' }],
      dns: {},
    });
    const eth0 = (await ipJson(pod.name, 'addr', 'show', 'dev', 'eth0'))[0] as {
      addr_info: { local: string; prefixlen: number }[];
      address: string;
    };
    expect(eth0.addr_info.map((a) => `${a.local}/${a.prefixlen}`)).toContain(`${addr}/32`);
    const text = (v: unknown): string => (typeof v === 'string' ? v : '');
    const routes = (await ipJson(pod.name, 'route', 'show')).map(
      (r) => `${text(r.dst)} ${text(r.gateway)} ${text(r.dev)} ${text(r.scope)}`,
    );
    expect(routes.sort()).toEqual(['169.254.1.1  eth0 link', 'default 169.254.1.1 eth0 '].sort());
    const host = (await ipJson(node.topology.node.name, 'link', 'show', 'caliabc123def45'))[0];
    expect(host?.address).toBe('ee:ee:ee:ee:ee:ee');
    expect(host?.flags).toContain('UP');
    const sys = await topology().sysctls(node.topology.node, [
      'net/ipv4/conf/caliabc123def45/proxy_arp',
      'net/ipv4/conf/caliabc123def45/forwarding',
    ]);
    expect(Object.values(sys)).toEqual(['1', '1']);
    const hostRoute = await ipJson(node.topology.node.name, 'route', 'show', `${addr}/32`);
    expect(hostRoute).toEqual([
      expect.objectContaining({ dst: addr, dev: 'caliabc123def45', scope: 'link' }),
    ]);
    const weps = await node.keys(WEPS);
    expect([...weps.keys()]).toEqual([`${WEPS}default/node--1-cni-abc123def4567-eth0`]);
    const wep = [...weps.values()][0];
    expect(wep).toMatchObject({
      kind: 'WorkloadEndpoint',
      apiVersion: 'projectcalico.org/v3',
      metadata: {
        name: 'node--1-cni-abc123def4567-eth0',
        namespace: 'default',
        labels: {
          'projectcalico.org/namespace': 'default',
          'projectcalico.org/orchestrator': 'cni',
        },
      },
      spec: {
        orchestrator: 'cni',
        node: 'node-1',
        containerID: 'abc123def4567',
        endpoint: 'eth0',
        ipNetworks: [`${addr}/32`],
        profiles: ['net1'],
        interfaceName: 'caliabc123def45',
        mac: (result.interfaces as { mac: string }[])[1]?.mac,
      },
    });
    expect([...(await node.keys(PROFILES)).values()]).toEqual([
      expect.objectContaining({
        kind: 'Profile',
        metadata: expect.objectContaining({ name: 'net1' }) as unknown,
        spec: {
          ingress: [{ action: 'Allow', source: { selector: 'has(net1)' } }],
          egress: [{ action: 'Allow' }],
          labelsToApply: { net1: '' },
        },
      }),
    ]);
  });

  it('answers in the shape of 0.4.0, 1.0.0 and 1.1.0 configs', async () => {
    for (const [i, version] of ['0.4.0', '1.0.0', '1.1.0'].entries()) {
      const pod = await topology().pod();
      const result = ok(
        await node.calico({
          command: 'ADD',
          netns: pod,
          containerId: `v${i}`,
          conf: node.conf({ cniVersion: version }),
        }),
      );
      expect(result.cniVersion).toBe(version);
      const ip0 = (result.ips as Record<string, unknown>[])[0];
      expect(ip0?.version).toBe(version === '0.4.0' ? '4' : undefined);
      expect(ip0?.interface).toBe(1);
      const eth0 = (result.interfaces as Record<string, unknown>[])[1];
      expect(eth0?.sandbox).toBe(pod.path);
      expect(eth0?.mtu).toBe(version === '1.1.0' ? 1500 : undefined);
    }
  });

  it('two pods on the node ping each other and the node, through proxy ARP and host routes', async () => {
    const a = await topology().pod();
    const b = await topology().pod();
    const ra = ok(
      await node.calico({ command: 'ADD', netns: a, containerId: 'pod-a', conf: node.conf() }),
    );
    const rb = ok(
      await node.calico({ command: 'ADD', netns: b, containerId: 'pod-b', conf: node.conf() }),
    );
    expect(await topology().ping(a, podIp(rb))).toBe(true);
    expect(await topology().ping(b, podIp(ra))).toBe(true);
    expect(await topology().ping(a, NODE_UPLINK_IP)).toBe(true);
  });

  it("a pod beside others costs 2 etcd requests: its block rides in the first read, found by the others' host routes", async () => {
    const pods = [await topology().pod(), await topology().pod(), await topology().pod()];
    const requests: number[] = [];
    const addresses: string[] = [];
    for (const [i, pod] of pods.entries()) {
      const before = await etcdKvRequests(node.etcdEndpoint);
      const result = ok(
        await node.calico({ command: 'ADD', netns: pod, containerId: `c${i}`, conf: node.conf() }),
      );
      requests.push((await etcdKvRequests(node.etcdEndpoint)) - before);
      addresses.push(podIp(result));
    }
    // The first pod claims the block (no routes to guess from); the others find it hinted.
    expect(requests).toEqual([3, 2, 2]);
    const blockOf = (a: string) => a.split('.').slice(0, 3).join('.');
    expect(new Set(addresses.map(blockOf)).size).toBe(1);
    expect(new Set(addresses).size).toBe(3);
    for (const [i, pod] of pods.entries()) {
      ok(
        await node.calico({ command: 'DEL', netns: pod, containerId: `c${i}`, conf: node.conf() }),
      );
    }
    await expectNothingLeft();
  });

  it('DEL removes everything, is idempotent, and releases with the netns gone or unnamed', async () => {
    const conf = node.conf();
    const pod = await topology().pod();
    ok(await node.calico({ command: 'ADD', netns: pod, containerId: 'd1', conf }));
    expect(
      await node.calico({ command: 'DEL', netns: pod, containerId: 'd1', conf }),
    ).toMatchObject({ code: 0, stdout: '' });
    expect(await ipJson(pod.name, 'link', 'show', 'eth0').catch(() => [])).toEqual([]);
    await expectNothingLeft();
    expect(
      await node.calico({ command: 'DEL', netns: pod, containerId: 'd1', conf }),
    ).toMatchObject({ code: 0, stdout: '' });

    const gone = await topology().pod();
    ok(await node.calico({ command: 'ADD', netns: gone, containerId: 'd2', conf }));
    await topology().remove(gone);
    expect(
      await node.calico({ command: 'DEL', netns: gone, containerId: 'd2', conf }),
    ).toMatchObject({ code: 0, stdout: '' });
    await expectNothingLeft();

    const unnamed = await topology().pod();
    ok(await node.calico({ command: 'ADD', netns: unnamed, containerId: 'd3', conf }));
    expect(await node.calico({ command: 'DEL', netns: '', containerId: 'd3', conf })).toMatchObject(
      { code: 0, stdout: '' },
    );
    expect(await allocations()).toBe(0);
    expect((await node.keys(WEPS)).size).toBe(0);
  });

  it('each bad input fails clearly and leaves nothing behind', async () => {
    const cases: { name: string; call: () => Promise<PluginRun>; code: number; msg: RegExp }[] = [];
    const pod = await topology().pod();
    cases.push({
      name: 'ipam.type naming a missing binary',
      call: () =>
        node.calico({
          command: 'ADD',
          netns: pod,
          containerId: 'f1',
          conf: node.conf({ ipam: { type: 'no-such-ipam' } }),
        }),
      code: 102,
      msg: /no-such-ipam/,
    });
    const busy = await topology().pod();
    await ip('-n', busy.name, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'other');
    cases.push({
      name: 'CNI_IFNAME already present',
      call: () =>
        node.calico({ command: 'ADD', netns: busy, containerId: 'f2', conf: node.conf() }),
      code: 120,
      msg: /eth0/,
    });
    const file = scratchPath(`not-a-netns-${process.pid}`);
    writeFileSync(file, '');
    cases.push({
      name: 'a netns path that is a plain file',
      call: () =>
        node.calico({ command: 'ADD', netns: file, containerId: 'f3', conf: node.conf() }),
      code: 8,
      msg: /not-a-netns/,
    });
    cases.push({
      name: "the plugin's own netns",
      call: () =>
        node.calico({
          command: 'ADD',
          netns: '/proc/self/ns/net',
          containerId: 'f4',
          conf: node.conf(),
        }),
      code: 8,
      msg: /own network namespace/,
    });
    for (const c of cases) {
      const run = await c.call();
      expect([c.name, run.code]).toEqual([c.name, 1]);
      expect([c.name, run.json?.code]).toEqual([c.name, c.code]);
      expect(String(run.json?.msg)).toMatch(c.msg);
      expect(run.stdout.trim().split('\n')).toHaveLength(1);
      await expectNothingLeft();
    }
    // The interface that was there is untouched.
    expect((await ipJson(busy.name, 'link', 'show', 'eth0'))[0]?.ifname).toBe('eth0');

    // An exhausted pool: the only pool holds one address, and a first pod has it.
    await node.kv.delete('/calico/resources/v3/projectcalico.org/ippools/', { prefix: true });
    await node.kv.put(
      '/calico/resources/v3/projectcalico.org/ippools/one',
      JSON.stringify({
        kind: 'IPPool',
        apiVersion: 'projectcalico.org/v3',
        metadata: { name: 'one' },
        spec: { cidr: '10.1.9.9/32', blockSize: 32, nodeSelector: 'all()' },
      }),
    );
    const occupant = await topology().pod();
    ok(
      await node.calico({
        command: 'ADD',
        netns: occupant,
        containerId: 'occupant',
        conf: node.conf(),
      }),
    );
    const before = {
      veths: await nodeVeths(),
      weps: (await node.keys(WEPS)).size,
      handles: (await node.keys(HANDLES)).size,
    };
    const full = await node.calico({
      command: 'ADD',
      netns: pod,
      containerId: 'f5',
      conf: node.conf(),
    });
    expect(full.code).toBe(1);
    expect(full.json).toMatchObject({
      code: 110,
      msg: expect.stringContaining('10.1.9.9/32') as unknown,
    });
    expect({
      veths: await nodeVeths(),
      weps: (await node.keys(WEPS)).size,
      handles: (await node.keys(HANDLES)).size,
    }).toEqual(before);
    expect(await allocations()).toBe(1);
    ok(
      await node.calico({
        command: 'DEL',
        netns: occupant,
        containerId: 'occupant',
        conf: node.conf(),
      }),
    );
    await expectNothingLeft();
  });

  it('works end to end with host-local as the IPAM (exec path)', async () => {
    const dataDir = scratchPath(`host-local-${node.topology.node.name}`);
    const conf = node.conf({ ipam: { type: 'host-local', subnet: '10.2.0.0/24', dataDir } });
    const a = await topology().pod();
    const b = await topology().pod();
    const ra = ok(
      await node.calico({
        command: 'ADD',
        netns: a,
        containerId: 'hl-a',
        conf,
        cniArgs: 'K8S_POD_UID=x',
      }),
    );
    const rb = ok(await node.calico({ command: 'ADD', netns: b, containerId: 'hl-b', conf }));
    expect(podIp(ra)).toMatch(/^10\.2\.0\.\d+$/);
    expect((ra.ips as { address: string }[])[0]?.address).toMatch(/\/32$/);
    expect(await topology().ping(a, podIp(rb))).toBe(true);
    for (const [pod, id] of [
      [a, 'hl-a'],
      [b, 'hl-b'],
    ] as const) {
      expect(
        await node.calico({ command: 'DEL', netns: pod, containerId: id, conf }),
      ).toMatchObject({ code: 0 });
    }
    await expectNothingLeft();
  });

  it('dual stack: both families configured, ping and ping -6 between two pods', async () => {
    await node.kv.put(
      '/calico/resources/v3/projectcalico.org/ippools/pool6',
      JSON.stringify({
        kind: 'IPPool',
        apiVersion: 'projectcalico.org/v3',
        metadata: { name: 'pool6' },
        spec: { cidr: 'fd00:10::/64', blockSize: 122, nodeSelector: 'all()' },
      }),
    );
    const conf = node.conf({ ipam: { assign_ipv6: 'true' } });
    const a = await topology().pod();
    const b = await topology().pod();
    const ra = ok(await node.calico({ command: 'ADD', netns: a, containerId: 'ds-a', conf }));
    const rb = ok(await node.calico({ command: 'ADD', netns: b, containerId: 'ds-b', conf }));
    expect((ra.ips as { address: string }[]).map((i) => i.address)).toEqual([
      expect.stringMatching(/\/32$/),
      expect.stringMatching(/^fd00:10::.*\/128$/),
    ]);
    expect(ra.routes).toEqual([{ dst: '0.0.0.0/0' }, { dst: '::/0' }]);
    expect(await topology().ping(a, podIp(rb, 0))).toBe(true);
    expect(await topology().ping(a, podIp(rb, 1))).toBe(true);
    expect(await topology().ping(b, podIp(ra, 1))).toBe(true);
  });

  it('CHECK passes right after ADD and fails clearly once the default route is gone', async () => {
    const conf = node.conf({ cniVersion: '1.0.0' });
    const pod = await topology().pod();
    const result = ok(await node.calico({ command: 'ADD', netns: pod, containerId: 'chk', conf }));
    const withPrev = { ...conf, prevResult: result };
    expect(
      await node.calico({ command: 'CHECK', netns: pod, containerId: 'chk', conf: withPrev }),
    ).toMatchObject({ code: 0, stdout: '' });
    await ip('-n', pod.name, 'route', 'del', 'default');
    const broken = await node.calico({
      command: 'CHECK',
      netns: pod,
      containerId: 'chk',
      conf: withPrev,
    });
    expect(broken.code).toBe(1);
    expect(broken.json).toMatchObject({
      code: 124,
      msg: expect.stringMatching(/route "default via 169\.254\.1\.1 dev eth0" missing/) as unknown,
    });
    const noPrev = await node.calico({ command: 'CHECK', netns: pod, containerId: 'chk', conf });
    expect(noPrev.json).toMatchObject({
      code: 7,
      msg: expect.stringContaining('prevResult') as unknown,
    });
  });

  it('a repeated ADD of the same container changes nothing and gives the same result', async () => {
    const pod = await topology().pod();
    const first = ok(
      await node.calico({ command: 'ADD', netns: pod, containerId: 'rep', conf: node.conf() }),
    );
    const again = ok(
      await node.calico({ command: 'ADD', netns: pod, containerId: 'rep', conf: node.conf() }),
    );
    expect(again).toEqual(first);
    expect(await allocations()).toBe(1);
  });

  it('programs the routes host-local asks for, and the defaults too only with include_default_routes', async () => {
    const dataDir = scratchPath(`host-local-routes-${node.topology.node.name}`);
    const ipam = {
      type: 'host-local',
      subnet: '10.3.0.0/24',
      dataDir,
      routes: [{ dst: '10.123.0.0/16' }],
    };
    const podRoutes = async (pod: Netns): Promise<string[]> =>
      (await ipJson(pod.name, 'route', 'show')).map((r) => String(r.dst)).sort();
    const a = await topology().pod();
    const ra = ok(
      await node.calico({
        command: 'ADD',
        netns: a,
        containerId: 'rt-a',
        conf: node.conf({ ipam }),
      }),
    );
    expect(await podRoutes(a)).toEqual(['10.123.0.0/16', '169.254.1.1']);
    expect(ra.routes).toEqual([{ dst: '10.123.0.0/16' }]);
    const b = await topology().pod();
    ok(
      await node.calico({
        command: 'ADD',
        netns: b,
        containerId: 'rt-b',
        conf: node.conf({ ipam, extra: { include_default_routes: true } }),
      }),
    );
    expect(await podRoutes(b)).toEqual(['10.123.0.0/16', '169.254.1.1', 'default']);
  });

  it('k8s: a new sandbox of the same pod gets a new address; DEL of the old one keeps the endpoint', async () => {
    const cniArgs = 'IgnoreUnknown=1;K8S_POD_NAMESPACE=test;K8S_POD_NAME=web-1;K8S_POD_UID=u1';
    const conf = node.conf();
    const first = await topology().pod();
    const r1 = ok(
      await node.calico({ command: 'ADD', netns: first, containerId: 'sandbox-x', conf, cniArgs }),
    );
    const second = await topology().pod();
    const r2 = ok(
      await node.calico({ command: 'ADD', netns: second, containerId: 'sandbox-y', conf, cniArgs }),
    );
    expect(podIp(r2)).not.toBe(podIp(r1));
    const wepKey = `${WEPS}test/node--1-k8s-web--1-eth0`;
    const wep = (await node.keys(WEPS)).get(wepKey);
    expect(wep).toMatchObject({
      metadata: {
        labels: { 'projectcalico.org/orchestrator': 'k8s', 'projectcalico.org/namespace': 'test' },
      },
      spec: {
        orchestrator: 'k8s',
        pod: 'web-1',
        containerID: 'sandbox-y',
        ipNetworks: [`${podIp(r2)}/32`],
      },
    });
    expect((r2.interfaces as { name: string }[])[0]?.name).toMatch(/^cali[0-9a-f]{11}$/);
    expect(
      await node.calico({ command: 'DEL', netns: first, containerId: 'sandbox-x', conf, cniArgs }),
    ).toMatchObject({ code: 0 });
    expect((await node.keys(WEPS)).get(wepKey)).toMatchObject({
      spec: { containerID: 'sandbox-y' },
    });
    expect(await topology().ping(second, NODE_UPLINK_IP)).toBe(true);
    expect(
      await node.calico({ command: 'DEL', netns: second, containerId: 'sandbox-y', conf, cniArgs }),
    ).toMatchObject({ code: 0 });
    await expectNothingLeft();
  });

  it('DEL with etcd unreachable removes the veth, fails with code 11, and a retry releases', async () => {
    const pod = await topology().pod();
    ok(await node.calico({ command: 'ADD', netns: pod, containerId: 'down', conf: node.conf() }));
    const dead = node.conf({
      extra: { etcd_endpoints: 'http://127.0.0.1:1', etcd_timeout_seconds: 2 },
    });
    const started = Date.now();
    const failed = await node.calico({
      command: 'DEL',
      netns: pod,
      containerId: 'down',
      conf: dead,
    });
    expect(Date.now() - started).toBeLessThan(6_000);
    expect(failed.json).toMatchObject({
      code: 11,
      msg: expect.stringContaining('http://127.0.0.1:1') as unknown,
    });
    expect(await nodeVeths()).toEqual([]);
    expect(await allocations()).toBe(1);
    expect(
      await node.calico({ command: 'DEL', netns: pod, containerId: 'down', conf: node.conf() }),
    ).toMatchObject({ code: 0 });
    await expectNothingLeft();
  });

  it('refuses ADD and DEL with code 11 while the datastore is not ready', async () => {
    await node.kv.put(
      '/calico/resources/v3/projectcalico.org/clusterinformations/default',
      JSON.stringify({
        kind: 'ClusterInformation',
        apiVersion: 'projectcalico.org/v3',
        metadata: { name: 'default' },
        spec: { datastoreReady: false },
      }),
    );
    const pod: Netns = await topology().pod();
    const add = await node.calico({
      command: 'ADD',
      netns: pod,
      containerId: 'nr',
      conf: node.conf(),
    });
    expect(add.json).toMatchObject({
      code: 11,
      msg: expect.stringContaining('not ready') as unknown,
    });
    const del = await node.calico({
      command: 'DEL',
      netns: pod,
      containerId: 'nr',
      conf: node.conf(),
    });
    expect(del.json).toMatchObject({ code: 11 });
    await expectNothingLeft();
  });
});
