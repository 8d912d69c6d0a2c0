import { describe, expect, it } from 'vitest';
import { fail, na, pass, verdict } from './outcome';
import { addTallies, formatItem, formatTally, tally } from './report';

describe('formatItem', () => {
  it('prints pass lines without a reason', () => {
    expect(formatItem({ id: 'A3', title: 'four unset', outcome: pass() })).toBe(
      'pass  A3  four unset',
    );
  });

  it('prints fail and n/a lines with their reason on one line', () => {
    expect(formatItem({ id: 'B24', title: 't', outcome: fail('got\n  code 7') })).toBe(
      'fail  B24  t: got code 7',
    );
    expect(formatItem({ id: 'A11', title: 't', outcome: na('no 1.1.0') })).toBe(
      'n/a   A11  t: no 1.1.0',
    );
  });
});

describe('tally', () => {
  it('counts n/a as skipped and formats the closing line', () => {
    const t = tally([
      { id: 'A1', title: 't', outcome: pass() },
      { id: 'A2', title: 't', outcome: fail('x') },
      { id: 'A3', title: 't', outcome: na('y') },
      { id: 'A4', title: 't', outcome: pass() },
    ]);
    expect(formatTally(t)).toBe('2 passed, 1 failed, 1 skipped');
    expect(formatTally(addTallies([t, t]))).toBe('4 passed, 2 failed, 2 skipped');
  });
});

describe('verdict', () => {
  it('passes when every problem is undefined and joins the others', () => {
    expect(verdict([undefined, undefined])).toEqual(pass());
    expect(verdict(['a', undefined, 'b'])).toEqual(fail('a | b'));
  });
});
