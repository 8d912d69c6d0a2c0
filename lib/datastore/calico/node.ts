import type { JsonObject } from '../../cni/json-fields';
import { encodeResource, parseEnvelope, type ObjectMeta } from './resource';
import { StoredReader } from './stored';

// projectcalico.org/v3 Node. AutoAssign needs it to exist and matches pool nodeSelectors against
// its labels (calico-behaviour.md §7.5); the spec (BGP, tunnel addresses) is kept as stored.

/** A Node: metadata typed, spec as stored. */
export interface CalicoNode {
  metadata: ObjectMeta;
  spec: JsonObject;
  raw?: JsonObject;
}

/** Parses the Node at `key`. */
export function parseNode(key: string, text: string): CalicoNode {
  const { metadata, spec, raw } = parseEnvelope(new StoredReader('Node', key), {
    text,
    kind: 'Node',
  });
  return { metadata, spec, raw };
}

/** The stored JSON of a Node. */
export function encodeNode(node: CalicoNode): string {
  return encodeResource('Node', node);
}
