/**
 * The PromQL the dashboards and rules share (selectors, the input-node set) and a small lexical
 * reader of PromQL: which metric names an expression reads and which operands its top-level
 * comparisons compare. Lexical only (strings, label matchers, ranges and label lists skipped), which
 * is all the checks need: Prometheus itself parses every expression in the tests.
 */

/** Grafana's instance variable as a label matcher. */
export const INSTANCE = 'instance=~"$instance"';

/**
 * VPP's polling input nodes (device drivers: VLIB_NODE_TYPE_INPUT); ethernet-input, ip4-input and
 * the like are internal nodes and not in it. Extend it for other drivers.
 */
export const INPUT_NODES = '(dpdk|rdma|avf|af-packet|af_xdp|memif|virtio|vmxnet3|vhost-user|pg|ena)-input';

/** `metric{instance=~"$instance", ...}` */
export function sel(metric: string, ...matchers: string[]): string {
  return `${metric}{${[INSTANCE, ...matchers].join(', ')}}`;
}

/** `rate(metric{instance=~"$instance", ...}[$__rate_interval])` */
export function rate(metric: string, ...matchers: string[]): string {
  return `rate(${sel(metric, ...matchers)}[$__rate_interval])`;
}

/** rate() summed over threads: one series per interface (or error...) with --per-thread too. */
export function threadsSummed(expr: string): string {
  return `sum without (thread) (${expr})`;
}

const AGGREGATIONS = new Set([
  'sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values', 'bottomk', 'topk', 'quantile', 'limitk', 'limit_ratio',
]);
const LABEL_LISTS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
const WORDS = new Set(['bool', 'and', 'or', 'unless', 'offset', 'atan2', 'inf', 'nan', 'Inf', 'NaN']);
const SET_OPERATORS = new Set(['and', 'or', 'unless']);

interface Token {
  kind: 'ident' | 'number' | 'string' | 'matchers' | 'range' | 'punct' | 'variable';
  text: string;
  start: number;
  end: number;
  /** Parenthesis depth at the token. */
  depth: number;
}

/** Splits an expression into tokens; label matchers `{...}` and ranges `[...]` are one token each. */
export function tokenize(expr: string): Token[] {
  const out: Token[] = [];
  let depth = 0;
  let i = 0;
  const skipString = (at: number): number => {
    const q = expr[at];
    let j = at + 1;
    while (j < expr.length && expr[j] !== q) j += expr[j] === '\\' && q !== '`' ? 2 : 1;
    if (j >= expr.length) throw new SyntaxError(`unterminated string at ${at} in ${expr}`);
    return j + 1;
  };
  const skipGroup = (at: number, close: string): number => {
    let j = at + 1;
    while (j < expr.length && expr[j] !== close) j = expr[j] === '"' || expr[j] === "'" || expr[j] === '`' ? skipString(j) : j + 1;
    if (j >= expr.length) throw new SyntaxError(`unclosed ${expr[at]} at ${at} in ${expr}`);
    return j + 1;
  };
  while (i < expr.length) {
    const c = expr[i];
    const push = (kind: Token['kind'], end: number): void => {
      out.push({ kind, text: expr.slice(i, end), start: i, end, depth });
      i = end;
    };
    if (/\s/.test(c)) i++;
    else if (c === '#') {
      const nl = expr.indexOf('\n', i);
      i = nl < 0 ? expr.length : nl;
    } else if (c === '"' || c === "'" || c === '`') push('string', skipString(i));
    else if (c === '{') push('matchers', skipGroup(i, '}'));
    else if (c === '[') push('range', skipGroup(i, ']'));
    else if (c === '$') push('variable', i + 1 + (/^\{?[A-Za-z0-9_]+\}?/.exec(expr.slice(i + 1))?.[0].length ?? 0));
    else if (/[A-Za-z_:]/.test(c)) push('ident', i + /^[A-Za-z0-9_:]+/.exec(expr.slice(i))![0].length);
    else if (/[0-9.]/.test(c)) push('number', i + /^(0x[0-9a-fA-F]+|[0-9.]+([eE][+-]?[0-9]+)?[a-zA-Z]*)/.exec(expr.slice(i))![0].length);
    else if (c === '(') {
      push('punct', i + 1);
      depth++;
    } else if (c === ')') {
      depth--;
      push('punct', i + 1);
    } else {
      const two = expr.slice(i, i + 2);
      push('punct', i + (['==', '!=', '>=', '<=', '=~', '!~'].includes(two) ? 2 : 1));
    }
  }
  if (depth !== 0) throw new SyntaxError(`unbalanced parentheses in ${expr}`);
  return out;
}

/** Index past a parenthesised group starting at tokens[k] (which is '('); k itself when it is not one. */
function pastGroup(tokens: Token[], k: number): number {
  if (tokens[k]?.text !== '(') return k;
  const d = tokens[k].depth;
  let j = k + 1;
  while (j < tokens.length && !(tokens[j].text === ')' && tokens[j].depth === d)) j++;
  return j + 1;
}

/** The metric names an expression reads (bare identifiers that are not functions or keywords). */
export function metricNames(expr: string): string[] {
  const t = tokenize(expr);
  const names = new Set<string>();
  for (let k = 0; k < t.length; k++) {
    const tok = t[k];
    if (tok.kind !== 'ident') continue;
    if (LABEL_LISTS.has(tok.text)) {
      k = pastGroup(t, k + 1) - 1;
      continue;
    }
    if (tok.text === 'offset' || WORDS.has(tok.text) || AGGREGATIONS.has(tok.text)) continue;
    if (t[k + 1]?.text === '(') continue; // a function call
    names.add(tok.text);
  }
  return [...names].sort();
}

/**
 * The operands of an expression's top-level comparisons and set operators: `a > 0.3 and on (x) b == 1`
 * gives [`a`, `0.3`, `b`, `1`]. An alert's operands are what must have data for the alert to be able
 * to fire; an expression without top-level operators is its own only operand.
 */
export function comparisonOperands(expr: string): string[] {
  const t = tokenize(expr);
  const parts: string[] = [];
  let from = 0;
  let k = 0;
  while (k < t.length) {
    const tok = t[k];
    const isCompare = tok.kind === 'punct' && tok.depth === 0 && ['==', '!=', '>=', '<=', '>', '<'].includes(tok.text);
    const isSet = tok.kind === 'ident' && tok.depth === 0 && SET_OPERATORS.has(tok.text);
    if (!isCompare && !isSet) {
      k++;
      continue;
    }
    parts.push(expr.slice(from, tok.start).trim());
    k++;
    // Modifiers between the operator and its right operand.
    for (;;) {
      const m = t[k];
      if (m?.kind === 'ident' && m.text === 'bool') k++;
      else if (m?.kind === 'ident' && LABEL_LISTS.has(m.text)) k = pastGroup(t, k + 1);
      else break;
    }
    from = t[k]?.start ?? expr.length;
  }
  parts.push(expr.slice(from).trim());
  return parts.filter((p) => p.length > 0);
}

/** True for an operand that is a number literal (nothing to query). */
export function isLiteral(operand: string): boolean {
  return /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/.test(operand.trim());
}
