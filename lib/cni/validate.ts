import { CniError, ErrorCode } from './errors';

// Container ID and network name share one regex since spec 1.0 (libcni pkg/utils).
const ID_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
// Linux IFNAMSIZ is 16 including the NUL, so 15 bytes of name.
const MAX_IFNAME_BYTES = 15;

/** Quotes a value for an error message without letting control characters through. */
export function quote(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
}

/** CNI_CONTAINERID: the spec 1.0 regex; it becomes part of etcd keys and interface names. */
export function validateContainerId(id: string): void {
  if (!ID_PATTERN.test(id)) {
    throw new CniError(ErrorCode.invalidEnvironment, 'invalid characters in containerID', id);
  }
}

/** CNI_IFNAME: Linux dev_valid_name rules, measured in bytes. */
export function validateIfName(name: string): void {
  const fail = (msg: string, details?: string): never => {
    throw new CniError(ErrorCode.invalidEnvironment, msg, details ?? `CNI_IFNAME=${quote(name)}`);
  };
  if (name === '') fail('interface name is empty');
  if (Buffer.byteLength(name, 'utf8') > MAX_IFNAME_BYTES) {
    fail('interface name is too long', `interface name should be less than 16 characters`);
  }
  if (name === '.' || name === '..') fail('interface name is . or ..');
  if (/[/:\s]/u.test(name)) fail('interface name contains / or : or whitespace characters');
}

/** The network `name`: code 7, as libcni's ValidateNetworkName. */
export function validateNetworkName(name: unknown): string {
  if (name === undefined || name === '') {
    throw new CniError(ErrorCode.invalidNetworkConfig, 'missing network name');
  }
  if (typeof name !== 'string') {
    throw new CniError(
      ErrorCode.invalidNetworkConfig,
      'invalid network config: name must be a string',
    );
  }
  if (!ID_PATTERN.test(name)) {
    throw new CniError(
      ErrorCode.invalidNetworkConfig,
      `invalid characters found in network name ${quote(name)}: only letters a-z, numbers 0-9, and symbols _.- are allowed, starting with a letter or number`,
      name,
    );
  }
  return name;
}

/** A plugin `type` is a file name looked up in CNI_PATH: no path separators, never empty. */
export function validatePluginType(field: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') {
    throw new CniError(ErrorCode.invalidNetworkConfig, `${field} must be a non-empty string`);
  }
  if (/[/\\]/.test(value) || value === '.' || value === '..') {
    throw new CniError(
      ErrorCode.invalidNetworkConfig,
      `invalid plugin name in ${field}: ${quote(value)} must not contain a path separator`,
    );
  }
  return value;
}
