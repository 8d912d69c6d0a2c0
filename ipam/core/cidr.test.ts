import { describe, expect, it } from 'vitest';
import {
  cidrContainsCidr,
  cidrContainsIp,
  cidrLast,
  cidrOverlaps,
  cidrSize,
  formatCidr,
  networkOf,
  parseCidr,
  parseNetwork,
  sameCidr,
} from './cidr';
import { InvalidAddressError } from './errors';
import { formatIp, parseIp } from './ip-address';

describe('parseCidr', () => {
  it('keeps the address and masks the network, like Go net.ParseCIDR', () => {
    const { address, network } = parseCidr('10.0.0.77/26');
    expect(formatIp(address)).toBe('10.0.0.77');
    expect(formatCidr(network)).toBe('10.0.0.64/26');
    expect(formatCidr(parseCidr('FD80:24E2:F998:72D6::7F/122').network)).toBe(
      'fd80:24e2:f998:72d6::40/122',
    );
  });

  it.each([
    '10.0.0.0',
    '10.0.0.0/',
    '10.0.0.0/33',
    '10.0.0.0/024',
    '10.0.0.0/-1',
    '10.0.0.0/ 24',
    '10.0.0.0/24/1',
    '::/129',
    'fd00::/x',
    '/24',
  ])('rejects %j, naming it', (text) => {
    expect(() => parseCidr(text)).toThrow(new InvalidAddressError(`invalid CIDR "${text}"`));
  });
});

describe('parseNetwork', () => {
  it.each([
    ['10.0.0.0/8', '10.0.0.0/8'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['10.0.0.5/32', '10.0.0.5/32'],
    ['fd80:24e2:f998:72d6::/64', 'fd80:24e2:f998:72d6::/64'],
    ['fd80:24e2:f998:72d6:0:0:0:0/64', 'fd80:24e2:f998:72d6::/64'],
  ])('accepts the network %s as %s', (text, canonical) => {
    expect(formatCidr(parseNetwork(text))).toBe(canonical);
  });

  it('rejects host bits and says which network was meant', () => {
    expect(() => parseNetwork('10.0.0.1/24')).toThrow(
      'CIDR 10.0.0.1/24 has host bits set (the network is 10.0.0.0/24)',
    );
    expect(() => parseNetwork('fd00::1/122', { what: 'pool' })).toThrow(
      'pool CIDR fd00::1/122 has host bits set (the network is fd00::/122)',
    );
  });
});

describe('size, containment and overlap', () => {
  const n = (text: string) => parseNetwork(text);
  it('counts addresses and finds the last one', () => {
    expect(cidrSize(n('10.0.0.0/26'))).toBe(64n);
    expect(cidrSize(n('10.0.0.9/32'))).toBe(1n);
    expect(cidrSize(n('fd00::/64'))).toBe(1n << 64n);
    expect(formatIp(cidrLast(n('10.0.0.64/26')))).toBe('10.0.0.127');
    expect(formatIp(cidrLast(n('fd00::/122')))).toBe('fd00::3f');
  });

  it.each([
    ['10.0.0.64/26', '10.0.0.64', true],
    ['10.0.0.64/26', '10.0.0.127', true],
    ['10.0.0.64/26', '10.0.0.128', false],
    ['10.0.0.64/26', '10.0.0.63', false],
    ['10.0.0.0/32', '10.0.0.0', true],
    ['0.0.0.0/0', '255.255.255.255', true],
    ['0.0.0.0/0', '::1', false],
    ['fd00::/122', 'fd00::3f', true],
    ['fd00::/122', 'fd00::40', false],
  ])('%s contains %s: %s', (cidr, ip, inside) => {
    expect(cidrContainsIp(n(cidr), parseIp(ip))).toBe(inside);
  });

  it.each([
    ['10.0.0.0/16', '10.0.3.0/26', true, true],
    ['10.0.0.0/16', '10.0.0.0/16', true, true],
    ['10.0.3.0/26', '10.0.0.0/16', false, true],
    ['10.0.0.0/16', '10.1.0.0/26', false, false],
    ['fd00::/64', 'fd00::40/122', true, true],
    ['::/0', '0.0.0.0/32', false, false],
  ])('%s contains %s: %s (overlap: %s)', (outer, inner, inside, overlap) => {
    expect(cidrContainsCidr(n(outer), n(inner))).toBe(inside);
    expect(cidrOverlaps(n(inner), n(outer))).toBe(overlap);
    expect(cidrOverlaps(n(outer), n(inner))).toBe(overlap);
  });

  it('finds overlaps in both directions and equality', () => {
    expect(cidrOverlaps(n('10.0.0.0/30'), n('10.0.0.4/30'))).toBe(false);
    expect(sameCidr(n('10.0.0.0/30'), n('10.0.0.0/30'))).toBe(true);
    expect(sameCidr(n('10.0.0.0/30'), n('10.0.0.0/31'))).toBe(false);
  });

  it('masks with networkOf and rejects impossible prefixes', () => {
    expect(formatCidr(networkOf(parseIp('10.1.2.3'), 20))).toBe('10.1.0.0/20');
    expect(formatCidr(networkOf(parseIp('fd00::1234'), 116))).toBe('fd00::1000/116');
    expect(() => networkOf(parseIp('10.1.2.3'), 33)).toThrow(
      'prefix length 33 is invalid for IPv4',
    );
  });
});
