import { blockAddressCount } from './block-geometry';
import { cidrContainsCidr, networkOf, parseCidr, type Cidr } from './cidr';
import { familyBits, tryParseIp } from './ip-address';

// IPReservations (§7.5, §8.7): reserved addresses are never handed out by auto-assignment. Inside
// a block they are skipped but stay in the free queue; a block that is reserved end to end is not
// even claimed. Because CIDRs either nest or are disjoint, each reservation covers the whole
// block, a contiguous run of its ordinals, or nothing.

/** Parses one `reservedCIDRs` entry: a CIDR (host bits masked, like Go) or a bare address. */
export function parseReservedCidr(text: string): Cidr {
  const ip = tryParseIp(text);
  if (ip !== null) return networkOf(ip, familyBits(ip.family));
  return parseCidr(text).network;
}

/** Ordinals of `block` covered by any of the reserved CIDRs (other families are ignored). */
export function reservedOrdinals(block: Cidr, reserved: readonly Cidr[]): ReadonlySet<number> {
  const size = blockAddressCount(block);
  const ordinals = new Set<number>();
  for (const r of reserved) {
    if (cidrContainsCidr(r, block)) {
      for (let i = 0; i < size; i++) ordinals.add(i);
      break;
    }
    if (!cidrContainsCidr(block, r)) continue;
    const first = Number(r.base - block.base);
    const count = blockAddressCount(r);
    for (let i = first; i < first + count; i++) ordinals.add(i);
  }
  return ordinals;
}

/** True when every address of the block is reserved; such blocks are skipped when claiming. */
export function isBlockWhollyReserved(block: Cidr, reserved: readonly Cidr[]): boolean {
  return reservedOrdinals(block, reserved).size === blockAddressCount(block);
}
