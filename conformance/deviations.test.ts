import { describe, expect, it } from 'vitest';
import { judgeReport, type Deviation } from './deviations';
import { fail, na, pass, type ItemResult } from './outcome';

const dev: Deviation = { id: 'J92', reasonHas: 'lacks cniVersion', why: 'Go skel' };
const item = (id: string, outcome: ItemResult['outcome']): ItemResult => ({
  id,
  title: 't',
  outcome,
});

describe('judgeReport', () => {
  it('accepts a tabled failure whose every problem is explained', () => {
    const j = judgeReport(
      [item('J92', fail('lacks cniVersion (3 of 9)')), item('A1', pass())],
      [dev],
    );
    expect(j.violations).toEqual([]);
    expect(j.expected).toBe(1);
  });

  it('flags an untabled failure', () => {
    expect(judgeReport([item('A3', fail('x')), item('J92', pass())], []).violations).toEqual([
      'A3 failed unexpectedly',
    ]);
  });

  it('flags a tabled item that fails for another reason as well', () => {
    const j = judgeReport([item('J92', fail('lacks cniVersion (1) | stdout empty (2)'))], [dev]);
    expect(j.violations).toEqual(['J92 failed beyond its expected deviation: stdout empty (2)']);
  });

  it('flags a tabled deviation that passes, so the table stays honest', () => {
    expect(judgeReport([item('J92', pass())], [dev]).violations[0]).toMatch(/but passed/);
  });

  it('only notes a tabled deviation that was not exercised', () => {
    const j = judgeReport([item('J92', na('needs root'))], [dev]);
    expect(j.violations).toEqual([]);
    expect(j.notes).toHaveLength(1);
  });

  it('flags table entries for items the report does not have', () => {
    expect(judgeReport([], [dev]).violations).toEqual(['table names unknown item J92']);
  });

  it('requires zero failures when the table is empty', () => {
    expect(judgeReport([item('J92', fail('lacks cniVersion'))], []).violations).toHaveLength(1);
  });
});
