import type { CniCommand } from './env';
import { CniError, ErrorCode } from './errors';
import { FieldReader, isJsonObject, type JsonObject } from './json-fields';
import { decodeResult } from './result/decode';
import type { Result } from './result/types';
import { validateNetworkName, validatePluginType } from './validate';
import {
  IMPLICIT_VERSION,
  isSupportedVersion,
  requireSupportedVersion,
  requireVersionForVerb,
  type SpecVersion,
} from './versions';

/** One still-valid attachment named by GC's `cni.dev/valid-attachments`. */
export interface Attachment {
  containerId: string;
  ifName: string;
}

/** The keys every plugin config shares, parsed once; plugin-specific keys stay in `raw`. */
export interface NetConf {
  cniVersion: SpecVersion;
  name: string;
  type?: string;
  /** `ipam.type`, when the config has an `ipam` section with one. */
  ipamType?: string;
  prevResult?: Result;
  /** GC only: undefined when the runtime sent neither attachments key (then release nothing). */
  validAttachments?: Attachment[];
  raw: JsonObject;
}

/** Callbacks for what the dispatcher wants to know before parsing finishes. */
export interface ParseHooks {
  /** Called once the config's version is known to be one of ours, so errors can carry it. */
  onVersion?: (version: SpecVersion) => void;
  onWarning?: (message: string) => void;
}

const config = new FieldReader(ErrorCode.invalidNetworkConfig, 'invalid network config: ');

/**
 * Decodes stdin for `command` in pkg/skel's order: JSON (6), name (7), version gate (1 or 6),
 * then the shared fields (7). `cniVersion` is returned even when a later step fails, so that the
 * error object can carry it.
 */
export function parseNetConf(
  stdin: Buffer,
  command: Exclude<CniCommand, 'VERSION'>,
  hooks: ParseHooks = {},
): NetConf {
  const raw = decodeJson(stdin);
  // Known as soon as it is readable and ours, so that even the name check's error carries it.
  const early = raw.cniVersion ?? IMPLICIT_VERSION;
  if (typeof early === 'string' && isSupportedVersion(early)) hooks.onVersion?.(early);
  const name = validateNetworkName(raw.name);
  if (raw.cniVersion !== undefined && typeof raw.cniVersion !== 'string') {
    throw new CniError(
      ErrorCode.decodingFailure,
      'error decoding network config: cniVersion must be a string',
    );
  }
  const declared = raw.cniVersion ?? IMPLICIT_VERSION;
  const cniVersion = gateVersion(declared, command);
  const netConf: NetConf = { cniVersion, name, raw };
  if (raw.type !== undefined) netConf.type = validatePluginType('type', raw.type);
  if (raw.ipam !== undefined) {
    const ipam = config.object(raw.ipam, 'ipam');
    if (ipam.type !== undefined) netConf.ipamType = validatePluginType('ipam.type', ipam.type);
  }
  if (raw.prevResult !== undefined) {
    try {
      netConf.prevResult = parsePrevResult(raw.prevResult, cniVersion);
    } catch (err) {
      // DEL is best effort (spec 1.0 §DEL): a prevResult we cannot read must not block cleanup.
      if (command !== 'DEL' || !(err instanceof CniError)) throw err;
      hooks.onWarning?.(`ignoring prevResult on DEL: ${err.message}`);
    }
  }
  if (command === 'GC') {
    const attachments = parseAttachments(raw);
    if (attachments !== undefined) netConf.validAttachments = attachments;
  }
  return netConf;
}

function decodeJson(stdin: Buffer): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(stdin.toString('utf8'));
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new CniError(ErrorCode.decodingFailure, `error decoding network config: ${reason}`);
  }
  if (!isJsonObject(value)) {
    throw new CniError(
      ErrorCode.decodingFailure,
      'error decoding network config: not a JSON object',
    );
  }
  return value;
}

function gateVersion(version: string, command: Exclude<CniCommand, 'VERSION'>): SpecVersion {
  switch (command) {
    case 'ADD':
    case 'DEL':
      return requireSupportedVersion(version);
    case 'CHECK':
      return requireVersionForVerb(version, command, '0.4.0');
    case 'GC':
    case 'STATUS':
      return requireVersionForVerb(version, command, '1.1.0');
  }
}

// Go plugins read prevResult in the config's version and fail on any other. We read it in its own
// stamped version when that is one we support (libcni hands ADD's prevResult over unconverted, so
// a chain mixing versions still works), else in the config's version.
function parsePrevResult(value: unknown, cniVersion: SpecVersion): Result {
  const stamped = isJsonObject(value) ? value.cniVersion : undefined;
  const version = typeof stamped === 'string' && isSupportedVersion(stamped) ? stamped : cniVersion;
  return decodeResult(value, version, {
    source: 'invalid network config: prevResult',
    code: ErrorCode.invalidNetworkConfig,
  });
}

// libcni ≥ 1.2.3 sends both keys with the same value; older 1.2.x only the first.
function parseAttachments(raw: JsonObject): Attachment[] | undefined {
  const key =
    raw['cni.dev/valid-attachments'] !== undefined
      ? 'cni.dev/valid-attachments'
      : 'cni.dev/attachments';
  if (raw[key] === undefined) return undefined;
  return config.array(raw[key], key).map((entry, i) => {
    const obj = config.object(entry, `${key}[${i}]`);
    return {
      containerId: config.string(obj.containerID, `${key}[${i}].containerID`),
      ifName: config.string(obj.ifname, `${key}[${i}].ifname`),
    };
  });
}
