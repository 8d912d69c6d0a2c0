import { existsSync, readFileSync } from 'node:fs';
import { CniError, ErrorCode } from '../cni/errors';
import { FieldReader, type JsonObject } from '../cni/json-fields';
import { DEFAULT_NODENAME_FILE } from './node-name';

/** Where calico/node writes the host MTU for pods. */
export const MTU_FILE = '/var/lib/calico/mtu';
const DEFAULT_MTU = 1500;

/** The keys only the main plugin reads (calico-behaviour.md §1.1), parsed once. */
export interface MainNetConf {
  mtu: number;
  allowIpForwarding: boolean;
  includeDefaultRoutes: boolean;
  /** `feature_control.ip_addrs_no_ipam`: refused for the cni orchestrator, as upstream. */
  ipAddrsNoIpam: boolean;
}

const read = new FieldReader(ErrorCode.invalidNetworkConfig, 'invalid network config: ');

/**
 * Reads the main plugin's keys and refuses what this build does not do, clearly: the Kubernetes
 * datastore and `policy.type: "k8s"` (both need a Kubernetes API client). Unknown keys are ignored.
 */
export function parseMainNetConf(
  netConf: JsonObject,
  io: { readFile?: (path: string) => string | undefined } = {},
): MainNetConf {
  const readFile = io.readFile ?? readOptional;
  const datastore = read.optionalString(netConf.datastore_type, 'datastore_type') ?? 'etcdv3';
  if (datastore !== 'etcdv3') {
    throw new CniError(
      ErrorCode.unsupportedConfig,
      `datastore_type "${datastore}" is not supported: this plugin uses etcd v3 (datastore_type "etcdv3")`,
    );
  }
  const policy = netConf.policy === undefined ? {} : read.object(netConf.policy, 'policy');
  const policyType = read.optionalString(policy.type, 'policy.type') ?? '';
  if (policyType === 'k8s') {
    throw new CniError(
      ErrorCode.unsupportedConfig,
      'policy.type "k8s" is not supported: it needs the Kubernetes API; use an empty policy type',
    );
  }
  if (policyType !== '')
    throw read.fail('policy.type', `unknown type ${JSON.stringify(policyType)}`);
  const settings =
    netConf.container_settings === undefined
      ? {}
      : read.object(netConf.container_settings, 'container_settings');
  const features =
    netConf.feature_control === undefined
      ? {}
      : read.object(netConf.feature_control, 'feature_control');
  return {
    mtu: resolveMtu(netConf, readFile),
    allowIpForwarding: bool(settings.allow_ip_forwarding, 'container_settings.allow_ip_forwarding'),
    includeDefaultRoutes: bool(netConf.include_default_routes, 'include_default_routes'),
    ipAddrsNoIpam: bool(features.ip_addrs_no_ipam, 'feature_control.ip_addrs_no_ipam'),
  };
}

/**
 * Unless `nodename_file_optional` is true, the nodename file must exist, as upstream requires on
 * ADD: its absence means calico/node has not run on this host. Unlike upstream, an explicit
 * `nodename` in the netconf is enough (the file would only repeat it), so a host without
 * calico/node works by naming itself.
 */
export function requireNodenameFile(
  netConf: JsonObject,
  io: { exists?: (path: string) => boolean } = {},
): void {
  if (bool(netConf.nodename_file_optional, 'nodename_file_optional')) return;
  const explicit = read.optionalString(netConf.nodename, 'nodename');
  if (explicit !== undefined && explicit !== '') return;
  const file = read.optionalString(netConf.nodename_file, 'nodename_file') ?? DEFAULT_NODENAME_FILE;
  const exists = io.exists ?? existsSync;
  if (!exists(file)) {
    throw new CniError(
      ErrorCode.invalidNetworkConfig,
      `stat ${file}: no such file or directory: check that the calico/node container is running and has mounted /var/lib/calico/, or set nodename_file_optional`,
    );
  }
}

function resolveMtu(netConf: JsonObject, readFile: (path: string) => string | undefined): number {
  const mtu = read.optionalCount(netConf.mtu, 'mtu') ?? 0;
  if (mtu > 0) return checkMtu(mtu, 'mtu');
  const fromFile = readFile(MTU_FILE)?.trim();
  if (fromFile === undefined || fromFile === '') return DEFAULT_MTU;
  return checkMtu(Number(fromFile), MTU_FILE);
}

function checkMtu(mtu: number, source: string): number {
  // 68 is IPv4's minimum MTU; 65535 the largest a veth takes.
  if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535) {
    throw new CniError(
      ErrorCode.invalidNetworkConfig,
      `invalid MTU ${mtu} from ${source}: want 68–65535`,
    );
  }
  return mtu;
}

function bool(value: unknown, path: string): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean')
    throw read.fail(path, `must be true or false, got ${JSON.stringify(value)}`);
  return value;
}

function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
