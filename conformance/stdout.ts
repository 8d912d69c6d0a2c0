/** How a plugin's stdout reads: nothing, exactly one JSON value, or something a runtime rejects. */
export type StdoutShape =
  | { readonly kind: 'empty' }
  | { readonly kind: 'one'; readonly value: unknown }
  | { readonly kind: 'invalid'; readonly reason: string };

/** Shorten `text` to one line of at most `max` characters for a report. */
export function snippet(text: string, max = 160): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

/**
 * End offset of the JSON object or array that starts at `start`, or undefined if it never closes.
 * Only brackets outside strings count, which is enough to split concatenated documents.
 */
function endOfComposite(text: string, start: number): number | undefined {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return undefined;
}

/** Explain why `trimmed` (not parseable as a whole) is not one JSON document. */
function whyInvalid(trimmed: string): string {
  const first = trimmed[0];
  if (first === '{' || first === '[') {
    const end = endOfComposite(trimmed, 0);
    if (end !== undefined && end < trimmed.length) {
      try {
        JSON.parse(trimmed.slice(0, end));
        const rest = trimmed.slice(end).trimStart();
        const what =
          rest.startsWith('{') || rest.startsWith('[') ? 'a second JSON document' : 'text';
        return `${what} after the first JSON value: ${snippet(rest, 80)}`;
      } catch {
        // Fall through: the first value is itself malformed.
      }
    }
  }
  return `not one JSON value: ${snippet(trimmed, 80)}`;
}

/** Classify `stdout` the way libcni reads an ADD result: surrounding whitespace is allowed. */
export function parseStdout(stdout: string): StdoutShape {
  const trimmed = stdout.trim();
  if (trimmed === '') return { kind: 'empty' };
  try {
    return { kind: 'one', value: JSON.parse(trimmed) as unknown };
  } catch {
    return { kind: 'invalid', reason: whyInvalid(trimmed) };
  }
}

/** A JSON value that is an object (not null, not an array). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A CNI error object as printed on stdout. */
export interface CniErrorObject {
  readonly code: number;
  readonly msg: string;
  readonly details?: string;
  readonly cniVersion?: string;
}

/** A JSON value for a message; `absent` for undefined. */
export function show(value: unknown): string {
  return value === undefined ? 'absent' : JSON.stringify(value);
}

/** Problems that keep `value` from being a well-formed CNI error object (empty list: it is one). */
export function errorObjectProblems(value: unknown): string[] {
  if (!isObject(value)) return ['stdout is not a JSON object'];
  const problems: string[] = [];
  if (typeof value.code !== 'number' || !Number.isInteger(value.code)) {
    problems.push(`"code" is not an integer (${show(value.code)})`);
  }
  if (typeof value.msg !== 'string') {
    problems.push(`"msg" is not a string (${show(value.msg)})`);
  }
  if (value.details !== undefined && typeof value.details !== 'string') {
    problems.push(`"details" is not a string (${show(value.details)})`);
  }
  if (value.cniVersion !== undefined && typeof value.cniVersion !== 'string') {
    problems.push(`"cniVersion" is not a string (${show(value.cniVersion)})`);
  }
  return problems;
}

/** `value` as a CNI error object, or undefined if it is not a well-formed one. */
export function asErrorObject(value: unknown): CniErrorObject | undefined {
  return errorObjectProblems(value).length === 0 ? (value as CniErrorObject) : undefined;
}
