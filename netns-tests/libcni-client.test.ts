import { existsSync, readFileSync } from 'node:fs';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { buildLibcniClient } from '../conformance/libcni-client';
import type { Run } from '../ipam/testing/ipam-binary';
import type { CalicoNode } from './support/calico-node';
import { useCalicoNode } from './support/hooks';
import { calicoPlugin, LibcniRuntime } from './support/libcni-runtime';
import { describeAsRoot } from './support/root';
import { ip, ipJson } from './support/topology';
import type { Topology } from './support/topology';

// dist/calico (in-process calico-ipam, real etcd) driven through libcni, as containerd, CRI-O and
// podman drive it: the stdin libcni builds, its result cache, CHECK and DEL with the cached
// prevResult, DEL twice (issue 5, item 2).

const built = await buildLibcniClient();
const client = 'path' in built ? built.path : '';

const NOTHING_LEFT = { links: [], routes: [], allocations: 0, handles: 0, endpoints: 0 };

let node: CalicoNode;
let runtime: LibcniRuntime;

function ok(run: Run): Run {
  if (run.code !== 0) throw new Error(`libcni client exited ${String(run.code)}: ${run.stderr}`);
  return run;
}

describeAsRoot(
  'dist/calico through libcni',
  () => {
    const calicoNode = useCalicoNode();
    const topology = (): Topology => calicoNode().topology;
    beforeEach(() => {
      node = calicoNode();
      runtime = LibcniRuntime.create(client, node);
    });
    afterEach(() => {
      runtime.close();
    });

    it.each(['0.3.1', '0.4.0', '1.0.0'])(
      'conflist %s: validate, ADD, CHECK, DEL, DEL again',
      async (version) => {
        const conflist = runtime.conflist({
          cniVersion: version,
          name: 'net1',
          plugins: [calicoPlugin(node)],
        });
        // validate execs VERSION of every plugin and checks it supports the list's version.
        expect(ok(await runtime.validate(conflist)).json).toEqual([]);

        const pod = await topology().pod();
        const call = { conflist, netns: pod, containerId: 'ctr-libcni' };
        const result = ok(await runtime.run('add', call)).json ?? {};
        expect(result.cniVersion).toBe(version);
        const ips = result.ips as { address: string; interface: number }[];
        expect(ips).toHaveLength(1);
        const address = ips[0]?.address ?? '';
        expect(address).toMatch(/^10\.1\.\d+\.\d+\/32$/);
        const interfaces = result.interfaces as { name: string; sandbox?: string }[];
        expect(interfaces[ips[0]?.interface ?? -1]).toMatchObject({
          name: 'eth0',
          sandbox: pod.path,
        });

        // The pod has the address and Calico's two routes.
        const eth0 = (await ipJson(pod.name, 'addr', 'show', 'dev', 'eth0'))[0] as {
          addr_info: { family: string; local: string; prefixlen: number }[];
        };
        expect(
          eth0.addr_info.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`),
        ).toEqual([address]);
        const routes = (await ipJson(pod.name, 'route', 'show')).map(
          (r) => `${String(r.dst)} ${typeof r.gateway === 'string' ? r.gateway : '-'}`,
        );
        expect(routes.sort()).toEqual(['169.254.1.1 -', 'default 169.254.1.1']);

        // libcni cached the result it returned, with the config it ran.
        const cacheFile = runtime.cacheFile('net1', 'ctr-libcni');
        const cached = JSON.parse(readFileSync(cacheFile, 'utf8')) as Record<string, unknown>;
        expect(cached).toMatchObject({
          kind: 'cniCacheV1',
          containerId: 'ctr-libcni',
          ifName: 'eth0',
          networkName: 'net1',
          result,
        });

        if (version === '0.3.1') {
          // libcni refuses CHECK below 0.4.0 without running any plugin.
          const check = await runtime.run('check', call);
          expect(check.code).toBe(1);
          expect(check.stderr).toContain('does not support the CHECK command');
        } else {
          ok(await runtime.run('check', call));
          // CHECK really looks: with the pod's default route gone it fails.
          await ip('-n', pod.name, 'route', 'del', 'default');
          const broken = await runtime.run('check', call);
          expect(broken.code).toBe(1);
          expect(broken.stderr).not.toBe('');
          await ip('-n', pod.name, 'route', 'add', 'default', 'via', '169.254.1.1', 'dev', 'eth0');
          ok(await runtime.run('check', call));
        }

        expect((await node.leftovers()).allocations).toBe(1);
        ok(await runtime.run('del', call));
        expect(existsSync(cacheFile)).toBe(false);
        expect(await node.leftovers()).toEqual(NOTHING_LEFT);
        expect(await ipJson(pod.name, 'link', 'show', 'eth0').catch(() => [])).toEqual([]);
        // DEL again: no cache any more, nothing to delete, still success.
        ok(await runtime.run('del', call));
        expect(await node.leftovers()).toEqual(NOTHING_LEFT);
      },
    );

    it('passes CNI_ARGS through: k8s pod arguments name the WorkloadEndpoint', async () => {
      const conflist = runtime.conflist({
        cniVersion: '1.0.0',
        name: 'net1',
        plugins: [calicoPlugin(node)],
      });
      const pod = await topology().pod();
      const call = {
        conflist,
        netns: pod,
        containerId: 'sandbox-k8s',
        args: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=test;K8S_POD_NAME=web-1;K8S_POD_UID=u1',
      };
      const result = ok(await runtime.run('add', call)).json ?? {};
      const weps = await node.keys('/calico/resources/v3/projectcalico.org/workloadendpoints/');
      expect([...weps.keys()]).toEqual([
        '/calico/resources/v3/projectcalico.org/workloadendpoints/test/node--1-k8s-web--1-eth0',
      ]);
      expect([...weps.values()][0]).toMatchObject({
        spec: {
          orchestrator: 'k8s',
          pod: 'web-1',
          containerID: 'sandbox-k8s',
          ipNetworks: [(result.ips as { address: string }[])[0]?.address],
        },
      });
      ok(await runtime.run('check', call));
      ok(await runtime.run('del', call));
      expect(await node.leftovers()).toEqual(NOTHING_LEFT);
    });

    it('a failing ADD: libcni reports the plugin error, caches nothing, nothing is left', async () => {
      const conflist = runtime.conflist({
        cniVersion: '1.0.0',
        name: 'net1',
        plugins: [
          { ...calicoPlugin(node), ipam: { type: 'calico-ipam', ipv4_pools: ['10.9.0.0/16'] } },
        ],
      });
      const pod = await topology().pod();
      const run = await runtime.run('add', { conflist, netns: pod, containerId: 'ctr-fail' });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('10.9.0.0/16');
      expect(existsSync(runtime.cacheFile('net1', 'ctr-fail'))).toBe(false);
      expect(await node.leftovers()).toEqual(NOTHING_LEFT);
    });
  },
  { missing: 'missing' in built ? built.missing : undefined },
);
