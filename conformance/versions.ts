/** Spec versions the harness knows, oldest first. */
export const KNOWN_VERSIONS = [
  '0.1.0',
  '0.2.0',
  '0.3.0',
  '0.3.1',
  '0.4.0',
  '1.0.0',
  '1.1.0',
] as const;

/** Versions this project's plugins must support (checklist item 36). */
export const REQUIRED_VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0'] as const;

/** Versions a plugin must reject with code 1 (checklist item 24). */
export const BOGUS_VERSIONS = ['9.9.9', '0.3.2', '2.0.0'] as const;

/** Numeric parts of `x.y.z`, or undefined for anything else. */
function parts(version: string): [number, number, number] | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(version);
  return m === null ? undefined : [Number(m[1]), Number(m[2]), Number(m[3])];
}

/** Negative, zero or positive as `a` is older, equal or newer than `b` (both `x.y.z`). */
export function compareVersions(a: string, b: string): number {
  const pa = parts(a) ?? [0, 0, 0];
  const pb = parts(b) ?? [0, 0, 0];
  return pa[0] - pb[0] || pa[1] - pb[1] || pa[2] - pb[2];
}

/** True when `version` is `min` or newer. */
export function atLeast(version: string, min: string): boolean {
  return compareVersions(version, min) >= 0;
}

/** The newest version both the harness knows and the plugin advertises, else `fallback`. */
export function versionUnderTest(supported: readonly string[], fallback = '1.0.0'): string {
  const known = KNOWN_VERSIONS.filter((v) => supported.includes(v));
  return known[known.length - 1] ?? fallback;
}

/** The newest advertised version that allows CHECK (0.4.0+), if any. */
export function checkVersion(ctx: { readonly supported: readonly string[] }): string | undefined {
  return KNOWN_VERSIONS.filter((v) => atLeast(v, '0.4.0') && ctx.supported.includes(v)).pop();
}
