import {
  cidrContainsCidr,
  cidrContainsIp,
  cidrSize,
  formatCidr,
  networkOf,
  type Cidr,
} from './cidr';
import { InvalidBlockSizeError, OutOfRangeError } from './errors';
import { familyBits, familyName, formatIp, type IpAddress, type IpFamily } from './ip-address';

// A pool is cut into equal blocks of 2^(bits − blockSize) addresses; block i starts at
// poolBase + i·blockAddresses. Counts and indexes are bigints because an IPv6 /64 pool holds
// 2^58 blocks of /122 (§7.3 defaults: 26 for IPv4, 122 for IPv6).

/** Valid block prefix lengths per family (§7.3: 20–32 for IPv4, 116–128 for IPv6). */
export const BLOCK_SIZE_LIMITS: Readonly<Record<IpFamily, { min: number; max: number }>> = {
  4: { min: 20, max: 32 },
  6: { min: 116, max: 128 },
};

/** A pool with a validated block size and its derived counts. */
export interface PoolGeometry {
  readonly pool: Cidr;
  readonly blockSize: number;
  /** Number of blocks in the pool (≥ 1). */
  readonly blockCount: bigint;
  /** Addresses per block (1–4096, so ordinals are plain numbers). */
  readonly blockAddresses: number;
}

/** True when `blockSize` is an integer within the family's limits. */
export function isValidBlockSize(family: IpFamily, blockSize: number): boolean {
  const { min, max } = BLOCK_SIZE_LIMITS[family];
  return Number.isInteger(blockSize) && blockSize >= min && blockSize <= max;
}

/** Validates the block size against the pool (§7.3) and derives the block count. */
export function poolGeometry(pool: Cidr, blockSize: number): PoolGeometry {
  const { min, max } = BLOCK_SIZE_LIMITS[pool.family];
  const where = `${familyName(pool.family)} pool ${formatCidr(pool)}`;
  if (!isValidBlockSize(pool.family, blockSize)) {
    throw new InvalidBlockSizeError(
      `block size ${blockSize} is outside ${min}–${max} for ${where}`,
    );
  }
  if (blockSize < pool.prefix) {
    throw new InvalidBlockSizeError(
      `block size ${blockSize} is larger than ${where}: a block must fit inside its pool`,
    );
  }
  return {
    pool,
    blockSize,
    blockCount: 1n << BigInt(blockSize - pool.prefix),
    blockAddresses: 2 ** (familyBits(pool.family) - blockSize),
  };
}

/** The CIDR of block `index` (0 ≤ index < blockCount). */
export function blockCidrAt(geometry: PoolGeometry, index: bigint): Cidr {
  if (index < 0n || index >= geometry.blockCount) {
    throw new OutOfRangeError(
      `block index ${index} is outside 0–${geometry.blockCount - 1n} for pool ${formatCidr(geometry.pool)}`,
    );
  }
  const { family, base } = geometry.pool;
  return {
    family,
    base: base + index * BigInt(geometry.blockAddresses),
    prefix: geometry.blockSize,
  };
}

/** The index of a block CIDR within the pool; throws if it is not one of the pool's blocks. */
export function blockIndexOf(geometry: PoolGeometry, block: Cidr): bigint {
  if (block.prefix !== geometry.blockSize || !cidrContainsCidr(geometry.pool, block)) {
    throw new OutOfRangeError(
      `${formatCidr(block)} is not a /${geometry.blockSize} block of pool ${formatCidr(geometry.pool)}`,
    );
  }
  return (block.base - geometry.pool.base) / BigInt(geometry.blockAddresses);
}

/** The block of the given size that holds `ip` (§8.5: the IP masked to the pool's blockSize). */
export function blockContaining(ip: IpAddress, blockSize: number): Cidr {
  if (!isValidBlockSize(ip.family, blockSize)) {
    const { min, max } = BLOCK_SIZE_LIMITS[ip.family];
    throw new InvalidBlockSizeError(
      `block size ${blockSize} is outside ${min}–${max} for ${familyName(ip.family)} address ${formatIp(ip)}`,
    );
  }
  return networkOf(ip, blockSize);
}

/** Addresses in a block as a plain number; a block is at most 4096 addresses (/20, /116). */
export function blockAddressCount(block: Cidr): number {
  return Number(cidrSize(block));
}

/** The ordinal of `ip` in the block: `ip − blockBase` (§7.4 `allocations` index). */
export function ordinalOf(block: Cidr, ip: IpAddress): number {
  if (!cidrContainsIp(block, ip)) {
    throw new OutOfRangeError(`${formatIp(ip)} is not in block ${formatCidr(block)}`);
  }
  return Number(ip.value - block.base);
}

/** The address at `ordinal` in the block; throws outside 0..size−1. */
export function ipAtOrdinal(block: Cidr, ordinal: number): IpAddress {
  if (!Number.isInteger(ordinal) || ordinal < 0 || ordinal >= blockAddressCount(block)) {
    throw new OutOfRangeError(`ordinal ${ordinal} is outside block ${formatCidr(block)}`);
  }
  return { family: block.family, value: block.base + BigInt(ordinal) };
}
