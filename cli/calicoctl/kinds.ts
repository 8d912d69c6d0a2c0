import { isJsonObject, type JsonObject } from '../../lib/cni/json-fields';
import { encodeIpReservation, parseIpReservation } from '../../lib/datastore/calico/ip-reservation';
import { encodeIpPool, parseIpPool } from '../../lib/datastore/calico/ippool';
import {
  IP_POOLS_PREFIX,
  IP_RESERVATIONS_PREFIX,
  NODES_PREFIX,
  PROFILES_PREFIX,
  WORKLOAD_ENDPOINTS_PREFIX,
  ipPoolKey,
  ipReservationKey,
  nodeKey,
  profileKey,
  workloadEndpointKey,
  workloadEndpointsPrefix,
} from '../../lib/datastore/calico/keys';
import { encodeNode, parseNode } from '../../lib/datastore/calico/node';
import { encodeProfile, parseProfile } from '../../lib/datastore/calico/profile';
import type { ObjectMeta } from '../../lib/datastore/calico/resource';
import {
  encodeWorkloadEndpoint,
  parseWorkloadEndpoint,
} from '../../lib/datastore/calico/workload-endpoint';
import { CliError } from './io';

// The resource kinds calicoctl handles, each tied to the codec lib/datastore/calico already has
// for it: a manifest is parsed by the same code that reads etcd (so its errors name the field and
// value) and written by the same encoder the plugins use (so the stored JSON is Calico's).

/** A parsed resource with typed metadata. */
interface Resource {
  metadata: ObjectMeta;
  spec: object;
  raw?: JsonObject;
}

/** What the CLI needs to know about one kind. */
export interface KindInfo {
  readonly kind: string;
  /** Names accepted on the command line (`get ippool`, `get pools`, …). */
  readonly aliases: readonly string[];
  readonly namespaced: boolean;
  /** False for kinds only the plugins write (WorkloadEndpoint). */
  readonly writable: boolean;
  key(name: string, namespace: string): string;
  /** The prefix to list: one namespace, or all of them when `namespace` is undefined. */
  prefix(namespace: string | undefined): string;
  /**
   * Parses a manifest or stored value (errors: `invalid IPPool at <where>: spec.cidr: …`) and
   * returns its metadata and Calico's stored JSON, with `meta` (uid, timestamps) merged in.
   */
  canonical(where: string, text: string, options?: CanonicalOptions): Canonical;
  headers(options: TableOptions): string[];
  row(where: string, text: string, options: TableOptions): string[];
}

/** How `canonical` treats its input. */
export interface CanonicalOptions {
  /** Metadata to set (uid, creationTimestamp kept from the stored resource, or new ones). */
  meta?: Partial<ObjectMeta>;
  /**
   * The text is a manifest: write the modelled fields in Go's order, as calicoctl does, rather
   * than keep the input's field order (which is what the codecs do for stored values, so that a
   * newer Calico's fields survive). Fields the codecs do not model are dropped.
   */
  manifest?: boolean;
}

/** A resource in Calico's stored form. */
export interface Canonical {
  metadata: ObjectMeta;
  stored: string;
}

/** Which table `get` prints. */
export interface TableOptions {
  wide: boolean;
  allNamespaces: boolean;
}

interface KindDefinition<T extends Resource> {
  kind: string;
  aliases: string[];
  parse(where: string, text: string): T;
  encode(resource: T): string;
  key: (name: string, namespace: string) => string;
  prefix: (namespace: string | undefined) => string;
  namespaced?: boolean;
  writable?: boolean;
  /** True when the codec types the spec (and keeps the stored one in `spec.raw`). */
  typedSpec: boolean;
  columns(options: TableOptions): [string, (resource: T) => string][];
}

function defineKind<T extends Resource>(definition: KindDefinition<T>): KindInfo {
  return {
    kind: definition.kind,
    aliases: definition.aliases,
    namespaced: definition.namespaced ?? false,
    writable: definition.writable ?? true,
    key: definition.key,
    prefix: definition.prefix,
    canonical(where, text, options = {}) {
      const resource = definition.parse(where, text);
      resource.metadata = { ...resource.metadata, ...options.meta };
      if (options.manifest === true) {
        delete resource.raw;
        delete resource.metadata.raw;
        if (definition.typedSpec) delete (resource.spec as { raw?: unknown }).raw;
      }
      return { metadata: resource.metadata, stored: definition.encode(resource) };
    },
    headers: (options) => definition.columns(options).map(([header]) => header),
    row(where, text, options) {
      const resource = definition.parse(where, text);
      return definition.columns(options).map(([, cell]) => cell(resource));
    },
  };
}

const name = (r: Resource): string => r.metadata.name;

function labels(map: Record<string, string> | undefined): string {
  return Object.entries(map ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

function field(object: JsonObject, path: string): string {
  let value: unknown = object;
  for (const part of path.split('.')) value = isJsonObject(value) ? value[part] : undefined;
  return typeof value === 'string' || typeof value === 'number' ? String(value) : '';
}

const ipPool = defineKind({
  kind: 'IPPool',
  aliases: ['ippool', 'ippools', 'ipp', 'ipps', 'pool', 'pools'],
  parse: parseIpPool,
  typedSpec: true,
  encode: encodeIpPool,
  key: ipPoolKey,
  prefix: () => IP_POOLS_PREFIX,
  columns: ({ wide }) =>
    wide
      ? [
          ['NAME', name],
          ['CIDR', (p) => p.spec.cidr],
          ['BLOCKSIZE', (p) => String(p.spec.blockSize)],
          ['NAT', (p) => String(p.spec.natOutgoing)],
          ['IPIPMODE', (p) => p.spec.ipipMode],
          ['VXLANMODE', (p) => p.spec.vxlanMode],
          ['DISABLED', (p) => String(p.spec.disabled)],
          ['DISABLEBGPEXPORT', (p) => String(p.spec.disableBGPExport)],
          ['SELECTOR', (p) => p.spec.nodeSelector],
        ]
      : [
          ['NAME', name],
          ['CIDR', (p) => p.spec.cidr],
          ['SELECTOR', (p) => p.spec.nodeSelector],
        ],
});

const node = defineKind({
  kind: 'Node',
  aliases: ['node', 'nodes', 'no'],
  parse: parseNode,
  typedSpec: false,
  encode: encodeNode,
  key: nodeKey,
  prefix: () => NODES_PREFIX,
  columns: ({ wide }) =>
    wide
      ? [
          ['NAME', name],
          ['ASN', (n) => field(n.spec, 'bgp.asNumber') || '(64512)'],
          ['IPV4', (n) => field(n.spec, 'bgp.ipv4Address')],
          ['IPV6', (n) => field(n.spec, 'bgp.ipv6Address')],
          ['LABELS', (n) => labels(n.metadata.labels)],
        ]
      : [['NAME', name]],
});

const profile = defineKind({
  kind: 'Profile',
  aliases: ['profile', 'profiles', 'pro', 'pros'],
  parse: parseProfile,
  typedSpec: true,
  encode: encodeProfile,
  key: profileKey,
  prefix: () => PROFILES_PREFIX,
  columns: ({ wide }) =>
    wide
      ? [
          ['NAME', name],
          ['LABELS', (p) => labels(p.spec.labelsToApply)],
        ]
      : [['NAME', name]],
});

const ipReservation = defineKind({
  kind: 'IPReservation',
  aliases: ['ipreservation', 'ipreservations', 'ipr', 'iprs'],
  parse: parseIpReservation,
  typedSpec: true,
  encode: encodeIpReservation,
  key: ipReservationKey,
  prefix: () => IP_RESERVATIONS_PREFIX,
  columns: () => [
    ['NAME', name],
    ['CIDRS', (r) => r.spec.reservedCIDRs.join(',')],
  ],
});

const workloadEndpoint = defineKind({
  kind: 'WorkloadEndpoint',
  aliases: ['workloadendpoint', 'workloadendpoints', 'wep', 'weps'],
  parse: parseWorkloadEndpoint,
  typedSpec: true,
  encode: encodeWorkloadEndpoint,
  key: (n, namespace) => workloadEndpointKey(namespace, n),
  prefix: (namespace) =>
    namespace === undefined ? WORKLOAD_ENDPOINTS_PREFIX : workloadEndpointsPrefix(namespace),
  namespaced: true,
  writable: false,
  columns: ({ wide, allNamespaces }) => {
    const namespace: [string, (w: { metadata: ObjectMeta }) => string][] = allNamespaces
      ? [['NAMESPACE', (w) => w.metadata.namespace ?? '']]
      : [];
    return wide
      ? [
          ...namespace,
          ['NAME', name],
          ['WORKLOAD', (w) => w.spec.workload ?? ''],
          ['NODE', (w) => w.spec.node ?? ''],
          ['NETWORKS', (w) => w.spec.ipNetworks.join(',')],
          ['INTERFACE', (w) => w.spec.interfaceName ?? ''],
          ['PROFILES', (w) => w.spec.profiles.join(',')],
          ['NATS', (w) => (w.spec.ipNATs ?? []).map((nat) => field(nat, 'externalIP')).join(',')],
        ]
      : [
          ...namespace,
          ['WORKLOAD', (w) => w.spec.workload ?? ''],
          ['NODE', (w) => w.spec.node ?? ''],
          ['NETWORKS', (w) => w.spec.ipNetworks.join(',')],
          ['INTERFACE', (w) => w.spec.interfaceName ?? ''],
        ];
  },
});

/** Every kind, in the order `get` help lists them. */
export const KINDS: readonly KindInfo[] = [ipPool, node, profile, workloadEndpoint, ipReservation];

/** The kind a command-line name (any alias, any case) or a manifest `kind` stands for. */
export function kindByName(text: string): KindInfo {
  const lower = text.toLowerCase();
  const found = KINDS.find((k) => k.aliases.includes(lower) || k.kind.toLowerCase() === lower);
  if (found === undefined) {
    throw new CliError(
      `unknown resource type ${JSON.stringify(text)}: use one of ${KINDS.map((k) => k.aliases[0]).join(', ')}`,
    );
  }
  return found;
}
