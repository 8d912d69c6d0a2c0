import { describe, expect, it } from 'vitest';
import { goUtcTimeString, workloadAttributes } from './allocation-attributes';

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
