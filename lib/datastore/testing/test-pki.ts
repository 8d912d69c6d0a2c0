import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerTls } from './etcd-server';

// A throw-away PKI for the TLS tests: a CA, a server certificate for 127.0.0.1, a client
// certificate, and an unrelated second CA that must be rejected.

/** Paths of the generated PEM files. */
export interface TestPki {
  dir: string;
  caFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  clientCertFile: string;
  clientKeyFile: string;
  /** A CA that signed nothing here: a client trusting only it must refuse the server. */
  otherCaFile: string;
  /** Removes the directory. */
  remove(): void;
}

/** The TLS files of a test etcd (startEtcd's `tls`) from a test PKI. */
export function serverTlsOf(pki: TestPki): ServerTls {
  return {
    certFile: pki.serverCertFile,
    keyFile: pki.serverKeyFile,
    caFile: pki.caFile,
    clientCertFile: pki.clientCertFile,
    clientKeyFile: pki.clientKeyFile,
  };
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function makeCa(dir: string, name: string): void {
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      `${name}-key.pem`,
      '-out',
      `${name}.pem`,
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
    ],
    dir,
  );
}

function makeLeaf(dir: string, leaf: { name: string; extensions: string }): void {
  const { name, extensions } = leaf;
  openssl(
    [
      'req',
      '-new',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      `${name}-key.pem`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=${name}`,
    ],
    dir,
  );
  writeFileSync(join(dir, `${name}.ext`), extensions);
  openssl(
    [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca-key.pem',
      '-CAcreateserial',
      '-out',
      `${name}.pem`,
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
    ],
    dir,
  );
}

/** Generates the PKI in a new temporary directory. */
export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'calico-ts-pki-'));
  try {
    makeCa(dir, 'ca');
    makeCa(dir, 'other-ca');
    // etcd 3.4's gateway dials etcd's own gRPC port presenting the server certificate, so with
    // --client-cert-auth the server certificate must be good for client auth too.
    makeLeaf(dir, {
      name: 'server',
      extensions:
        'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n',
    });
    makeLeaf(dir, { name: 'client', extensions: 'extendedKeyUsage=clientAuth\n' });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    dir,
    caFile: join(dir, 'ca.pem'),
    serverCertFile: join(dir, 'server.pem'),
    serverKeyFile: join(dir, 'server-key.pem'),
    clientCertFile: join(dir, 'client.pem'),
    clientKeyFile: join(dir, 'client-key.pem'),
    otherCaFile: join(dir, 'other-ca.pem'),
    remove: () => {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
