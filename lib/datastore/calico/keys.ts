import { CniError, ErrorCode } from '../../cni/errors';
import { quote } from '../../cni/validate';
import { canonicalCidr } from './cidr-text';

// Calico v3's etcd key layout (libcalico-go backend/model; calico-behaviour.md §7.1). Names become
// path segments: an empty one or one with "/" would address another key, so both are refused.

const V3 = '/calico/resources/v3/projectcalico.org';
const IPAM = '/calico/ipam/v2';

/** Prefix of every IPPool key. */
export const IP_POOLS_PREFIX = `${V3}/ippools/`;
/** Prefix of every WorkloadEndpoint key (all namespaces). */
export const WORKLOAD_ENDPOINTS_PREFIX = `${V3}/workloadendpoints/`;
/** Prefix of every Profile key. */
export const PROFILES_PREFIX = `${V3}/profiles/`;
/** Prefix of every Node key. */
export const NODES_PREFIX = `${V3}/nodes/`;
/** Prefix of every IPReservation key. */
export const IP_RESERVATIONS_PREFIX = `${V3}/ipreservations/`;
/** The one ClusterInformation Calico reads (`default`). */
export const CLUSTER_INFORMATION_KEY = `${V3}/clusterinformations/default`;
/** Prefix of every allocation block, both families (one LIST in findUsableBlock). */
export const BLOCKS_PREFIX = `${IPAM}/assignment/`;
/** Prefix of every IPAM handle. */
export const HANDLES_PREFIX = `${IPAM}/handle/`;
/** The IPAM configuration (strict affinity, auto-allocate, block limit). */
export const IPAM_CONFIG_KEY = `${IPAM}/config`;

function segment(what: string, value: string): string {
  if (value === '' || value.includes('/')) {
    throw new CniError(
      ErrorCode.internal,
      `invalid ${what} for an etcd key: ${quote(value)} (must be non-empty without "/")`,
    );
  }
  return value;
}

/** The canonical CIDR with "/" → "-" as Calico puts it in keys, e.g. `10.0.0.64-26`. */
function cidrSegment(cidr: string): { family: 4 | 6; text: string } {
  const canonical = canonicalCidr(cidr);
  if (canonical === undefined) {
    throw new CniError(ErrorCode.internal, `invalid CIDR for an etcd key: ${quote(cidr)}`);
  }
  return { family: canonical.includes(':') ? 6 : 4, text: canonical.replace('/', '-') };
}

/** `/calico/resources/v3/projectcalico.org/ippools/<name>` */
export function ipPoolKey(name: string): string {
  return `${IP_POOLS_PREFIX}${segment('IPPool name', name)}`;
}

/** `…/workloadendpoints/<namespace>/<name>` */
export function workloadEndpointKey(namespace: string, name: string): string {
  return `${workloadEndpointsPrefix(namespace)}${segment('WorkloadEndpoint name', name)}`;
}

/** `…/workloadendpoints/<namespace>/`: the WEPs of one namespace. */
export function workloadEndpointsPrefix(namespace: string): string {
  return `${WORKLOAD_ENDPOINTS_PREFIX}${segment('namespace', namespace)}/`;
}

/** `…/profiles/<name>` */
export function profileKey(name: string): string {
  return `${PROFILES_PREFIX}${segment('Profile name', name)}`;
}

/** `…/nodes/<name>` */
export function nodeKey(name: string): string {
  return `${NODES_PREFIX}${segment('Node name', name)}`;
}

/** `…/ipreservations/<name>` */
export function ipReservationKey(name: string): string {
  return `${IP_RESERVATIONS_PREFIX}${segment('IPReservation name', name)}`;
}

/** `/calico/ipam/v2/assignment/ipv4/block/10.0.0.64-26` for `10.0.0.64/26`. */
export function blockKey(cidr: string): string {
  const { family, text } = cidrSegment(cidr);
  return `${blocksPrefix(family)}${text}`;
}

/** `/calico/ipam/v2/assignment/ipv<family>/block/`: the blocks of one family. */
export function blocksPrefix(family: 4 | 6): string {
  return `${BLOCKS_PREFIX}ipv${family}/block/`;
}

/** `/calico/ipam/v2/host/<host>/ipv4/block/10.0.0.64-26` (affinity type `host`). */
export function blockAffinityKey(host: string, cidr: string): string {
  const { family, text } = cidrSegment(cidr);
  return `${hostAffinitiesPrefix(host, family)}${text}`;
}

/** `/calico/ipam/v2/host/<host>/ipv<family>/block/`: one host's affinities of one family. */
export function hostAffinitiesPrefix(host: string, family: 4 | 6): string {
  return `${ipamHostKey(host)}/ipv${family}/block/`;
}

/** `/calico/ipam/v2/host/<host>` (value `{}`; also the root of the host's affinities). */
export function ipamHostKey(host: string): string {
  return `${IPAM}/host/${segment('host name', host)}`;
}

/** `/calico/ipam/v2/handle/<handleID>` */
export function handleKey(handleId: string): string {
  return `${HANDLES_PREFIX}${segment('IPAM handle', handleId)}`;
}

const BLOCK_KEY = /^\/calico\/ipam\/v2\/assignment\/ipv[46]\/block\/([^/]+)$/;
const AFFINITY_KEY = /^\/calico\/ipam\/v2\/host\/([^/]+)\/ipv[46]\/block\/([^/]+)$/;
const HANDLE_KEY = /^\/calico\/ipam\/v2\/handle\/([^/]+)$/;

/** `10.0.0.64/26` for a block key; undefined for any other key. */
export function cidrFromBlockKey(key: string): string | undefined {
  const match = BLOCK_KEY.exec(key);
  return match?.[1] === undefined ? undefined : canonicalCidr(match[1].replace('-', '/'));
}

/** `{host, cidr}` for an affinity key; undefined for any other key. */
export function parseBlockAffinityKey(key: string): { host: string; cidr: string } | undefined {
  const match = AFFINITY_KEY.exec(key);
  const [, host, cidr] = match ?? [];
  const canonical = cidr === undefined ? undefined : canonicalCidr(cidr.replace('-', '/'));
  return host === undefined || canonical === undefined ? undefined : { host, cidr: canonical };
}

/** The handle ID of a handle key; undefined for any other key. */
export function handleIdFromKey(key: string): string | undefined {
  return HANDLE_KEY.exec(key)?.[1];
}

/** The last path segment: the resource name of a v3 key. */
export function nameFromKey(key: string): string {
  return key.slice(key.lastIndexOf('/') + 1);
}
