import { describe, expect, it } from 'vitest';
import { Budget, formatSeconds } from './deadline';

function fakeClock(): { now: () => number; advance: (ms: number) => void } {
  let now = 1000;
  return {
    now: () => now,
    advance: (ms) => {
      now += ms;
    },
  };
}

describe('Budget', () => {
  it('gives each request min(per-request, remaining budget)', () => {
    const clock = fakeClock();
    const budget = new Budget({ dialMs: 200, requestMs: 500, budgetMs: 1200 }, clock.now);
    expect(budget.requestWindow()).toBe(500);
    clock.advance(900);
    expect(budget.remaining()).toBe(300);
    expect(budget.requestWindow()).toBe(300);
    clock.advance(400);
    expect(budget.remaining()).toBe(0);
    expect(budget.requestWindow()).toBe(0);
  });

  it('bounds a connect by the dial timeout and by the end of its request window', () => {
    const clock = fakeClock();
    const budget = new Budget({ dialMs: 200, requestMs: 500, budgetMs: 1200 }, clock.now);
    expect(budget.dialWindow(clock.now() + 500)).toBe(200);
    expect(budget.dialWindow(clock.now() + 50)).toBe(50);
    expect(budget.dialWindow(clock.now() - 5)).toBe(0);
  });

  it('says whether the budget or the request deadline ran out', () => {
    const clock = fakeClock();
    const budget = new Budget({ dialMs: 200, requestMs: 500, budgetMs: 1500 }, clock.now);
    expect(budget.describeExhausted()).toBe('no answer within 0.5 s');
    clock.advance(1500);
    expect(budget.describeExhausted()).toBe('time budget of 1.5 s for this invocation exhausted');
  });

  it('formats seconds without float noise', () => {
    expect(formatSeconds(10_000)).toBe('10 s');
    expect(formatSeconds(1234)).toBe('1.234 s');
  });
});
