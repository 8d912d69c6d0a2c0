import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

// Just enough of etcd's v3 JSON gateway (range, put, deleterange, txn) over a map, for the code
// cache training run of the build: the plugin's own gateway client talks to it over loopback, so
// the client code that a real ADD runs is the code that gets compiled. It is not a test double for
// etcd's semantics: the etcd tiers test against the real etcd-server.

type Json = Record<string, unknown>;

interface Entry {
  value: Buffer;
  createRevision: number;
  modRevision: number;
  version: number;
}

/** A fake gateway on 127.0.0.1; `endpoint` is its URL. */
export interface FakeGateway {
  endpoint: string;
  /** Every key and value, for checks after the training run. */
  snapshot: () => Map<string, string>;
  close: () => Promise<void>;
}

/** Starts a gateway holding `seed` (key → value). */
export async function startFakeGateway(seed: Record<string, string>): Promise<FakeGateway> {
  const store = new FakeEtcd();
  for (const [key, value] of Object.entries(seed)) store.put(bytes(key), Buffer.from(value));
  const server = createServer((req, res) => {
    serve(store, req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    snapshot: () => store.snapshot(),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}

function serve(store: FakeEtcd, req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    let status = 200;
    let answer: Json;
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Json;
      answer = store.handle(req.url ?? '', body);
    } catch (err) {
      status = 400;
      answer = { error: String(err), code: 3 };
    }
    const text = JSON.stringify(answer);
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
    });
    res.end(text);
  });
}

/** Keys as latin1 strings: one char per byte, so string order is etcd's byte order. */
function bytes(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}

/** A base64 field as bytes (absent: none). */
function decodeBytes(value: unknown): Buffer {
  return Buffer.from(typeof value === 'string' ? value : '', 'base64');
}

function decodeKey(value: unknown): string {
  return typeof value === 'string' ? Buffer.from(value, 'base64').toString('latin1') : '';
}

class FakeEtcd {
  private readonly entries = new Map<string, Entry>();
  private revision = 1;

  snapshot(): Map<string, string> {
    const out = new Map<string, string>();
    for (const [key, entry] of this.entries)
      out.set(Buffer.from(key, 'latin1').toString('utf8'), entry.value.toString('utf8'));
    return out;
  }

  handle(path: string, body: Json): Json {
    switch (path) {
      case '/v3/kv/range':
        return { header: this.header(), ...this.range(body) };
      case '/v3/kv/put':
        this.revision += 1;
        this.put(decodeKey(body.key), decodeBytes(body.value));
        return { header: this.header() };
      case '/v3/kv/deleterange': {
        const deleted = this.deleteRange(body);
        return { header: this.header(), deleted: String(deleted) };
      }
      case '/v3/kv/txn':
        return this.txn(body);
      default:
        throw new Error(`no such gateway path ${path}`);
    }
  }

  put(key: string, value: Buffer): void {
    const old = this.entries.get(key);
    this.entries.set(key, {
      value,
      createRevision: old?.createRevision ?? this.revision,
      modRevision: this.revision,
      version: (old?.version ?? 0) + 1,
    });
  }

  private header(): Json {
    return { cluster_id: '1', member_id: '1', revision: String(this.revision), raft_term: '1' };
  }

  private keysIn(body: Json): string[] {
    const key = decodeKey(body.key);
    if (body.range_end === undefined) return this.entries.has(key) ? [key] : [];
    const end = decodeKey(body.range_end);
    return [...this.entries.keys()]
      .filter((k) => k >= key && (end === '\0' || k < end))
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  private range(body: Json): Json {
    const keys = this.keysIn(body);
    const limit = Number(body.limit ?? 0);
    const shown = limit > 0 ? keys.slice(0, limit) : keys;
    const kvs = shown.map((k) => {
      const e = this.entries.get(k);
      if (e === undefined) throw new Error('key vanished');
      return {
        key: Buffer.from(k, 'latin1').toString('base64'),
        create_revision: String(e.createRevision),
        mod_revision: String(e.modRevision),
        version: String(e.version),
        ...(body.keys_only === true ? {} : { value: e.value.toString('base64') }),
      };
    });
    return {
      ...(kvs.length > 0 ? { kvs } : {}),
      ...(shown.length < keys.length ? { more: true } : {}),
      count: String(keys.length),
    };
  }

  private deleteRange(body: Json): number {
    const keys = this.keysIn(body);
    for (const k of keys) this.entries.delete(k);
    return keys.length;
  }

  private compare(compare: Json): boolean {
    const entry = this.entries.get(decodeKey(compare.key));
    const target = (compare.target as string | undefined) ?? 'VERSION';
    let actual: number | string;
    let wanted: number | string;
    if (target === 'VALUE') {
      if (entry === undefined) return false;
      actual = entry.value.toString('latin1');
      wanted = decodeBytes(compare.value).toString('latin1');
    } else {
      const field = { VERSION: 'version', CREATE: 'create_revision', MOD: 'mod_revision' }[target];
      if (field === undefined) throw new Error(`compare target ${target}`);
      actual =
        target === 'VERSION'
          ? (entry?.version ?? 0)
          : target === 'CREATE'
            ? (entry?.createRevision ?? 0)
            : (entry?.modRevision ?? 0);
      wanted = Number(compare[field] ?? 0);
    }
    switch ((compare.result as string | undefined) ?? 'EQUAL') {
      case 'EQUAL':
        return actual === wanted;
      case 'NOT_EQUAL':
        return actual !== wanted;
      case 'GREATER':
        return actual > wanted;
      case 'LESS':
        return actual < wanted;
      default:
        throw new Error(`compare result ${String(compare.result)}`);
    }
  }

  private txn(body: Json): Json {
    const compares = (body.compare as Json[] | undefined) ?? [];
    const succeeded = compares.every((c) => this.compare(c));
    const ops = ((succeeded ? body.success : body.failure) as Json[] | undefined) ?? [];
    const writes = ops.some((op) => op.request_range === undefined);
    if (writes) this.revision += 1;
    const responses = ops.map((op): Json => {
      if (op.request_range !== undefined)
        return {
          response_range: { header: this.header(), ...this.range(op.request_range as Json) },
        };
      if (op.request_put !== undefined) {
        const put = op.request_put as Json;
        this.put(decodeKey(put.key), decodeBytes(put.value));
        return { response_put: { header: this.header() } };
      }
      const deleted = this.deleteRange(op.request_delete_range as Json);
      return { response_delete_range: { header: this.header(), deleted: String(deleted) } };
    });
    return { header: this.header(), ...(succeeded ? { succeeded } : {}), responses };
  }
}
