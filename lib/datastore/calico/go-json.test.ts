import { describe, expect, it } from 'vitest';
import { parseByHand, parseGoJson, stringifyByHand, stringifyGoJson } from './go-json';

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

// parseGoJson takes JSON.parse's fast path when it can; parseByHand is the reference. Both must
// agree on every text: same values, same bigint/number split, same key order, same errors.
/** A small deterministic generator (xorshift): the same inputs on every run. */
function seeded(start: number): {
  random: () => number;
  pick: <T>(items: readonly T[]) => T;
} {
  let seed = start;
  const random = (): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 2 ** 32;
  };
  return { random, pick: (items) => items[Math.floor(random() * items.length)] as never };
}

/** What a call came to, as text: its result, or the error it threw. */
function outcomeOf(run: () => string): string {
  try {
    return run();
  } catch (err) {
    return `throws ${err instanceof Error ? err.message : String(err)}`;
  }
}

describe('parseGoJson against parseByHand', () => {
  /** A value as text that tells bigint from number, -0 from 0, and keeps key order. */
  function show(value: unknown): string {
    if (typeof value === 'bigint') return `${value}n`;
    if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value);
    if (typeof value === 'string') return JSON.stringify(value);
    if (value === null || typeof value !== 'object') return String(value);
    if (Array.isArray(value)) return `[${value.map(show).join(',')}]`;
    const proto = Object.getPrototypeOf(value) === Object.prototype ? '' : '!proto';
    const entries = Object.keys(value).map(
      (k) => `${JSON.stringify(k)}:${show((value as Record<string, unknown>)[k])}`,
    );
    return `{${entries.join(',')}}${proto}`;
  }

  const outcome = (parse: (text: string) => unknown, text: string): string =>
    outcomeOf(() => show(parse(text)));
  const { random, pick } = seeded(0x2545f491);
  const NUMBERS = [
    '0',
    '-0',
    '7',
    '-12',
    '1.5',
    '2e3',
    '-1E-2',
    '9007199254740991',
    '9007199254740992',
    '9007199254740993',
    '-9007199254740993',
    '1000000000000000',
    '1795263088492000017',
    '18446744073709551615',
    '12345678901234567.5',
    '1234567890123456789e2',
    '1e400',
    '0.0000000000000001',
  ];
  const STRINGS = [
    '""',
    '"a"',
    '"1795263088492000017"',
    '"x 12345678901234567890 y"',
    '"\\\\"',
    '"\\\\\\"1234567890123456789"',
    '"\\u0041"',
    '"\\ud800"',
    '"<&>"',
    '"\\n\\t"',
    '"é✓"',
    '"\\u0000"',
    '"\\\\u0000"',
  ];
  const KEYS = ['"a"', '"10"', '"2"', '"__proto__"', '"1795263088492000017"', '"a"', '"k\\"1"'];
  function text(depth: number): string {
    const ws = () => pick(['', '', ' ', '\n ', '\t']);
    const kind = depth > 3 ? pick(['n', 's', 'l']) : pick(['n', 's', 'l', 'a', 'o', 'o']);
    if (kind === 'n') return pick(NUMBERS);
    if (kind === 's') return pick(STRINGS);
    if (kind === 'l') return pick(['true', 'false', 'null']);
    const count = Math.floor(random() * 4);
    const items = Array.from({ length: count }, () =>
      kind === 'a'
        ? `${ws()}${text(depth + 1)}${ws()}`
        : `${ws()}${pick(KEYS)}${ws()}:${ws()}${text(depth + 1)}`,
    );
    return kind === 'a' ? `[${items.join(',')}]` : `{${items.join(',')}}`;
  }
  /** Breaks a text a little: a character dropped, doubled or replaced (mostly invalid JSON). */
  function mutate(valid: string): string {
    const at = Math.floor(random() * valid.length);
    const char = pick(['1', '"', ',', ':', '}', ']', '{', '\\', '-', '.', 'e', ' ']);
    return pick([
      valid.slice(0, at) + valid.slice(at + 1),
      valid.slice(0, at) + char + valid.slice(at),
      valid.slice(0, at) + char + valid.slice(at + 1),
    ]);
  }

  it('agrees on 3,000 generated texts and 3,000 broken ones', () => {
    let fast = 0;
    for (let i = 0; i < 3000; i++) {
      const valid = text(0);
      for (const t of [valid, mutate(valid)]) {
        const expected = outcome(parseByHand, t);
        expect(outcome(parseGoJson, t), t).toBe(expected);
        if (!expected.startsWith('throws')) fast++;
      }
    }
    // Most generated texts parse: the comparison is not only between two errors.
    expect(fast).toBeGreaterThan(3000);
  });

  it.each([
    ['{1795263088492000017:1}', 'a long integer where a key belongs'],
    ['["\\u0000-1795263088492000017"]', 'a string that looks like a marked integer'],
    ['[1795263088492000017,"1795263088492000017"]', 'the same digits as integer and string'],
    ['{"a":1,"a":1795263088492000017}', 'a repeated key'],
  ])('agrees on %j (%s)', (t) => {
    expect(outcome(parseGoJson, t)).toBe(outcome(parseByHand, t));
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

// stringifyGoJson takes JSON.stringify's fast path when it can; stringifyByHand is the reference.
describe('stringifyGoJson against stringifyByHand', () => {
  const outcome = (write: (value: unknown) => string, value: unknown): string =>
    outcomeOf(() => write(value));
  const { random, pick } = seeded(0x1b873593);
  const LEAVES: unknown[] = [
    0,
    -0,
    7,
    -1.5,
    1e21,
    9007199254740993n,
    -18446744073709551615n,
    0n,
    true,
    false,
    null,
    '',
    'a',
    '<&>',
    'x\u2028y\u2029',
    'lone \ud800 high',
    'lone \udc00 low',
    'pair \ud83d\ude00',
    '\u0001',
    '\u00017',
    'a\u00017',
    '\\ud800 as text',
    'tab\tnl\n\u0000\u001f\u007f',
    'é✓',
    '"quoted"',
    'k8s-pod-network.0123456789012345678',
  ];
  const ODD: unknown[] = [undefined, NaN, Infinity, () => 1, Symbol('s'), new Date(0)];
  const KEYS = ['a', 'b', '10', '2', '0', 'handle_id', '<k>', '\u00013', '\ud800', 'x'];
  function value(depth: number, odd: boolean): unknown {
    const kind = depth > 3 ? 'leaf' : pick(['leaf', 'leaf', 'array', 'object', 'object']);
    if (kind === 'leaf') return odd && random() < 0.05 ? pick(ODD) : pick(LEAVES);
    const count = Math.floor(random() * 4);
    if (kind === 'array') return Array.from({ length: count }, () => value(depth + 1, odd));
    const object: Record<string, unknown> = {};
    for (let i = 0; i < count; i++) {
      Object.defineProperty(object, pick(KEYS), {
        value: value(depth + 1, odd),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return object;
  }

  it('agrees on 3,000 generated values of JSON data and 3,000 with odd values in them', () => {
    let written = 0;
    for (let i = 0; i < 3000; i++) {
      for (const v of [value(0, false), value(0, true)]) {
        const expected = outcome(stringifyByHand, v);
        expect(outcome(stringifyGoJson, v)).toBe(expected);
        if (!expected.startsWith('throws')) written++;
      }
    }
    expect(written).toBeGreaterThan(3000);
  });

  it('writes a full block the same way', () => {
    const text = JSON.stringify({
      cidr: '10.1.224.192/26',
      allocations: Array.from({ length: 64 }, (_, i) => i),
      attributes: Array.from({ length: 64 }, (_, i) => ({
        handle_id: `net.c${i}`,
        secondary: { node: 'n', pod: `p${i}`, timestamp: '2026-11-21 12:00:11 +0000 UTC' },
      })),
      sequenceNumber: 'S',
      sequenceNumberForAllocation: Object.fromEntries(
        Array.from({ length: 64 }, (_, i) => [String(i), 'S']),
      ),
    }).replace(/"S"/g, '1795263088492000017');
    const block = parseGoJson(text);
    expect(stringifyGoJson(block)).toBe(stringifyByHand(block));
  });
});
