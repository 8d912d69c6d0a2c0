import type { JsonObject } from '../../cni/json-fields';
import { encodeResource, omitEmpty, parseEnvelope, type ObjectMeta } from './resource';
import { mergeRaw, sortedMap, StoredReader } from './stored';

// projectcalico.org/v3 Profile (calico-behaviour.md §2.3). Rules are kept as stored objects: the
// CNI only writes the default profile of a network and never updates an existing one.

/** The Profile spec. */
export interface ProfileSpec {
  ingress?: JsonObject[];
  egress?: JsonObject[];
  labelsToApply?: Record<string, string>;
  /** The spec as read: unknown fields survive a write-back. */
  raw?: JsonObject;
}

/** A Profile. */
export interface Profile {
  metadata: ObjectMeta;
  spec: ProfileSpec;
  raw?: JsonObject;
}

/** Parses the Profile at `key`. */
export function parseProfile(key: string, text: string): Profile {
  const read = new StoredReader('Profile', key);
  const { metadata, spec, raw } = parseEnvelope(read, { text, kind: 'Profile' });
  const result: ProfileSpec = { raw: spec };
  const ingress = read.optionalObjects(spec.ingress, 'spec.ingress');
  if (ingress !== undefined) result.ingress = ingress;
  const egress = read.optionalObjects(spec.egress, 'spec.egress');
  if (egress !== undefined) result.egress = egress;
  const labels = read.stringMap(spec.labelsToApply, 'spec.labelsToApply');
  if (labels !== null) result.labelsToApply = labels;
  return { metadata, spec: result, raw };
}

/** The stored JSON of a Profile (Go order: ingress, egress, labelsToApply). */
export function encodeProfile(profile: Profile): string {
  const { spec } = profile;
  return encodeResource('Profile', {
    metadata: profile.metadata,
    raw: profile.raw,
    spec: mergeRaw(
      {
        ingress: omitEmpty(spec.ingress),
        egress: omitEmpty(spec.egress),
        labelsToApply: spec.labelsToApply === undefined ? undefined : sortedMap(spec.labelsToApply),
      },
      spec.raw,
    ),
  });
}
