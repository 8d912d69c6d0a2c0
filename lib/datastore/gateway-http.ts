import { connect, isIP, type Socket } from 'node:net';
import { CniError, ErrorCode } from '../cni/errors';
import type { Budget } from './deadline';
import { DatastoreError, unavailable } from './errors';
import { postRequest, ResponseParser, type Http1Response } from './http1';
import type { TlsMaterial } from './settings';

// POSTs JSON to etcd's v3 gateway over plain sockets (http1.ts): loading gRPC and protobuf costs a
// fresh plugin process far more than the request itself, and node:http still ~4 ms. node:tls is
// only loaded when an endpoint is https.

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
  /** The Host header: `name:port`, an IPv6 literal in brackets. */
  host: string;
}

/** Opens a connection to an endpoint (TCP, or TLS with the configured files). */
type Dial = (endpoint: Endpoint) => Socket;

const GATEWAY_HINT =
  "(is this an etcd client URL, and is etcd's --enable-grpc-gateway on?); set " +
  '"etcd_transport": "grpc" in the network config to use gRPC instead';

/** One keep-alive HTTP(S) client over several etcd endpoints, bounded by a shared budget. */
export class GatewayHttp {
  private readonly endpoints: Endpoint[];
  private tlsDial?: Promise<Dial>;
  /** One open connection per endpoint between requests (keep-alive). */
  private readonly idle = new Map<Endpoint, Socket>();
  private readonly sockets = new Set<Socket>();
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

  /** Drops every connection; later posts fail. */
  close(): void {
    this.closed = true;
    for (const socket of this.sockets) socket.destroy();
    this.idle.clear();
  }

  private failure(endpoint: Endpoint, reason: string): string {
    return this.endpoints.length === 1 ? reason : `${endpoint.url}: ${reason}`;
  }

  private async dialer(secure: boolean): Promise<Dial> {
    if (!secure) {
      return (endpoint) => connect({ host: endpoint.hostname, port: endpoint.port, noDelay: true });
    }
    this.tlsDial ??= import('node:tls').then((tlsApi) => {
      const { sources, ...tls } = this.options.tls ?? {};
      // One context for every connection, checked before the first one.
      const secureContext = checkedTlsContext(tlsApi.createSecureContext, { tls, sources });
      return (endpoint: Endpoint) =>
        tlsApi
          .connect({
            host: endpoint.hostname,
            port: endpoint.port,
            secureContext,
            // SNI takes names only; the certificate is checked against `host` either way.
            ...(isIP(endpoint.hostname) === 0 ? { servername: endpoint.hostname } : {}),
          })
          .setNoDelay(true);
    });
    return this.tlsDial;
  }

  /** A kept-alive connection to `endpoint`, or a new one. */
  private async socketFor(endpoint: Endpoint): Promise<{ socket: Socket; reused: boolean }> {
    const kept = this.idle.get(endpoint);
    this.idle.delete(endpoint);
    if (kept !== undefined && !kept.destroyed && kept.writable && !kept.readableEnded) {
      kept.ref();
      return { socket: kept, reused: true };
    }
    kept?.destroy();
    const dial = await this.dialer(endpoint.secure);
    if (this.closed) throw new DatastoreError('Failed', 'etcd client already closed');
    const socket = dial(endpoint);
    this.sockets.add(socket);
    // Errors of an idle connection have nobody else to go to; a closed one leaves the pool.
    socket.on('error', () => undefined);
    socket.once('close', () => {
      this.sockets.delete(socket);
      if (this.idle.get(endpoint) === socket) this.idle.delete(endpoint);
    });
    return { socket, reused: false };
  }

  /** Keeps a connection for the next request; it does not hold the process open meanwhile. */
  private park(endpoint: Endpoint, socket: Socket): void {
    if (this.closed || this.idle.has(endpoint)) {
      socket.destroy();
      return;
    }
    socket.unref();
    this.idle.set(endpoint, socket);
  }

  private async attempt(
    endpoint: Endpoint,
    call: { path: string; payload: string; windowEnd: number },
  ): Promise<{ status: number; text: string }> {
    const { socket, reused } = await this.socketFor(endpoint);
    const { budget } = this.options;
    return new Promise((resolve, reject) => {
      let connected = reused;
      let settled = false;
      const parser = new ResponseParser();
      const timers: NodeJS.Timeout[] = [];
      const startTimer = (ms: number, onExpiry: () => void): NodeJS.Timeout => {
        const timer = setTimeout(onExpiry, ms);
        // The socket keeps the loop alive while a request is in flight; the timer must not
        // keep it alive once the socket is gone.
        timer.unref();
        timers.push(timer);
        return timer;
      };
      const connectEvent = endpoint.secure ? 'secureConnect' : 'connect';
      let dialTimer: NodeJS.Timeout | undefined;
      // Over TLS the request is only sent after the handshake. Once connected, only the attempt
      // window bounds the wait (a dial timer left running would cut every slow answer).
      const onConnect = (): void => {
        connected = true;
        clearTimeout(dialTimer);
      };
      const detach = (): void => {
        settled = true;
        for (const timer of timers) clearTimeout(timer);
        socket.off('data', onData);
        socket.off('error', onError);
        socket.off('close', onClose);
        socket.off(connectEvent, onConnect);
      };
      const fail = (err: AttemptError): void => {
        if (settled) return;
        detach();
        socket.destroy();
        reject(err);
      };
      const answered = (response: Http1Response): void => {
        detach();
        if (response.keepAlive) this.park(endpoint, socket);
        else socket.destroy();
        resolve({ status: response.status, text: response.body.toString('utf8') });
      };
      function onData(chunk: Buffer): void {
        let response: Http1Response | undefined;
        try {
          response = parser.push(chunk);
        } catch (err) {
          fail(new AttemptError(true, err instanceof Error ? err.message : String(err)));
          return;
        }
        if (response !== undefined) answered(response);
      }
      const onError = (err: Error): void => {
        const hint = endpoint.secure ? tlsHint(err, this.options.tls?.sources) : '';
        fail(new AttemptError(connected, `${err.message}${hint}`));
      };
      const onClose = (): void => {
        const response = parser.end();
        if (response !== undefined) answered(response);
        else fail(new AttemptError(connected, 'socket hang up'));
      };
      socket.on('data', onData);
      socket.on('error', onError);
      socket.on('close', onClose);
      if (!connected) {
        const dialMs = budget.dialWindow(call.windowEnd);
        dialTimer = startTimer(dialMs, () => {
          fail(new AttemptError(false, `connect timeout after ${Math.round(dialMs)} ms`));
        });
        socket.once(connectEvent, onConnect);
      }
      startTimer(Math.max(0, call.windowEnd - budget.now()), () => {
        fail(new AttemptError(connected, budget.describeExhausted()));
      });
      socket.write(postRequest({ host: endpoint.host, path: call.path, payload: call.payload }));
    });
  }
}

/**
 * Builds the TLS context once before any connection, so that a key that does not belong to the
 * certificate, or a file OpenSSL cannot parse, is a configuration error (code 7) naming the files
 * rather than an OpenSSL message at the first request. OpenSSL's text never quotes the key.
 */
function checkedTlsContext(
  createSecureContext: typeof import('node:tls').createSecureContext,
  material: { tls: Omit<TlsMaterial, 'sources'>; sources: TlsMaterial['sources'] },
): import('node:tls').SecureContext {
  const { tls, sources = {} } = material;
  try {
    return createSecureContext(tls);
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
    // URL keeps the brackets of an IPv6 literal; connect wants the bare address.
    hostname: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: parsed.port === '' ? (secure ? 443 : 80) : Number(parsed.port),
    host: parsed.host,
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
