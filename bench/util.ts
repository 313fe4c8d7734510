/** Small helpers shared by the benchmarks. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** dist/bench -> repository root */
export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The V8 flags the exporter's command runs with (the first line of src/cli.ts, and scripts/demo). */
export const EXPORTER_NODE_FLAGS = ['--max-semi-space-size=4'];

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export function fmtMs(ms: number): string {
  return ms < 1 ? `${(ms * 1000).toFixed(0)} us` : `${ms.toFixed(ms < 10 ? 2 : 1)} ms`;
}
