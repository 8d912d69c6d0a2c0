// JSON as libcalico-go reads and writes it. Two things JSON.parse/JSON.stringify get wrong here:
// - Go's uint64 fields (a block's sequenceNumber starts at the creation time in Unix nanoseconds,
//   ~1.7e18) do not fit a double: integers beyond 2^53 are parsed to bigint and written back
//   digit for digit, or a read-modify-write would corrupt them.
// - Go's encoder escapes <, > and & (selectors contain &&) and U+2028/U+2029, and writes invalid
//   UTF-16 as U+FFFD: doing the same keeps a value written back byte-identical to what Calico wrote.
// Object keys keep their order (the codecs decide it), except that JavaScript always lists
// integer-like keys first and in numeric order: see goOrder.

/** What parseGoJson returns: JSON values, with bigint for integers beyond 2^53. */
export type GoJson =
  null | boolean | number | bigint | string | GoJson[] | { [key: string]: GoJson };

const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
const WHITESPACE = /[ \t\n\r]*/y;

/** Parses JSON text; throws a SyntaxError naming the offset of the first problem. */
export function parseGoJson(text: string): GoJson {
  return parseNatively(text) ?? parseByHand(text);
}

/**
 * The reference parser, character by character: what parseGoJson returns for any text, and the
 * one whose errors it throws. It is ~30 times slower than JSON.parse when cold, as every plugin
 * start is: 3 ms for one full /26 block, read with the host lock held.
 */
export function parseByHand(text: string): GoJson {
  const parser = new Parser(text);
  const value = parser.value();
  parser.end();
  return value;
}

// Outside strings, integer tokens of 16 digits or more: the only numbers a double may not hold
// exactly. The string alternative consumes strings whole, so digits inside them never match.
const STRING_OR_LONG_INTEGER = /"(?:[^"\\]|\\.)*"|(?<![\w.+-])-?[1-9]\d{15,}(?![\w.])/g;
const LONG_DIGIT_RUN = /\d{16}/;
/** A long integer travels through JSON.parse as a string starting with NUL (see parseNatively). */
const MARK = '\u0000';

/**
 * parseByHand's result from JSON.parse, or undefined where they could differ (then parseByHand
 * decides, and throws its own errors). Long integers are quoted behind a NUL mark first and
 * turned back into numbers or bigints, as parseByHand would read them. Undefined when the text
 * has an escaped NUL (a marked string could not be told from a real one) or does not parse, or
 * when a mark ends up as a key (an integer where a key belongs: an error for parseByHand).
 */
function parseNatively(text: string): GoJson | undefined {
  if (text.includes('\\u0000')) return undefined;
  let marked = 0;
  const quoted = LONG_DIGIT_RUN.test(text)
    ? text.replace(STRING_OR_LONG_INTEGER, (token) => {
        if (token.charCodeAt(0) === 0x22) return token;
        marked++;
        return `"\\u0000${token}"`;
      })
    : text;
  // An object, not a let: the reviver's assignment is invisible to the narrowing below.
  const seen = { markedKey: false };
  try {
    const value =
      marked === 0
        ? (JSON.parse(quoted) as GoJson)
        : (JSON.parse(quoted, (key: string, item: unknown) => {
            if (key.startsWith(MARK)) seen.markedKey = true;
            return typeof item === 'string' && item.startsWith(MARK)
              ? integerOf(item.slice(1))
              : item;
          }) as GoJson);
    return seen.markedKey ? undefined : value;
  } catch {
    return undefined;
  }
}

/** An integer token as parseByHand reads it: a number when exact, else a bigint. */
function integerOf(token: string): number | bigint {
  const value = Number(token);
  return Number.isSafeInteger(value) ? value : BigInt(token);
}

class Parser {
  private at = 0;

  constructor(private readonly text: string) {}

  value(): GoJson {
    this.skip();
    const char = this.text[this.at];
    switch (char) {
      case '{':
        return this.object();
      case '[':
        return this.array();
      case '"':
        return this.string();
      case 't':
        return this.literal('true', true);
      case 'f':
        return this.literal('false', false);
      case 'n':
        return this.literal('null', null);
      default:
        return this.number();
    }
  }

  end(): void {
    this.skip();
    if (this.at !== this.text.length) this.fail('unexpected text after the value');
  }

  private object(): { [key: string]: GoJson } {
    const result: { [key: string]: GoJson } = {};
    this.at++;
    this.skip();
    if (this.text[this.at] === '}') {
      this.at++;
      return result;
    }
    for (;;) {
      this.skip();
      if (this.text[this.at] !== '"') this.fail('expected a key');
      const key = this.string();
      this.skip();
      if (this.text[this.at] !== ':') this.fail('expected ":"');
      this.at++;
      // defineProperty: a "__proto__" key must become a property, not the prototype.
      Object.defineProperty(result, key, {
        value: this.value(),
        enumerable: true,
        writable: true,
        configurable: true,
      });
      this.skip();
      const next = this.text[this.at++];
      if (next === '}') return result;
      if (next !== ',') this.fail('expected "," or "}"');
    }
  }

  private array(): GoJson[] {
    const result: GoJson[] = [];
    this.at++;
    this.skip();
    if (this.text[this.at] === ']') {
      this.at++;
      return result;
    }
    for (;;) {
      result.push(this.value());
      this.skip();
      const next = this.text[this.at++];
      if (next === ']') return result;
      if (next !== ',') this.fail('expected "," or "]"');
    }
  }

  private string(): string {
    const start = this.at;
    let escaped = false;
    for (let i = start + 1; i < this.text.length; i++) {
      const code = this.text.charCodeAt(i);
      if (code === 0x5c) {
        escaped = true;
        i++;
      } else if (code === 0x22) {
        this.at = i + 1;
        const body = this.text.slice(start, i + 1);
        // JSON.parse validates and decodes the escapes of this one token.
        return escaped ? (JSON.parse(body) as string) : body.slice(1, -1);
      } else if (code < 0x20) {
        this.at = i;
        this.fail('control character in a string');
      }
    }
    this.at = this.text.length;
    return this.fail('unterminated string');
  }

  private number(): number | bigint {
    NUMBER.lastIndex = this.at;
    const match = NUMBER.exec(this.text);
    if (match === null) return this.fail('expected a value');
    this.at = NUMBER.lastIndex;
    const [token, fraction, exponent] = match;
    const value = Number(token);
    if (fraction === undefined && exponent === undefined && !Number.isSafeInteger(value)) {
      return BigInt(token);
    }
    return value;
  }

  private literal<T>(word: string, value: T): T {
    if (!this.text.startsWith(word, this.at)) this.fail('expected a value');
    this.at += word.length;
    return value;
  }

  private skip(): void {
    WHITESPACE.lastIndex = this.at;
    WHITESPACE.exec(this.text);
    this.at = WHITESPACE.lastIndex;
  }

  private fail(problem: string): never {
    throw new SyntaxError(`${problem} at offset ${this.at}`);
  }
}

const GO_ESCAPES = /[<>&\u2028\u2029]/g;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function goString(value: string): string {
  return JSON.stringify(value.replace(LONE_SURROGATE, '\ufffd')).replace(GO_ESCAPES, goEscape);
}

/**
 * Compact JSON as Go's encoding/json writes it. Object properties whose value is undefined are
 * left out (as JSON.stringify does), so codecs can express `omitempty` by leaving a field undefined.
 */
export function stringifyGoJson(value: unknown): string {
  return stringifyNatively(value) ?? stringifyByHand(value);
}

/** Stands for a piece written by hand (a bigint, a Go map): see stringifyNatively. */
const PIECE = '\u0001';
const PIECE_TEXT = /"\\u0001(\d+)"(?!:)/g;

/**
 * stringifyByHand's text from JSON.stringify, or undefined where they could differ (then
 * stringifyByHand decides, and throws its own errors). What JSON.stringify cannot write as Go
 * does is written by hand and spliced in: bigints, and Go maps (objects with an integer-like key,
 * whose keys Go sorts as strings). Go's escapes of <, > and & and U+2028/9 can only be inside
 * strings, so they are applied to the whole text. Undefined for what only the hand writer handles
 * its way: a lone surrogate (Go writes U+FFFD), a string that starts like a piece, a value with
 * toJSON, undefined in an array, functions, symbols and non-finite numbers (errors).
 */
function stringifyNatively(value: unknown): string | undefined {
  const pieces: string[] = [];
  const seen = { unsure: false };
  // unknown: typed string, it is undefined for undefined (and functions) at the top.
  let text: unknown;
  try {
    text = JSON.stringify(value, function (this: unknown, key: string, item: unknown): unknown {
      if ((this as Record<string, unknown>)[key] !== item) seen.unsure = true;
      switch (typeof item) {
        case 'bigint':
          pieces.push(item.toString());
          return `${PIECE}${pieces.length - 1}`;
        case 'string':
          if (item.startsWith(PIECE)) seen.unsure = true;
          return item;
        case 'number':
          if (!Number.isFinite(item)) seen.unsure = true;
          return item;
        case 'object':
          if (
            item !== null &&
            !Array.isArray(item) &&
            INTEGER_KEY.test(Object.keys(item)[0] ?? '')
          ) {
            pieces.push(stringifyByHand(item));
            return `${PIECE}${pieces.length - 1}`;
          }
          return item;
        case 'boolean':
          return item;
        default:
          // undefined leaves an object property out, as by hand; anything else is not JSON.
          if (item !== undefined || Array.isArray(this)) seen.unsure = true;
          return item;
      }
    });
  } catch {
    return undefined;
  }
  if (seen.unsure || typeof text !== 'string' || text.includes('\\ud')) return undefined;
  return text
    .replace(PIECE_TEXT, (_, index: string) => pieces[Number(index)] ?? '')
    .replace(GO_ESCAPES, goEscape);
}

/** Go's \u escape of one character. */
function goEscape(char: string): string {
  return `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/** The reference writer, value by value: what stringifyGoJson returns, and its errors. */
export function stringifyByHand(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return goString(value);
    case 'bigint':
      return value.toString();
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`cannot write ${value} as JSON`);
      return String(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) return `[${value.map((item) => stringifyByHand(item)).join(',')}]`;
      const parts: string[] = [];
      for (const [key, item] of goOrder(Object.entries(value))) {
        if (item !== undefined) parts.push(`${goString(key)}:${stringifyByHand(item)}`);
      }
      return `{${parts.join(',')}}`;
    }
    default:
      throw new TypeError(`cannot write a ${typeof value} as JSON`);
  }
}

const INTEGER_KEY = /^(?:0|[1-9]\d*)$/;

/**
 * Struct fields never have integer-like names, so an object with one is a Go map, which Go writes
 * with its keys sorted as strings ("10" before "2"). JavaScript objects cannot hold that order
 * (integer-like keys always come first, numerically), so it is restored here.
 */
function goOrder(entries: [string, unknown][]): [string, unknown][] {
  if (!entries.some(([key]) => INTEGER_KEY.test(key))) return entries;
  return entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
