import { describe, expect, it } from 'vitest';
import {
  blockAddressCount,
  blockCidrAt,
  blockContaining,
  blockIndexOf,
  ipAtOrdinal,
  isValidBlockSize,
  ordinalOf,
  poolGeometry,
} from './block-geometry';
import { formatCidr, parseNetwork } from './cidr';
import { InvalidBlockSizeError, OutOfRangeError } from './errors';
import { formatIp, parseIp } from './ip-address';

const geometry = (pool: string, blockSize: number) => poolGeometry(parseNetwork(pool), blockSize);

describe('poolGeometry', () => {
  it.each([
    ['10.1.0.0/16', 26, 1024n, 64],
    ['10.0.0.0/24', 26, 4n, 64],
    ['10.0.0.0/24', 32, 256n, 1],
    ['10.0.0.0/20', 20, 1n, 4096],
    ['10.0.0.0/8', 20, 4096n, 4096],
    ['10.0.0.5/32', 32, 1n, 1],
    ['fd80:24e2:f998:72d6::/64', 122, 1n << 58n, 64],
    ['fd00::/120', 128, 256n, 1],
    ['fd00::/116', 116, 1n, 4096],
  ])('pool %s with /%i blocks has %s blocks of %i addresses', (pool, size, count, addresses) => {
    const g = geometry(pool, size);
    expect(g.blockCount).toBe(count);
    expect(g.blockAddresses).toBe(addresses);
  });

  it.each([
    ['10.1.0.0/16', 33, 'block size 33 is outside 20–32 for IPv4 pool 10.1.0.0/16'],
    ['10.1.0.0/16', 19, 'block size 19 is outside 20–32 for IPv4 pool 10.1.0.0/16'],
    ['10.1.0.0/16', 26.5, 'block size 26.5 is outside 20–32 for IPv4 pool 10.1.0.0/16'],
    ['fd00::/64', 115, 'block size 115 is outside 116–128 for IPv6 pool fd00::/64'],
    ['fd00::/64', 129, 'block size 129 is outside 116–128 for IPv6 pool fd00::/64'],
    ['fd00::/64', 26, 'block size 26 is outside 116–128 for IPv6 pool fd00::/64'],
    [
      '10.0.0.0/26',
      24,
      'block size 24 is larger than IPv4 pool 10.0.0.0/26: a block must fit inside its pool',
    ],
    [
      'fd00::/124',
      122,
      'block size 122 is larger than IPv6 pool fd00::/124: a block must fit inside its pool',
    ],
  ])('pool %s rejects block size %s', (pool, size, message) => {
    expect(() => geometry(pool, size)).toThrow(new InvalidBlockSizeError(message));
  });

  it('knows the valid sizes per family', () => {
    expect([19, 20, 32, 33].map((s) => isValidBlockSize(4, s))).toEqual([false, true, true, false]);
    expect([115, 116, 128, 129].map((s) => isValidBlockSize(6, s))).toEqual([
      false,
      true,
      true,
      false,
    ]);
  });
});

describe('block CIDR ↔ index', () => {
  it.each([
    ['10.1.0.0/16', 26, 0n, '10.1.0.0/26'],
    ['10.1.0.0/16', 26, 1n, '10.1.0.64/26'],
    ['10.1.0.0/16', 26, 1023n, '10.1.255.192/26'],
    ['10.0.0.0/24', 32, 255n, '10.0.0.255/32'],
    ['10.0.0.0/16', 20, 15n, '10.0.240.0/20'],
    ['fd80:24e2:f998:72d6::/64', 122, 1n, 'fd80:24e2:f998:72d6::40/122'],
    [
      'fd80:24e2:f998:72d6::/64',
      122,
      (1n << 58n) - 1n,
      'fd80:24e2:f998:72d6:ffff:ffff:ffff:ffc0/122',
    ],
    ['fd00::/120', 128, 255n, 'fd00::ff/128'],
  ])('pool %s /%i block %s is %s, and back', (pool, size, index, cidr) => {
    const g = geometry(pool, size);
    expect(formatCidr(blockCidrAt(g, index))).toBe(cidr);
    expect(blockIndexOf(g, parseNetwork(cidr))).toBe(index);
  });

  it('rejects indexes outside the pool and CIDRs that are not its blocks', () => {
    const g = geometry('10.0.0.0/24', 26);
    expect(() => blockCidrAt(g, 4n)).toThrow(
      new OutOfRangeError('block index 4 is outside 0–3 for pool 10.0.0.0/24'),
    );
    expect(() => blockCidrAt(g, -1n)).toThrow(OutOfRangeError);
    expect(() => blockIndexOf(g, parseNetwork('10.0.1.0/26'))).toThrow(
      '10.0.1.0/26 is not a /26 block of pool 10.0.0.0/24',
    );
    expect(() => blockIndexOf(g, parseNetwork('10.0.0.0/27'))).toThrow(
      '10.0.0.0/27 is not a /26 block of pool 10.0.0.0/24',
    );
  });
});

describe('blockContaining', () => {
  it.each([
    ['10.0.0.77', 26, '10.0.0.64/26'],
    ['10.0.0.77', 32, '10.0.0.77/32'],
    ['10.0.31.200', 20, '10.0.16.0/20'],
    ['fd80:24e2:f998:72d6::7f', 122, 'fd80:24e2:f998:72d6::40/122'],
    ['fd80:24e2:f998:72d6::7f', 128, 'fd80:24e2:f998:72d6::7f/128'],
    ['fd00::1fff', 116, 'fd00::1000/116'],
  ])('%s in /%i blocks is in %s', (ip, size, cidr) => {
    expect(formatCidr(blockContaining(parseIp(ip), size))).toBe(cidr);
  });

  it('rejects sizes outside the family limits, naming the address', () => {
    expect(() => blockContaining(parseIp('10.0.0.1'), 122)).toThrow(
      'block size 122 is outside 20–32 for IPv4 address 10.0.0.1',
    );
    expect(() => blockContaining(parseIp('fd00::1'), 26)).toThrow(InvalidBlockSizeError);
  });
});

describe('ordinal ↔ IP', () => {
  it.each([
    ['10.0.0.64/26', '10.0.0.64', 0],
    ['10.0.0.64/26', '10.0.0.127', 63],
    ['10.0.0.9/32', '10.0.0.9', 0],
    ['10.0.16.0/20', '10.0.31.255', 4095],
    ['fd80:24e2:f998:72d6::40/122', 'fd80:24e2:f998:72d6::7f', 63],
    ['fd00::7/128', 'fd00::7', 0],
    ['fd00::1000/116', 'fd00::1fff', 4095],
  ])('in %s, %s is ordinal %i', (block, ip, ordinal) => {
    const cidr = parseNetwork(block);
    expect(ordinalOf(cidr, parseIp(ip))).toBe(ordinal);
    expect(formatIp(ipAtOrdinal(cidr, ordinal))).toBe(ip);
  });

  it('rejects addresses outside the block and ordinals past its end', () => {
    const block = parseNetwork('10.0.0.64/26');
    expect(() => ordinalOf(block, parseIp('10.0.0.128'))).toThrow(
      new OutOfRangeError('10.0.0.128 is not in block 10.0.0.64/26'),
    );
    expect(() => ordinalOf(block, parseIp('::ffff:10.0.0.64'))).toThrow(OutOfRangeError);
    expect(() => ipAtOrdinal(block, 64)).toThrow('ordinal 64 is outside block 10.0.0.64/26');
    expect(() => ipAtOrdinal(block, -1)).toThrow(OutOfRangeError);
    expect(() => ipAtOrdinal(block, 1.5)).toThrow(OutOfRangeError);
    expect(() => ipAtOrdinal(parseNetwork('fd00::7/128'), 1)).toThrow(OutOfRangeError);
  });

  it('counts block addresses as plain numbers', () => {
    expect(blockAddressCount(parseNetwork('10.0.0.0/20'))).toBe(4096);
    expect(blockAddressCount(parseNetwork('fd00::/128'))).toBe(1);
  });
});
