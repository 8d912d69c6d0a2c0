import type { JsonObject } from '../../cni/json-fields';
import { canonicalCidr } from './cidr-text';
import { cidrFromBlockKey } from './keys';
import { mergeRaw, setOwn, sortedMap, StoredReader, toStoredText } from './stored';

// libcalico-go model.AllocationBlock (calico-behaviour.md §7.4) as data: no allocation logic here
// (that is ipam/'s job), only a faithful read and write of the stored JSON.

/** One entry of `attributes`: who holds the addresses that point at it. */
export interface AllocationAttribute {
  /** `handle_id`: Go *string, so null when unset. */
  handleId: string | null;
  /** `secondary`: e.g. `node`, `timestamp`, `pod`, `namespace`; null when unset (Go nil map). */
  secondary: Record<string, string> | null;
  /** The attribute as read: unknown fields (HEAD's `releasedAt`, …) are written back from it. */
  raw?: JsonObject;
}

/** An allocation block. */
export interface AllocationBlock {
  /** Canonical CIDR, e.g. `10.0.0.64/26`. */
  cidr: string;
  /** `host:<node>` for an affine block, null for none (a string, not a bool). */
  affinity: string | null;
  /** One entry per address: null when free, else an index into `attributes`. */
  allocations: (number | null)[];
  /** Free ordinals, used as a FIFO queue (release appends to the tail). */
  unallocated: number[];
  attributes: AllocationAttribute[];
  /** v3.23+: starts at creation time in Unix nanoseconds, +1 per write; exact as bigint. */
  sequenceNumber: bigint;
  /** v3.23+: ordinal (decimal string) → sequenceNumber when allocated; null as Go's nil map. */
  sequenceNumberForAllocation: Record<string, bigint> | null;
  /** Soft delete (Kubernetes datastore). */
  deleted: boolean;
  /** The block as read: unknown fields (`strictAffinity`, `hostAffinity`, newer ones) survive. */
  raw?: JsonObject;
}

/** Largest block Calico allows: /20 (v4) and /116 (v6) both give 4096 addresses. */
const MAX_BLOCK_ADDRESSES = 4096;

/** Parses the value stored at a block `key`; errors name the key and the field. */
export function parseBlock(key: string, text: string): AllocationBlock {
  const read = new StoredReader('AllocationBlock', key);
  const json = read.parse(text);
  const cidr = canonicalCidr(read.string(json.cidr, 'cidr'));
  if (cidr === undefined) throw read.fail('cidr', `${String(json.cidr)} is not a CIDR`);
  const fromKey = cidrFromBlockKey(key);
  if (fromKey !== undefined && fromKey !== cidr) {
    throw read.fail('cidr', `${cidr} does not match the key's ${fromKey}`);
  }
  const size = blockSize(cidr);
  if (size > MAX_BLOCK_ADDRESSES) {
    throw read.fail(
      'cidr',
      `${cidr} is larger than a block can be (${MAX_BLOCK_ADDRESSES} addresses)`,
    );
  }
  const attributes = (
    json.attributes === null || json.attributes === undefined
      ? []
      : read.array(json.attributes, 'attributes')
  ).map((item, i) => parseAttribute(read, { value: item, path: `attributes[${i}]` }));
  // An index past `attributes` is tolerated, as libcalico-go does (it logs and skips it).
  const allocations = read
    .array(json.allocations ?? [], 'allocations')
    .map((item, i) =>
      item === null
        ? null
        : read.integer(item, `allocations[${i}]`, { min: 0, max: Number.MAX_SAFE_INTEGER }),
    );
  if (allocations.length !== size) {
    throw read.fail(
      'allocations',
      `has ${allocations.length} entries for the ${size} addresses of ${cidr}`,
    );
  }
  const unallocated = read
    .array(json.unallocated ?? [], 'unallocated')
    .map((item, i) => read.integer(item, `unallocated[${i}]`, { min: 0, max: size - 1 }));
  return {
    cidr,
    affinity: read.nullableString(json.affinity, 'affinity'),
    allocations,
    unallocated,
    attributes,
    sequenceNumber: read.uint64(json.sequenceNumber, 'sequenceNumber'),
    sequenceNumberForAllocation: parseSequenceMap(read, json.sequenceNumberForAllocation),
    deleted: read.boolean(json.deleted, 'deleted'),
    raw: json,
  };
}

/** The JSON Calico stores for `block`: Go's field order, unknown fields of `raw` kept. */
export function encodeBlock(block: AllocationBlock): string {
  return toStoredText(
    mergeRaw(
      {
        cidr: block.cidr,
        affinity: block.affinity,
        allocations: block.allocations,
        unallocated: block.unallocated,
        attributes: block.attributes.map(encodeAttribute),
        sequenceNumber: block.sequenceNumber,
        sequenceNumberForAllocation: sortedMap(block.sequenceNumberForAllocation),
        deleted: block.deleted,
      },
      block.raw,
    ),
  );
}

/** Number of addresses in a canonical CIDR (2^(bits − prefix)). */
function blockSize(cidr: string): number {
  const prefix = Number(cidr.slice(cidr.indexOf('/') + 1));
  const bits = cidr.includes(':') ? 128 : 32;
  return bits - prefix > 30 ? Infinity : 2 ** (bits - prefix);
}

function parseAttribute(
  read: StoredReader,
  at: { value: unknown; path: string },
): AllocationAttribute {
  const { path } = at;
  const json = read.object(at.value, path);
  return {
    handleId: read.nullableString(json.handle_id, `${path}.handle_id`),
    secondary: read.stringMap(json.secondary, `${path}.secondary`),
    raw: json,
  };
}

function encodeAttribute(attribute: AllocationAttribute): JsonObject {
  return mergeRaw(
    { handle_id: attribute.handleId, secondary: sortedMap(attribute.secondary) },
    attribute.raw,
  );
}

function parseSequenceMap(read: StoredReader, value: unknown): Record<string, bigint> | null {
  if (value === undefined || value === null) return null;
  const json = read.object(value, 'sequenceNumberForAllocation');
  const result: Record<string, bigint> = {};
  for (const [ordinal, sequence] of Object.entries(json)) {
    setOwn(result, ordinal, read.uint64(sequence, `sequenceNumberForAllocation.${ordinal}`));
  }
  return result;
}
