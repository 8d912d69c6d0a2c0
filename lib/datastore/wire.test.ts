import { describe, expect, it } from 'vitest';
import { checkLimit, keyRange, toSafeInteger } from './wire';

describe('keyRange', () => {
  it('addresses one key without a range end', () => {
    expect(keyRange('/a')).toEqual({ key: Buffer.from('/a') });
  });

  it('turns a prefix into [prefix, prefix with its last byte + 1)', () => {
    expect(keyRange('/calico/', true)).toEqual({
      key: Buffer.from('/calico/'),
      rangeEnd: Buffer.from('/calico0'),
    });
    // "ü" is c3 bc in UTF-8: the byte is incremented, not the character.
    expect(keyRange('/ü', true).rangeEnd).toEqual(Buffer.from([0x2f, 0xc3, 0xbd]));
  });

  it('reads the empty prefix as every key ("\\0" to "\\0")', () => {
    expect(keyRange('', true)).toEqual({ key: Buffer.from([0]), rangeEnd: Buffer.from([0]) });
  });
});

describe('toSafeInteger', () => {
  it('reads int64 strings and treats absent as zero', () => {
    expect(toSafeInteger('42', 'revision')).toBe(42);
    expect(toSafeInteger(undefined, 'revision')).toBe(0);
    expect(toSafeInteger(7, 'revision')).toBe(7);
  });

  it('refuses what would round, and what is not a number', () => {
    expect(() => toSafeInteger('9007199254740993', 'mod_revision')).toThrow(
      'etcd returned mod_revision 9007199254740993: not a safe integer',
    );
    expect(() => toSafeInteger('x', 'version')).toThrow('not a safe integer');
    expect(() => toSafeInteger({}, 'version')).toThrow('etcd returned version object');
  });
});

describe('checkLimit', () => {
  it('accepts absent and non-negative integers only', () => {
    expect(checkLimit(undefined)).toBe(0);
    expect(checkLimit(5)).toBe(5);
    expect(() => checkLimit(-1)).toThrow('range limit must be a non-negative integer');
    expect(() => checkLimit(1.5)).toThrow('range limit must be a non-negative integer');
  });
});
