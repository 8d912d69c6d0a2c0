import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assignAddresses } from '../../ipam/assign';
import { EtcdBlockStore } from '../../ipam/etcd-block-store';
import type { Kv } from '../../lib/datastore/kv';
import { describeWithEtcd } from '../../lib/datastore/testing/describe-with-etcd';
import { type EtcdServer } from '../../lib/datastore/testing/etcd-server';
import { calicoctl } from './testing/run-cli';
import { useSuiteEtcd } from '../../ipam/testing/suite-etcd';

// Every manifest verb and `get` against a real etcd, asserting on the raw keys: the stored JSON is
// byte for byte what Calico's codecs write, and what the allocator then reads.

let etcd: EtcdServer;
let kv: Kv;
let dir: string;

const POOL_YAML = `apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: pool-a
spec:
  cidr: 10.1.0.0/16
  blockSize: 26
  ipipMode: Never
  natOutgoing: true
  nodeSelector: all()
`;

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

async function raw(key: string): Promise<string | undefined> {
  return (await kv.get(key))?.value;
}

async function keys(prefix = '/calico/'): Promise<string[]> {
  return (await kv.range(prefix, { prefix: true, keysOnly: true })).kvs.map((x) => x.key);
}

/** The stored text with the generated uid and creationTimestamp masked. */
function masked(text: string | undefined): string {
  return (text ?? '')
    .replace(/"uid":"[0-9a-f-]{36}"/, '"uid":"UID"')
    .replace(/"creationTimestamp":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"/, '"creationTimestamp":"TS"');
}

const POOL_KEY = '/calico/resources/v3/projectcalico.org/ippools/pool-a';

describeWithEtcd('calicoctl resources against a real etcd', () => {
  useSuiteEtcd((started, client) => {
    etcd = started;
    kv = client;
  });
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'calicoctl-test-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const ctl = (...args: string[]) => calicoctl(etcd.endpoint, args);

  describe('create', () => {
    it('stores an IPPool as Calico v3 JSON that the allocator then assigns from', async () => {
      const run = await ctl('create', '-f', file('pool.yaml', POOL_YAML));
      expect(run).toMatchObject({
        status: 0,
        stdout: "Successfully created 1 'IPPool' resource(s)\n",
      });
      expect(masked(await raw(POOL_KEY))).toBe(
        '{"kind":"IPPool","apiVersion":"projectcalico.org/v3","metadata":{"name":"pool-a","uid":"UID","creationTimestamp":"TS"},' +
          '"spec":{"cidr":"10.1.0.0/16","vxlanMode":"Never","ipipMode":"Never","natOutgoing":true,"blockSize":26,"nodeSelector":"all()","allowedUses":["Workload","Tunnel"]}}',
      );
      const outcome = await assignAddresses(new EtcdBlockStore(kv), {
        node: 'node-1',
        handleId: 'net.c1',
        ipv4: true,
        ipv6: false,
        ipv4Pools: [],
        ipv6Pools: [],
        now: () => 1_700_000_000_000_000_000n,
      });
      expect(outcome.addresses[0]).toMatch(/^10\.1\.\d+\.\d+\/26$/);
    });

    it('applies the read defaults Calico applies: blockSize 26, selector all(), modes Never', async () => {
      const minimal = `{"apiVersion":"projectcalico.org/v3","kind":"IPPool","metadata":{"name":"pool-a"},"spec":{"cidr":"10.1.0.0/16"}}`;
      expect((await ctl('create', '-f', file('p.json', minimal))).status).toBe(0);
      expect(masked(await raw(POOL_KEY))).toContain(
        '"spec":{"cidr":"10.1.0.0/16","vxlanMode":"Never","ipipMode":"Never","natOutgoing":false,"blockSize":26,"nodeSelector":"all()"',
      );
    });

    it('stores Profile, Node and IPReservation exactly, from one multi-document YAML', async () => {
      const yaml = `apiVersion: projectcalico.org/v3
kind: Profile
metadata:
  name: dev
spec:
  labelsToApply:
    team: dev
  ingress:
  - action: Allow
---
apiVersion: projectcalico.org/v3
kind: Node
metadata:
  name: node-1
  labels:
    rack: r1
spec:
  bgp:
    ipv4Address: 10.99.0.1/24
---
apiVersion: projectcalico.org/v3
kind: IPReservation
metadata:
  name: keep
spec:
  reservedCIDRs: [10.1.0.0/30, 10.1.9.9]
`;
      const run = await ctl('create', '-f', file('many.yaml', yaml));
      expect(run).toMatchObject({ status: 0, stdout: 'Successfully created 3 resource(s)\n' });
      const v3 = '/calico/resources/v3/projectcalico.org';
      expect(masked(await raw(`${v3}/profiles/dev`))).toBe(
        '{"kind":"Profile","apiVersion":"projectcalico.org/v3","metadata":{"name":"dev","uid":"UID","creationTimestamp":"TS"},"spec":{"ingress":[{"action":"Allow"}],"labelsToApply":{"team":"dev"}}}',
      );
      expect(masked(await raw(`${v3}/nodes/node-1`))).toBe(
        '{"kind":"Node","apiVersion":"projectcalico.org/v3","metadata":{"name":"node-1","uid":"UID","creationTimestamp":"TS","labels":{"rack":"r1"}},"spec":{"bgp":{"ipv4Address":"10.99.0.1/24"}}}',
      );
      expect(masked(await raw(`${v3}/ipreservations/keep`))).toBe(
        '{"kind":"IPReservation","apiVersion":"projectcalico.org/v3","metadata":{"name":"keep","uid":"UID","creationTimestamp":"TS"},"spec":{"reservedCIDRs":["10.1.0.0/30","10.1.9.9"]}}',
      );
    });

    it('reads a JSON List from stdin', async () => {
      const list = JSON.stringify({
        apiVersion: 'projectcalico.org/v3',
        kind: 'IPPoolList',
        items: [
          {
            apiVersion: 'projectcalico.org/v3',
            kind: 'IPPool',
            metadata: { name: 'p1' },
            spec: { cidr: '10.5.0.0/24' },
          },
          {
            apiVersion: 'projectcalico.org/v3',
            kind: 'IPPool',
            metadata: { name: 'p2' },
            spec: { cidr: '10.6.0.0/24' },
          },
        ],
      });
      const run = await calicoctl(etcd.endpoint, ['create', '-f', '-'], { stdin: list });
      expect(run.status).toBe(0);
      expect(await keys()).toEqual([
        '/calico/resources/v3/projectcalico.org/ippools/p1',
        '/calico/resources/v3/projectcalico.org/ippools/p2',
      ]);
    });

    it('refuses an existing resource and leaves it unchanged', async () => {
      await ctl('create', '-f', file('pool.yaml', POOL_YAML));
      const before = await kv.get(POOL_KEY);
      const run = await ctl('create', '-f', file('pool.yaml', POOL_YAML));
      expect(run.status).toBe(1);
      expect(run.stderr).toBe(
        `error: IPPool "pool-a" already exists (${dir}/pool.yaml document 1)\n`,
      );
      expect(await kv.get(POOL_KEY)).toEqual(before);
    });
  });

  describe('invalid manifests: the error names the field and the value, and nothing is written', () => {
    const pool = (spec: string, name = 'pool-a') =>
      `apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: ${name}\nspec:\n${spec}`;
    it.each([
      ['a bad CIDR', pool('  cidr: 10.1.0.0/33\n'), 'spec.cidr: "10.1.0.0/33" is not a CIDR'],
      [
        'a host address',
        pool('  cidr: 10.1.0.300/16\n'),
        'spec.cidr: "10.1.0.300/16" is not a CIDR',
      ],
      [
        'blockSize above 32',
        pool('  cidr: 10.1.0.0/16\n  blockSize: 33\n'),
        'spec.blockSize: must be an integer from 20 to 32, got 33',
      ],
      [
        'blockSize below 20',
        pool('  cidr: 10.1.0.0/16\n  blockSize: 19\n'),
        'spec.blockSize: must be an integer from 20 to 32, got 19',
      ],
      [
        'a block larger than the pool',
        pool('  cidr: 10.1.0.0/28\n  blockSize: 26\n'),
        'spec.blockSize: 26 is larger than the pool 10.1.0.0/28',
      ],
      [
        'an unknown ipipMode',
        pool('  cidr: 10.1.0.0/16\n  ipipMode: Sometimes\n'),
        'spec.ipipMode: must be one of Never, Always, CrossSubnet, got "Sometimes"',
      ],
      [
        'a bad nodeSelector',
        pool('  cidr: 10.1.0.0/16\n  nodeSelector: "rack =="\n'),
        'spec.nodeSelector: "rack ==" is not a selector',
      ],
      [
        'a bad name',
        pool('  cidr: 10.1.0.0/16\n', 'Pool_A'),
        'metadata.name: "Pool_A" is not a valid name',
      ],
      [
        'another apiVersion',
        'apiVersion: v1\nkind: IPPool\nmetadata:\n  name: x\n',
        'apiVersion: must be projectcalico.org/v3, got "v1"',
      ],
      [
        'an unknown kind',
        'apiVersion: projectcalico.org/v3\nkind: Pod\nmetadata:\n  name: x\n',
        'unknown resource type "Pod"',
      ],
      [
        'a WorkloadEndpoint',
        'apiVersion: projectcalico.org/v3\nkind: WorkloadEndpoint\nmetadata:\n  name: x\n',
        'written by the calico CNI plugin',
      ],
      ['YAML that does not parse', 'kind: [IPPool\n', 'not valid YAML'],
      [
        'a bad reservation',
        'apiVersion: projectcalico.org/v3\nkind: IPReservation\nmetadata:\n  name: r\nspec:\n  reservedCIDRs: [nope]\n',
        'spec.reservedCIDRs[0]: "nope" is not a CIDR or an IP',
      ],
    ])('%s', async (_what, manifest, message) => {
      const run = await ctl('create', '-f', file('bad.yaml', manifest));
      expect(run.status).toBe(1);
      expect(run.stderr).toContain(message);
      expect(run.stderr).toMatch(/^error: /);
      expect(await keys()).toEqual([]);
    });

    it('an overlapping pool names the pool it overlaps', async () => {
      await ctl('create', '-f', file('pool.yaml', POOL_YAML));
      const run = await ctl(
        'apply',
        '-f',
        file('b.yaml', pool('  cidr: 10.1.128.0/17\n', 'pool-b')),
      );
      expect(run.status).toBe(1);
      expect(run.stderr).toContain(
        'spec.cidr: 10.1.128.0/17 overlaps IPPool "pool-a" (10.1.0.0/16)',
      );
      expect(await keys()).toEqual([POOL_KEY]);
    });

    it('stops at the first bad resource and says how many were written', async () => {
      const docs = `${pool('  cidr: 10.7.0.0/16\n', 'ok')}\n---\n${pool('  cidr: 10.8.0.0/16\n  blockSize: 99\n', 'bad')}`;
      const run = await ctl('create', '-f', file('two.yaml', docs));
      expect(run.status).toBe(1);
      expect(run.stderr).toContain('Partial success: created the first 1 out of 2 resources');
      expect(run.stderr).toContain('two.yaml document 2: spec.blockSize');
      expect(await keys()).toEqual(['/calico/resources/v3/projectcalico.org/ippools/ok']);
    });
  });

  describe('apply, replace, delete', () => {
    it('apply updates in place and keeps uid and creationTimestamp; CIDR changes are refused', async () => {
      await ctl('apply', '-f', file('pool.yaml', POOL_YAML));
      const created = JSON.parse((await raw(POOL_KEY)) ?? '') as { metadata: object };
      const run = await ctl(
        'apply',
        '-f',
        file('pool.yaml', POOL_YAML.replace('natOutgoing: true', 'natOutgoing: false')),
      );
      expect(run).toMatchObject({
        status: 0,
        stdout: "Successfully applied 1 'IPPool' resource(s)\n",
      });
      const updated = JSON.parse((await raw(POOL_KEY)) ?? '') as {
        metadata: object;
        spec: { natOutgoing: boolean };
      };
      expect(updated.metadata).toEqual(created.metadata);
      expect(updated.spec.natOutgoing).toBe(false);
      const moved = await ctl(
        'apply',
        '-f',
        file('pool.yaml', POOL_YAML.replace('10.1.0.0/16', '10.2.0.0/16')),
      );
      expect(moved.status).toBe(1);
      expect(moved.stderr).toContain('spec.cidr: cannot change from 10.1.0.0/16 to 10.2.0.0/16');
    });

    it('replace needs the resource, and a stale resourceVersion is a conflict', async () => {
      const missing = await ctl('replace', '-f', file('pool.yaml', POOL_YAML));
      expect(missing.stderr).toContain('IPPool "pool-a" does not exist');
      await ctl('create', '-f', file('pool.yaml', POOL_YAML));
      const got = await ctl('get', 'ippool', 'pool-a', '-o', 'yaml');
      const stale = got.stdout;
      expect((await ctl('replace', '-f', file('cur.yaml', stale))).status).toBe(0);
      const run = await ctl('replace', '-f', file('stale.yaml', stale));
      expect(run.status).toBe(1);
      expect(run.stderr).toMatch(/IPPool "pool-a" was modified since resourceVersion \d+/);
    });

    it('delete -f and delete KIND NAME remove the keys; a missing one is an error', async () => {
      await ctl('create', '-f', file('pool.yaml', POOL_YAML));
      expect((await ctl('delete', '-f', file('pool.yaml', POOL_YAML))).stdout).toBe(
        "Successfully deleted 1 'IPPool' resource(s)\n",
      );
      expect(await keys()).toEqual([]);
      await ctl('create', '-f', file('pool.yaml', POOL_YAML));
      expect((await ctl('delete', 'pool', 'pool-a')).status).toBe(0);
      expect(await keys()).toEqual([]);
      const again = await ctl('delete', 'ippool', 'pool-a');
      expect(again).toMatchObject({ status: 1, stderr: 'error: IPPool "pool-a" does not exist\n' });
    });
  });

  describe('get', () => {
    const WEP_KEY =
      '/calico/resources/v3/projectcalico.org/workloadendpoints/default/node--1-cni-c1-eth0';
    const WEP = JSON.stringify({
      kind: 'WorkloadEndpoint',
      apiVersion: 'projectcalico.org/v3',
      metadata: { name: 'node--1-cni-c1-eth0', namespace: 'default' },
      spec: {
        orchestrator: 'cni',
        workload: 'c1',
        node: 'node-1',
        endpoint: 'eth0',
        ipNetworks: ['10.1.0.5/32'],
        profiles: ['k8s-pod-network'],
        interfaceName: 'cali0123456789a',
      },
    });

    it('prints aligned tables, wide tables, and JSON/YAML carrying the etcd revision', async () => {
      await ctl('create', '-f', file('pool.yaml', POOL_YAML));
      const two = POOL_YAML.replace('pool-a', 'pool-bb').replace('10.1.0.0/16', '10.20.0.0/24');
      await ctl('create', '-f', file('two.yaml', two));
      expect((await ctl('get', 'ippool')).stdout).toBe(
        'NAME      CIDR           SELECTOR\npool-a    10.1.0.0/16    all()\npool-bb   10.20.0.0/24   all()\n',
      );
      expect((await ctl('get', 'pools', '-o', 'wide')).stdout.split('\n')[0]).toBe(
        'NAME      CIDR           BLOCKSIZE   NAT    IPIPMODE   VXLANMODE   DISABLED   DISABLEBGPEXPORT   SELECTOR',
      );
      const json = JSON.parse((await ctl('get', 'ippool', '-o', 'json')).stdout) as {
        kind: string;
        items: { metadata: { name: string; resourceVersion: string } }[];
      };
      expect(json.kind).toBe('IPPoolList');
      expect(json.items[0]?.metadata.resourceVersion).toBe(
        String((await kv.get(POOL_KEY))?.modRevision),
      );
      const yaml = parseYaml((await ctl('get', 'ippool', 'pool-a', '-o', 'yaml')).stdout) as {
        spec: { cidr: string; blockSize: number };
      };
      expect(yaml.spec).toMatchObject({ cidr: '10.1.0.0/16', blockSize: 26 });
    });

    it('lists the workload endpoints the plugin wrote, per namespace or all of them', async () => {
      await kv.put(WEP_KEY, WEP);
      expect((await ctl('get', 'workloadendpoint')).stdout).toBe(
        'WORKLOAD   NODE     NETWORKS      INTERFACE\nc1         node-1   10.1.0.5/32   cali0123456789a\n',
      );
      const wide = (await ctl('get', 'wep', '-A', '-o', 'wide')).stdout;
      expect(wide).toContain('NAMESPACE   NAME');
      expect(wide).toContain('default     node--1-cni-c1-eth0   c1         node-1   10.1.0.5/32');
      expect((await ctl('get', 'wep', '-n', 'other')).stdout).toBe(
        'WORKLOAD   NODE   NETWORKS   INTERFACE\n',
      );
    });

    it('an unknown name or kind is an error', async () => {
      expect(await ctl('get', 'ippool', 'nope')).toMatchObject({
        status: 1,
        stderr: 'error: IPPool "nope" does not exist\n',
      });
      expect((await ctl('get', 'pods')).stderr).toContain('unknown resource type "pods"');
      expect((await ctl('get', 'ippool', '-o', 'xml')).status).not.toBe(0);
    });
  });

  describe('connection', () => {
    it('takes ETCD_ENDPOINTS, then the config file; --endpoints wins', async () => {
      await ctl('create', '-f', file('pool.yaml', POOL_YAML));
      const env = await calicoctl(undefined, ['get', 'ippool'], {
        env: { ETCD_ENDPOINTS: etcd.endpoint },
      });
      expect(env.stdout).toContain('pool-a');
      const cfg = file(
        'calicoctl.cfg',
        `apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nspec:\n  datastoreType: etcdv3\n  etcdEndpoints: ${etcd.endpoint}\n`,
      );
      expect((await calicoctl(undefined, ['-c', cfg, 'get', 'ippool'])).stdout).toContain('pool-a');
      const dead = await calicoctl('http://127.0.0.1:1', ['-c', cfg, 'get', 'ippool']);
      expect(dead).toMatchObject({ status: 1 });
      expect(dead.stderr).toContain('etcd unreachable at http://127.0.0.1:1');
    });

    it('names the bad flag or setting', async () => {
      const bad = await calicoctl('ftp://x', ['get', 'ippool']);
      expect(bad.stderr).toContain('--endpoints: "ftp://x" is not an http(s) URL');
      const tls = await calicoctl(etcd.endpoint, [
        '--cert-file',
        '/nonexistent.pem',
        'get',
        'ippool',
      ]);
      expect(tls.stderr).toContain('needs etcd_key_file as well');
      const ca = await calicoctl(etcd.endpoint, [
        '--ca-cert-file',
        '/nonexistent.pem',
        'get',
        'ippool',
      ]);
      expect(ca.stderr).toContain(
        '--ca-cert-file: cannot read "/nonexistent.pem": no such file or directory',
      );
    });
  });
});
