import { describe, expect, it } from 'vitest';
import { goUtcTimeString, parseGoTimeString, workloadAttributes } from './allocation-attributes';

describe('goUtcTimeString', () => {
  it.each([
    [0n, '1970-01-01 00:00:00 +0000 UTC'],
    [1704164645123456789n, '2024-01-02 03:04:05.123456789 +0000 UTC'],
    [1704164645120000000n, '2024-01-02 03:04:05.12 +0000 UTC'],
    [1704164645000000001n, '2024-01-02 03:04:05.000000001 +0000 UTC'],
    [-1n, '1969-12-31 23:59:59.999999999 +0000 UTC'],
  ])('prints %s as Go time.Time.String() in UTC: %s', (nanos, text) => {
    expect(goUtcTimeString(nanos)).toBe(text);
  });
});

describe('workloadAttributes', () => {
  it('always has node and timestamp, and pod/namespace only when known', () => {
    expect(workloadAttributes({ node: 'node-1', unixNanos: 0n })).toEqual({
      node: 'node-1',
      timestamp: '1970-01-01 00:00:00 +0000 UTC',
    });
    expect(
      workloadAttributes({ node: 'n', unixNanos: 0n, namespace: 'default', pod: 'web-0' }),
    ).toEqual({
      node: 'n',
      timestamp: '1970-01-01 00:00:00 +0000 UTC',
      namespace: 'default',
      pod: 'web-0',
    });
  });
});

describe('parseGoTimeString', () => {
  it.each([
    ['2024-01-02 03:04:05.123456789 +0000 UTC', Date.UTC(2024, 0, 2, 3, 4, 5, 123.456789)],
    ['2024-01-02 03:04:05 +0000 UTC', Date.UTC(2024, 0, 2, 3, 4, 5)],
    ['2024-01-02 05:04:05.5 +0200 CEST', Date.UTC(2024, 0, 2, 3, 4, 5, 500)],
    ['2024-01-02 03:04:05.1 +0000 UTC m=+0.000123', Date.UTC(2024, 0, 2, 3, 4, 5, 100)],
  ])('reads %s', (text, ms) => {
    expect(parseGoTimeString(text)).toBe(ms);
  });

  it('reads back what goUtcTimeString writes, and refuses other text', () => {
    expect(parseGoTimeString(goUtcTimeString(1704164645123000000n))).toBe(1704164645123);
    expect(parseGoTimeString('2024-01-02T03:04:05Z')).toBeUndefined();
    expect(parseGoTimeString('')).toBeUndefined();
  });
});
