/**
 * Text exposition written directly from a snapshot's dense arrays: the label text of every series
 * is prepared once per epoch in the plan (catalog.ts), so a scrape only appends prepared strings
 * and numbers. Output comes in chunks of about CHUNK characters so that the HTTP layer can stream
 * it and yield to the event loop between chunks. No object is made per series.
 *
 * Formats: Prometheus text 0.0.4, and OpenMetrics 1.0 (counter families named without _total,
 * samples with it, a closing # EOF). VPP's log2 histograms become histogram families: cumulative
 * _bucket lines, +Inf and (text format only) _count, see log2-histogram.ts.
 *
 * Two renderers with byte-identical output: renderPlan (JavaScript, the reference) and
 * renderNative, which /metrics uses. For the native one the plan is compiled once per epoch into
 * a native RenderPlan (label text as UTF-8 in one arena, see compileNativePlan); a scrape then
 * passes only the snapshot's values and layout, and the addon writes whole lines into the
 * caller's Buffers, so no string is made per series or per chunk, and nothing is UTF-8 encoded.
 */
import type { Family, Plan } from './catalog.js';
import type { SnapshotView } from '../stats/index.js';
import { native, StatsError, type NativeRenderPlan, type NativeRenderer } from '../native/index.js';
import { escapeHelp } from './names.js';
import { HISTOGRAM_MAX_EXP, histogramRowText, LE_TEXT } from './log2-histogram.js';

export const CHUNK = 64 * 1024;

export interface RenderOptions {
  perThread: boolean;
  openMetrics: boolean;
  /** Number of real threads (main + workers); rows past it in node vectors are VPP padding. */
  threads: number;
}

/** Per snapshot entry k: where its rows start and how long they are. */
export interface Rows {
  start: Int32Array;
  len: Int32Array;
  width: Int32Array;
  /** Offsets: rows of entry k are [first[k], first[k + 1]). */
  first: Int32Array;
}

export function rowsOf(view: SnapshotView): Rows {
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
        if (f.type === 'histogram') {
          out += histogramRowText(f.name, labels === '' ? thread : thread === '' ? labels : `${labels},${thread}`, u32, start, len, opts.openMetrics);
        } else if (col >= 0) {
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
 * Histogram families are not samples: visitHistograms (log2-histogram.ts) gives their points.
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
    if (f.type === 'histogram') continue;
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

/** Bytes per native slice: big enough that the per-call cost vanishes, small enough to stream. */
export const SLICE_BYTES = 256 * 1024;

const FAMILY_WORDS = 9;
const SERIES_WORDS = 5;
const NO_THREAD_LABEL = 1;
const EXTRA_ROW = 2;
const HISTOGRAM = 4;

/** Native render plans, one per Plan (so per directory epoch); dropped with the Plan. */
const compiled = new WeakMap<Plan, NativeRenderPlan>();

/**
 * Compiles the plan for the native renderer: every family name, both headers and each distinct
 * label text (interface labels are shared by some 30 families) go into one UTF-8 arena, the
 * series into flat arrays, all copied into C++ memory once. Done once per plan; later calls
 * return the same object.
 */
export function compileNativePlan(plan: Plan): NativeRenderPlan {
  let rp = compiled.get(plan);
  if (rp) return rp;
  const texts: string[] = [];
  const offsets: number[] = [];
  const lengths: number[] = [];
  const interned = new Map<string, number>();
  let arenaLen = 0;
  const intern = (s: string): number => {
    let id = interned.get(s);
    if (id === undefined) {
      id = texts.length;
      const n = Buffer.byteLength(s, 'utf8');
      texts.push(s);
      offsets.push(arenaLen);
      lengths.push(n);
      arenaLen += n;
      interned.set(s, id);
    }
    return id;
  };
  let nseries = 0;
  for (const f of plan.families) nseries += f.k.length;
  const families = new Uint32Array(plan.families.length * FAMILY_WORDS);
  const series = new Uint32Array(nseries * SERIES_WORDS);
  let at = 0;
  // Families over the same names (the ~30 interface families) share their label strings: compare
  // with the previous family's first, which skips the map lookup for most series.
  let prevLabels: readonly string[] = [];
  let prevIds = new Uint32Array(0);
  plan.families.forEach((f, fi) => {
    const name = intern(f.name);
    const text = intern(header(f, false));
    const om = intern(header(f, true));
    const w = fi * FAMILY_WORDS;
    families[w] = at;
    families[w + 1] = at + f.k.length;
    families[w + 2] = offsets[name]!;
    families[w + 3] = lengths[name]!;
    families[w + 4] = offsets[text]!;
    families[w + 5] = lengths[text]!;
    families[w + 6] = offsets[om]!;
    families[w + 7] = lengths[om]!;
    families[w + 8] = (f.noThreadLabel ? NO_THREAD_LABEL : 0) | (f.extraRow ? EXTRA_ROW : 0) | (f.type === 'histogram' ? HISTOGRAM : 0);
    const ids = new Uint32Array(f.k.length);
    for (let i = 0; i < f.k.length; i++, at++) {
      const text = f.labels[i];
      const label = i < prevLabels.length && prevLabels[i] === text ? prevIds[i] : intern(text);
      ids[i] = label;
      const s = at * SERIES_WORDS;
      series[s] = offsets[label]!;
      series[s + 1] = lengths[label]!;
      series[s + 2] = f.k[i]!;
      series[s + 3] = f.col[i] >>> 0;
      series[s + 4] = f.word[i]!;
    }
    prevLabels = f.labels;
    prevIds = ids;
  });
  // Histogram bounds: the le text of 2^e - 1 for every exponent, only when a family needs them.
  let le: Uint32Array | undefined;
  if (plan.families.some((f) => f.type === 'histogram')) {
    le = new Uint32Array(2 * HISTOGRAM_MAX_EXP);
    for (let e = 1; e <= HISTOGRAM_MAX_EXP; e++) {
      const id = intern(LE_TEXT[e]);
      le[2 * (e - 1)] = offsets[id]!;
      le[2 * (e - 1) + 1] = lengths[id]!;
    }
  }
  // Each text is encoded on its own (a lone surrogate becomes U+FFFD, as when the JavaScript
  // renderer's string is written to the socket).
  const arena = Buffer.allocUnsafe(arenaLen);
  texts.forEach((t, i) => arena.write(t, offsets[i], lengths[i], 'utf8'));
  rp = new (native().RenderPlan)(arena, families, series, plan.slots.length, le);
  compiled.set(plan, rp);
  return rp;
}

/** The view's layout in the native snapshot's form (5 words per entry). */
function layoutOf(view: SnapshotView): Uint32Array {
  const n = view.length;
  const layout = new Uint32Array(n * 5);
  for (let k = 0; k < n; k++) {
    const status = view.status(k);
    layout[k * 5] = status;
    layout[k * 5 + 1] = view.type(k);
    if (status !== 0) continue;
    const e = view.entry(k);
    layout[k * 5 + 2] = view.firstValueIndex(k) - e.rows;
    layout[k * 5 + 3] = e.rows;
    layout[k * 5 + 4] = e.width;
  }
  return layout;
}

/**
 * Starts the native rendering of the plan's families from the view: the same bytes renderPlan
 * yields, UTF-8 encoded, written by fill() into the caller's buffers. Throws StatsError STALE
 * (before any byte is written) when the view is not of the plan's epoch or its layout does not
 * match the plan.
 */
export function renderNative(plan: Plan, view: SnapshotView, opts: RenderOptions): NativeRenderer {
  if (view.epoch !== plan.epoch) {
    throw new StatsError('STALE', `snapshot of epoch ${view.epoch} for a render plan of epoch ${plan.epoch}`);
  }
  return compileNativePlan(plan).render(view.values, layoutOf(view), {
    perThread: opts.perThread,
    openMetrics: opts.openMetrics,
    threads: opts.threads,
  });
}

/** The native exposition as fresh Buffers of at most `slice` bytes (for tests and tools). */
export function* renderNativeBuffers(plan: Plan, view: SnapshotView, opts: RenderOptions, slice = SLICE_BYTES): Generator<Buffer, void, undefined> {
  const r = renderNative(plan, view, opts);
  for (;;) {
    const buf = Buffer.allocUnsafe(slice);
    const n = r.fill(buf);
    if (n === 0) return;
    yield buf.subarray(0, n);
  }
}
