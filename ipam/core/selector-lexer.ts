import { SelectorSyntaxError } from './errors';

// Tokens of Calico's selector language, as pool nodeSelectors use it (§7.3, §8.2). Label keys are
// bare words of Kubernetes label-key characters (`kubernetes.io/hostname`); values are quoted with
// ' or " and carry no escapes.

/** One token and its 0-based offset in the selector text. */
export type SelectorToken =
  | { readonly kind: 'word'; readonly text: string; readonly at: number }
  | { readonly kind: 'string'; readonly text: string; readonly at: number }
  | { readonly kind: 'punct'; readonly text: Punct; readonly at: number }
  | { readonly kind: 'end'; readonly text: ''; readonly at: number };

type Punct = '(' | ')' | '{' | '}' | ',' | '==' | '!=' | '!' | '&&' | '||';

const PUNCT: readonly Punct[] = ['==', '!=', '&&', '||', '!', '(', ')', '{', '}', ','];
const WORD = /[A-Za-z0-9_./-]/;
const SPACE = /\s/;

/** Builds the syntax error for `selector` at `position`, quoting the selector (bounded). */
export function selectorError(
  selector: string,
  where: { position: number; problem: string },
): SelectorSyntaxError {
  const shown = selector.length > 120 ? `${selector.slice(0, 120)}…` : selector;
  return new SelectorSyntaxError(
    `invalid selector ${JSON.stringify(shown)} at position ${where.position}: ${where.problem}`,
    { selector, position: where.position },
  );
}

function readString(text: string, at: number): SelectorToken {
  const quote = text.charAt(at);
  const close = text.indexOf(quote, at + 1);
  if (close < 0) {
    throw selectorError(text, {
      position: at,
      problem: `unterminated string starting with ${quote}`,
    });
  }
  return { kind: 'string', text: text.slice(at + 1, close), at };
}

/** Splits a selector into tokens, ending with one `end` token. */
export function tokenizeSelector(text: string): SelectorToken[] {
  const tokens: SelectorToken[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text.charAt(i);
    if (SPACE.test(c)) {
      i++;
    } else if (c === "'" || c === '"') {
      const token = readString(text, i);
      tokens.push(token);
      i += token.text.length + 2;
    } else if (WORD.test(c)) {
      let j = i;
      while (j < text.length && WORD.test(text.charAt(j))) j++;
      tokens.push({ kind: 'word', text: text.slice(i, j), at: i });
      i = j;
    } else {
      const punct = PUNCT.find((p) => text.startsWith(p, i));
      if (punct === undefined) {
        throw selectorError(text, {
          position: i,
          problem: `unexpected character ${JSON.stringify(c)}`,
        });
      }
      tokens.push({ kind: 'punct', text: punct, at: i });
      i += punct.length;
    }
  }
  tokens.push({ kind: 'end', text: '', at: text.length });
  return tokens;
}
