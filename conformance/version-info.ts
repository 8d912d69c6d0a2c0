import type { ExecResult } from './exec-plugin';
import { describeExec } from './expect';
import { isObject, parseStdout, show } from './stdout';

/** A plugin's answer to VERSION. */
export interface VersionInfo {
  readonly cniVersion: string;
  readonly supportedVersions: readonly string[];
}

/**
 * The VERSION answer in `r`, or why libcni's decoder would reject it: exit 0 and one JSON object
 * with a non-empty string `cniVersion` and a non-empty array of strings `supportedVersions`.
 */
export function readVersionInfo(r: ExecResult): VersionInfo | string {
  if (r.exitCode !== 0) return describeExec(r);
  const shape = parseStdout(r.stdout);
  if (shape.kind === 'empty') return 'exit 0 with empty stdout';
  if (shape.kind === 'invalid') return `stdout ${shape.reason}`;
  const v = shape.value;
  if (!isObject(v)) return 'stdout is not a JSON object';
  if (typeof v.cniVersion !== 'string' || v.cniVersion === '') {
    return `"cniVersion" is not a non-empty string (${show(v.cniVersion)})`;
  }
  const list = v.supportedVersions;
  if (!Array.isArray(list) || list.length === 0 || list.some((x) => typeof x !== 'string')) {
    return `"supportedVersions" is not a non-empty array of strings (${show(list)})`;
  }
  return { cniVersion: v.cniVersion, supportedVersions: list as string[] };
}

/** Undefined when `r` is a valid VERSION answer; otherwise `label: why`. */
export function versionProblem(r: ExecResult, label: string): string | undefined {
  const info = readVersionInfo(r);
  return typeof info === 'string' ? `${label}: ${info}` : undefined;
}
