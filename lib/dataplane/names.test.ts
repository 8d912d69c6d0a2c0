import { describe, expect, it } from 'vitest';
import { CniError } from '../cni/errors';
import {
  assertInterfaceName,
  hostPrefix,
  ipFamily,
  ipv6Hex,
  sameIp,
  splitAddresses,
} from './names';

describe('interface names', () => {
  it.each(['eth0', 'cali1234567890a', 'eth0.100', 'net1-a_b'])('accepts %s', (name) => {
    expect(() => {
      assertInterfaceName('x', name);
    }).not.toThrow();
  });

  it.each([
    '',
    'cali1234567890ab',
    '.',
    '..',
    'a/b',
    'a:b',
    'a b',
    'a\nlink del eth0',
    '#x',
    'a"b',
    'é',
  ])('refuses %j (kernel rule or batch tokenizer)', (name) => {
    expect(() => {
      assertInterfaceName('x', name);
    }).toThrow(CniError);
  });
});

describe('addresses', () => {
  it('tells the families apart', () => {
    expect(
      [
        '10.0.0.1',
        'fd00::1',
        '::ffff:10.0.0.1',
        '10.0.0.256',
        '10.0.0.1/32',
        'fd00::1::2',
        'x',
      ].map(ipFamily),
    ).toEqual([4, 6, 6, 0, 0, 0, 0]);
  });

  it('expands IPv6 to 32 hex digits', () => {
    expect(ipv6Hex('fe80::ecee:eeff:feee:eeee')).toBe('fe80000000000000eceeeefffeeeeeee');
    expect(ipv6Hex('::')).toBe('0'.repeat(32));
    expect(ipv6Hex('::ffff:10.0.0.1')).toBe('00000000000000000000ffff0a000001');
    expect(ipv6Hex('1:2:3:4:5:6:7:8:9')).toBeUndefined();
    expect(ipv6Hex('10.0.0.1::')).toBeUndefined();
  });

  it('compares textual forms', () => {
    expect(sameIp('fd00::1', 'FD00:0:0::0001')).toBe(true);
    expect(sameIp('fd00::1', 'fd00::2')).toBe(false);
    expect(sameIp('10.0.0.1', '10.0.0.1')).toBe(true);
  });

  it('splits by family and refuses CIDRs', () => {
    expect(splitAddresses(['10.0.0.1', 'fd00::1'])).toEqual({ v4: ['10.0.0.1'], v6: ['fd00::1'] });
    expect(() => splitAddresses(['10.0.0.1/26'])).toThrow(/not a bare IPv4 or IPv6 address/);
    expect([hostPrefix('10.0.0.1'), hostPrefix('fd00::1')]).toEqual(['10.0.0.1/32', 'fd00::1/128']);
  });
});
