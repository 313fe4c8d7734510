/** Parses Prometheus text exposition into series -> value, for comparisons in tests. */
export function parseExposition(body: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of body.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    const series = line.slice(0, at);
    if (out.has(series)) throw new Error(`duplicate series ${series}`);
    out.set(series, Number(line.slice(at + 1)));
  }
  return out;
}

/** The label text the exporter writes for a value (escaping as in src/exporters/names.ts). */
export function lbl(pairs: [string, string][]): string {
  return pairs.map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`).join(',');
}
