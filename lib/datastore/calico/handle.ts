import type { JsonObject } from '../../cni/json-fields';
import { canonicalCidr } from './cidr-text';
import { handleIdFromKey, nameFromKey } from './keys';
import { mergeRaw, setOwn, sortedMap, StoredReader, toStoredText } from './stored';

// libcalico-go model.IPAMHandle: `{"block":{"10.0.0.64/26":1},"deleted":false}` at
// /calico/ipam/v2/handle/<id> (calico-behaviour.md §7.5, §8.1). Reference counting is ipam/'s job.

/** The addresses one handle (`<network>.<containerID>`) holds, counted per block. */
export interface IpamHandle {
  /** From the key; not stored in the value. */
  handleId: string;
  /** Block CIDR → number of addresses the handle holds in it. */
  block: Record<string, number>;
  deleted: boolean;
  /** The value as read: unknown fields survive a write-back. */
  raw?: JsonObject;
}

/** Parses the value stored at handle `key`. */
export function parseIpamHandle(key: string, text: string): IpamHandle {
  const read = new StoredReader('IPAMHandle', key);
  const json = read.parse(text);
  const block: Record<string, number> = {};
  if (json.block !== undefined && json.block !== null) {
    for (const [cidr, count] of Object.entries(read.object(json.block, 'block'))) {
      if (canonicalCidr(cidr) !== cidr) {
        throw read.fail(`block.${cidr}`, 'the key must be a block CIDR in canonical form');
      }
      setOwn(block, cidr, read.integer(count, `block.${cidr}`, { min: 0, max: 2 ** 31 - 1 }));
    }
  }
  return {
    handleId: handleIdFromKey(key) ?? nameFromKey(key),
    block,
    deleted: read.boolean(json.deleted, 'deleted'),
    raw: json,
  };
}

/** The JSON Calico stores for a handle (map keys sorted, as Go writes them). */
export function encodeIpamHandle(handle: IpamHandle): string {
  return toStoredText(
    mergeRaw({ block: sortedMap(handle.block), deleted: handle.deleted }, handle.raw),
  );
}
