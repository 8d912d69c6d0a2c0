import type { JsonObject } from '../../cni/json-fields';
import { encodeResource, parseEnvelope, type ObjectMeta } from './resource';
import { mergeRaw, StoredReader } from './stored';

// projectcalico.org/v3 ClusterInformation `default`: ADD and DEL refuse to run unless
// spec.datastoreReady is true (calico-behaviour.md §7.5, §14 item 3).

/** The ClusterInformation spec. */
export interface ClusterInformationSpec {
  clusterGUID?: string;
  clusterType?: string;
  calicoVersion?: string;
  /** Go *bool: undefined when unset, which Calico treats as not ready. */
  datastoreReady?: boolean;
  /** The spec as read: unknown fields survive a write-back. */
  raw?: JsonObject;
}

/** The ClusterInformation resource. */
export interface ClusterInformation {
  metadata: ObjectMeta;
  spec: ClusterInformationSpec;
  raw?: JsonObject;
}

/** Parses the ClusterInformation at `key`. */
export function parseClusterInformation(key: string, text: string): ClusterInformation {
  const read = new StoredReader('ClusterInformation', key);
  const { metadata, spec, raw } = parseEnvelope(read, { text, kind: 'ClusterInformation' });
  const result: ClusterInformationSpec = { raw: spec };
  for (const field of ['clusterGUID', 'clusterType', 'calicoVersion'] as const) {
    const value = read.optionalString(spec[field], `spec.${field}`);
    if (value !== undefined) result[field] = value;
  }
  if (spec.datastoreReady !== undefined && spec.datastoreReady !== null) {
    result.datastoreReady = read.boolean(spec.datastoreReady, 'spec.datastoreReady');
  }
  return { metadata, spec: result, raw };
}

/** The stored JSON of a ClusterInformation. */
export function encodeClusterInformation(info: ClusterInformation): string {
  const { spec } = info;
  return encodeResource('ClusterInformation', {
    metadata: info.metadata,
    raw: info.raw,
    spec: mergeRaw(
      {
        clusterGUID: spec.clusterGUID,
        clusterType: spec.clusterType,
        calicoVersion: spec.calicoVersion,
        datastoreReady: spec.datastoreReady,
      },
      spec.raw,
    ),
  });
}
