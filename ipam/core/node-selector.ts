import { parseSelectorExpression, type SelectorNode } from './selector-parser';

// A pool's nodeSelector decides whether AutoAssign may use the pool on a node (§8.2: matched
// against the Node's metadata.labels; §7.3: the default is all()). Parse once per pool, then
// evaluate per node.

/** Node labels, as in a Node's `metadata.labels`. */
export type Labels = Readonly<Record<string, string>>;

/** A parsed selector with its source text. */
export interface Selector {
  readonly source: string;
  readonly root: SelectorNode;
}

/** Parses a selector; throws SelectorSyntaxError with the position and the text. */
export function parseSelector(source: string): Selector {
  return { source, root: parseSelectorExpression(source) };
}

// Own properties only: a label named `constructor` or `__proto__` must not match the prototype.
function label(labels: Labels, key: string): string | undefined {
  return Object.hasOwn(labels, key) ? labels[key] : undefined;
}

function evaluate(node: SelectorNode, labels: Labels): boolean {
  switch (node.kind) {
    case 'all':
      return true;
    case 'has':
      return label(labels, node.key) !== undefined;
    case 'eq':
      return label(labels, node.key) === node.value;
    // Calico: `k != 'v'` and `k not in {…}` also match when the label is missing.
    case 'ne':
      return label(labels, node.key) !== node.value;
    case 'in':
    case 'notIn': {
      const value = label(labels, node.key);
      const member = value !== undefined && node.values.includes(value);
      return node.kind === 'in' ? member : !member;
    }
    case 'contains':
      return label(labels, node.key)?.includes(node.value) === true;
    case 'startsWith':
      return label(labels, node.key)?.startsWith(node.value) === true;
    case 'endsWith':
      return label(labels, node.key)?.endsWith(node.value) === true;
    case 'not':
      return !evaluate(node.operand, labels);
    case 'and':
      return node.operands.every((operand) => evaluate(operand, labels));
    case 'or':
      return node.operands.some((operand) => evaluate(operand, labels));
  }
}

/** True when the labels satisfy the selector. */
export function selectorMatches(selector: Selector, labels: Labels): boolean {
  return evaluate(selector.root, labels);
}

/** Parses and evaluates in one step, for one-off checks. */
export function matchesNodeSelector(source: string, labels: Labels): boolean {
  return selectorMatches(parseSelector(source), labels);
}
