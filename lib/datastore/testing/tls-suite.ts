import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CniError, ErrorCode } from '../../cni/errors';
import { etcdSettings } from '../config';
import { DatastoreError } from '../errors';
import { openKv } from '../open-kv';
import type { EtcdTransport } from '../settings';
import { clientFactory, timed } from './clients';
import { startEtcd, type EtcdServer } from './etcd-server';
import { makeTestPki, serverTlsOf, type TestPki } from './test-pki';

// etcd with --client-cert-auth: the right CA, certificate and key work; anything else fails
// quickly with a message that names the file or the TLS problem (never a key's contents).

const BUDGET_SECONDS = 1.5;

/** TLS tests for one transport (inside a describe block). */
export function defineTlsTests(transport: EtcdTransport): void {
  let pki: TestPki;
  let etcd: EtcdServer;
  const clients = clientFactory(transport);
  beforeAll(async () => {
    pki = makeTestPki();
    try {
      etcd = await startEtcd({
        tls: serverTlsOf(pki),
      });
    } catch (err) {
      pki.remove();
      throw err;
    }
  });
  afterAll(async () => {
    await etcd.stop();
    pki.remove();
  });

  const tlsConf = (overrides: Record<string, string> = {}): Record<string, string | number> => ({
    etcd_ca_cert_file: pki.caFile,
    etcd_cert_file: pki.clientCertFile,
    etcd_key_file: pki.clientKeyFile,
    etcd_timeout_seconds: BUDGET_SECONDS,
    ...overrides,
  });

  it('talks to etcd with the right CA, client certificate and key', async () => {
    const kv = clients.open(etcd.endpoint, tlsConf());
    await kv.put('/tls', 'v');
    expect((await kv.get('/tls'))?.value).toBe('v');
  });

  it('also takes the TLS files from the ETCD_* environment', async () => {
    const settings = etcdSettings(
      { etcd_endpoints: etcd.endpoint, etcd_transport: transport },
      {
        ETCD_CA_CERT_FILE: pki.caFile,
        ETCD_CERT_FILE: pki.clientCertFile,
        ETCD_KEY_FILE: pki.clientKeyFile,
      },
    );
    const kv = openKv(settings);
    try {
      expect((await kv.range('/', { prefix: true })).revision).toBeGreaterThan(0);
    } finally {
      kv.close();
    }
  });

  it('names a CA file that does not exist', () => {
    const missing = join(pki.dir, 'no-such-ca.pem');
    const open = (): unknown =>
      clients.open(etcd.endpoint, tlsConf({ etcd_ca_cert_file: missing }));
    expect(open).toThrow(CniError);
    expect(open).toThrow(`etcd_ca_cert_file: cannot read "${missing}": no such file or directory`);
  });

  it('names a missing key file', () => {
    const missing = join(pki.dir, 'gone-key.pem');
    const open = (): unknown => clients.open(etcd.endpoint, tlsConf({ etcd_key_file: missing }));
    expect(open).toThrow(expect.objectContaining({ code: ErrorCode.invalidNetworkConfig }));
    expect(open).toThrow(`etcd_key_file: cannot read "${missing}"`);
  });

  it('refuses a server its CA did not sign, quickly and saying why', async () => {
    const kv = clients.open(etcd.endpoint, tlsConf({ etcd_ca_cert_file: pki.otherCaFile }));
    const { ms, error } = await timed(kv.get('/tls'));
    expect(error).toBeInstanceOf(DatastoreError);
    expect((error as DatastoreError).message).toContain(etcd.endpoint);
    expect((error as DatastoreError).message).toMatch(/certificate|handshake|TLS|SSL/i);
    expect(ms).toBeLessThan(BUDGET_SECONDS * 1000 + 1000);
  });

  it('is refused by etcd without a client certificate, quickly', async () => {
    const kv = clients.open(etcd.endpoint, {
      etcd_ca_cert_file: pki.caFile,
      etcd_timeout_seconds: BUDGET_SECONDS,
    });
    const { ms, error } = await timed(kv.put('/tls', 'v'));
    expect(error).toBeInstanceOf(DatastoreError);
    expect(ms).toBeLessThan(BUDGET_SECONDS * 1000 + 1000);
  });
}
