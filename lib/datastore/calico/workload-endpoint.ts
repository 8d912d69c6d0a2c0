import type { JsonObject } from '../../cni/json-fields';
import { encodeResource, omitEmpty, parseEnvelope, type ObjectMeta } from './resource';
import { mergeRaw, StoredReader } from './stored';

// projectcalico.org/v3 WorkloadEndpoint (calico-behaviour.md §2.2). Every spec field is
// `omitempty` in Go; `ports` and `ipNATs` are kept as stored objects (the CNI copies them through).

/** The WorkloadEndpoint spec. */
export interface WorkloadEndpointSpec {
  orchestrator?: string;
  workload?: string;
  node?: string;
  /** The container ID of the sandbox that owns the WEP (cni-plugin#310: DEL checks it). */
  containerID?: string;
  pod?: string;
  endpoint?: string;
  serviceAccountName?: string;
  ipNetworks: string[];
  ipv4Gateway?: string;
  ipv6Gateway?: string;
  ipNATs?: JsonObject[];
  profiles: string[];
  interfaceName?: string;
  mac?: string;
  ports?: JsonObject[];
  allowSpoofedSourcePrefixes: string[];
  /** The spec as read: unknown fields survive a write-back. */
  raw?: JsonObject;
}

/** A WorkloadEndpoint. */
export interface WorkloadEndpoint {
  metadata: ObjectMeta;
  spec: WorkloadEndpointSpec;
  raw?: JsonObject;
}

const STRING_FIELDS = [
  'orchestrator',
  'workload',
  'node',
  'containerID',
  'pod',
  'endpoint',
  'serviceAccountName',
  'ipv4Gateway',
  'ipv6Gateway',
  'interfaceName',
  'mac',
] as const;

/** Parses the WorkloadEndpoint at `key`. */
export function parseWorkloadEndpoint(key: string, text: string): WorkloadEndpoint {
  const read = new StoredReader('WorkloadEndpoint', key);
  const { metadata, spec, raw } = parseEnvelope(read, { text, kind: 'WorkloadEndpoint' });
  const result: WorkloadEndpointSpec = {
    ipNetworks: read.optionalStrings(spec.ipNetworks ?? undefined, 'spec.ipNetworks') ?? [],
    profiles: read.optionalStrings(spec.profiles ?? undefined, 'spec.profiles') ?? [],
    allowSpoofedSourcePrefixes:
      read.optionalStrings(
        spec.allowSpoofedSourcePrefixes ?? undefined,
        'spec.allowSpoofedSourcePrefixes',
      ) ?? [],
    raw: spec,
  };
  for (const field of STRING_FIELDS) {
    const value = read.optionalString(spec[field], `spec.${field}`);
    if (value !== undefined) result[field] = value;
  }
  const ipNATs = read.optionalObjects(spec.ipNATs, 'spec.ipNATs');
  if (ipNATs !== undefined) result.ipNATs = ipNATs;
  const ports = read.optionalObjects(spec.ports, 'spec.ports');
  if (ports !== undefined) result.ports = ports;
  return { metadata, spec: result, raw };
}

/** The stored JSON of a WorkloadEndpoint, spec fields in Go's order, empty ones left out. */
export function encodeWorkloadEndpoint(wep: WorkloadEndpoint): string {
  const { spec } = wep;
  return encodeResource('WorkloadEndpoint', {
    metadata: wep.metadata,
    raw: wep.raw,
    spec: mergeRaw(
      {
        orchestrator: omitEmpty(spec.orchestrator),
        workload: omitEmpty(spec.workload),
        node: omitEmpty(spec.node),
        containerID: omitEmpty(spec.containerID),
        pod: omitEmpty(spec.pod),
        endpoint: omitEmpty(spec.endpoint),
        serviceAccountName: omitEmpty(spec.serviceAccountName),
        ipNetworks: omitEmpty(spec.ipNetworks),
        ipv4Gateway: omitEmpty(spec.ipv4Gateway),
        ipv6Gateway: omitEmpty(spec.ipv6Gateway),
        ipNATs: omitEmpty(spec.ipNATs),
        profiles: omitEmpty(spec.profiles),
        interfaceName: omitEmpty(spec.interfaceName),
        mac: omitEmpty(spec.mac),
        ports: omitEmpty(spec.ports),
        allowSpoofedSourcePrefixes: omitEmpty(spec.allowSpoofedSourcePrefixes),
      },
      spec.raw,
    ),
  });
}
