import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { etcdSettings } from '../lib/datastore/config';
import { openKv } from '../lib/datastore/open-kv';
import { describeWithEtcd } from '../lib/datastore/testing/describe-with-etcd';
import { startEtcd, type EtcdServer } from '../lib/datastore/testing/etcd-server';
import { makeTestPki, serverTlsOf, type TestPki } from '../lib/datastore/testing/test-pki';
import { ipamNetconf, rawPool, runIpam, type Run } from './testing/ipam-binary';

// Issue 7 item 5 for dist/calico-ipam: etcd with client-certificate auth (a PKI made by openssl
// for this test). The three files work; a wrong CA, a missing key or no client certificate give
// an error naming the file to fix; no run prints any line of the key.

let pki: TestPki;
let etcd: EtcdServer;
/** Every base64 line of the client and server keys: none may appear in any output. */
let keyLines: string[];

beforeAll(async () => {
  pki = makeTestPki();
  etcd = await startEtcd({ tls: serverTlsOf(pki) });
  keyLines = [pki.clientKeyFile, pki.serverKeyFile].flatMap((f) =>
    readFileSync(f, 'utf8')
      .split('\n')
      .filter((l) => l.length > 20 && !l.startsWith('-----')),
  );
}, 60_000);
afterAll(async () => {
  await etcd.stop();
  pki.remove();
});

function run(command: 'ADD' | 'DEL' | 'CHECK', files: Record<string, string>): Promise<Run> {
  return runIpam({
    command,
    containerId: 'tls-1',
    netconf: ipamNetconf(etcd.endpoint, {
      node: 'node-tls',
      cniVersion: '1.0.0',
      extra: { etcd_timeout_seconds: 2, ...files },
    }),
  });
}

function expectNoKeyMaterial(r: Run): void {
  const out = r.stdout + r.stderr;
  expect(out).not.toContain('PRIVATE KEY');
  for (const line of keyLines) expect(out).not.toContain(line);
}

describeWithEtcd('calico-ipam against etcd with client-certificate auth', () => {
  const good = (): Record<string, string> => ({
    etcd_ca_cert_file: pki.caFile,
    etcd_cert_file: pki.clientCertFile,
    etcd_key_file: pki.clientKeyFile,
  });

  it('assigns, checks and releases with etcd_ca_cert_file, etcd_cert_file and etcd_key_file', async () => {
    // The pool and the final check go through a client with the same three files.
    const kv = openKv(etcdSettings({ etcd_endpoints: etcd.endpoint, ...good() }, {}));
    try {
      await kv.put(
        '/calico/resources/v3/projectcalico.org/ippools/tls',
        rawPool('tls', '10.66.0.0/16'),
      );
      const add = await run('ADD', good());
      expect(add).toMatchObject({ code: 0 });
      expect(add.json).toMatchObject({
        ips: [{ address: expect.stringMatching(/^10\.66\./) as unknown }],
      });
      expect(await run('CHECK', good())).toMatchObject({ code: 0, stdout: '' });
      const del = await run('DEL', good());
      expect(del).toMatchObject({ code: 0, stdout: '' });
      expect((await kv.range('/calico/ipam/v2/handle/', { prefix: true })).kvs).toEqual([]);
      for (const r of [add, del]) expectNoKeyMaterial(r);
    } finally {
      kv.close();
    }
  });

  it('a CA that did not sign the server: code 11 naming the CA file', async () => {
    const r = await run('ADD', { ...good(), etcd_ca_cert_file: pki.otherCaFile });
    expect(r.json).toMatchObject({ code: 11 });
    expect(String(r.json?.msg)).toContain(`not trusted by etcd_ca_cert_file "${pki.otherCaFile}"`);
    expectNoKeyMaterial(r);
  });

  it('a missing key file: code 7 naming it, before any connection', async () => {
    const missing = join(pki.dir, 'gone-key.pem');
    const r = await run('ADD', { ...good(), etcd_key_file: missing });
    expect(r.json).toMatchObject({
      code: 7,
      msg: `invalid etcd settings: etcd_key_file: cannot read "${missing}": no such file or directory`,
    });
  });

  it('a key file that is not PEM (say, the certificate given twice the wrong way): named, contents not quoted', async () => {
    const r = await run('ADD', { ...good(), etcd_key_file: join(pki.dir, 'client.ext') });
    expect(r.json).toMatchObject({ code: 7 });
    expect(String(r.json?.msg)).toContain('client.ext" is not a PEM file');
    expect(String(r.json?.msg)).not.toContain('clientAuth');
  });

  it('no client certificate: etcd refuses, and the error says which settings are missing', async () => {
    const r = await run('ADD', { etcd_ca_cert_file: pki.caFile });
    expect(r.json).toMatchObject({ code: 11 });
    expect(String(r.json?.msg)).toContain(
      'etcd refused the client certificate: none configured, set etcd_cert_file and etcd_key_file',
    );
    expectNoKeyMaterial(r);
  });

  it('the key of someone else (the server key with the client certificate): refused, no key printed', async () => {
    const r = await run('ADD', { ...good(), etcd_key_file: pki.serverKeyFile });
    expect(r.json).toMatchObject({
      code: 7,
      msg: expect.stringContaining(
        `etcd_key_file "${pki.serverKeyFile}" does not belong to the certificate in etcd_cert_file "${pki.clientCertFile}"`,
      ) as unknown,
    });
    expectNoKeyMaterial(r);
  });
});
