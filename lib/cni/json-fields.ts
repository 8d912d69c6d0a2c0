import { CniError } from './errors';
import { quote } from './validate';

/** A parsed JSON object. */
export type JsonObject = Record<string, unknown>;

/** True for a plain JSON object (not an array, not null). */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Typed reads of untrusted JSON that fail with one CNI error code and a message naming the
 * field path and the offending value, e.g. `prevResult.ips[0].address: "x" is not a CIDR`.
 */
export class FieldReader {
  constructor(
    private readonly code: number,
    private readonly prefix: string,
  ) {}

  /** The error for a bad value at `path`. */
  fail(path: string, problem: string): CniError {
    return new CniError(this.code, `${this.prefix}${path}: ${problem}`);
  }

  object(value: unknown, path: string): JsonObject {
    if (!isJsonObject(value)) throw this.fail(path, `must be an object, got ${describe(value)}`);
    return value;
  }

  array(value: unknown, path: string): unknown[] {
    if (!Array.isArray(value)) throw this.fail(path, `must be a list, got ${describe(value)}`);
    return value;
  }

  string(value: unknown, path: string): string {
    if (typeof value !== 'string')
      throw this.fail(path, `must be a string, got ${describe(value)}`);
    return value;
  }

  optionalString(value: unknown, path: string): string | undefined {
    return value === undefined ? undefined : this.string(value, path);
  }

  /** A non-negative integer (JSON numbers may arrive as floats from libcni: 1500.0 is fine). */
  optionalCount(value: unknown, path: string): number | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      throw this.fail(path, `must be a non-negative integer, got ${describe(value)}`);
    }
    return value;
  }

  optionalStrings(value: unknown, path: string): string[] | undefined {
    if (value === undefined) return undefined;
    return this.array(value, path).map((item, i) => this.string(item, `${path}[${i}]`));
  }
}

/** A short, safe rendering of a JSON value for error messages. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return quote(value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value;
}
