/**
 * Text exposition written directly from a snapshot's dense arrays: the label text of every series
 * is prepared once per epoch in the plan (catalog.ts), so a scrape only appends prepared strings
 * and numbers. Output comes in chunks of about CHUNK characters so that the HTTP layer can stream
 * it and yield to the event loop between chunks. No object is made per series.
 *
 * Formats: Prometheus text 0.0.4, and OpenMetrics 1.0 (counter families named without _total,
 * samples with it, a closing # EOF).
 */
import type { Family, Plan } from './catalog.js';
import type { SnapshotView } from '../stats/index.js';
import { escapeHelp } from './names.js';

export const CHUNK = 64 * 1024;

export interface RenderOptions {
  perThread: boolean;
  openMetrics: boolean;
  /** Number of real threads (main + workers); rows past it in node vectors are VPP padding. */
  threads: number;
}

/** Per snapshot entry k: where its rows start and how long they are. */
interface Rows {
  start: Int32Array;
  len: Int32Array;
  width: Int32Array;
  /** Offsets: rows of entry k are [first[k], first[k + 1]). */
  first: Int32Array;
}

function rowsOf(view: SnapshotView): Rows {
  const n = view.length;
  const first = new Int32Array(n + 1);
  const start: number[] = [];
  const len: number[] = [];
  const width = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    first[k] = start.length;
    if (view.status(k) !== 0) continue; // a failed entry renders no series
    const e = view.entry(k);
    width[k] = e.width;
    for (let r = 0; r < e.rows; r++) {
      start.push(e.rowStarts[r]);
      len.push(e.rowLengths[r]);
    }
  }
  first[n] = start.length;
  return { start: Int32Array.from(start), len: Int32Array.from(len), width, first };
}

/** Formats the u64 at word index `pos` without making a BigInt. */
function valueAt(u32: Uint32Array, pos: number): string {
  const hi = u32[pos * 2 + 1];
  const lo = u32[pos * 2];
  return hi === 0 ? String(lo) : String(hi * 4294967296 + lo);
}

function header(f: Family, openMetrics: boolean): string {
  const name = openMetrics && f.type === 'counter' ? f.name.replace(/_total$/, '') : f.name;
  return `# HELP ${name} ${escapeHelp(f.help)}\n# TYPE ${name} ${f.type}\n`;
}

/** Yields the exposition of the plan's families, in chunks. */
export function* renderPlan(plan: Plan, view: SnapshotView, opts: RenderOptions): Generator<string, void, undefined> {
  const rows = rowsOf(view);
  const values = view.values;
  const u32 = new Uint32Array(values.buffer, values.byteOffset, values.length * 2);
  let out = '';
  for (const f of plan.families) {
    let wroteHeader = false;
    const n = f.k.length;
    for (let i = 0; i < n; i++) {
      const k = f.k[i];
      const r0 = rows.first[k];
      let r1 = rows.first[k + 1];
      if (r0 === r1) continue;
      if (!wroteHeader) {
        out += header(f, opts.openMetrics);
        wroteHeader = true;
      }
      const width = rows.width[k];
      const word = f.word[i];
      const col = f.col[i];
      const labels = f.labels[i];
      const threadLabel = opts.perThread && !f.noThreadLabel;
      if (threadLabel && f.extraRow && r1 - r0 > opts.threads) r1 = r0 + opts.threads;
      for (let r = r0; r < r1; r++) {
        const thread = threadLabel ? `thread="${r - r0}"` : '';
        const start = rows.start[r];
        const len = rows.len[r];
        if (col >= 0) {
          const v = col < len ? valueAt(u32, start + col * width + word) : '0';
          const body = labels === '' ? thread : thread === '' ? labels : `${labels},${thread}`;
          out += body === '' ? `${f.name} ${v}\n` : `${f.name}{${body}} ${v}\n`;
        } else {
          // One series per column; `labels` names the label carrying the column number.
          for (let c = 0; c < len; c++) {
            const v = valueAt(u32, start + c * width + word);
            out += `${f.name}{${labels}="${c}"${thread === '' ? '' : ',' + thread}} ${v}\n`;
          }
        }
        if (out.length >= CHUNK) {
          yield out;
          out = '';
        }
      }
    }
  }
  if (out !== '') yield out;
}

/**
 * Calls `visit` for every sample of the plan (the same series renderPlan writes), for exporters
 * that need values rather than text (OTLP). `column` is the expanded column for families whose
 * series are one per column (col -1), else -1; `thread` is the row when per thread, else -1.
 */
export function visitSamples(
  plan: Plan,
  view: SnapshotView,
  opts: Omit<RenderOptions, 'openMetrics'>,
  visit: (f: Family, series: number, column: number, thread: number, value: number) => void,
): void {
  const rows = rowsOf(view);
  const values = view.values;
  const u32 = new Uint32Array(values.buffer, values.byteOffset, values.length * 2);
  const num = (pos: number): number => u32[pos * 2] + u32[pos * 2 + 1] * 4294967296;
  for (const f of plan.families) {
    for (let i = 0; i < f.k.length; i++) {
      const k = f.k[i];
      const r0 = rows.first[k];
      let r1 = rows.first[k + 1];
      const threadLabel = opts.perThread && !f.noThreadLabel;
      if (threadLabel && f.extraRow && r1 - r0 > opts.threads) r1 = r0 + opts.threads;
      const width = rows.width[k];
      const word = f.word[i];
      const col = f.col[i];
      for (let r = r0; r < r1; r++) {
        const thread = threadLabel ? r - r0 : -1;
        const start = rows.start[r];
        const len = rows.len[r];
        if (col >= 0) visit(f, i, -1, thread, col < len ? num(start + col * width + word) : 0);
        else for (let c = 0; c < len; c++) visit(f, i, c, thread, num(start + c * width + word));
      }
    }
  }
}
