import { selectorError, tokenizeSelector, type SelectorToken } from './selector-lexer';

// Recursive descent over Calico's selector grammar: `||` binds loosest, then `&&`, then prefix
// `!`; parentheses group. Input length and nesting depth are bounded because selectors come
// from the datastore, which any cluster user with pool write access can fill.

/** Longest selector accepted, in UTF-16 code units. */
export const MAX_SELECTOR_LENGTH = 1024;
/** Deepest nesting of `(` and `!` accepted. */
export const MAX_SELECTOR_DEPTH = 32;

/** A parsed selector expression. */
export type SelectorNode =
  | { readonly kind: 'all' }
  | { readonly kind: 'has'; readonly key: string }
  | {
      readonly kind: 'eq' | 'ne' | 'contains' | 'startsWith' | 'endsWith';
      readonly key: string;
      readonly value: string;
    }
  | { readonly kind: 'in' | 'notIn'; readonly key: string; readonly values: readonly string[] }
  | { readonly kind: 'not'; readonly operand: SelectorNode }
  | { readonly kind: 'and' | 'or'; readonly operands: readonly SelectorNode[] };

/** Parses a selector; an empty or blank selector means all() (upstream's default). */
export function parseSelectorExpression(text: string): SelectorNode {
  if (text.length > MAX_SELECTOR_LENGTH) {
    throw selectorError(text, {
      position: MAX_SELECTOR_LENGTH,
      problem: `longer than ${MAX_SELECTOR_LENGTH} characters`,
    });
  }
  const tokens = tokenizeSelector(text);
  let next = 0;
  let depth = 0;
  const peek = (): SelectorToken => tokens[next] ?? { kind: 'end', text: '', at: text.length };
  const fail = (token: SelectorToken, expected: string): never => {
    const found = token.kind === 'end' ? 'end of selector' : JSON.stringify(token.text);
    throw selectorError(text, {
      position: token.at,
      problem: `expected ${expected}, found ${found}`,
    });
  };
  const take = (kind: SelectorToken['kind'], what: string, literal?: string): SelectorToken => {
    const token = peek();
    if (token.kind !== kind || (literal !== undefined && token.text !== literal)) fail(token, what);
    next++;
    return token;
  };
  const isPunct = (literal: string): boolean => {
    const token = peek();
    return token.kind === 'punct' && token.text === literal;
  };
  const nest = <T>(token: SelectorToken, inner: () => T): T => {
    if (++depth > MAX_SELECTOR_DEPTH) {
      throw selectorError(text, {
        position: token.at,
        problem: `nested deeper than ${MAX_SELECTOR_DEPTH} levels`,
      });
    }
    const result = inner();
    depth--;
    return result;
  };

  const stringSet = (): string[] => {
    take('punct', "'{'", '{');
    const values: string[] = [];
    while (!isPunct('}')) {
      if (values.length > 0) take('punct', "',' or '}'", ',');
      values.push(take('string', 'a quoted value').text);
    }
    next++;
    return values;
  };

  const comparison = (key: string): SelectorNode => {
    const token = peek();
    const quoted = (): string => take('string', 'a quoted value').text;
    next++;
    switch (token.kind === 'end' ? '' : token.text) {
      case '==':
        return { kind: 'eq', key, value: quoted() };
      case '!=':
        return { kind: 'ne', key, value: quoted() };
      case 'in':
        return { kind: 'in', key, values: stringSet() };
      case 'not':
        take('word', "'in'", 'in');
        return { kind: 'notIn', key, values: stringSet() };
      case 'contains':
        return { kind: 'contains', key, value: quoted() };
      case 'starts':
        take('word', "'with'", 'with');
        return { kind: 'startsWith', key, value: quoted() };
      case 'ends':
        take('word', "'with'", 'with');
        return { kind: 'endsWith', key, value: quoted() };
      default:
        return fail(token, `an operator (==, !=, in, not in, contains, starts with) after ${key}`);
    }
  };

  const primary = (): SelectorNode => {
    const token = peek();
    if (token.kind === 'punct' && token.text === '(') {
      next++;
      const inner = nest(token, () => orExpr());
      take('punct', "')'", ')');
      return inner;
    }
    if (token.kind !== 'word') return fail(token, "a label key, '(', '!', all() or has()");
    next++;
    if (!isPunct('(')) return comparison(token.text);
    next++;
    if (token.text !== 'all' && token.text !== 'has') {
      return fail(token, 'all() or has(): no other function applies to node labels');
    }
    const node: SelectorNode =
      token.text === 'all'
        ? { kind: 'all' }
        : { kind: 'has', key: take('word', 'a label key').text };
    take('punct', "')'", ')');
    return node;
  };

  const unary = (): SelectorNode => {
    const token = peek();
    if (token.kind === 'punct' && token.text === '!') {
      next++;
      return nest(token, () => ({ kind: 'not', operand: unary() }));
    }
    return primary();
  };

  const chain =
    (op: '&&' | '||', kind: 'and' | 'or', operand: () => SelectorNode) => (): SelectorNode => {
      const operands = [operand()];
      while (isPunct(op)) {
        next++;
        operands.push(operand());
      }
      return operands.length === 1 && operands[0] !== undefined ? operands[0] : { kind, operands };
    };
  const andExpr = chain('&&', 'and', unary);
  const orExpr: () => SelectorNode = chain('||', 'or', andExpr);

  if (peek().kind === 'end') return { kind: 'all' };
  const root = orExpr();
  take('end', "'&&', '||' or the end of the selector");
  return root;
}
