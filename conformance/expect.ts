import type { ExecResult } from './exec-plugin';
import {
  asErrorObject,
  errorObjectProblems,
  isObject,
  parseStdout,
  snippet,
  type CniErrorObject,
} from './stdout';

/** One-line summary of what an execution did, quoted in fail reasons. */
export function describeExec(r: ExecResult): string {
  if (r.spawnError !== undefined) return `could not start: ${r.spawnError}`;
  if (r.timedOut) return 'timed out (killed)';
  if (r.signal !== null) return `killed by ${r.signal}`;
  const exit = `exit ${String(r.exitCode)}`;
  const shape = parseStdout(r.stdout);
  if (shape.kind === 'empty') {
    const stderr = snippet(r.stderr, 100);
    return `${exit}, empty stdout${stderr === '' ? '' : `, stderr "${stderr}"`}`;
  }
  if (shape.kind === 'invalid') return `${exit}, stdout ${shape.reason}`;
  const err = asErrorObject(shape.value);
  if (err !== undefined) {
    const details = err.details === undefined ? '' : ` details "${snippet(err.details, 100)}"`;
    return `${exit} code ${err.code} msg "${snippet(err.msg, 120)}"${details}`;
  }
  return `${exit}, stdout ${snippet(r.stdout, 120)}`;
}

/** The error object of a failed execution, if it printed a well-formed one. */
export function errorOf(r: ExecResult): CniErrorObject | undefined {
  if (r.exitCode === 0 || r.exitCode === null) return undefined;
  const shape = parseStdout(r.stdout);
  return shape.kind === 'one' ? asErrorObject(shape.value) : undefined;
}

/** True for the narrow "not implemented yet" answer: code 101 and a msg saying so. */
export function isNotImplemented(r: ExecResult): boolean {
  const err = errorOf(r);
  return err?.code === 101 && err.msg.includes('not implemented');
}

/** What a check expects of a failing execution. */
export interface ErrorExpectation {
  readonly code: number;
  /** Substrings the `msg` must contain. */
  readonly msgHas?: readonly string[];
  /** Substrings the `details` must contain. */
  readonly detailsHas?: readonly string[];
}

/** Text of an expectation, e.g. `code 4 with msg naming CNI_PATH`. */
function wanted(want: ErrorExpectation): string {
  const naming = (what: string, subs: readonly string[] | undefined): string =>
    subs === undefined || subs.length === 0
      ? ''
      : ` with ${what} naming ${subs.map((s) => JSON.stringify(s)).join(', ')}`;
  return `code ${want.code}${naming('msg', want.msgHas)}${naming('details', want.detailsHas)}`;
}

/**
 * Undefined when `r` failed (non-zero exit) with a well-formed error object matching `want`;
 * otherwise `label: want …, got …`.
 */
export function checkError(
  r: ExecResult,
  want: ErrorExpectation,
  label: string,
): string | undefined {
  const got = `${label}: want ${wanted(want)}, got ${describeExec(r)}`;
  if (r.exitCode === 0 || r.exitCode === null) return got;
  const shape = parseStdout(r.stdout);
  if (shape.kind !== 'one') return got;
  const problems = errorObjectProblems(shape.value);
  if (problems.length > 0) return `${got} (${problems.join(', ')})`;
  const err = shape.value as CniErrorObject;
  if (err.code !== want.code) return got;
  if (want.msgHas?.some((s) => !err.msg.includes(s)) === true) return got;
  if (want.detailsHas?.some((s) => !(err.details ?? '').includes(s)) === true) return got;
  return undefined;
}

/** Undefined when `r` failed with any well-formed error object; otherwise why not. */
export function checkAnyError(r: ExecResult, label: string): string | undefined {
  const got = `${label}: want a JSON error, got ${describeExec(r)}`;
  if (r.exitCode === 0 || r.exitCode === null) return got;
  return errorOf(r) === undefined ? got : undefined;
}

/** The result object of a successful ADD (exit 0, one JSON object that is not an error). */
export function resultOf(r: ExecResult): Record<string, unknown> | undefined {
  if (r.exitCode !== 0) return undefined;
  const shape = parseStdout(r.stdout);
  if (shape.kind !== 'one' || !isObject(shape.value) || 'code' in shape.value) return undefined;
  return shape.value;
}

/** Undefined when `r` exited 0; otherwise `label: want exit 0, got …`. */
export function checkExitZero(r: ExecResult, label: string): string | undefined {
  return r.exitCode === 0 && !r.timedOut
    ? undefined
    : `${label}: want exit 0, got ${describeExec(r)}`;
}

/**
 * Undefined unless `r` rejected its input (code 3/4, or msg/details mentioning one of `words`) or
 * crashed; an exit 0 or an unrelated JSON error means the input was accepted.
 */
export function rejection(
  r: ExecResult,
  words: readonly string[],
  label: string,
): string | undefined {
  if (r.exitCode === 0) return undefined;
  const err = errorOf(r);
  if (err === undefined) return `${label}: ${describeExec(r)}`;
  const text = `${err.msg} ${err.details ?? ''}`;
  const rejected = err.code === 3 || err.code === 4 || words.some((w) => text.includes(w));
  return rejected ? `${label}: rejected with ${describeExec(r)}` : undefined;
}
