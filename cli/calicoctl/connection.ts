import { existsSync, readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { CniError } from '../../lib/cni/errors';
import { isJsonObject, type JsonObject } from '../../lib/cni/json-fields';
import { etcdSettings } from '../../lib/datastore/config';
import type { Kv } from '../../lib/datastore/kv';
import { openKv } from '../../lib/datastore/open-kv';
import type { ClientSettings } from '../../lib/datastore/settings';
import { CliError } from './io';

// Where calicoctl finds etcd. Precedence: flags, then the ETCD_* environment the plugins read,
// then the config file (calicoctl's CalicoAPIConfig), then http://127.0.0.1:2379. TLS files go
// through the plugins' own settings code, so the same checks and messages apply.

/** calicoctl's default config file; read only when it exists. */
export const DEFAULT_CONFIG_FILE = '/etc/calico/calicoctl.cfg';

/** The connection flags every command accepts. */
export interface ConnectionFlags {
  endpoints?: string;
  config?: string;
  caCertFile?: string;
  certFile?: string;
  keyFile?: string;
}

// The netconf key, the environment variable, the CalicoAPIConfig spec field and the flag of each setting.
const SETTINGS = [
  ['etcd_endpoints', 'ETCD_ENDPOINTS', 'etcdEndpoints', 'endpoints', '--endpoints'],
  ['etcd_ca_cert_file', 'ETCD_CA_CERT_FILE', 'etcdCACertFile', 'caCertFile', '--ca-cert-file'],
  ['etcd_cert_file', 'ETCD_CERT_FILE', 'etcdCertFile', 'certFile', '--cert-file'],
  ['etcd_key_file', 'ETCD_KEY_FILE', 'etcdKeyFile', 'keyFile', '--key-file'],
] as const;

/**
 * A CLI run may release thousands of leaked addresses: the whole run gets the plugins' maximum
 * budget, while each request keeps its own short timeout, so a dead etcd still fails fast.
 */
const CLI_BUDGET_SECONDS = 600;

/** Client settings from flags, environment and config file; errors name the flag or file. */
export function connectionSettings(
  flags: ConnectionFlags,
  env: Readonly<Record<string, string | undefined>>,
): ClientSettings {
  const file = readConfigFile(flags.config);
  const netconf: JsonObject = { etcd_timeout_seconds: CLI_BUDGET_SECONDS };
  for (const [key, variable, field, flag] of SETTINGS) {
    const value = flags[flag] ?? (nonEmpty(env[variable]) ? undefined : file?.[field]);
    if (value !== undefined && value !== '') netconf[key] = value;
  }
  try {
    return etcdSettings(netconf, env);
  } catch (err) {
    if (!(err instanceof CniError)) throw err;
    let message = err.message;
    for (const [key, , , , flag] of SETTINGS) message = message.replaceAll(`${key}:`, `${flag}:`);
    throw new CliError(message);
  }
}

/** Opens etcd as configured by flags, environment and config file. */
export function openDatastore(
  flags: ConnectionFlags,
  env: Readonly<Record<string, string | undefined>>,
): Kv {
  return openKv(connectionSettings(flags, env));
}

function nonEmpty(value: string | undefined): boolean {
  return value !== undefined && value !== '';
}

/** The spec of a CalicoAPIConfig file (YAML or JSON), or undefined when there is none. */
function readConfigFile(path: string | undefined): Record<string, string> | undefined {
  const file = path ?? DEFAULT_CONFIG_FILE;
  if (path === undefined && !existsSync(file)) return undefined;
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new CliError(`config file ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!isJsonObject(doc) || doc.kind !== 'CalicoAPIConfig') {
    throw new CliError(`config file ${file}: kind must be CalicoAPIConfig`);
  }
  const spec = isJsonObject(doc.spec) ? doc.spec : {};
  const type = spec.datastoreType ?? 'etcdv3';
  if (type !== 'etcdv3') {
    throw new CliError(
      `config file ${file}: spec.datastoreType: only "etcdv3" is supported, got ${JSON.stringify(type)}`,
    );
  }
  const result: Record<string, string> = {};
  for (const [, , field] of SETTINGS) {
    const value = spec[field];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string') {
      throw new CliError(`config file ${file}: spec.${field} must be a string`);
    }
    result[field] = value;
  }
  return result;
}
