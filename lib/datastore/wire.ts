import { DatastoreError } from './errors';

// Encoding details shared by both transports: etcd speaks bytes and int64, we speak UTF-8 strings
// and numbers.

/** The `key` / `range_end` pair etcd expects for one key or a prefix. */
export interface KeyRange {
  key: Buffer;
  rangeEnd?: Buffer;
}

const NUL = Buffer.from([0]);

/**
 * etcd has no prefix flag: a prefix is the range [prefix, prefix+1), where +1 increments the last
 * byte below 0xff and drops the 0xff bytes after it. The empty prefix (and an all-0xff one) is the
 * range from "\0" to "\0", which etcd reads as "every key".
 */
export function keyRange(key: string, prefix = false): KeyRange {
  const bytes = Buffer.from(key, 'utf8');
  if (!prefix) return { key: bytes };
  for (let i = bytes.length - 1; i >= 0; i--) {
    const byte = bytes[i];
    if (byte !== undefined && byte < 0xff) {
      const end = Buffer.from(bytes.subarray(0, i + 1));
      end[i] = byte + 1;
      return { key: bytes.length === 0 ? NUL : bytes, rangeEnd: end };
    }
  }
  return { key: bytes.length === 0 ? NUL : bytes, rangeEnd: NUL };
}

/**
 * An int64 from etcd (a decimal string from both the JSON gateway and etcd3; absent means 0) as
 * a number. Revisions beyond 2^53 would silently round, so they fail loudly instead.
 */
export function toSafeInteger(value: unknown, field: string): number {
  if (value === undefined || value === null || value === '') return 0;
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
  if (!Number.isSafeInteger(n)) {
    throw new DatastoreError(
      'Failed',
      `etcd returned ${field} ${typeof value === 'string' || typeof value === 'number' ? value : typeof value}: not a safe integer`,
    );
  }
  return n;
}

/** Rejects limits etcd would misread (negative, fractional) before sending them. */
export function checkLimit(limit: number | undefined): number {
  if (limit === undefined) return 0;
  if (!Number.isSafeInteger(limit) || limit < 0) {
    throw new DatastoreError('Failed', `range limit must be a non-negative integer, got ${limit}`);
  }
  return limit;
}

/** Rejects compare values etcd would misread, before sending them. */
export function checkRevision(value: number, field: string): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new DatastoreError('Failed', `${field} must be a non-negative integer, got ${value}`);
  }
  return value;
}
