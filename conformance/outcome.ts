/** Verdict of one checklist item. */
export type Status = 'pass' | 'fail' | 'n/a';

/** What a check returns: a verdict and, unless it passed, why. */
export type Outcome =
  | { readonly status: 'pass' }
  | { readonly status: 'fail'; readonly reason: string }
  | { readonly status: 'n/a'; readonly reason: string };

/** One checklist item after it ran. */
export interface ItemResult {
  readonly id: string;
  readonly title: string;
  readonly outcome: Outcome;
}

/** The item passed. */
export const pass = (): Outcome => ({ status: 'pass' });

/** The item failed for `reason`. */
export const fail = (reason: string): Outcome => ({ status: 'fail', reason });

/** The item does not apply, or needs something unavailable (`reason` says what). */
export const na = (reason: string): Outcome => ({ status: 'n/a', reason });

/** Reason used for every item that needs network namespaces when the harness is not root. */
export const NEEDS_ROOT = 'needs root for network namespaces';

/** Reason used when a dependent ADD is answered with the "not implemented yet" error (code 101). */
export const NOT_IMPLEMENTED =
  'plugin reports ADD not implemented yet (code 101); config passed validation';

/** Separates independent problems inside one fail reason. */
export const PROBLEM_SEPARATOR = ' | ';

/** Fail with every reason in `problems` (undefined entries are fine), else pass. */
export function verdict(problems: readonly (string | undefined)[]): Outcome {
  const found = problems.filter((p): p is string => p !== undefined);
  return found.length === 0 ? pass() : fail(found.join(PROBLEM_SEPARATOR));
}
