import { describe, expect, it } from 'vitest';
import { asErrorObject, errorObjectProblems, parseStdout, snippet } from './stdout';

describe('parseStdout', () => {
  it('treats whitespace-only output as empty', () => {
    expect(parseStdout('')).toEqual({ kind: 'empty' });
    expect(parseStdout(' \n\t')).toEqual({ kind: 'empty' });
  });

  it('accepts one JSON value with surrounding whitespace (the Go skel indents)', () => {
    expect(parseStdout('\n{\n    "code": 4\n}\n')).toEqual({ kind: 'one', value: { code: 4 } });
  });

  it('names a second JSON document', () => {
    const shape = parseStdout('{"cniVersion":"1.0.0","ips":[]}\n{"code":999,"msg":"x"}');
    expect(shape.kind).toBe('invalid');
    expect(shape.kind === 'invalid' && shape.reason).toMatch(/^a second JSON document after/);
  });

  it('names text after the first value', () => {
    const shape = parseStdout('{"a":"}"} done');
    expect(shape.kind === 'invalid' && shape.reason).toBe('text after the first JSON value: done');
  });

  it('reports a log line before the JSON as not one JSON value', () => {
    const shape = parseStdout('starting\n{"code":1,"msg":"x"}');
    expect(shape.kind === 'invalid' && shape.reason).toMatch(/^not one JSON value: starting/);
  });

  it('reports a truncated object as not one JSON value', () => {
    const shape = parseStdout('{"code":1,');
    expect(shape.kind === 'invalid' && shape.reason).toMatch(/^not one JSON value/);
  });
});

describe('errorObjectProblems', () => {
  it('accepts code, msg and optional details and cniVersion', () => {
    expect(errorObjectProblems({ code: 4, msg: 'm' })).toEqual([]);
    expect(errorObjectProblems({ cniVersion: '1.0.0', code: 7, msg: 'm', details: 'd' })).toEqual(
      [],
    );
  });

  it('rejects non-integer or string codes, missing msg and non-string details', () => {
    expect(errorObjectProblems({ code: '4', msg: 'm' })).toEqual([
      '"code" is not an integer ("4")',
    ]);
    expect(errorObjectProblems({ code: 4.5, msg: 'm' })).toHaveLength(1);
    expect(errorObjectProblems({ code: 4 })).toEqual(['"msg" is not a string (absent)']);
    expect(errorObjectProblems({ code: 4, msg: 'm', details: 3 })).toHaveLength(1);
    expect(errorObjectProblems([{ code: 4, msg: 'm' }])).toEqual(['stdout is not a JSON object']);
  });

  it('asErrorObject returns only well-formed error objects', () => {
    expect(asErrorObject({ code: 4, msg: 'm' })).toEqual({ code: 4, msg: 'm' });
    expect(asErrorObject({ code: 4 })).toBeUndefined();
  });
});

describe('snippet', () => {
  it('flattens whitespace and shortens long text', () => {
    expect(snippet('a\n  b')).toBe('a b');
    expect(snippet('x'.repeat(10), 5)).toBe('xxxx…');
  });
});
