import { isIP } from 'node:net';
import { describe, expect, it } from 'vitest';
import { cidrFamily, ipFamily } from './ip-text';

describe('ipFamily', () => {
  const cases: [string, 0 | 4 | 6][] = [
    ['10.1.0.5', 4],
    ['0.0.0.0', 4],
    ['255.255.255.255', 4],
    ['256.1.1.1', 0],
    ['10.1.0', 0],
    ['10.1.0.5.6', 0],
    ['010.1.0.5', 0],
    [' 10.1.0.5', 0],
    ['::', 6],
    ['::1', 6],
    ['fe80::ecee:eeff:feee:eeee', 6],
    ['fd00:10::5', 6],
    ['2001:db8:0:0:0:0:0:1', 6],
    ['2001:db8::0:0:0:0:0:1', 0],
    ['1:2:3:4:5:6:7::', 6],
    ['::ffff:10.0.0.1', 6],
    ['1:2:3:4:5:6:7:8:9', 0],
    ['1:2:3:4:5:6:7', 0],
    ['1::2::3', 0],
    ['12345::', 0],
    ['::ffff:10.0.0', 0],
    ['10.0.0.1::', 0],
    ['fe80::1%eth0', 0],
    [':', 0],
    ['', 0],
    ['abc', 0],
  ];
  it.each(cases)('%j is family %i', (text, family) => {
    expect(ipFamily(text)).toBe(family);
  });

  it('agrees with node:net on every case but the zone and leading-zero forms it accepts', () => {
    for (const [text, family] of cases) {
      if (text.includes('%') || text === '010.1.0.5') continue;
      expect(ipFamily(text)).toBe(isIP(text));
      expect(family).toBe(isIP(text));
    }
  });
});

describe('cidrFamily', () => {
  it.each([
    ['10.1.0.5/32', 4],
    ['10.1.0.0/26', 4],
    ['0.0.0.0/0', 4],
    ['10.1.0.5/33', 0],
    ['10.1.0.5/', 0],
    ['10.1.0.5/024', 0],
    ['10.1.0.5', 0],
    ['fd00::5/128', 6],
    ['::/0', 6],
    ['fd00::5/129', 0],
    ['fd00::5/-1', 0],
  ] as const)('%j is family %i', (text, family) => {
    expect(cidrFamily(text)).toBe(family);
  });
});
