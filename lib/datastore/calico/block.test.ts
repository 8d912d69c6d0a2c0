import { describe, expect, it } from 'vitest';
import { CniError, ErrorCode } from '../../cni/errors';
import { encodeBlock, parseBlock, type AllocationBlock } from './block';
import { blockKey } from './keys';

const KEY = blockKey('10.0.0.64/26');
const free = (from: number, to: number): number[] =>
  Array.from({ length: to - from }, (_, i) => from + i);

const ORDINALS = Array.from({ length: 12 }, (_, i) => String(i)).sort();

/** A block as a v3.23+ Calico writes it: Go field order, map keys sorted, compact. */
const GO_WRITTEN =
  '{"cidr":"10.0.0.64/26","affinity":"host:node-1",' +
  `"allocations":[${Array<string>(12).fill('0').join(',')},${Array<string>(52).fill('null').join(',')}],` +
  `"unallocated":[${free(12, 64).join(',')}],` +
  '"attributes":[{"handle_id":"net1.abc123","secondary":{"node":"node-1","timestamp":"2024-01-02 03:04:05.123456789 +0000 UTC"}}],' +
  '"sequenceNumber":1704164645123456789,' +
  // Go sorts map keys as strings: "10" and "11" come before "2".
  `"sequenceNumberForAllocation":{${ORDINALS.map((o) => `"${o}":1704164645123456788`).join(',')}},` +
  '"deleted":false}';

describe('AllocationBlock codec', () => {
  it('reads every field, uint64 sequence numbers exactly', () => {
    const block = parseBlock(KEY, GO_WRITTEN);
    expect(block).toMatchObject({
      cidr: '10.0.0.64/26',
      affinity: 'host:node-1',
      unallocated: free(12, 64),
      attributes: [
        {
          handleId: 'net1.abc123',
          secondary: { node: 'node-1', timestamp: '2024-01-02 03:04:05.123456789 +0000 UTC' },
        },
      ],
      sequenceNumber: 1704164645123456789n,
      deleted: false,
    });
    expect(block.sequenceNumberForAllocation?.['11']).toBe(1704164645123456788n);
    expect(block.allocations.slice(10, 13)).toEqual([0, 0, null]);
    expect(block.allocations).toHaveLength(64);
  });

  it('writes back byte for byte what Calico wrote', () => {
    expect(encodeBlock(parseBlock(KEY, GO_WRITTEN))).toBe(GO_WRITTEN);
  });

  it('writes a fresh block in Go field order with Calico names (handle_id, null affinity)', () => {
    const block: AllocationBlock = {
      cidr: '10.0.0.64/26',
      affinity: null,
      allocations: [0, ...Array<null>(63).fill(null)],
      unallocated: free(1, 64),
      attributes: [{ handleId: 'h', secondary: { pod: 'p', namespace: 'ns' } }],
      sequenceNumber: 1704164645123456790n,
      sequenceNumberForAllocation: { '10': 2n, '2': 1n },
      deleted: false,
    };
    const text = encodeBlock(block);
    expect(Object.keys(JSON.parse(text) as object)).toEqual([
      'cidr',
      'affinity',
      'allocations',
      'unallocated',
      'attributes',
      'sequenceNumber',
      'sequenceNumberForAllocation',
      'deleted',
    ]);
    expect(text).toContain('"affinity":null');
    // Go sorts map keys as strings: "10" before "2"; secondary keys sorted too.
    expect(text).toContain('"sequenceNumberForAllocation":{"10":2,"2":1}');
    expect(text).toContain(
      '"attributes":[{"handle_id":"h","secondary":{"namespace":"ns","pod":"p"}}]',
    );
    expect(text).toContain('"sequenceNumber":1704164645123456790,');
    expect(parseBlock(KEY, text)).toMatchObject({ ...block, raw: expect.any(Object) as unknown });
  });

  it('keeps unknown fields of newer and older Calico through a read-modify-write', () => {
    const withExtras = GO_WRITTEN.replace(
      '"deleted":false}',
      '"deleted":false,"hostAffinity":"node-1","affinityClaimTime":"2025-01-01T00:00:00Z"}',
    ).replace('"secondary":{', '"releasedAt":"2025-01-01T00:00:00Z","secondary":{');
    const block = parseBlock(KEY, withExtras);
    block.sequenceNumber += 1n;
    block.unallocated.push(1);
    const text = encodeBlock(block);
    const json = JSON.parse(text) as Record<string, unknown>;
    expect(json.hostAffinity).toBe('node-1');
    expect(json.affinityClaimTime).toBe('2025-01-01T00:00:00Z');
    expect(text).toContain('{"handle_id":"net1.abc123","releasedAt":"2025-01-01T00:00:00Z"');
    expect(text).toContain('"sequenceNumber":1704164645123456790,');
    expect((json.unallocated as number[]).at(-1)).toBe(1);
  });

  it('reads the v3.0-era value of calico#1641 (no sequence numbers, strictAffinity)', () => {
    const old =
      '{"cidr":"10.163.81.128/28","affinity":null,"strictAffinity":true,' +
      `"allocations":[${Array<string>(16).fill('null').join(',')}],` +
      `"unallocated":[${[...free(1, 16), 0].join(',')}],"attributes":[]}`;
    const key = blockKey('10.163.81.128/28');
    const block = parseBlock(key, old);
    expect(block).toMatchObject({
      affinity: null,
      sequenceNumber: 0n,
      sequenceNumberForAllocation: null,
      deleted: false,
    });
    expect(block.unallocated.at(-1)).toBe(0);
    const written = JSON.parse(encodeBlock(block)) as Record<string, unknown>;
    expect(written.strictAffinity).toBe(true);
    expect(written.sequenceNumberForAllocation).toBeNull();
  });

  it('reads an IPv6 block at its key', () => {
    const cidr = 'fd80:24e2:f998:72d6::/122';
    const text = JSON.stringify({
      cidr,
      affinity: 'host:node-1',
      allocations: Array<null>(64).fill(null),
      unallocated: free(0, 64),
      attributes: [],
      deleted: false,
    });
    expect(parseBlock(blockKey(cidr), text).cidr).toBe(cidr);
  });

  const invalid = (change: (json: Record<string, unknown>) => void, key = KEY): CniError => {
    const json = JSON.parse(GO_WRITTEN.replace(/(\d{19})/g, '"$1"')) as Record<string, unknown>;
    json.sequenceNumber = 1;
    json.sequenceNumberForAllocation = null;
    change(json);
    try {
      parseBlock(key, JSON.stringify(json));
    } catch (err) {
      if (err instanceof CniError) return err;
      throw err;
    }
    throw new Error('expected a CniError');
  };

  it.each<[string, (json: Record<string, unknown>) => void, string]>([
    [
      'allocations of the wrong length',
      (j) => (j.allocations = [null]),
      'allocations: has 1 entries for the 64 addresses of 10.0.0.64/26',
    ],
    [
      'a negative allocation',
      (j) => ((j.allocations as unknown[])[2] = -1),
      'allocations[2]: must be an integer',
    ],
    [
      'an ordinal outside the block',
      (j) => ((j.unallocated as unknown[])[0] = 64),
      'unallocated[0]: must be an integer from 0 to 63, got 64',
    ],
    ['a bool affinity', (j) => (j.affinity = true), 'affinity: must be a string, got true'],
    [
      'a non-string attribute',
      (j) => (j.attributes = [{ handle_id: 1 }]),
      'attributes[0].handle_id: must be a string',
    ],
    [
      'a negative sequence number',
      (j) => (j.sequenceNumber = -1),
      'sequenceNumber: must be an unsigned 64-bit integer, got -1',
    ],
    ['a bad CIDR', (j) => (j.cidr = '10.0.0.64'), 'cidr: 10.0.0.64 is not a CIDR'],
  ])('names the key and field for %s', (_what, change, message) => {
    const err = invalid(change);
    expect(err.code).toBe(ErrorCode.internal);
    expect(err.message).toContain(`invalid AllocationBlock at ${KEY}: `);
    expect(err.message).toContain(message);
  });

  it('refuses a value whose CIDR is not its key', () => {
    const other = blockKey('10.0.0.128/26');
    expect(invalid(() => undefined, other).message).toBe(
      `invalid AllocationBlock at ${other}: cidr: 10.0.0.64/26 does not match the key's 10.0.0.128/26`,
    );
  });

  it('refuses text that is not JSON', () => {
    expect(() => parseBlock(KEY, '{"cidr":')).toThrow(
      `invalid AllocationBlock at ${KEY}: (value): not JSON: expected a value at offset 8`,
    );
  });
});
