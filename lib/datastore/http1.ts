// The little of HTTP/1.1 that a POST to etcd's JSON gateway needs: one request head, and a parser
// for the answer (Content-Length, chunked, or until close, as Go's net/http sends them). node:http
// costs every plugin start ~1.5 ms to load and ~3 ms of request machinery (agent, outgoing and
// incoming messages, the llhttp parser) for three small requests on one connection.

/** A complete answer. */
export interface Http1Response {
  status: number;
  body: Buffer;
  /** The server keeps the connection open for another request. */
  keepAlive: boolean;
}

/** The bytes of a JSON POST; `host` is the Host header (`name:port`, IPv6 in brackets). */
export function postRequest(options: { host: string; path: string; payload: string }): Buffer {
  const body = Buffer.from(options.payload, 'utf8');
  const head =
    `POST ${options.path} HTTP/1.1\r\n` +
    `Host: ${options.host}\r\n` +
    'Content-Type: application/json\r\n' +
    `Content-Length: ${body.length}\r\n` +
    '\r\n';
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

/** A malformed answer: the connection cannot be trusted any more. */
export class Http1ParseError extends Error {}

type Framing = { kind: 'length'; left: number } | { kind: 'chunked' } | { kind: 'close' };

const MAX_HEAD = 64 * 1024;
const CRLF = Buffer.from('\r\n');
const HEAD_END = Buffer.from('\r\n\r\n');

/** Parses one answer from the chunks of a socket; `push` returns it once complete. */
export class ResponseParser {
  private buffered: Buffer = Buffer.alloc(0);
  private status = 0;
  private keepAlive = true;
  private framing: Framing | undefined;
  private readonly body: Buffer[] = [];
  private trailers = false;

  /** Feeds received bytes; returns the response when its last byte has arrived. */
  push(chunk: Buffer): Http1Response | undefined {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    if (this.framing === undefined && !this.readHead()) return undefined;
    return this.readBody();
  }

  /** The server closed the connection: the answer if its framing was "until close". */
  end(): Http1Response | undefined {
    if (this.framing?.kind !== 'close') return undefined;
    return this.done(false);
  }

  private readHead(): boolean {
    for (;;) {
      const at = this.buffered.indexOf(HEAD_END);
      if (at < 0) {
        if (this.buffered.length > MAX_HEAD) throw new Http1ParseError('response head too large');
        return false;
      }
      const lines = this.buffered.subarray(0, at).toString('latin1').split('\r\n');
      this.buffered = this.buffered.subarray(at + HEAD_END.length);
      const statusLine = /^HTTP\/1\.([01]) (\d{3})(?: |$)/.exec(lines[0] ?? '');
      if (statusLine === null) {
        throw new Http1ParseError(`not an HTTP/1.x status line: ${JSON.stringify(lines[0])}`);
      }
      const status = Number(statusLine[2]);
      // An interim answer (100 Continue) precedes the real one.
      if (status >= 100 && status < 200) continue;
      const headers = new Map<string, string>();
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(':');
        if (colon <= 0) throw new Http1ParseError(`malformed header line ${JSON.stringify(line)}`);
        headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
      }
      this.status = status;
      const connection = headers.get('connection')?.toLowerCase() ?? '';
      this.keepAlive = statusLine[1] === '1' ? connection !== 'close' : connection === 'keep-alive';
      // 204 and 304 carry no body whatever the headers say.
      this.framing =
        status === 204 || status === 304 ? { kind: 'length', left: 0 } : framing(headers);
      return true;
    }
  }

  private readBody(): Http1Response | undefined {
    const f = this.framing;
    if (f === undefined) return undefined;
    if (f.kind === 'close') {
      this.take(this.buffered.length);
      return undefined;
    }
    if (f.kind === 'length') {
      if (f.left === 0) return this.done(this.keepAlive);
      const n = Math.min(f.left, this.buffered.length);
      this.take(n);
      f.left -= n;
      return f.left === 0 ? this.done(this.keepAlive) : undefined;
    }
    return this.readChunks();
  }

  private readChunks(): Http1Response | undefined {
    for (;;) {
      const eol = this.buffered.indexOf(CRLF);
      if (eol < 0) return undefined;
      if (this.trailers) {
        // Trailer lines until an empty one; their content is not needed.
        this.buffered = this.buffered.subarray(eol + CRLF.length);
        if (eol === 0) return this.done(this.keepAlive);
        continue;
      }
      const sizeText = this.buffered.subarray(0, eol).toString('latin1').split(';')[0]?.trim();
      if (sizeText === undefined || !/^[0-9a-fA-F]{1,8}$/.test(sizeText)) {
        throw new Http1ParseError(`malformed chunk size ${JSON.stringify(sizeText)}`);
      }
      const size = parseInt(sizeText, 16);
      if (size === 0) {
        this.buffered = this.buffered.subarray(eol + CRLF.length);
        this.trailers = true;
        continue;
      }
      const start = eol + CRLF.length;
      if (this.buffered.length < start + size + CRLF.length) return undefined;
      this.body.push(this.buffered.subarray(start, start + size));
      this.buffered = this.buffered.subarray(start + size + CRLF.length);
    }
  }

  private take(n: number): void {
    if (n > 0) this.body.push(this.buffered.subarray(0, n));
    this.buffered = this.buffered.subarray(n);
  }

  private done(keepAlive: boolean): Http1Response {
    // Bytes after the answer would belong to no request: do not reuse such a connection.
    return {
      status: this.status,
      body: Buffer.concat(this.body),
      keepAlive: keepAlive && this.buffered.length === 0,
    };
  }
}

function framing(headers: Map<string, string>): Framing {
  const encoding = headers.get('transfer-encoding')?.toLowerCase();
  if (encoding !== undefined && encoding !== 'identity') {
    if (encoding.split(',').at(-1)?.trim() !== 'chunked') {
      throw new Http1ParseError(`unsupported transfer-encoding ${encoding}`);
    }
    return { kind: 'chunked' };
  }
  const length = headers.get('content-length');
  if (length === undefined) return { kind: 'close' };
  if (!/^\d{1,12}$/.test(length)) {
    throw new Http1ParseError(`malformed content-length ${JSON.stringify(length)}`);
  }
  return { kind: 'length', left: Number(length) };
}
