import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CniError, ErrorCode } from '../cni/errors';
import { DEFAULT_ENDPOINT, etcdSettings } from './config';
import { DEFAULT_TIMEOUTS } from './deadline';

const dir = mkdtempSync(join(tmpdir(), 'datastore-config-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});
const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const file = (name: string, content: string): string => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};

function configError(run: () => unknown): CniError {
  try {
    run();
  } catch (err) {
    if (err instanceof CniError) return err;
    throw err;
  }
  throw new Error('expected a CniError');
}

describe('etcdSettings', () => {
  it('defaults to the local etcd over the JSON gateway with a 5 s budget for the whole invocation', () => {
    expect(etcdSettings({}, {})).toEqual({
      endpoints: [DEFAULT_ENDPOINT],
      transport: 'json',
      timeouts: DEFAULT_TIMEOUTS,
    });
    expect(DEFAULT_TIMEOUTS.budgetMs).toBe(5_000);
  });

  it('reads ETCD_ENDPOINTS, and the netconf wins over it as in Calico', () => {
    const env = { ETCD_ENDPOINTS: 'http://10.0.0.1:2379' };
    expect(etcdSettings({}, env).endpoints).toEqual(['http://10.0.0.1:2379']);
    expect(etcdSettings({ etcd_endpoints: 'http://10.0.0.2:2379' }, env).endpoints).toEqual([
      'http://10.0.0.2:2379',
    ]);
    // Calico only exports non-empty netconf values, so an empty one leaves the environment's.
    expect(etcdSettings({ etcd_endpoints: '' }, env).endpoints).toEqual(['http://10.0.0.1:2379']);
  });

  it('splits a comma list, trims it, and makes every port explicit', () => {
    const { endpoints } = etcdSettings(
      { etcd_endpoints: ' http://a:2379 , https://b ,http://[fd00::1]:2379,http://c,' },
      {},
    );
    expect(endpoints).toEqual([
      'http://a:2379',
      'https://b:443',
      'http://[fd00::1]:2379',
      'http://c:80',
    ]);
  });

  it.each([
    ['ftp://a:2379', 'is not an http(s) URL'],
    ['127.0.0.1:2379', 'is not an http(s) URL'],
    ['http://', 'is not an http(s) URL'],
    ['http://a:2379/v3', 'has no path or query'],
    ['http://a:2379?x=1', 'has no path or query'],
    [',', 'no endpoint given'],
  ])('refuses etcd_endpoints %j with code 7 naming key and value', (value, problem) => {
    const err = configError(() => etcdSettings({ etcd_endpoints: value }, {}));
    expect(err.code).toBe(ErrorCode.invalidNetworkConfig);
    expect(err.message).toContain('etcd_endpoints');
    expect(err.message).toContain(problem);
    if (value !== ',') expect(err.message).toContain(JSON.stringify(value));
  });

  it('names the environment variable when the bad value came from there', () => {
    const err = configError(() => etcdSettings({}, { ETCD_ENDPOINTS: 'etcd:2379' }));
    expect(err.message).toBe(
      'invalid etcd settings: ETCD_ENDPOINTS: "etcd:2379" is not an http(s) URL like http://127.0.0.1:2379',
    );
  });

  it('never repeats a password from an endpoint URL', () => {
    const err = configError(() =>
      etcdSettings({ etcd_endpoints: 'http://root:hunter2@a:2379' }, {}),
    );
    expect(err.message).toContain('credentials in URLs are not supported');
    expect(err.message).not.toContain('hunter2');
  });

  it('refuses a netconf value that is not a string', () => {
    const err = configError(() => etcdSettings({ etcd_endpoints: ['http://a:2379'] }, {}));
    expect(err.message).toBe('invalid etcd settings: etcd_endpoints: must be a string, got a list');
  });

  it('selects the transport by etcd_transport and refuses anything else', () => {
    expect(etcdSettings({ etcd_transport: 'grpc' }, {}).transport).toBe('grpc');
    expect(etcdSettings({ etcd_transport: 'json' }, {}).transport).toBe('json');
    const err = configError(() => etcdSettings({ etcd_transport: 'http' }, {}));
    expect(err.message).toBe(
      'invalid etcd settings: etcd_transport: must be "json" or "grpc", got "http"',
    );
  });

  it('takes the budget from etcd_timeout_seconds and keeps the other bounds inside it', () => {
    expect(etcdSettings({ etcd_timeout_seconds: 0.5 }, {}).timeouts).toEqual({
      budgetMs: 500,
      requestMs: 500,
      dialMs: 500,
    });
    expect(etcdSettings({ etcd_timeout_seconds: 1.5 }, {}).timeouts).toEqual({
      budgetMs: 1500,
      requestMs: 1500,
      dialMs: DEFAULT_TIMEOUTS.dialMs,
    });
    expect(etcdSettings({ etcd_timeout_seconds: 30 }, {}).timeouts).toEqual({
      budgetMs: 30_000,
      requestMs: DEFAULT_TIMEOUTS.requestMs,
      dialMs: DEFAULT_TIMEOUTS.dialMs,
    });
  });

  it.each([0, -1, 601, '10', null])('refuses etcd_timeout_seconds %j', (value) => {
    const err = configError(() => etcdSettings({ etcd_timeout_seconds: value }, {}));
    expect(err.code).toBe(ErrorCode.invalidNetworkConfig);
    expect(err.message).toContain('etcd_timeout_seconds: must be a number of seconds');
  });

  it('reads the TLS files from the netconf, or else from ETCD_* variables', () => {
    const ca = file('ca.pem', PEM);
    const cert = file('cert.pem', PEM);
    const key = file('key.pem', PEM.replace(/CERTIFICATE/g, 'PRIVATE KEY'));
    const fromConf = etcdSettings(
      { etcd_ca_cert_file: ca, etcd_cert_file: cert, etcd_key_file: key },
      {},
    );
    expect(fromConf.tls?.ca?.toString()).toBe(PEM);
    expect(fromConf.tls?.key?.toString()).toContain('PRIVATE KEY');
    const fromEnv = etcdSettings({}, { ETCD_CA_CERT_FILE: ca });
    expect(fromEnv.tls).toEqual({
      ca: Buffer.from(PEM),
      sources: { ca: `ETCD_CA_CERT_FILE "${ca}"` },
    });
    expect(fromConf.tls?.sources).toEqual({
      ca: `etcd_ca_cert_file "${ca}"`,
      cert: `etcd_cert_file "${cert}"`,
      key: `etcd_key_file "${key}"`,
    });
    expect(etcdSettings({}, {}).tls).toBeUndefined();
  });

  it('names a missing TLS file and the key that named it', () => {
    const missing = join(dir, 'nope.pem');
    const err = configError(() => etcdSettings({}, { ETCD_CA_CERT_FILE: missing }));
    expect(err.code).toBe(ErrorCode.invalidNetworkConfig);
    expect(err.message).toBe(
      `invalid etcd settings: ETCD_CA_CERT_FILE: cannot read "${missing}": no such file or directory`,
    );
  });

  it('refuses a file that is not PEM without quoting its contents', () => {
    const junk = file('junk.key', 'SECRET-KEY-MATERIAL');
    const cert = file('c.pem', PEM);
    const err = configError(() => etcdSettings({ etcd_cert_file: cert, etcd_key_file: junk }, {}));
    expect(err.message).toBe(`invalid etcd settings: etcd_key_file: "${junk}" is not a PEM file`);
    expect(err.message).not.toContain('SECRET');
  });

  it('refuses a client certificate without its key, and a key without its certificate', () => {
    const cert = file('only.pem', PEM);
    expect(configError(() => etcdSettings({ etcd_cert_file: cert }, {})).message).toBe(
      'invalid etcd settings: etcd_cert_file: a client certificate needs etcd_key_file as well',
    );
    expect(configError(() => etcdSettings({}, { ETCD_KEY_FILE: cert })).message).toBe(
      'invalid etcd settings: ETCD_KEY_FILE: a client certificate needs etcd_cert_file as well',
    );
  });
});
