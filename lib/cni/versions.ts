import { CniError, ErrorCode } from './errors';

/** Every spec version ADD/DEL accept, compared as exact strings (libcni ValidateNetworkList). */
export const SUPPORTED_VERSIONS = [
  '0.1.0',
  '0.2.0',
  '0.3.0',
  '0.3.1',
  '0.4.0',
  '1.0.0',
  '1.1.0',
] as const;

export type SpecVersion = (typeof SUPPORTED_VERSIONS)[number];

/** The version VERSION reports as its own (the newest we speak, as the reference skel does). */
export const CURRENT_VERSION: SpecVersion = '1.1.0';

/** A config without `cniVersion` is a 0.1.0 config (libcni DecodeVersion). */
export const IMPLICIT_VERSION: SpecVersion = '0.1.0';

/** True when `v` is one of the exact strings we support. */
export function isSupportedVersion(v: string): v is SpecVersion {
  return (SUPPORTED_VERSIONS as readonly string[]).includes(v);
}

/**
 * Parses `MAJOR[.MINOR[.PATCH]]` as libcni's version.ParseVersion does; a garbage string is a
 * decoding failure (code 6), which is what CHECK/GC/STATUS report for it.
 */
export function parseVersion(v: string): [number, number, number] {
  const parts = v.split('.');
  if (parts.length > 3 || parts.some((p) => !/^\d+$/.test(p))) {
    throw new CniError(
      ErrorCode.decodingFailure,
      `invalid cniVersion "${v}": want MAJOR.MINOR.PATCH`,
    );
  }
  const [major = 0, minor = 0, patch = 0] = parts.map(Number);
  return [major, minor, patch];
}

/** Negative, zero or positive as `a` is older than, equal to or newer than `b`. */
export function compareVersions(a: string, b: string): number {
  const pa = parseVersion(a);
  const pb = parseVersion(b);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Throws code 1 unless the config's version is exactly one we support. */
export function requireSupportedVersion(version: string): SpecVersion {
  if (isSupportedVersion(version)) return version;
  throw new CniError(
    ErrorCode.incompatibleVersion,
    'incompatible CNI versions',
    `config is "${version}", plugin supports [${SUPPORTED_VERSIONS.map((v) => `"${v}"`).join(', ')}]`,
  );
}

/**
 * The version gate for verbs newer than 0.1.0 (CHECK ≥ 0.4.0, GC/STATUS ≥ 1.1.0): the version
 * must parse (else 6), be new enough (else 1), then match exactly (else 1), as pkg/skel orders it.
 */
export function requireVersionForVerb(version: string, verb: string, since: string): SpecVersion {
  if (compareVersions(version, since) < 0) {
    throw new CniError(
      ErrorCode.incompatibleVersion,
      `config version does not allow ${verb}`,
      `config is "${version}", ${verb} needs ${since} or newer`,
    );
  }
  return requireSupportedVersion(version);
}
