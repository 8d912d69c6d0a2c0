import { describe, expect, it } from 'vitest';
import { encodeBlockAffinity, parseBlockAffinity } from './affinity';
import { encodeIpamHandle, parseIpamHandle } from './handle';
import {
  DEFAULT_IPAM_CONFIG,
  DEFAULT_MAX_BLOCKS_PER_HOST,
  encodeIpamConfig,
  parseIpamConfig,
} from './ipam-config';
import { blockAffinityKey, handleKey, IPAM_CONFIG_KEY } from './keys';

const AFFINITY = blockAffinityKey('node-1', '10.0.0.64/26');
const HANDLE = handleKey('net1.abc123');

describe('BlockAffinity codec', () => {
  it('reads and writes exactly {"state":…,"deleted":false}', () => {
    for (const state of ['pending', 'confirmed', 'pendingDeletion'] as const) {
      const text = `{"state":"${state}","deleted":false}`;
      const affinity = parseBlockAffinity(AFFINITY, text);
      expect(affinity).toMatchObject({ state, deleted: false });
      expect(encodeBlockAffinity(affinity)).toBe(text);
    }
    expect(encodeBlockAffinity({ state: 'pending', deleted: false })).toBe(
      '{"state":"pending","deleted":false}',
    );
  });

  it('reads an empty value, or an empty state, as confirmed (legacy)', () => {
    expect(parseBlockAffinity(AFFINITY, '')).toMatchObject({ state: 'confirmed', deleted: false });
    expect(parseBlockAffinity(AFFINITY, '{"state":""}').state).toBe('confirmed');
  });

  it('keeps unknown fields and refuses unknown states', () => {
    const affinity = parseBlockAffinity(AFFINITY, '{"state":"pending","deleted":false,"x":1}');
    affinity.state = 'confirmed';
    expect(encodeBlockAffinity(affinity)).toBe('{"state":"confirmed","deleted":false,"x":1}');
    expect(() => parseBlockAffinity(AFFINITY, '{"state":"claimed"}')).toThrow(
      `invalid BlockAffinity at ${AFFINITY}: state: must be one of pending, confirmed, pendingDeletion, got "claimed"`,
    );
  });
});

describe('IPAMHandle codec', () => {
  it('reads and writes exactly {"block":{"<cidr>":n},"deleted":false}', () => {
    const text = '{"block":{"10.0.0.64/26":1},"deleted":false}';
    const handle = parseIpamHandle(HANDLE, text);
    expect(handle).toMatchObject({
      handleId: 'net1.abc123',
      block: { '10.0.0.64/26': 1 },
      deleted: false,
    });
    expect(encodeIpamHandle(handle)).toBe(text);
  });

  it('writes block CIDRs sorted as Go does and keeps unknown fields', () => {
    const handle = parseIpamHandle(HANDLE, '{"block":{"10.0.0.64/26":1},"deleted":false,"y":"z"}');
    handle.block['10.0.0.0/26'] = 2;
    expect(encodeIpamHandle(handle)).toBe(
      '{"block":{"10.0.0.0/26":2,"10.0.0.64/26":1},"deleted":false,"y":"z"}',
    );
  });

  it('refuses counts and CIDRs Calico would not write', () => {
    expect(() => parseIpamHandle(HANDLE, '{"block":{"10.0.0.64/26":-1}}')).toThrow(
      `invalid IPAMHandle at ${HANDLE}: block.10.0.0.64/26: must be an integer from 0`,
    );
    expect(() => parseIpamHandle(HANDLE, '{"block":{"10.0.0.65/26":1}}')).toThrow(
      'block.10.0.0.65/26: the key must be a block CIDR in canonical form',
    );
  });
});

describe('IPAMConfig codec', () => {
  it('uses the defaults when the key is missing: strict off, auto-allocate on, no limit', () => {
    expect(parseIpamConfig(IPAM_CONFIG_KEY, undefined)).toEqual({
      strictAffinity: false,
      autoAllocateBlocks: true,
      maxBlocksPerHost: 0,
    });
    expect(DEFAULT_MAX_BLOCKS_PER_HOST).toBe(20);
  });

  it('reads a stored config without a field as false / 0 (omitempty)', () => {
    expect(parseIpamConfig(IPAM_CONFIG_KEY, '{}')).toMatchObject({
      strictAffinity: false,
      autoAllocateBlocks: false,
      maxBlocksPerHost: 0,
    });
    expect(
      parseIpamConfig(
        IPAM_CONFIG_KEY,
        '{"strict_affinity":true,"auto_allocate_blocks":true,"maxBlocksPerHost":5}',
      ),
    ).toMatchObject({ strictAffinity: true, autoAllocateBlocks: true, maxBlocksPerHost: 5 });
  });

  it('writes Calico field names, leaving out false and 0 as Go does', () => {
    expect(encodeIpamConfig({ ...DEFAULT_IPAM_CONFIG })).toBe('{"auto_allocate_blocks":true}');
    expect(
      encodeIpamConfig({ strictAffinity: true, autoAllocateBlocks: false, maxBlocksPerHost: 7 }),
    ).toBe('{"strict_affinity":true,"maxBlocksPerHost":7}');
  });

  it('names the field of a bad value', () => {
    expect(() => parseIpamConfig(IPAM_CONFIG_KEY, '{"maxBlocksPerHost":-2}')).toThrow(
      'invalid IPAMConfig at /calico/ipam/v2/config: maxBlocksPerHost: must be an integer from 0',
    );
    expect(() => parseIpamConfig(IPAM_CONFIG_KEY, '{"strict_affinity":"yes"}')).toThrow(
      'strict_affinity: must be true or false, got "yes"',
    );
  });
});
