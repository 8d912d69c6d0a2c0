import type { JsonObject } from '../../cni/json-fields';
import { canonicalCidr } from './cidr-text';
import { encodeResource, omitEmpty, parseEnvelope, type ObjectMeta } from './resource';
import { mergeRaw, StoredReader } from './stored';

// projectcalico.org/v3 IPPool (calico-behaviour.md §7.3). Calico applies the defaults on every
// read (clientv3 convertIpPoolFromStorage), so a pool stored without blockSize still has one.

/** Tunnel mode of a pool. */
export type EncapMode = 'Never' | 'Always' | 'CrossSubnet';
/** What a pool's addresses may be used for. */
export type AllowedUse = 'Workload' | 'Tunnel' | 'LoadBalancer';
/** Automatic pools are picked by AutoAssign; Manual ones only when named. */
export type AssignmentMode = 'Automatic' | 'Manual';

/** The IPPool spec, defaults applied. */
export interface IpPoolSpec {
  /** Canonical CIDR. */
  cidr: string;
  vxlanMode: EncapMode;
  ipipMode: EncapMode;
  natOutgoing: boolean;
  disabled: boolean;
  disableBGPExport: boolean;
  blockSize: number;
  nodeSelector: string;
  /** v3.31+; empty when unset. */
  namespaceSelector: string;
  allowedUses: AllowedUse[];
  assignmentMode: AssignmentMode;
  /** The spec as read: unknown fields survive a write-back. */
  raw?: JsonObject;
}

/** An IPPool. */
export interface IpPool {
  metadata: ObjectMeta;
  spec: IpPoolSpec;
  raw?: JsonObject;
}

const ENCAP_MODES: readonly string[] = ['Never', 'Always', 'CrossSubnet'];
const ALLOWED_USES: readonly string[] = ['Workload', 'Tunnel', 'LoadBalancer'];
const ASSIGNMENT_MODES: readonly string[] = ['Automatic', 'Manual'];
/** Valid block sizes per family, and the default. */
const BLOCK_SIZES = {
  4: { min: 20, max: 32, fallback: 26 },
  6: { min: 116, max: 128, fallback: 122 },
} as const;

/** Parses the IPPool at `key`, applying Calico's read defaults and validating the block size. */
export function parseIpPool(key: string, text: string): IpPool {
  const read = new StoredReader('IPPool', key);
  const { metadata, spec, raw } = parseEnvelope(read, { text, kind: 'IPPool' });
  const cidrText = read.string(spec.cidr, 'spec.cidr');
  const cidr = canonicalCidr(cidrText);
  if (cidr === undefined) throw read.fail('spec.cidr', `${JSON.stringify(cidrText)} is not a CIDR`);
  const family = cidr.includes(':') ? 6 : 4;
  const blockSize = read.integer(
    spec.blockSize === 0 ? undefined : spec.blockSize,
    'spec.blockSize',
    BLOCK_SIZES[family],
  );
  const poolPrefix = Number(cidr.slice(cidr.indexOf('/') + 1));
  if (blockSize < poolPrefix) {
    throw read.fail('spec.blockSize', `${blockSize} is larger than the pool ${cidr}`);
  }
  const oneOf = <T extends string>(
    value: unknown,
    rule: { path: string; allowed: readonly string[]; fallback: T },
  ): T => {
    const { path, allowed, fallback } = rule;
    const text = read.optionalString(value, path) ?? '';
    if (text === '') return fallback;
    if (!allowed.includes(text)) {
      throw read.fail(path, `must be one of ${allowed.join(', ')}, got ${JSON.stringify(text)}`);
    }
    return text as T;
  };
  const uses = (read.optionalStrings(spec.allowedUses ?? undefined, 'spec.allowedUses') ?? []).map(
    (use, i) =>
      oneOf<AllowedUse>(use, {
        path: `spec.allowedUses[${i}]`,
        allowed: ALLOWED_USES,
        fallback: 'Workload',
      }),
  );
  return {
    metadata,
    spec: {
      cidr,
      vxlanMode: oneOf<EncapMode>(spec.vxlanMode, {
        path: 'spec.vxlanMode',
        allowed: ENCAP_MODES,
        fallback: 'Never',
      }),
      ipipMode: oneOf<EncapMode>(spec.ipipMode, {
        path: 'spec.ipipMode',
        allowed: ENCAP_MODES,
        fallback: 'Never',
      }),
      natOutgoing: read.boolean(spec.natOutgoing, 'spec.natOutgoing'),
      disabled: read.boolean(spec.disabled, 'spec.disabled'),
      disableBGPExport: read.boolean(spec.disableBGPExport, 'spec.disableBGPExport'),
      blockSize,
      nodeSelector: read.optionalString(spec.nodeSelector, 'spec.nodeSelector') || 'all()',
      namespaceSelector:
        read.optionalString(spec.namespaceSelector, 'spec.namespaceSelector') ?? '',
      allowedUses: uses.length === 0 ? ['Workload', 'Tunnel'] : uses,
      assignmentMode: oneOf<AssignmentMode>(spec.assignmentMode, {
        path: 'spec.assignmentMode',
        allowed: ASSIGNMENT_MODES,
        fallback: 'Automatic',
      }),
      raw: spec,
    },
    raw,
  };
}

/**
 * The stored JSON of a pool, spec fields in Go's order. The defaulted fields are written out, as
 * calicoctl does on create; `natOutgoing` always (as in §7.3's example), the other booleans and
 * selectors only when set; `assignmentMode` only when Manual or already stored, so that a v3.30+
 * field does not appear in pools that never had it.
 */
export function encodeIpPool(pool: IpPool): string {
  const { spec } = pool;
  const stored = spec.raw ?? {};
  return encodeResource('IPPool', {
    metadata: pool.metadata,
    raw: pool.raw,
    spec: mergeRaw(
      {
        cidr: spec.cidr,
        vxlanMode: spec.vxlanMode,
        ipipMode: spec.ipipMode,
        natOutgoing: spec.natOutgoing,
        disabled: omitEmpty(spec.disabled),
        disableBGPExport: omitEmpty(spec.disableBGPExport),
        blockSize: spec.blockSize,
        nodeSelector: spec.nodeSelector,
        namespaceSelector: omitEmpty(spec.namespaceSelector),
        allowedUses: spec.allowedUses,
        assignmentMode:
          spec.assignmentMode === 'Manual' || stored.assignmentMode !== undefined
            ? spec.assignmentMode
            : undefined,
      },
      spec.raw,
    ),
  });
}
