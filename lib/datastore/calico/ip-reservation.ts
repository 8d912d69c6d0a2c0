import type { JsonObject } from '../../cni/json-fields';
import { canonicalCidr } from './cidr-text';
import { encodeResource, parseEnvelope, type ObjectMeta } from './resource';
import { mergeRaw, StoredReader } from './stored';

// projectcalico.org/v3 IPReservation (v3.21+): addresses IPAM must never hand out (§8.7).

/** The IPReservation spec. */
export interface IpReservationSpec {
  /** CIDRs or bare addresses (a /32 or /128), as stored; each checked to be one. */
  reservedCIDRs: string[];
  /** The spec as read: unknown fields survive a write-back. */
  raw?: JsonObject;
}

/** An IPReservation. */
export interface IpReservation {
  metadata: ObjectMeta;
  spec: IpReservationSpec;
  raw?: JsonObject;
}

/** Parses the IPReservation at `key`. */
export function parseIpReservation(key: string, text: string): IpReservation {
  const read = new StoredReader('IPReservation', key);
  const { metadata, spec, raw } = parseEnvelope(read, { text, kind: 'IPReservation' });
  const cidrs = read.optionalStrings(spec.reservedCIDRs ?? undefined, 'spec.reservedCIDRs') ?? [];
  cidrs.forEach((entry, i) => {
    const withPrefix = entry.includes('/') ? entry : `${entry}/${entry.includes(':') ? 128 : 32}`;
    if (canonicalCidr(withPrefix) === undefined) {
      throw read.fail(
        `spec.reservedCIDRs[${i}]`,
        `${JSON.stringify(entry)} is not a CIDR or an IP`,
      );
    }
  });
  return { metadata, spec: { reservedCIDRs: cidrs, raw: spec }, raw };
}

/** The stored JSON of an IPReservation. */
export function encodeIpReservation(reservation: IpReservation): string {
  return encodeResource('IPReservation', {
    metadata: reservation.metadata,
    raw: reservation.raw,
    spec: mergeRaw({ reservedCIDRs: reservation.spec.reservedCIDRs }, reservation.spec.raw),
  });
}
