import { Budget } from './deadline';
import { DatastoreError } from './errors';
import { GatewayHttp } from './gateway-http';
import type {
  Compare,
  DeleteResult,
  KeyValue,
  Kv,
  Op,
  OpResult,
  PutResult,
  RangeOptions,
  RangeResult,
  TxnRequest,
  TxnResult,
} from './kv';
import type { ClientSettings } from './settings';
import { checkLimit, checkRevision, keyRange, toSafeInteger } from './wire';

// etcd's v3 JSON gateway (grpc-gateway): the same messages as the gRPC KV service, as JSON with
// bytes in base64, int64 as decimal strings, enums by name, and zero values left out.

type Json = Record<string, unknown>;

const COMPARE_TARGET = {
  version: 'VERSION',
  createRevision: 'CREATE',
  modRevision: 'MOD',
  value: 'VALUE',
} as const;
const COMPARE_FIELD = {
  version: 'version',
  createRevision: 'create_revision',
  modRevision: 'mod_revision',
} as const;
const COMPARE_RESULT = {
  equal: 'EQUAL',
  notEqual: 'NOT_EQUAL',
  greater: 'GREATER',
  less: 'LESS',
} as const;

/** Opens a Kv over the JSON gateway; nothing connects until the first call. */
export function openJsonGatewayKv(settings: ClientSettings): Kv {
  return new JsonGatewayKv(settings);
}

class JsonGatewayKv implements Kv {
  readonly endpoints: readonly string[];
  private readonly http: GatewayHttp;

  constructor(settings: ClientSettings) {
    this.endpoints = settings.endpoints;
    const budget = new Budget(settings.timeouts);
    this.http = new GatewayHttp(settings.endpoints, {
      budget,
      ...(settings.tls === undefined ? {} : { tls: settings.tls }),
    });
  }

  async get(key: string): Promise<KeyValue | undefined> {
    const { kvs } = await this.range(key);
    return kvs[0];
  }

  async range(key: string, options: RangeOptions = {}): Promise<RangeResult> {
    const answer = await this.http.post('/v3/kv/range', rangeRequest(key, options), {
      idempotent: true,
    });
    return { ...decodeRange(answer), revision: headerRevision(answer) };
  }

  async put(key: string, value: string): Promise<PutResult> {
    const answer = await this.http.post('/v3/kv/put', putRequest(key, value), {
      idempotent: false,
    });
    return { revision: headerRevision(answer) };
  }

  async delete(key: string, options: { prefix?: boolean } = {}): Promise<DeleteResult> {
    const answer = await this.http.post('/v3/kv/deleterange', deleteRequest(key, options), {
      idempotent: false,
    });
    return {
      revision: headerRevision(answer),
      deleted: toSafeInteger(field(answer, 'deleted'), 'deleted'),
    };
  }

  async txn(request: TxnRequest): Promise<TxnResult> {
    const body = {
      compare: request.compare.map(encodeCompare),
      success: request.success.map(encodeOp),
      failure: request.failure.map(encodeOp),
    };
    // A txn of ranges only changes nothing: like a range, it may be sent to the next endpoint.
    const readOnly = [...request.success, ...request.failure].every((op) => op.op === 'range');
    const answer = await this.http.post('/v3/kv/txn', body, { idempotent: readOnly });
    const succeeded = field(answer, 'succeeded') === true;
    const branch = succeeded ? request.success : request.failure;
    const responses = field(answer, 'responses');
    const list = Array.isArray(responses) ? (responses as unknown[]) : [];
    if (list.length !== branch.length) {
      throw new DatastoreError(
        'Failed',
        `etcd txn answered ${list.length} results for ${branch.length} operations`,
      );
    }
    return {
      succeeded,
      revision: headerRevision(answer),
      results: branch.map((op, i) => decodeOpResult(op, list[i])),
    };
  }

  close(): void {
    this.http.close();
  }
}

function b64(text: string | Buffer): string {
  return (typeof text === 'string' ? Buffer.from(text, 'utf8') : text).toString('base64');
}

function rangeRequest(key: string, options: RangeOptions): Json {
  const range = keyRange(key, options.prefix);
  const limit = checkLimit(options.limit);
  return {
    key: b64(range.key),
    ...(range.rangeEnd === undefined ? {} : { range_end: b64(range.rangeEnd) }),
    ...(limit === 0 ? {} : { limit: String(limit) }),
    ...(options.keysOnly === true ? { keys_only: true } : {}),
  };
}

function putRequest(key: string, value: string): Json {
  return { key: b64(key), value: b64(value) };
}

function deleteRequest(key: string, options: { prefix?: boolean }): Json {
  const range = keyRange(key, options.prefix);
  return {
    key: b64(range.key),
    ...(range.rangeEnd === undefined ? {} : { range_end: b64(range.rangeEnd) }),
  };
}

function encodeCompare(compare: Compare): Json {
  const common = {
    key: b64(compare.key),
    target: COMPARE_TARGET[compare.target],
    result: COMPARE_RESULT[compare.result],
  };
  if (compare.target === 'value') return { ...common, value: b64(compare.value) };
  const value = checkRevision(compare.value, compare.target);
  return { ...common, [COMPARE_FIELD[compare.target]]: String(value) };
}

function encodeOp(op: Op): Json {
  switch (op.op) {
    case 'put':
      return { request_put: putRequest(op.key, op.value) };
    case 'delete':
      return { request_delete_range: deleteRequest(op.key, op) };
    case 'range':
      return { request_range: rangeRequest(op.key, op) };
  }
}

function decodeOpResult(op: Op, response: unknown): OpResult {
  switch (op.op) {
    case 'put':
      return { op: 'put' };
    case 'delete': {
      const deleted = field(field(response, 'response_delete_range'), 'deleted');
      return { op: 'delete', deleted: toSafeInteger(deleted, 'deleted') };
    }
    case 'range':
      return { op: 'range', ...decodeRange(field(response, 'response_range')) };
  }
}

function decodeRange(answer: unknown): { kvs: KeyValue[]; more: boolean } {
  const kvs = field(answer, 'kvs');
  return {
    kvs: Array.isArray(kvs) ? (kvs as unknown[]).map(decodeKeyValue) : [],
    more: field(answer, 'more') === true,
  };
}

function decodeKeyValue(kv: unknown): KeyValue {
  return {
    key: fromB64(field(kv, 'key')),
    value: fromB64(field(kv, 'value')),
    createRevision: toSafeInteger(field(kv, 'create_revision'), 'create_revision'),
    modRevision: toSafeInteger(field(kv, 'mod_revision'), 'mod_revision'),
    version: toSafeInteger(field(kv, 'version'), 'version'),
  };
}

function headerRevision(answer: unknown): number {
  return toSafeInteger(field(field(answer, 'header'), 'revision'), 'header.revision');
}

function fromB64(value: unknown): string {
  return typeof value === 'string' ? Buffer.from(value, 'base64').toString('utf8') : '';
}

/** A property of a JSON object, or undefined for anything that is not one (zero values). */
function field(value: unknown, name: string): unknown {
  if (typeof value !== 'object' || value === null) return undefined;
  return (value as Json)[name];
}
