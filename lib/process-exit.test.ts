import { afterEach, describe, expect, it } from 'vitest';
import { exitHeld, exitWith, holdExit } from './process-exit';

describe('exitWith', () => {
  afterEach(() => {
    process.exitCode = undefined;
  });

  it('ends the process at once with the code when no work holds the exit', () => {
    const calls: number[] = [];
    exitWith(7, (code) => calls.push(code));
    expect(calls).toEqual([7]);
    expect(process.exitCode).toBeUndefined();
  });

  it('leaves the exit to Node while some work holds it, and ends at once again after', () => {
    const calls: number[] = [];
    const release = holdExit();
    expect(exitHeld()).toBe(true);
    exitWith(3, (code) => calls.push(code));
    expect(calls).toEqual([]);
    expect(process.exitCode).toBe(3);
    release();
    release();
    expect(exitHeld()).toBe(false);
    exitWith(4, (code) => calls.push(code));
    expect(calls).toEqual([4]);
  });
});
