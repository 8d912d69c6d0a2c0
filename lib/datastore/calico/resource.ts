import type { JsonObject } from '../../cni/json-fields';
import { mergeRaw, sortedMap, StoredReader, toStoredText } from './stored';

// The v3 resource envelope shared by IPPool, WorkloadEndpoint, Profile, Node, ClusterInformation
// and IPReservation: `{"kind","apiVersion":"projectcalico.org/v3","metadata","spec"}`. The value
// does not store `resourceVersion`: that is etcd's mod_revision (calico-behaviour.md §2.2).

/** The API version of every v3 resource. */
export const API_VERSION = 'projectcalico.org/v3';

/** The metadata fields Calico's CNI reads or writes (Kubernetes ObjectMeta). */
export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  /** RFC 3339, as Kubernetes writes it (`2024-01-02T03:04:05Z`). */
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** The metadata as read: unknown fields survive a write-back. */
  raw?: JsonObject;
}

/** A parsed resource before its spec is typed. */
export interface Envelope {
  metadata: ObjectMeta;
  spec: JsonObject;
  /** The whole object as read. */
  raw: JsonObject;
}

/** Reads the envelope of a `kind` resource stored at `key`; the reader names key and fields. */
export function parseEnvelope(
  read: StoredReader,
  stored: { text: string; kind: string },
): Envelope {
  const { text, kind } = stored;
  const json = read.parse(text);
  if (json.kind !== undefined && json.kind !== kind) {
    throw read.fail('kind', `must be ${JSON.stringify(kind)}, got ${JSON.stringify(json.kind)}`);
  }
  if (json.apiVersion !== undefined && json.apiVersion !== API_VERSION) {
    throw read.fail('apiVersion', `must be ${API_VERSION}, got ${JSON.stringify(json.apiVersion)}`);
  }
  const meta = read.object(json.metadata ?? {}, 'metadata');
  const metadata: ObjectMeta = { name: read.string(meta.name, 'metadata.name'), raw: meta };
  const optional = (field: 'namespace' | 'uid' | 'creationTimestamp'): void => {
    const value = read.optionalString(meta[field], `metadata.${field}`);
    if (value !== undefined) metadata[field] = value;
  };
  optional('namespace');
  optional('uid');
  optional('creationTimestamp');
  const labels = read.stringMap(meta.labels, 'metadata.labels');
  if (labels !== null) metadata.labels = labels;
  const annotations = read.stringMap(meta.annotations, 'metadata.annotations');
  if (annotations !== null) metadata.annotations = annotations;
  return { metadata, spec: read.object(json.spec ?? {}, 'spec'), raw: json };
}

/** The stored JSON of a resource: envelope fields in Kubernetes' order, unknown fields kept. */
export function encodeResource(
  kind: string,
  parts: { metadata: ObjectMeta; spec: JsonObject; raw?: JsonObject | undefined },
): string {
  const { metadata } = parts;
  const meta = mergeRaw(
    {
      name: metadata.name,
      namespace: metadata.namespace,
      uid: metadata.uid,
      // Never stored: it is the key's mod_revision.
      resourceVersion: undefined,
      creationTimestamp: metadata.creationTimestamp,
      labels: metadata.labels === undefined ? undefined : sortedMap(metadata.labels),
      annotations: metadata.annotations === undefined ? undefined : sortedMap(metadata.annotations),
    },
    metadata.raw,
  );
  return toStoredText(
    mergeRaw({ kind, apiVersion: API_VERSION, metadata: meta, spec: parts.spec }, parts.raw),
  );
}

/** `value` unless it is empty (Go's `omitempty`): undefined for "", false, 0 and []. */
export function omitEmpty<T>(value: T): T | undefined {
  if (value === '' || value === false || value === 0) return undefined;
  if (Array.isArray(value) && value.length === 0) return undefined;
  return value;
}
