import { ErrorCode } from '../../cni/errors';
import { describe, FieldReader, type JsonObject } from '../../cni/json-fields';
import { parseGoJson, stringifyGoJson } from './go-json';

// Shared by the codecs: typed reads of a stored value with errors that name the model, the etcd
// key and the field, and writes that keep what this code does not model.

/**
 * Reads one stored value. Errors are code 999 (Calico's generic error) with messages such as
 * `invalid AllocationBlock at /calico/ipam/v2/assignment/ipv4/block/10.0.0.64-26: unallocated[2]:
 * must be an integer from 0 to 63, got -1`; they never quote the whole value.
 */
export class StoredReader extends FieldReader {
  constructor(model: string, key: string) {
    super(ErrorCode.internal, `invalid ${model} at ${key}: `);
  }

  /** The top-level object of `text`; `emptyIsObject` reads "" as `{}` (Calico's affinities). */
  parse(text: string, options: { emptyIsObject?: boolean } = {}): JsonObject {
    if (text === '' && options.emptyIsObject === true) return {};
    let value: unknown;
    try {
      value = parseGoJson(text);
    } catch (err) {
      throw this.fail('(value)', `not JSON: ${err instanceof Error ? err.message : String(err)}`);
    }
    return this.object(value, '(value)');
  }

  /** A bool; absent and null read as false (Go's zero value). */
  boolean(value: unknown, path: string): boolean {
    if (value === undefined || value === null) return false;
    if (typeof value !== 'boolean')
      throw this.fail(path, `must be true or false, got ${describe(value)}`);
    return value;
  }

  /** An integer in [min, max]; absent reads as `fallback` when one is given. */
  integer(
    value: unknown,
    path: string,
    range: { min: number; max: number; fallback?: number },
  ): number {
    if ((value === undefined || value === null) && range.fallback !== undefined)
      return range.fallback;
    if (
      typeof value !== 'number' ||
      !Number.isInteger(value) ||
      value < range.min ||
      value > range.max
    ) {
      throw this.fail(
        path,
        `must be an integer from ${range.min} to ${range.max}, got ${describe(value)}`,
      );
    }
    return value;
  }

  /** A Go uint64, exact (bigint); absent and null read as 0. */
  uint64(value: unknown, path: string): bigint {
    if (value === undefined || value === null) return 0n;
    const ok =
      (typeof value === 'bigint' && value >= 0n && value < 2n ** 64n) ||
      (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0);
    if (!ok)
      throw this.fail(path, `must be an unsigned 64-bit integer, got ${describeNumber(value)}`);
    return BigInt(value);
  }

  /** A string or null (Go's *string); absent reads as null. */
  nullableString(value: unknown, path: string): string | null {
    return value === undefined || value === null ? null : this.string(value, path);
  }

  /** A map of strings, or null (Go's nil map); absent reads as null. */
  stringMap(value: unknown, path: string): Record<string, string> | null {
    if (value === undefined || value === null) return null;
    const map = this.object(value, path);
    const result: Record<string, string> = {};
    for (const [key, item] of Object.entries(map))
      setOwn(result, key, this.string(item, `${path}.${key}`));
    return result;
  }

  /** An optional list of objects, kept as they are (rules, ports: not modelled here). */
  optionalObjects(value: unknown, path: string): JsonObject[] | undefined {
    if (value === undefined || value === null) return undefined;
    return this.array(value, path).map((item, i) => this.object(item, `${path}[${i}]`));
  }
}

function describeNumber(value: unknown): string {
  return typeof value === 'bigint' ? value.toString() : describe(value);
}

/**
 * The object to write: the modelled `fields` (in the order Go's struct declares them; undefined
 * means omitted) merged into `raw`, the object as read. Unknown fields of `raw` and its field order
 * survive, so what a newer Calico stored is still there after our read-modify-write.
 */
export function mergeRaw(fields: Record<string, unknown>, raw: JsonObject | undefined): JsonObject {
  const result: JsonObject = {};
  if (raw !== undefined) {
    for (const [key, value] of Object.entries(raw)) {
      setOwn(result, key, Object.hasOwn(fields, key) ? fields[key] : value);
    }
  }
  for (const [key, value] of Object.entries(fields)) {
    if (!Object.hasOwn(result, key)) setOwn(result, key, value);
  }
  return result;
}

/** A map with its keys in Go's order (encoding/json sorts map keys). */
export function sortedMap<T>(map: Record<string, T> | null): Record<string, T> | null {
  if (map === null) return null;
  const result: Record<string, T> = {};
  for (const key of Object.keys(map).sort()) {
    const value = map[key];
    if (value !== undefined) setOwn(result, key, value);
  }
  return result;
}

/** Serialises a value for etcd (compact, Go-compatible). */
export function toStoredText(value: JsonObject): string {
  return stringifyGoJson(value);
}

/** `target[key] = value`, also for the key "__proto__" (which would otherwise set the prototype). */
export function setOwn<T>(target: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}
