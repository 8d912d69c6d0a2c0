import { Agent, request, type ClientRequest, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { CniError, ErrorCode } from '../cni/errors';
import type { Budget } from './deadline';
import { DatastoreError, unavailable } from './errors';
import type { TlsMaterial } from './settings';

// POSTs JSON to etcd's v3 gateway with node:http(s) only: loading gRPC and protobuf costs a fresh
// plugin process far more than the request itself. node:https (and with it tls and crypto) is only
// loaded when an endpoint is https.

/** How a POST may be repeated on the next endpoint. */
export interface PostOptions {
  /**
   * Reads can go to the next endpoint after any failure. Writes only when the request cannot
   * have reached etcd (the connection never opened), or a retried CAS could report a conflict
   * for its own first, applied attempt.
   */
  idempotent: boolean;
}

/** Why one attempt on one endpoint failed, and whether etcd may have seen the request. */
class AttemptError extends Error {
  constructor(
    readonly maybeSent: boolean,
    message: string,
  ) {
    super(message);
  }
}

/** A server that answered, but not as etcd's gateway (no etcd, or etcd without the gateway). */
class NoGatewayError extends Error {}

interface Endpoint {
  url: string;
  secure: boolean;
  hostname: string;
  port: number;
}

type RequestFn = typeof request;

interface Loaded {
  request: RequestFn;
  agent: Agent;
}

const GATEWAY_HINT =
  "(is this an etcd client URL, and is etcd's --enable-grpc-gateway on?); set " +
  '"etcd_transport": "grpc" in the network config to use gRPC instead';

/** One keep-alive HTTP(S) client over several etcd endpoints, bounded by a shared budget. */
export class GatewayHttp {
  private readonly endpoints: Endpoint[];
  private httpClient?: Loaded;
  private httpsClient?: Promise<Loaded>;
  /** The endpoint that answered last: later calls start there instead of at a dead first one. */
  private preferred = 0;
  private closed = false;

  constructor(
    private readonly urls: readonly string[],
    private readonly options: { budget: Budget; tls?: TlsMaterial },
  ) {
    this.endpoints = urls.map(parseEndpoint);
  }

  /** POSTs `body` to `path` and returns the parsed JSON answer, or throws a DatastoreError. */
  async post(path: string, body: unknown, options: PostOptions): Promise<unknown> {
    if (this.closed) throw new DatastoreError('Failed', 'etcd client already closed');
    const { budget } = this.options;
    const payload = JSON.stringify(body);
    const failures: string[] = [];
    let noGateway = false;
    let budgetSpent = false;
    for (let i = 0; i < this.endpoints.length; i++) {
      const index = (this.preferred + i) % this.endpoints.length;
      const endpoint = this.endpoints[index];
      if (endpoint === undefined) continue;
      // Each endpoint gets its own attempt window: one that accepts connections and never answers
      // (a hung or partitioned member) must not use up the time of the healthy ones after it.
      const window = budget.requestWindow();
      if (window <= 0) {
        failures.push(this.failure(endpoint, budget.describeExhausted()));
        budgetSpent = true;
        break;
      }
      const windowEnd = budget.now() + window;
      try {
        const response = await this.attempt(endpoint, { path, payload, windowEnd });
        const answer = interpret(response, path);
        this.preferred = index;
        return answer;
      } catch (err) {
        if (err instanceof NoGatewayError) {
          noGateway = true;
          failures.push(this.failure(endpoint, err.message));
          continue;
        }
        if (!(err instanceof AttemptError)) throw err;
        failures.push(this.failure(endpoint, err.message));
        if (err.maybeSent && !options.idempotent) break;
      }
    }
    if (noGateway) {
      throw new DatastoreError(
        'Failed',
        `the etcd v3 JSON gateway is unavailable at ${this.urls.join(', ')}: ` +
          `${failures.join('; ')} ${GATEWAY_HINT}`,
      );
    }
    throw unavailable(this.urls, failures.join('; '), {
      budgetSpent: budgetSpent || budget.remaining() === 0,
    });
  }

  /** Drops every pooled socket; later posts fail. */
  close(): void {
    this.closed = true;
    this.httpClient?.agent.destroy();
    void this.httpsClient?.then((client) => {
      client.agent.destroy();
    });
  }

  private failure(endpoint: Endpoint, reason: string): string {
    return this.endpoints.length === 1 ? reason : `${endpoint.url}: ${reason}`;
  }

  private async client(secure: boolean): Promise<Loaded> {
    if (!secure) {
      this.httpClient ??= { request, agent: new Agent({ keepAlive: true }) };
      return this.httpClient;
    }
    this.httpsClient ??= Promise.all([import('node:https'), import('node:tls')]).then(
      ([https, tlsApi]) => {
        const { sources, ...tls } = this.options.tls ?? {};
        checkTlsFiles(tlsApi.createSecureContext, { tls, sources });
        // The agent carries the TLS options so that pooled sockets are reused for every request.
        const agent = new https.Agent({ keepAlive: true, ...tls });
        return { request: https.request, agent };
      },
    );
    const loaded = await this.httpsClient;
    // close() may have run while node:https was loading.
    if (this.closed) loaded.agent.destroy();
    return loaded;
  }

  private async attempt(
    endpoint: Endpoint,
    call: { path: string; payload: string; windowEnd: number },
  ): Promise<{ status: number; text: string }> {
    const { request: send, agent } = await this.client(endpoint.secure);
    const { budget } = this.options;
    return new Promise((resolve, reject) => {
      let connected = false;
      const timers: NodeJS.Timeout[] = [];
      const startTimer = (ms: number, onExpiry: () => void): NodeJS.Timeout => {
        const timer = setTimeout(onExpiry, ms);
        // The socket keeps the loop alive while a request is in flight; the timer must not
        // keep it alive once the socket is gone.
        timer.unref();
        timers.push(timer);
        return timer;
      };
      const settle = (): void => {
        for (const timer of timers) clearTimeout(timer);
      };
      const req: ClientRequest = send(
        {
          agent,
          hostname: endpoint.hostname,
          port: endpoint.port,
          path: call.path,
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(call.payload),
          },
        },
        (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            settle();
            resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
          });
          res.on('error', (err) => {
            settle();
            reject(new AttemptError(true, err.message));
          });
        },
      );
      req.on('socket', (socket: Socket) => {
        if (req.reusedSocket || !socket.connecting) {
          connected = true;
          return;
        }
        const dialMs = budget.dialWindow(call.windowEnd);
        const dial = startTimer(dialMs, () => {
          req.destroy(new AttemptError(false, `connect timeout after ${Math.round(dialMs)} ms`));
        });
        // Over TLS the request is only written after the handshake. Once connected, only the
        // attempt window bounds the wait (a dial timer left running would cut every slow answer).
        socket.once(endpoint.secure ? 'secureConnect' : 'connect', () => {
          connected = true;
          clearTimeout(dial);
        });
      });
      startTimer(Math.max(0, call.windowEnd - budget.now()), () => {
        req.destroy(new AttemptError(connected, budget.describeExhausted()));
      });
      req.on('error', (err: Error) => {
        settle();
        if (err instanceof AttemptError) {
          reject(err);
          return;
        }
        const hint = endpoint.secure ? tlsHint(err, this.options.tls?.sources) : '';
        reject(new AttemptError(connected, `${err.message}${hint}`));
      });
      req.end(call.payload);
    });
  }
}

/**
 * Builds the TLS context once before any connection, so that a key that does not belong to the
 * certificate, or a file OpenSSL cannot parse, is a configuration error (code 7) naming the files
 * rather than an OpenSSL message at the first request. OpenSSL's text never quotes the key.
 */
function checkTlsFiles(
  createSecureContext: typeof import('node:tls').createSecureContext,
  material: { tls: Omit<TlsMaterial, 'sources'>; sources: TlsMaterial['sources'] },
): void {
  const { tls, sources = {} } = material;
  try {
    createSecureContext(tls);
  } catch (err) {
    const reason = err instanceof Error ? err.message.replace(/^error:[0-9A-F]+:/i, '') : '';
    const files = [sources.ca, sources.cert, sources.key].filter((f) => f !== undefined);
    const which = /key values mismatch/.test(reason)
      ? `${sources.key ?? 'the key'} does not belong to the certificate in ${sources.cert ?? 'etcd_cert_file'}`
      : `cannot use ${files.join(', ')}`;
    throw new CniError(
      ErrorCode.invalidNetworkConfig,
      `invalid etcd settings: ${which} (${reason})`,
    );
  }
}

/** Node's codes for a server certificate that the configured CA does not vouch for. */
const UNTRUSTED_SERVER = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** Names the file to look at when a TLS handshake fails (the files, never their contents). */
function tlsHint(err: Error, sources: { ca?: string; cert?: string } | undefined): string {
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string') return '';
  if (UNTRUSTED_SERVER.has(code)) {
    return ` (the server certificate is not trusted by ${sources?.ca ?? 'the system CAs; set etcd_ca_cert_file'})`;
  }
  // etcd's alert when it refuses our client certificate, or when we sent none.
  if (/ALERT_(BAD_CERTIFICATE|CERTIFICATE_REQUIRED|UNKNOWN_CA|CERTIFICATE_UNKNOWN)/.test(code)) {
    return ` (etcd refused the client certificate${sources?.cert === undefined ? ': none configured, set etcd_cert_file and etcd_key_file' : ` of ${sources.cert}`})`;
  }
  return '';
}

function parseEndpoint(url: string): Endpoint {
  const parsed = new URL(url);
  const secure = parsed.protocol === 'https:';
  return {
    url,
    secure,
    // URL keeps the brackets of an IPv6 literal; http.request wants the bare address.
    hostname: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: parsed.port === '' ? (secure ? 443 : 80) : Number(parsed.port),
  };
}

/**
 * gRPC status codes (in the gateway's error body) that mean "not now" rather than "no": 4
 * DeadlineExceeded, 14 Unavailable (leader changed, no leader, server stopped), and 1 Canceled,
 * which the gateway answers while its member shuts down ("grpc: the client connection is
 * closing"): we never cancel, so it is the member going away, not a refusal.
 */
const RETRYABLE_GRPC_CODES = new Set([1, 4, 14]);

function interpret(response: { status: number; text: string }, path: string): unknown {
  let json: unknown;
  try {
    json = JSON.parse(response.text);
  } catch {
    if (response.status >= 500) {
      throw new AttemptError(true, `HTTP ${response.status} from ${path}`);
    }
    throw new NoGatewayError(`HTTP ${response.status} with a non-JSON answer on ${path}`);
  }
  if (response.status === 404) throw new NoGatewayError(`HTTP 404 on ${path}`);
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new NoGatewayError(`HTTP ${response.status} with a non-object answer on ${path}`);
  }
  if (response.status === 200) return json;
  const { code, message, error } = json as { code?: unknown; message?: unknown; error?: unknown };
  const text = typeof message === 'string' ? message : typeof error === 'string' ? error : '';
  if (typeof code === 'number' && RETRYABLE_GRPC_CODES.has(code)) {
    throw new AttemptError(true, text === '' ? `HTTP ${response.status}` : text);
  }
  throw new DatastoreError(
    'Failed',
    `etcd rejected ${path}: ${text === '' ? `HTTP ${response.status}` : text}`,
  );
}
