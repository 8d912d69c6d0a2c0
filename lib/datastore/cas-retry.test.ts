import { describe, expect, it } from 'vitest';
import { CAS_CONFLICT, withCasRetry } from './cas-retry';

describe('withCasRetry', () => {
  it('retries conflicts with growing, jittered delays and returns the first real outcome', async () => {
    const delays: number[] = [];
    let calls = 0;
    const value = await withCasRetry(() => Promise.resolve(++calls < 4 ? CAS_CONFLICT : 'done'), {
      what: 'x',
      baseDelayMs: 2,
      maxDelayMs: 10,
      random: () => 1,
      sleep: (ms) => (delays.push(ms), Promise.resolve()),
    });
    expect(value).toBe('done');
    expect(delays).toEqual([2, 4, 8]);
  });

  it('caps the delay', async () => {
    const delays: number[] = [];
    await expect(
      withCasRetry(() => Promise.resolve(CAS_CONFLICT), {
        what: 'assign for handle n.c1',
        attempts: 6,
        baseDelayMs: 2,
        maxDelayMs: 10,
        random: () => 1,
        sleep: (ms) => (delays.push(ms), Promise.resolve()),
      }),
    ).rejects.toMatchObject({
      code: 11,
      message: expect.stringContaining('Max retries hit') as unknown,
    });
    expect(delays).toEqual([2, 4, 8, 10, 10, 10]);
  });

  it('surfaces any other error at once without retrying', async () => {
    let calls = 0;
    await expect(
      withCasRetry(
        () => {
          calls++;
          return Promise.reject(new Error('etcd down'));
        },
        { what: 'x' },
      ),
    ).rejects.toThrow('etcd down');
    expect(calls).toBe(1);
  });
});
