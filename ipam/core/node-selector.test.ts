import { describe, expect, it } from 'vitest';
import { SelectorSyntaxError } from './errors';
import { matchesNodeSelector, parseSelector, selectorMatches } from './node-selector';
import { MAX_SELECTOR_DEPTH, MAX_SELECTOR_LENGTH } from './selector-parser';

const labels = {
  'kubernetes.io/hostname': 'node-1',
  zone: 'eu-west-1a',
  rack: 'r7',
  gpu: '',
};

describe('nodeSelector evaluation', () => {
  const cases: [string, boolean][] = [
    ['', true],
    ['   ', true],
    ['all()', true],
    [' all ( ) ', true],
    ['!all()', false],
    ['has(zone)', true],
    ['has(gpu)', true],
    ['has(ssd)', false],
    ['!has(ssd)', true],
    ['!has(zone)', false],
    ["zone == 'eu-west-1a'", true],
    ['zone == "eu-west-1a"', true],
    ["zone == 'eu-west-1b'", false],
    ["kubernetes.io/hostname == 'node-1'", true],
    ["zone != 'eu-west-1b'", true],
    ["zone != 'eu-west-1a'", false],
    // Calico: != and not in also match nodes without the label.
    ["ssd != 'yes'", true],
    ["ssd == ''", false],
    ["gpu == ''", true],
    ["rack in {'r6', 'r7'}", true],
    ['rack in {}', false],
    ["ssd in {'x'}", false],
    ["rack not in {'r6', 'r7'}", false],
    ["ssd not in {'x'}", true],
    ["zone contains 'west'", true],
    ["zone starts with 'eu-'", true],
    ["zone ends with '1b'", false],
    ["has(zone) && rack == 'r7'", true],
    ["has(zone) && rack == 'r8'", false],
    ["rack == 'r8' || has(zone)", true],
    ["rack == 'r8' || has(ssd)", false],
    // && binds tighter than ||.
    ['has(zone) || has(ssd) && has(nvme)', true],
    ['(has(zone) || has(ssd)) && has(nvme)', false],
    ["!(rack == 'r7')", false],
    ['!!has(zone)', true],
    ["!(has(ssd) || rack == 'r1') && zone == 'eu-west-1a'", true],
    ["has(constructor) || has(__proto__) || toString == ''", false],
  ];
  it.each(cases)('%j → %s', (selector, expected) => {
    expect(matchesNodeSelector(selector, labels)).toBe(expected);
  });

  it('parses once and evaluates per node', () => {
    const selector = parseSelector("zone == 'eu-west-1a'");
    expect(selectorMatches(selector, labels)).toBe(true);
    expect(selectorMatches(selector, { zone: 'us-east-1a' })).toBe(false);
    expect(selector.source).toBe("zone == 'eu-west-1a'");
  });
});

describe('nodeSelector syntax errors', () => {
  const errors: [string, number, string][] = [
    ['has(zone', 8, "expected ')', found end of selector"],
    ["zone = 'a'", 5, 'unexpected character "="'],
    ['zone == a', 8, 'expected a quoted value, found "a"'],
    ["zone == 'a", 8, "unterminated string starting with '"],
    ['zone', 4, 'expected an operator'],
    ['has(zone) &&', 12, "expected a label key, '(', '!', all() or has(), found end of selector"],
    ['has(zone) has(rack)', 10, "expected '&&', '||' or the end of the selector, found \"has\""],
    ['global()', 0, 'all() or has()'],
    ["rack in {'a' 'b'}", 13, "expected ',' or '}'"],
    ["rack in {'a',}", 13, 'expected a quoted value, found "}"'],
    ["rack not {'a'}", 9, "expected 'in'"],
    ['(has(a)', 7, "expected ')'"],
    ['has(a))', 6, "expected '&&', '||' or the end of the selector"],
    ['has(a) & has(b)', 7, 'unexpected character "&"'],
  ];
  it.each(errors)('%j fails at %i', (selector, position, problem) => {
    let caught: unknown;
    try {
      parseSelector(selector);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(SelectorSyntaxError);
    const error = caught as SelectorSyntaxError;
    expect(error.position).toBe(position);
    expect(error.selector).toBe(selector);
    expect(error.message).toContain(
      `invalid selector ${JSON.stringify(selector)} at position ${position}`,
    );
    expect(error.message).toContain(problem);
  });

  it('bounds the length, and quotes only the start of a long selector', () => {
    const ok = `has(${'k'.repeat(MAX_SELECTOR_LENGTH - 5)})`;
    expect(ok).toHaveLength(MAX_SELECTOR_LENGTH);
    expect(() => parseSelector(ok)).not.toThrow();
    const long = `${ok} `;
    expect(() => parseSelector(long)).toThrow(/at position 1024: longer than 1024 characters/);
    expect(() => parseSelector(long)).toThrow(/…" at/);
  });

  it('bounds the nesting depth of parentheses and negations', () => {
    const nested = (depth: number) => `${'('.repeat(depth)}all()${')'.repeat(depth)}`;
    expect(matchesNodeSelector(nested(MAX_SELECTOR_DEPTH), {})).toBe(true);
    expect(() => parseSelector(nested(MAX_SELECTOR_DEPTH + 1))).toThrow(
      `at position ${MAX_SELECTOR_DEPTH}: nested deeper than ${MAX_SELECTOR_DEPTH} levels`,
    );
    expect(matchesNodeSelector(`${'!'.repeat(MAX_SELECTOR_DEPTH)}all()`, {})).toBe(true);
    expect(() => parseSelector(`${'!'.repeat(MAX_SELECTOR_DEPTH + 1)}all()`)).toThrow(
      'nested deeper than',
    );
  });
});
