import { describe, expect, it } from 'vitest';
import { HandleCountError, OutOfRangeError } from './errors';
import {
  cniHandleId,
  decrementHandle,
  handleTotal,
  incrementHandle,
  normaliseHandleId,
  type HandleState,
} from './handle';
import { deepFreeze } from './test-support';

const held: HandleState = deepFreeze({
  block: { '10.0.0.64/26': 2, 'fd00::40/122': 1 },
  extra: { deleted: false },
});

describe('incrementHandle', () => {
  it('creates a handle that does not exist yet', () => {
    expect(incrementHandle(null, '10.0.0.64/26')).toEqual({ block: { '10.0.0.64/26': 1 } });
  });

  it('adds to an existing block or a new one and keeps unknown fields', () => {
    expect(incrementHandle(held, '10.0.0.64/26', { count: 3 })).toEqual({
      block: { '10.0.0.64/26': 5, 'fd00::40/122': 1 },
      extra: { deleted: false },
    });
    expect(incrementHandle(held, '10.0.1.0/26').block).toEqual({
      '10.0.0.64/26': 2,
      'fd00::40/122': 1,
      '10.0.1.0/26': 1,
    });
  });

  it.each([0, -2, 0.5])('rejects count %s', (count) => {
    expect(() => incrementHandle(held, '10.0.0.64/26', { count })).toThrow(OutOfRangeError);
  });
});

describe('decrementHandle', () => {
  it('subtracts, and drops a block that reaches zero', () => {
    expect(decrementHandle(held, '10.0.0.64/26')).toEqual({
      kind: 'update',
      handle: { block: { '10.0.0.64/26': 1, 'fd00::40/122': 1 }, extra: { deleted: false } },
    });
    expect(decrementHandle(held, '10.0.0.64/26', { count: 2 })).toEqual({
      kind: 'update',
      handle: { block: { 'fd00::40/122': 1 }, extra: { deleted: false } },
    });
  });

  it('signals delete when the last block goes', () => {
    expect(decrementHandle({ block: { 'fd00::40/122': 1 } }, 'fd00::40/122')).toEqual({
      kind: 'delete',
    });
  });

  it('refuses a block the handle does not hold, and going below zero', () => {
    expect(() => decrementHandle(held, '10.0.1.0/26', { handleId: 'net.abc' })).toThrow(
      new HandleCountError('handle net.abc holds no addresses in block 10.0.1.0/26'),
    );
    expect(() => decrementHandle(held, '10.0.0.64/26', { count: 3 })).toThrow(
      new HandleCountError(
        'cannot release 3 addresses of handle in block 10.0.0.64/26: it holds 2',
      ),
    );
    expect(() => decrementHandle(held, 'toString')).toThrow(HandleCountError);
  });
});

describe('handle IDs', () => {
  it('sums a handle and builds and normalises IDs (§8.1)', () => {
    expect(handleTotal(held)).toBe(3);
    expect(cniHandleId('k8s-pod-network', 'abc123')).toBe('k8s-pod-network.abc123');
    expect(cniHandleId('k8s-pod-network', 'abc123', 'eth0')).toBe('k8s-pod-network.abc123');
    // A second interface of the same container on the same network is its own attachment.
    expect(cniHandleId('k8s-pod-network', 'abc123', 'net1')).toBe('k8s-pod-network.abc123.net1');
    expect(normaliseHandleId('net.abc\r\nrest')).toBe('net.abc');
    expect(normaliseHandleId('net.abc')).toBe('net.abc');
  });
});
