import { ipFamily } from './ip-text';
import { CniError, ErrorCode } from './errors';
import { quote } from './validate';

/** The CNI_ARGS keys Calico understands (calico-behaviour.md §1.3), typed. */
export interface CniArgs {
  k8sPodNamespace?: string;
  k8sPodName?: string;
  k8sPodInfraContainerId?: string;
  /** A specific address requested for IPAM ADD (`IP=`). */
  ip?: string;
  /** Every pair as given, including keys we do not know (kept for delegation and logs). */
  raw: ReadonlyMap<string, string>;
}

const KNOWN_KEYS = new Set([
  'IgnoreUnknown',
  'K8S_POD_NAMESPACE',
  'K8S_POD_NAME',
  'K8S_POD_INFRA_CONTAINER_ID',
  'IP',
]);

function argsError(msg: string): CniError {
  return new CniError(ErrorCode.invalidEnvironment, `CNI_ARGS: ${msg}`);
}

function parseBool(key: string, value: string): boolean {
  if (value === '1' || value === 'true' || value === 'True') return true;
  if (value === '0' || value === 'false' || value === 'False') return false;
  throw argsError(`${key}=${quote(value)} is not a boolean (want 1, true, 0 or false)`);
}

/**
 * Parses `K=V;K=V` like libcni's types.LoadArgs: a pair without exactly one `=` is an error, and
 * so is an unknown key unless IgnoreUnknown is set (anywhere in the string) or `ignoreUnknown`
 * is passed, as Calico's main plugin does for itself. Unlike LoadArgs, a repeated key is an error
 * rather than "last one wins", so `IP=a;IP=b` cannot smuggle a second address past a check.
 */
export function parseCniArgs(text: string, options: { ignoreUnknown?: boolean } = {}): CniArgs {
  const raw = new Map<string, string>();
  for (const pair of text.split(';')) {
    if (pair === '') continue;
    const parts = pair.split('=');
    if (parts.length !== 2 || parts[0] === '') {
      throw argsError(`invalid pair ${quote(pair)}: want KEY=VALUE`);
    }
    const [key = '', value = ''] = parts;
    if (raw.has(key)) throw argsError(`key ${quote(key)} is given more than once`);
    raw.set(key, value);
  }
  const ignoreFlag = raw.get('IgnoreUnknown');
  const ignoreUnknown =
    options.ignoreUnknown === true ||
    (ignoreFlag !== undefined && parseBool('IgnoreUnknown', ignoreFlag));
  if (!ignoreUnknown) {
    const unknown = [...raw.keys()].find((key) => !KNOWN_KEYS.has(key));
    if (unknown !== undefined) {
      throw argsError(`unknown key ${quote(unknown)} (set IgnoreUnknown=1 to allow unknown keys)`);
    }
  }
  const ip = raw.get('IP');
  if (ip !== undefined && ipFamily(ip) === 0) {
    throw argsError(`IP=${quote(ip)} is not an IP address`);
  }
  return {
    ...optional('k8sPodNamespace', raw.get('K8S_POD_NAMESPACE')),
    ...optional('k8sPodName', raw.get('K8S_POD_NAME')),
    ...optional('k8sPodInfraContainerId', raw.get('K8S_POD_INFRA_CONTAINER_ID')),
    ...optional('ip', ip),
    raw,
  };
}

// An empty value means "not given", as Calico treats K8S_POD_NAME= from some runtimes.
function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined || value === '' ? {} : ({ [key]: value } as Record<K, string>);
}
