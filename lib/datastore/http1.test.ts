import { describe, expect, it } from 'vitest';
import { Http1ParseError, postRequest, ResponseParser, type Http1Response } from './http1';

/** Feeds `text` in pieces of `size` bytes; returns the answer and the piece it completed on. */
function feed(text: string, size: number): { response: Http1Response | undefined; at: number } {
  const parser = new ResponseParser();
  const bytes = Buffer.from(text, 'latin1');
  for (let i = 0; i < bytes.length; i += size) {
    const response = parser.push(bytes.subarray(i, i + size));
    if (response !== undefined) return { response, at: Math.min(i + size, bytes.length) };
  }
  return { response: undefined, at: bytes.length };
}

const LENGTH =
  'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{"header":{}}';
const CHUNKED =
  'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n' +
  '5\r\n{"hea\r\n8;ext=1\r\nder":{}}\r\n0\r\nX-Trailer: 1\r\n\r\n';

describe('ResponseParser', () => {
  for (const size of [1, 3, 7, 1000]) {
    it(`reads a Content-Length answer in ${size}-byte pieces, complete on its last byte`, () => {
      const { response, at } = feed(LENGTH, size);
      expect(response?.status).toBe(200);
      expect(response?.body.toString()).toBe('{"header":{}}');
      expect(response?.keepAlive).toBe(true);
      expect(at).toBe(LENGTH.length);
    });

    it(`reads a chunked answer with extensions and trailers in ${size}-byte pieces`, () => {
      const { response, at } = feed(CHUNKED, size);
      expect(response?.body.toString()).toBe('{"header":{}}');
      expect(response?.keepAlive).toBe(true);
      expect(at).toBe(CHUNKED.length);
    });
  }

  it('is not complete one byte short', () => {
    expect(feed(LENGTH.slice(0, -1), 1000).response).toBeUndefined();
    expect(feed(CHUNKED.slice(0, -2), 1000).response).toBeUndefined();
  });

  it('skips an interim 100 Continue', () => {
    const { response } = feed(`HTTP/1.1 100 Continue\r\n\r\n${LENGTH}`, 4);
    expect(response?.status).toBe(200);
  });

  it('does not keep a connection the server closes, or one with bytes after the answer', () => {
    const closing = LENGTH.replace('Content-Type', 'Connection: close\r\nContent-Type');
    expect(feed(closing, 1000).response?.keepAlive).toBe(false);
    expect(feed(`${LENGTH}HTTP/1.1`, 1000).response?.keepAlive).toBe(false);
    expect(feed(LENGTH.replace('HTTP/1.1', 'HTTP/1.0'), 1000).response?.keepAlive).toBe(false);
  });

  it('reads an answer without framing until the connection closes', () => {
    const parser = new ResponseParser();
    expect(parser.push(Buffer.from('HTTP/1.1 503 Unavailable\r\n\r\nno lead'))).toBeUndefined();
    expect(parser.push(Buffer.from('er'))).toBeUndefined();
    const response = parser.end();
    expect(response?.status).toBe(503);
    expect(response?.body.toString()).toBe('no leader');
    expect(response?.keepAlive).toBe(false);
  });

  it('has no answer when a framed one is cut off by the close', () => {
    const parser = new ResponseParser();
    parser.push(Buffer.from(LENGTH.slice(0, -3)));
    expect(parser.end()).toBeUndefined();
  });

  it('refuses what is not HTTP/1.x', () => {
    expect(() => feed('SSH-2.0-OpenSSH\r\n\r\n', 1000)).toThrow(Http1ParseError);
    expect(() => feed('HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n', 1000)).toThrow(
      /content-length/,
    );
    expect(() => feed('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 1000)).toThrow(
      /chunk size/,
    );
    expect(() => new ResponseParser().push(Buffer.alloc(70 * 1024, 'a'))).toThrow(/too large/);
  });
});

describe('postRequest', () => {
  it('frames a JSON body by its length in bytes, not characters', () => {
    const text = postRequest({ host: '[::1]:2379', path: '/v3/kv/range', payload: '{"k":"é"}' })
      .toString('utf8')
      .split('\r\n');
    expect(text[0]).toBe('POST /v3/kv/range HTTP/1.1');
    expect(text).toContain('Host: [::1]:2379');
    expect(text).toContain('Content-Length: 10');
    expect(text.at(-1)).toBe('{"k":"é"}');
  });
});
