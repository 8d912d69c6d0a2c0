import { describe, expect, it } from 'vitest';
import { parseGoJson, stringifyGoJson } from './go-json';

describe('parseGoJson', () => {
  it('reads what JSON.parse reads', () => {
    const text = '{"a":[1,-2.5,3e2,true,false,null,"x\\n\\u00e9"],"b":{},"c":[]}';
    expect(parseGoJson(text)).toEqual(JSON.parse(text));
  });

  it('keeps integers beyond 2^53 exact as bigint, and smaller ones as numbers', () => {
    const value = parseGoJson(
      '{"sequenceNumber":1704164645123456789,"max":18446744073709551615,"small":9007199254740991}',
    );
    expect(value).toEqual({
      sequenceNumber: 1704164645123456789n,
      max: 18446744073709551615n,
      small: 9007199254740991,
    });
  });

  it('makes "__proto__" an ordinary property', () => {
    const value = parseGoJson('{"__proto__":{"polluted":true}}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.keys(value)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each([
    ['', 'expected a value at offset 0'],
    ['{"a":1,}', 'expected a key at offset 7'],
    ['[1 2]', 'expected "," or "]"'],
    ['{"a" 1}', 'expected ":"'],
    ['"abc', 'unterminated string'],
    ['"a\tb"', 'control character in a string'],
    ['{} x', 'unexpected text after the value'],
    ['01', 'unexpected text after the value'],
    ['tru', 'expected a value'],
  ])('refuses %j', (text, problem) => {
    expect(() => parseGoJson(text)).toThrow(problem);
  });
});

describe('stringifyGoJson', () => {
  it('writes compact JSON in insertion order, bigints digit for digit, undefined left out', () => {
    expect(
      stringifyGoJson({ z: 1, a: [null, true, 'x'], seq: 1704164645123456789n, gone: undefined }),
    ).toBe('{"z":1,"a":[null,true,"x"],"seq":1704164645123456789}');
  });

  it('escapes like Go: <, >, &, U+2028/9 and control characters; bad UTF-16 becomes U+FFFD', () => {
    expect(stringifyGoJson('has(a) && b < 3 > 1\u2028\u2029\n\t\u0001"\\')).toBe(
      '"has(a) \\u0026\\u0026 b \\u003c 3 \\u003e 1\\u2028\\u2029\\n\\t\\u0001\\"\\\\"',
    );
    expect(stringifyGoJson('a\ud800b')).toBe('"a\ufffdb"');
    expect(stringifyGoJson('🐱é')).toBe('"🐱é"');
  });

  it('round-trips Go-written text byte for byte', () => {
    const text =
      '{"cidr":"10.0.0.64/26","secondary":{"sel":"a \\u0026\\u0026 b"},"sequenceNumber":1704164645123456789}';
    expect(stringifyGoJson(parseGoJson(text))).toBe(text);
  });

  it('refuses what JSON cannot hold', () => {
    expect(() => stringifyGoJson(NaN)).toThrow('cannot write NaN as JSON');
    expect(() => stringifyGoJson({ f: () => 1 })).toThrow('cannot write a function as JSON');
  });
});

describe('Go map order', () => {
  it('writes objects with integer-like keys (Go maps) sorted as strings, like Go', () => {
    const text = '{"0":1,"1":1,"10":3,"11":3,"2":2}';
    expect(stringifyGoJson(parseGoJson(text))).toBe(text);
    expect(stringifyGoJson({ '2': 2, '10': 3, a: 1 })).toBe('{"10":3,"2":2,"a":1}');
  });
});
