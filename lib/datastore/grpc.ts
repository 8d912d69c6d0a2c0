import type { Etcd3, ICompare, IKeyValue, IRangeRequest, IRequestOp, IResponseOp } from 'etcd3';
import { Budget } from './deadline';
import { DatastoreError, unavailable } from './errors';
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

// The same Kv over gRPC with the etcd3 package. etcd3 pulls in @grpc/grpc-js and compiles the etcd
// protos at load time (tens of milliseconds), so it is imported on the first call only: a plugin
// configured for the JSON gateway never pays for it.

type Etcd3Module = typeof import('etcd3');

/** Opens a Kv over gRPC; etcd3 is loaded and the channel opened on the first call. */
export function openGrpcKv(settings: ClientSettings): Kv {
  return new GrpcKv(settings);
}

class GrpcKv implements Kv {
  readonly endpoints: readonly string[];
  private readonly budget: Budget;
  private loading?: Promise<{ mod: Etcd3Module; client: Etcd3 }>;
  private closed = false;

  constructor(private readonly settings: ClientSettings) {
    this.endpoints = settings.endpoints;
    this.budget = new Budget(settings.timeouts);
  }

  async get(key: string): Promise<KeyValue | undefined> {
    const { kvs } = await this.range(key);
    return kvs[0];
  }

  async range(key: string, options: RangeOptions = {}): Promise<RangeResult> {
    const request = rangeRequest(key, options);
    const answer = await this.call((client, deadline) => client.kv.range(request, { deadline }));
    return {
      kvs: answer.kvs.map(decodeKeyValue),
      more: answer.more,
      revision: toSafeInteger(answer.header.revision, 'header.revision'),
    };
  }

  async put(key: string, value: string): Promise<PutResult> {
    const request = { key: Buffer.from(key), value: Buffer.from(value) };
    const answer = await this.call((client, deadline) => client.kv.put(request, { deadline }));
    return { revision: toSafeInteger(answer.header.revision, 'header.revision') };
  }

  async delete(key: string, options: { prefix?: boolean } = {}): Promise<DeleteResult> {
    const range = keyRange(key, options.prefix);
    const request = { key: range.key, ...(range.rangeEnd ? { range_end: range.rangeEnd } : {}) };
    const answer = await this.call((client, deadline) =>
      client.kv.deleteRange(request, { deadline }),
    );
    return {
      revision: toSafeInteger(answer.header.revision, 'header.revision'),
      deleted: toSafeInteger(answer.deleted, 'deleted'),
    };
  }

  async txn(request: TxnRequest): Promise<TxnResult> {
    const { mod } = await this.load();
    const body = {
      compare: request.compare.map((c) => encodeCompare(mod, c)),
      success: request.success.map(encodeOp),
      failure: request.failure.map(encodeOp),
    };
    const answer = await this.call((client, deadline) => client.kv.txn(body, { deadline }));
    const branch = answer.succeeded ? request.success : request.failure;
    if (answer.responses.length !== branch.length) {
      throw new DatastoreError(
        'Failed',
        `etcd txn answered ${answer.responses.length} results for ${branch.length} operations`,
      );
    }
    return {
      succeeded: answer.succeeded,
      revision: toSafeInteger(answer.header.revision, 'header.revision'),
      results: branch.map((op, i) => decodeOpResult(op, answer.responses[i])),
    };
  }

  close(): void {
    this.closed = true;
    void this.loading?.then(
      ({ client }) => {
        client.close();
      },
      () => undefined,
    );
  }

  private load(): Promise<{ mod: Etcd3Module; client: Etcd3 }> {
    this.loading ??= (async () => {
      const mod = await import('etcd3').catch((err: unknown) => {
        // A plugin bundle may leave etcd3 out (it is 1 MB of code to parse on every start).
        throw new DatastoreError(
          'Failed',
          `etcd_transport "grpc" needs the etcd3 package, which cannot be loaded here ` +
            `(${err instanceof Error ? err.message : String(err)}); use "json"`,
        );
      });
      try {
        return { mod, client: await this.connect(mod) };
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        throw new DatastoreError('Failed', `cannot set up the etcd gRPC client: ${message}`);
      }
    })();
    return this.loading;
  }

  private async connect(mod: Etcd3Module): Promise<Etcd3> {
    const { tls, endpoints, timeouts } = this.settings;
    const secure = endpoints.some((url) => url.startsWith('https:'));
    // etcd3 only uses client certificates together with a CA; without etcd_ca_cert_file the
    // system roots stand in, as they do for the JSON gateway.
    const credentials =
      secure && tls !== undefined
        ? {
            rootCertificate:
              tls.ca ?? Buffer.from((await import('node:tls')).rootCertificates.join('\n')),
            ...(tls.key === undefined ? {} : { privateKey: tls.key }),
            ...(tls.cert === undefined ? {} : { certChain: tls.cert }),
          }
        : undefined;
    return new mod.Etcd3({
      hosts: endpoints,
      dialTimeout: timeouts.dialMs,
      ...(credentials === undefined ? {} : { credentials }),
      grpcOptions: {
        // Fail a dead endpoint within the dial timeout instead of backing off for a minute.
        'grpc.initial_reconnect_backoff_ms': Math.min(1000, timeouts.dialMs),
        'grpc.max_reconnect_backoff_ms': timeouts.dialMs,
      },
    });
  }

  /** Runs one RPC with a deadline of min(per-request, remaining budget) and maps its errors. */
  private async call<T>(rpc: (client: Etcd3, deadline: Date) => Promise<T>): Promise<T> {
    if (this.closed) throw new DatastoreError('Failed', 'etcd client already closed');
    const window = this.budget.requestWindow();
    if (window <= 0) {
      throw unavailable(this.endpoints, this.budget.describeExhausted(), { budgetSpent: true });
    }
    const deadline = new Date(Date.now() + window);
    const { mod, client } = await this.load();
    try {
      return await rpc(client, deadline);
    } catch (err) {
      throw this.mapError(mod, err);
    }
  }

  private mapError(mod: Etcd3Module, err: unknown): DatastoreError {
    if (err instanceof DatastoreError) return err;
    const message = err instanceof Error ? err.message : String(err);
    if (err instanceof mod.GRPCDeadlineExceededError) {
      return unavailable(this.endpoints, `${this.budget.describeExhausted()} (${message})`);
    }
    const transient =
      err instanceof mod.GRPCUnavailableError ||
      err instanceof mod.ClientClosedError ||
      (err instanceof Error && (mod.isRecoverableError(err) || err.name === 'BrokenCircuitError'));
    if (transient || !(err instanceof mod.GRPCGenericError)) {
      return unavailable(this.endpoints, message);
    }
    return new DatastoreError('Failed', `etcd rejected the request: ${message}`);
  }
}

function rangeRequest(key: string, options: RangeOptions): IRangeRequest {
  const range = keyRange(key, options.prefix);
  const limit = checkLimit(options.limit);
  return {
    key: range.key,
    ...(range.rangeEnd === undefined ? {} : { range_end: range.rangeEnd }),
    ...(limit === 0 ? {} : { limit }),
    ...(options.keysOnly === true ? { keys_only: true } : {}),
  };
}

function encodeCompare(mod: Etcd3Module, compare: Compare): ICompare {
  const { CompareResult: R, CompareTarget: T } = mod;
  const result = {
    equal: R.Equal,
    notEqual: R.NotEqual,
    greater: R.Greater,
    less: R.Less,
  }[compare.result];
  const key = Buffer.from(compare.key);
  switch (compare.target) {
    case 'value':
      return { key, result, target: T.Value, value: Buffer.from(compare.value) };
    case 'version':
      return { key, result, target: T.Version, version: checkRevision(compare.value, 'version') };
    case 'createRevision':
      return {
        key,
        result,
        target: T.Create,
        create_revision: checkRevision(compare.value, 'createRevision'),
      };
    case 'modRevision':
      return {
        key,
        result,
        target: T.Mod,
        mod_revision: checkRevision(compare.value, 'modRevision'),
      };
  }
}

function encodeOp(op: Op): IRequestOp {
  switch (op.op) {
    case 'put':
      return { request_put: { key: Buffer.from(op.key), value: Buffer.from(op.value) } };
    case 'delete': {
      const range = keyRange(op.key, op.prefix);
      return {
        request_delete_range: {
          key: range.key,
          ...(range.rangeEnd === undefined ? {} : { range_end: range.rangeEnd }),
        },
      };
    }
    case 'range':
      return { request_range: rangeRequest(op.key, op) };
  }
}

function decodeOpResult(op: Op, response: IResponseOp | undefined): OpResult {
  switch (op.op) {
    case 'put':
      return { op: 'put' };
    case 'delete':
      return {
        op: 'delete',
        deleted: toSafeInteger(response?.response_delete_range.deleted, 'deleted'),
      };
    case 'range':
      return {
        op: 'range',
        kvs: (response?.response_range.kvs ?? []).map(decodeKeyValue),
        more: response?.response_range.more === true,
      };
  }
}

function decodeKeyValue(kv: IKeyValue): KeyValue {
  return {
    key: kv.key.toString('utf8'),
    value: kv.value.toString('utf8'),
    createRevision: toSafeInteger(kv.create_revision, 'create_revision'),
    modRevision: toSafeInteger(kv.mod_revision, 'mod_revision'),
    version: toSafeInteger(kv.version, 'version'),
  };
}
