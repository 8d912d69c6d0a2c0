import { describe, expect, it } from 'vitest';
import { formatCidr, parseNetwork } from './cidr';
import { isBlockWhollyReserved, parseReservedCidr, reservedOrdinals } from './reservations';

const n = (text: string) => parseNetwork(text);
const r = (...texts: string[]) => texts.map(parseReservedCidr);

describe('parseReservedCidr', () => {
  it.each([
    ['10.0.0.5', '10.0.0.5/32'],
    ['fd00::5', 'fd00::5/128'],
    ['10.0.0.0/30', '10.0.0.0/30'],
    ['10.0.0.7/30', '10.0.0.4/30'],
  ])('reads %s as %s', (text, cidr) => {
    expect(formatCidr(parseReservedCidr(text))).toBe(cidr);
  });

  it('rejects text that is neither an address nor a CIDR', () => {
    expect(() => parseReservedCidr('10.0.0/30')).toThrow('invalid CIDR "10.0.0/30"');
  });
});

describe('reservedOrdinals', () => {
  it.each([
    ['10.0.0.0/26', ['10.0.0.0/30'], [0, 1, 2, 3]],
    ['10.0.0.64/26', ['10.0.0.0/30'], []],
    ['10.0.0.64/26', ['10.0.0.127', '10.0.0.64'], [0, 63]],
    ['10.0.0.64/26', ['fd00::/8'], []],
    ['fd00::40/122', ['fd00::7f/128', 'fd00::44/126'], [4, 5, 6, 7, 63]],
    ['10.0.0.9/32', ['10.0.0.9'], [0]],
  ])('block %s with %j reserves %j', (block, reserved, ordinals) => {
    expect([...reservedOrdinals(n(block), r(...reserved))].sort((a, b) => a - b)).toEqual(ordinals);
  });

  it('covers a whole block inside a larger reservation', () => {
    const set = reservedOrdinals(n('10.0.16.0/20'), r('10.0.0.0/16'));
    expect(set.size).toBe(4096);
    expect(set.has(4095)).toBe(true);
  });
});

describe('isBlockWhollyReserved', () => {
  it.each([
    ['10.0.0.0/26', ['10.0.0.0/16'], true],
    ['10.0.0.0/26', ['10.0.0.0/27', '10.0.0.32/27'], true],
    ['10.0.0.0/26', ['10.0.0.0/27', '10.0.0.32/28'], false],
    ['10.0.0.9/32', ['10.0.0.9'], true],
    ['fd00::7/128', ['fd00::6'], false],
    ['fd00::/116', ['fd00::/116'], true],
    ['10.0.0.0/26', [], false],
  ])('block %s with %j: %s', (block, reserved, whole) => {
    expect(isBlockWhollyReserved(n(block), r(...reserved))).toBe(whole);
  });
});
