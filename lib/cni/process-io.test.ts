import { afterEach, describe, expect, it } from 'vitest';
import { exitWith } from './process-io';

describe('exitWith', () => {
  afterEach(() => {
    process.exitCode = undefined;
  });

  it('ends the process at once with the code, when nothing is queued', () => {
    const calls: number[] = [];
    exitWith(7, (code) => calls.push(code));
    expect(calls).toEqual([7]);
    expect(process.exitCode).toBeUndefined();
  });
});
