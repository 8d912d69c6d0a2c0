import { readFileSync } from 'node:fs';
import { CniError, ErrorCode } from '../cni/errors';
import { describe, type JsonObject } from '../cni/json-fields';
import { DEFAULT_TIMEOUTS, type Timeouts } from './deadline';
import type { ClientSettings, EtcdTransport, TlsMaterial } from './settings';

// Netconf keys and environment variables that configure the etcd client. As in Calico
// (cni-plugin utils.CreateClient), a non-empty netconf key wins over the environment variable:
// Calico copies the netconf values into the environment before building its client.
//
//   etcd_endpoints        ETCD_ENDPOINTS       comma-separated http(s) URLs
//   etcd_ca_cert_file     ETCD_CA_CERT_FILE    PEM CA bundle (default: the system roots)
//   etcd_cert_file        ETCD_CERT_FILE       PEM client certificate (needs the key too)
//   etcd_key_file         ETCD_KEY_FILE        PEM client key (needs the certificate too)
//   etcd_transport        -                    "json" (default, the v3 JSON gateway) or "grpc"
//   etcd_timeout_seconds  -                    total time budget of one invocation's etcd calls
//                                              (default 5; each attempt on one endpoint also
//                                              stops after 2 s and each connect after 1 s, or
//                                              sooner, so that the next endpoint gets its turn)

/** The endpoint used when neither the netconf nor the environment names one (as Calico). */
export const DEFAULT_ENDPOINT = 'http://127.0.0.1:2379';

/** Upper bound for `etcd_timeout_seconds`: runtimes kill plugins long before this. */
const MAX_TIMEOUT_SECONDS = 600;

/** The environment variables read here. */
export type EtcdEnv = Readonly<Record<string, string | undefined>>;

/** One setting and where it came from, so that errors name the key the user actually wrote. */
interface Sourced {
  value: string;
  source: string;
}

/**
 * Client settings from the netconf (`raw` of the parsed NetConf) and the environment; reads the
 * TLS files. Errors are CniError code 7 naming the key or variable and the offending value; file
 * errors name the file but never its contents.
 */
export function etcdSettings(netconf: JsonObject, env: EtcdEnv): ClientSettings {
  const pick = (key: string, variable: string): Sourced | undefined => {
    const fromConf = netconf[key];
    if (fromConf !== undefined && typeof fromConf !== 'string') {
      throw invalid(key, `must be a string, got ${describe(fromConf)}`);
    }
    if (fromConf !== undefined && fromConf !== '') return { value: fromConf, source: key };
    const fromEnv = env[variable];
    return fromEnv === undefined || fromEnv === ''
      ? undefined
      : { value: fromEnv, source: variable };
  };
  const endpoints = parseEndpoints(
    pick('etcd_endpoints', 'ETCD_ENDPOINTS') ?? { value: DEFAULT_ENDPOINT, source: 'default' },
  );
  const tls = readTls({
    ca: pick('etcd_ca_cert_file', 'ETCD_CA_CERT_FILE'),
    cert: pick('etcd_cert_file', 'ETCD_CERT_FILE'),
    key: pick('etcd_key_file', 'ETCD_KEY_FILE'),
  });
  return {
    endpoints,
    transport: parseTransport(netconf.etcd_transport),
    ...(tls === undefined ? {} : { tls }),
    timeouts: parseTimeouts(netconf.etcd_timeout_seconds),
  };
}

function invalid(source: string, problem: string): CniError {
  return new CniError(
    ErrorCode.invalidNetworkConfig,
    `invalid etcd settings: ${source}: ${problem}`,
  );
}

/** `http(s)://host:port` with the port made explicit, so that both transports agree on it. */
function parseEndpoints(setting: Sourced): string[] {
  const entries = setting.value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (entries.length === 0) throw invalid(setting.source, 'no endpoint given');
  return entries.map((entry) => normaliseEndpoint(entry, setting.source));
}

function normaliseEndpoint(entry: string, source: string): string {
  const notUrl = (): CniError =>
    invalid(source, `${describe(redact(entry))} is not an http(s) URL like ${DEFAULT_ENDPOINT}`);
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    throw notUrl();
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
    throw notUrl();
  }
  if (url.username !== '' || url.password !== '') {
    throw invalid(source, `${describe(redact(entry))}: credentials in URLs are not supported`);
  }
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '') {
    throw invalid(source, `${describe(entry)}: an etcd endpoint has no path or query`);
  }
  const port = url.port === '' ? (url.protocol === 'https:' ? '443' : '80') : url.port;
  return `${url.protocol}//${url.hostname}:${port}`;
}

/** Hides a password in a URL that is about to appear in an error message. */
function redact(entry: string): string {
  return entry.replace(/\/\/[^/@]*@/, '//***@');
}

function parseTransport(value: unknown): EtcdTransport {
  if (value === undefined || value === 'json' || value === 'grpc') return value ?? 'json';
  throw invalid('etcd_transport', `must be "json" or "grpc", got ${describe(value)}`);
}

function parseTimeouts(value: unknown): Timeouts {
  if (value === undefined) return { ...DEFAULT_TIMEOUTS };
  if (typeof value !== 'number' || !(value > 0) || value > MAX_TIMEOUT_SECONDS) {
    throw invalid(
      'etcd_timeout_seconds',
      `must be a number of seconds above 0 and at most ${MAX_TIMEOUT_SECONDS}, got ${describe(value)}`,
    );
  }
  const budgetMs = Math.round(value * 1000);
  return {
    budgetMs,
    requestMs: Math.min(DEFAULT_TIMEOUTS.requestMs, budgetMs),
    dialMs: Math.min(DEFAULT_TIMEOUTS.dialMs, budgetMs),
  };
}

function readTls(files: {
  ca: Sourced | undefined;
  cert: Sourced | undefined;
  key: Sourced | undefined;
}): TlsMaterial | undefined {
  const { ca, cert, key } = files;
  if ((cert === undefined) !== (key === undefined)) {
    const given = cert ?? key;
    const missing = cert === undefined ? 'etcd_cert_file' : 'etcd_key_file';
    throw invalid(given?.source ?? missing, `a client certificate needs ${missing} as well`);
  }
  if (ca === undefined && cert === undefined) return undefined;
  const tls: TlsMaterial = { sources: {} };
  if (ca !== undefined) {
    tls.ca = readPem(ca);
    tls.sources = { ...tls.sources, ca: `${ca.source} ${describe(ca.value)}` };
  }
  if (cert !== undefined) {
    tls.cert = readPem(cert);
    tls.sources = { ...tls.sources, cert: `${cert.source} ${describe(cert.value)}` };
  }
  if (key !== undefined) {
    tls.key = readPem(key);
    tls.sources = { ...tls.sources, key: `${key.source} ${describe(key.value)}` };
  }
  return tls;
}

/** Reads a PEM file; errors name the file and never quote its contents (it may be a key). */
function readPem(file: Sourced): Buffer {
  let data: Buffer;
  try {
    data = readFileSync(file.value);
  } catch (err) {
    throw invalid(file.source, `cannot read ${describe(file.value)}: ${fileProblem(err)}`);
  }
  if (!data.includes('-----BEGIN ')) {
    throw invalid(file.source, `${describe(file.value)} is not a PEM file`);
  }
  return data;
}

function fileProblem(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    default:
      return typeof code === 'string' ? code : 'unreadable';
  }
}
