import { describe, expect, it } from 'vitest';
import { InvalidAddressError } from './errors';
import { formatIp, ipFromValue, parseIp, sameIp, tryParseIp } from './ip-address';

describe('parseIp', () => {
  const valid: [string, 4 | 6, bigint][] = [
    ['10.0.0.1', 4, 0x0a000001n],
    ['0.0.0.0', 4, 0n],
    ['255.255.255.255', 4, 0xffffffffn],
    ['::', 6, 0n],
    ['::1', 6, 1n],
    ['1::', 6, 1n << 112n],
    ['fd80:24e2:f998:72d6::', 6, 0xfd8024e2f99872d6n << 64n],
    ['FD80:24E2:F998:72D6:0:0:0:3F', 6, (0xfd8024e2f99872d6n << 64n) | 0x3fn],
    ['1:2:3:4:5:6:7:8', 6, 0x00010002000300040005000600070008n],
    ['1:2:3:4:5:6::8', 6, 0x00010002000300040005000600000008n],
    ['::ffff:10.0.0.1', 6, 0xffff0a000001n],
    ['64:ff9b::192.0.2.33', 6, (0x64ff9bn << 96n) | 0xc0000221n],
    ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 6, (1n << 128n) - 1n],
  ];
  it.each(valid)('%s is IPv%i %s', (text, family, value) => {
    expect(parseIp(text)).toEqual({ family, value });
  });

  const invalid = [
    '',
    '10.0.0',
    '10.0.0.1.2',
    '010.0.0.1',
    '256.0.0.1',
    ' 10.0.0.1',
    '10.0.0.1 ',
    '10.0.0.1/32',
    '1::2::3',
    '12345::',
    ':1::',
    '1:',
    ':::',
    '1:2:3:4:5:6:7',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7:8::',
    '::1:2:3:4:5:6:7:8',
    '::ffff:10.0.0',
    '10.0.0.1::',
    '1.2.3.4:5::',
    'fe80::1%eth0',
    'g::1',
    'abc',
  ];
  it.each(invalid)('%j is rejected, naming the text', (text) => {
    expect(tryParseIp(text)).toBeNull();
    expect(() => parseIp(text)).toThrow(new InvalidAddressError(`invalid IP address "${text}"`));
  });
});

describe('formatIp (IPv4 dotted, IPv6 RFC 5952)', () => {
  const cases: [string, string][] = [
    ['10.0.0.64', '10.0.0.64'],
    ['0.0.0.0', '0.0.0.0'],
    ['2001:DB8::1', '2001:db8::1'],
    ['2001:db8:0:0:0:0:2:1', '2001:db8::2:1'],
    // §4.2.2: a single zero group is not compressed.
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    // §4.2.3: the longest run wins, the first one on a tie.
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['1:0:0:0:0:0:0:0', '1::'],
    ['0001:02:003:0004::', '1:2:3:4::'],
    ['fd80:24e2:f998:72d6:0000:0000:0000:0040', 'fd80:24e2:f998:72d6::40'],
    // §5: IPv4-mapped addresses in mixed notation; other embedded forms in hex.
    ['::ffff:a00:1', '::ffff:10.0.0.1'],
    ['::10.0.0.1', '::a00:1'],
  ];
  it.each(cases)('%s prints as %s', (text, canonical) => {
    expect(formatIp(parseIp(text))).toBe(canonical);
    expect(formatIp(parseIp(canonical))).toBe(canonical);
  });
});

describe('ipFromValue and sameIp', () => {
  it('accepts values that fit the family and rejects others, naming the value', () => {
    expect(formatIp(ipFromValue(4, 0xc0a80001n))).toBe('192.168.0.1');
    expect(() => ipFromValue(4, 1n << 32n)).toThrow('4294967296 is not an IPv4 address value');
    expect(() => ipFromValue(6, -1n)).toThrow('-1 is not an IPv6 address value');
    expect(formatIp(ipFromValue(6, (1n << 128n) - 1n))).toBe(
      'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
    );
  });

  it('tells families apart even for equal values', () => {
    expect(sameIp(parseIp('0.0.0.1'), parseIp('::1'))).toBe(false);
    expect(sameIp(parseIp('fd00::1'), parseIp('FD00:0::1'))).toBe(true);
  });
});
