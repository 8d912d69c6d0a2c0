// Plain Error subclasses: ipam/core knows nothing of CNI codes. The allocator and the plugin edge
// map them (DESIGN.md "Errors": one table maps domain errors to codes, Calico conditions ≥ 100).

/** Base class of every error thrown by ipam/core. */
export class IpamCoreError extends Error {
  override readonly name: string = 'IpamCoreError';
}

/** An IP address or CIDR text that does not parse, or a network with host bits set. */
export class InvalidAddressError extends IpamCoreError {
  override readonly name: string = 'InvalidAddressError';
}

/** A block size outside 20–32 (IPv4) or 116–128 (IPv6), or larger than its pool (§7.3). */
export class InvalidBlockSizeError extends IpamCoreError {
  override readonly name: string = 'InvalidBlockSizeError';
}

/** An address or ordinal that does not belong to the block or pool it was used with. */
export class OutOfRangeError extends IpamCoreError {
  override readonly name: string = 'OutOfRangeError';
}

/** The requested address is allocated already (§8.5: `Address already assigned in block`). */
export class AddressInUseError extends IpamCoreError {
  override readonly name: string = 'AddressInUseError';
}

/** The requested address is covered by an IPReservation (§8.7). */
export class AddressReservedError extends IpamCoreError {
  override readonly name: string = 'AddressReservedError';
}

/** A block value whose allocations, free list and attributes disagree; never allocate from it. */
export class InconsistentBlockError extends IpamCoreError {
  override readonly name: string = 'InconsistentBlockError';
}

/** A handle decrement below zero or for a block the handle does not hold (§8.1). */
export class HandleCountError extends IpamCoreError {
  override readonly name: string = 'HandleCountError';
}

/** A pool nodeSelector that does not parse; `position` is a 0-based offset into `selector`. */
export class SelectorSyntaxError extends IpamCoreError {
  override readonly name: string = 'SelectorSyntaxError';

  readonly selector: string;
  readonly position: number;

  constructor(message: string, where: { selector: string; position: number }) {
    super(message);
    this.selector = where.selector;
    this.position = where.position;
  }
}
