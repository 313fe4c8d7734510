/**
 * Metric and label text: Prometheus names are [a-zA-Z_:][a-zA-Z0-9_:]*, label values are any
 * UTF-8 with backslash, double quote and newline escaped. One unescaped quote makes Prometheus
 * drop the whole scrape, so every label value goes through escapeLabelValue.
 */

export function sanitizeMetricName(s: string): string {
  let out = s.replace(/[^a-zA-Z0-9_:]+/g, '_').replace(/_+/g, '_').replace(/^_+|_+$/g, '');
  if (out === '' || /^[0-9]/.test(out)) out = '_' + out;
  return out;
}

export function escapeLabelValue(s: string): string {
  // Lone surrogates cannot be encoded as UTF-8; replace them so the body stays valid.
  const wellFormed = s.toWellFormed();
  return /[\\"\n]/.test(wellFormed) ? wellFormed.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : wellFormed;
}

export function escapeHelp(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** `name="value"` pairs joined by commas, without braces. */
export function labelBody(labels: readonly (readonly [string, string])[]): string {
  return labels.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(',');
}

/** Undoes labelBody: `a="x\"y",b="z"` -> {a: 'x"y', b: 'z'}. */
export function parseLabelBody(body: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
  for (let m = re.exec(body); m; m = re.exec(body)) {
    out[m[1]] = m[2].replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
  }
  return out;
}
