import { readFileSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { CniError, ErrorCode } from '../cni/errors';
import { FieldReader, type JsonObject } from '../cni/json-fields';
import { quote } from '../cni/validate';

/** Where calico/node writes this host's node name. */
export const DEFAULT_NODENAME_FILE = '/var/lib/calico/nodename';

// Kubernetes node names are DNS subdomains; the name becomes part of etcd keys
// (/calico/ipam/v2/host/<node>/…) and WorkloadEndpoint names, so nothing else gets through.
const NODE_NAME = /^[a-zA-Z0-9]([a-zA-Z0-9._-]{0,251}[a-zA-Z0-9])?$/;

const read = new FieldReader(ErrorCode.invalidNetworkConfig, 'invalid network config: ');

/** The node name and where it came from, for log lines and error messages. */
export interface NodeName {
  name: string;
  source: 'nodename' | 'nodename_file' | 'hostname' | 'os hostname';
}

/**
 * Calico's DetermineNodename order (calico-behaviour.md §1.5): `nodename` → the content of
 * `nodename_file` → deprecated `hostname` → the OS hostname, lower-cased. The file content is
 * trimmed (upstream uses it as-is; calico/node writes it without a newline, editors add one).
 */
export function determineNodeName(
  netConf: JsonObject,
  io: { readFile?: (path: string) => string | undefined; hostname?: () => string } = {},
): NodeName {
  const readFile = io.readFile ?? readOptionalFile;
  const fromConf = read.optionalString(netConf.nodename, 'nodename');
  if (fromConf !== undefined && fromConf !== '') return checked(fromConf, 'nodename');
  const file = read.optionalString(netConf.nodename_file, 'nodename_file') ?? DEFAULT_NODENAME_FILE;
  const fromFile = readFile(file)?.trim();
  if (fromFile !== undefined && fromFile !== '') return checked(fromFile, 'nodename_file');
  const legacy = read.optionalString(netConf.hostname, 'hostname');
  if (legacy !== undefined && legacy !== '') return checked(legacy, 'hostname');
  return checked((io.hostname ?? osHostname)().trim().toLowerCase(), 'os hostname');
}

function checked(name: string, source: NodeName['source']): NodeName {
  if (!NODE_NAME.test(name)) {
    throw new CniError(
      ErrorCode.invalidNetworkConfig,
      `invalid node name ${quote(name)} from ${source}: want letters, digits, '.', '-' or '_', starting and ending with a letter or digit, at most 253 characters`,
    );
  }
  return { name, source };
}

function readOptionalFile(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CniError(
      ErrorCode.invalidNetworkConfig,
      `cannot read nodename_file ${path}: ${(err as Error).message}`,
    );
  }
}
