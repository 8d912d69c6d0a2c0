import { afterEach, beforeEach, expect, it } from 'vitest';
import type { CalicoNode } from './support/calico-node';
import { useCalicoNode } from './support/hooks';
import { calicoPlugin } from './support/libcni-runtime';
import { Podman, podmanMissing } from './support/podman';
import { describeAsRoot } from './support/root';
import type { Topology } from './support/topology';

// podman with its CNI backend, our conflist and bundles, on a node netns with a real etcd:
// containers get addresses from our pool, reach each other, and give them back when removed
// (issue 5, item 4).

const NETWORK = 'calico-net';
const NOTHING_LEFT = { links: [], routes: [], allocations: 0, handles: 0, endpoints: 0 };

let node: CalicoNode;
let podman: Podman | undefined;

describeAsRoot(
  'podman with the CNI backend on our network',
  () => {
    const calicoNode = useCalicoNode();
    const topology = (): Topology => calicoNode().topology;
    beforeEach(async () => {
      node = calicoNode();
      podman = await Podman.create(topology().node, {
        cniVersion: '1.0.0',
        name: NETWORK,
        plugins: [calicoPlugin(node)],
      });
    });
    afterEach(async () => {
      await podman?.close();
      podman = undefined;
    });

    it('two containers get pool addresses, ping each other, and removal releases them', async () => {
      const p = podman ?? (await Promise.reject<Podman>(new Error('no podman')));
      const ids: string[] = [];
      for (const name of ['ctr-a', 'ctr-b']) {
        const id = await p.run(
          'run',
          '--detach',
          '--name',
          name,
          '--network',
          NETWORK,
          Podman.image,
          '/bin/sleep',
          '300',
        );
        ids.push(id.trim());
      }
      const a = await p.address('ctr-a', NETWORK);
      const b = await p.address('ctr-b', NETWORK);
      expect(a).toMatch(/^10\.1\.\d+\.\d+$/);
      expect(b).toMatch(/^10\.1\.\d+\.\d+$/);
      expect(a).not.toBe(b);

      // What calico wrote for them: two allocations, two endpoints, two host veths on the node.
      const held = await node.leftovers();
      expect(held.allocations).toBe(2);
      expect(held.endpoints).toBe(2);
      expect(held.links.filter((l) => l.startsWith('cali'))).toHaveLength(2);
      expect(held.routes.sort()).toEqual([a, b].sort());
      // The container sees the address on its eth0.
      expect(await p.run('exec', 'ctr-a', '/bin/ip', '-4', '-o', 'addr', 'show', 'eth0')).toContain(
        `${a}/32`,
      );

      await p.run('exec', 'ctr-a', '/bin/ping', '-c1', '-W2', b);
      await p.run('exec', 'ctr-b', '/bin/ping', '-c1', '-W2', a);

      await p.run('rm', '--force', '--time', '0', 'ctr-a', 'ctr-b');
      expect(await node.leftovers()).toEqual(NOTHING_LEFT);
      for (const id of ids) expect(Podman.cachedResults(id)).toEqual([]);
    });
  },
  { missing: podmanMissing() },
);
