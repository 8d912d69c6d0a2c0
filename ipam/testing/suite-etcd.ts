import { afterAll, afterEach, beforeAll } from 'vitest';
import type { Kv } from '../../lib/datastore/kv';
import { startEtcd, type EtcdServer } from '../../lib/datastore/testing/etcd-server';
import { rawKv } from './ipam-binary';

/**
 * The etcd tier's usual suite, registered inside its describe: one real etcd and a raw client for
 * the file (handed to `use` once started), every key wiped after each test.
 */
export function useSuiteEtcd(use: (etcd: EtcdServer, kv: Kv) => void): void {
  let etcd: EtcdServer | undefined;
  let kv: Kv | undefined;
  beforeAll(async () => {
    etcd = await startEtcd();
    kv = rawKv(etcd.endpoint);
    use(etcd, kv);
  }, 60_000);
  afterAll(async () => {
    kv?.close();
    await etcd?.stop();
  });
  afterEach(async () => {
    await etcd?.wipe();
  });
}
