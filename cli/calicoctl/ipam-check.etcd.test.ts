import { expect, it } from 'vitest';
import { assignAddresses } from '../../ipam/assign';
import { EtcdBlockStore } from '../../ipam/etcd-block-store';
import { rawPool } from '../../ipam/testing/ipam-binary';
import type { Kv } from '../../lib/datastore/kv';
import { describeWithEtcd } from '../../lib/datastore/testing/describe-with-etcd';
import { type EtcdServer } from '../../lib/datastore/testing/etcd-server';
import { calicoctl } from './testing/run-cli';
import { useSuiteEtcd } from '../../ipam/testing/suite-etcd';

// `calicoctl ipam check` over the consistency-check library: leaks made by the real allocator
// (addresses whose container has no endpoint), reported, dry-run, then released with progress.

let etcd: EtcdServer;
let kv: Kv;

async function leak(count: number): Promise<void> {
  const store = new EtcdBlockStore(kv);
  for (let i = 0; i < count; i++) {
    await assignAddresses(store, {
      node: 'node-1',
      handleId: `net.c${i}`,
      ipv4: true,
      ipv6: false,
      ipv4Pools: [],
      ipv6Pools: [],
      // An hour old: past the grace period of ADDs in flight.
      now: () => BigInt(Date.now() - 3_600_000) * 1_000_000n,
    });
  }
}

async function everything(): Promise<[string, string][]> {
  const { kvs } = await kv.range('/calico/', { prefix: true });
  return kvs.map((x) => [x.key, x.value]);
}

describeWithEtcd('calicoctl ipam check against a real etcd', () => {
  useSuiteEtcd((started, client) => {
    etcd = started;
    kv = client;
  });

  const ctl = (...args: string[]) => calicoctl(etcd.endpoint, args);

  it('a clean datastore passes with exit 0', async () => {
    await kv.put('/calico/resources/v3/projectcalico.org/ippools/p', rawPool('p', '10.1.0.0/16'));
    const run = await ctl('ipam', 'check');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(
      /^Checked 0 blocks, .*\nFound 0 problems\.\nFound 0 leaked addresses\.\n$/,
    );
  });

  it('reports leaks (exit 1), a dry run changes nothing, --release-leaks frees them with progress', async () => {
    await kv.put('/calico/resources/v3/projectcalico.org/ippools/p', rawPool('p', '10.1.0.0/16'));
    await leak(30);
    const check = await ctl('ipam', 'check', '--network', 'net');
    expect(check.status).toBe(1);
    expect(check.stdout).toContain('Found 30 leaked addresses:');
    expect(check.stderr).toBe('error: IPAM check found 0 problem(s) and 30 leaked address(es)\n');
    const before = await everything();
    const dry = await ctl('ipam', 'check', '--network', 'net', '--release-leaks', '--dry-run');
    expect(dry.status).toBe(0);
    expect(dry.stdout).toContain('Dry run: 30 handle(s) would be released; nothing changed.');
    expect(await everything()).toEqual(before);
    const repair = await ctl('ipam', 'check', '--network', 'net', '--release-leaks');
    expect(repair.status).toBe(0);
    expect(repair.stdout).toContain('Released 30 address(es).');
    const progress = repair.stderr.trimEnd().split('\n');
    expect(progress.length).toBe(15);
    expect(progress.at(-1)).toMatch(/^released 30\/30 leaked handles/);
    expect((await kv.range('/calico/ipam/v2/handle/', { prefix: true })).kvs).toEqual([]);
    expect((await ctl('ipam', 'check', '--network', 'net')).status).toBe(0);
  });

  it('--dry-run alone is refused', async () => {
    expect((await ctl('ipam', 'check', '--dry-run')).stderr).toBe(
      'error: --dry-run only goes with --release-leaks\n',
    );
  });
});
