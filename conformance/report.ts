import type { ItemResult } from './outcome';

/** Counts of a report. */
export interface Tally {
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
}

/** Keep a reason on one line: a report line per item is the contract. */
function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** `pass  A3  title`, `fail  A3  title: reason` or `n/a   A3  title: reason`. */
export function formatItem(item: ItemResult): string {
  const { outcome } = item;
  const status = outcome.status.padEnd(6);
  const head = `${status}${item.id}  ${oneLine(item.title)}`;
  return outcome.status === 'pass' ? head : `${head}: ${oneLine(outcome.reason)}`;
}

/** Count passed, failed and skipped (n/a) items. */
export function tally(items: readonly ItemResult[]): Tally {
  const count = (s: string): number => items.filter((i) => i.outcome.status === s).length;
  return { passed: count('pass'), failed: count('fail'), skipped: count('n/a') };
}

/** Sum of several tallies. */
export function addTallies(tallies: readonly Tally[]): Tally {
  return tallies.reduce(
    (a, t) => ({
      passed: a.passed + t.passed,
      failed: a.failed + t.failed,
      skipped: a.skipped + t.skipped,
    }),
    { passed: 0, failed: 0, skipped: 0 },
  );
}

/** The closing line: `N passed, N failed, N skipped`. */
export function formatTally(t: Tally): string {
  return `${t.passed} passed, ${t.failed} failed, ${t.skipped} skipped`;
}
