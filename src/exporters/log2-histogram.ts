/**
 * VPP's log2 histograms (STAT_DIR_TYPE_HISTOGRAM_LOG2) as histograms: the bucket bounds and their
 * text, and one row decoded into explicit buckets, which the renderers and an OTLP encoder share.
 *
 * What VPP writes (src/vlib/counter.h and counter.c, VPP 26.10):
 * - vlib_validate_log2_histogram validates one row per vlib main, num_bins + 1 u64 long, and stores
 *   the histogram's min_exp in word 0 of every row; vpp_papi's vpp_stats.py reads it the same way
 *   (bins[0] = min_exp, the bins after it).
 * - vlib_log2_histogram_bin_index puts a value v in bin floor(log2 v) - min_exp (0 for v = 0),
 *   clamped to bin 0 below and to the last bin above; vlib_increment_log2_histogram_bin adds to
 *   word bin + 1. So bin j counts 2^(min_exp + j) <= v < 2^(min_exp + j + 1), bin 0 every smaller
 *   value too, 0 included. The values are integers (the writer takes a u32), so bin j holds values
 *   <= 2^(min_exp + j + 1) - 1: that is its Prometheus `le` (inclusive) and its OTLP bound.
 * - The upper clamp is meant to make the last bin open-ended. VPP 26.10 clamps to n_bins - 1 with
 *   n_bins = vec_len(row), which counts the min_exp word, so the catch-all increment lands one
 *   word past the row and readers never see it; the last visible bin then holds only its own
 *   power of two. Counting the last bin in +Inf only is true either way; a finite bound for it
 *   would be false once that is fixed.
 *
 * So a row [min_exp, c_0 .. c_{n-1}] gives finite buckets for bins j < n - 1 with
 * min_exp + j + 1 <= HISTOGRAM_MAX_EXP (no u64 value reaches past 2^64), bound 2^(min_exp + j + 1) - 1;
 * every other bin counts only in +Inf. Summed over threads the reader aligns the rows by exponent
 * (native/statseg.cc CopyHistogramSummed) and hands over one row of the same form.
 *
 * No sum: log2 bins do not give the sum of the values (a bin of 2^20..2^21 - 1 spans a factor of
 * two), so no _sum is written; OpenMetrics 1.0 then allows no _count either (only together with
 * _sum), the text format gets _count. The +Inf bucket is the count in both.
 */
import type { Family, Plan } from './catalog.js';
import type { SnapshotView } from '../stats/index.js';

/** Largest exponent of a finite bound (native/exposition.h and native/statseg.h kHistogramMaxExp). */
export const HISTOGRAM_MAX_EXP = 64;

/**
 * A positive number as OpenMetrics 1.0 wants `le` values ("Canonical Numbers"): Go's %g (shortest
 * digits that round-trip, exponent form from 1e+06 and below 1e-04, a two-digit exponent at least)
 * with ".0" appended when there is neither a point nor an exponent. The same text is used in the
 * Prometheus text format, so that a series is the same whichever format Prometheus negotiated.
 */
export function canonicalFloat(x: number): string {
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  if (Number.isNaN(x)) return 'NaN';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  // toExponential() without digits gives the shortest digits that identify the number, as Go does.
  const [mantissa, e] = x.toExponential().split('e');
  const exp = Number(e);
  if (exp < -4 || exp >= 6) return `${mantissa}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  // In this range JavaScript prints the same shortest digits without an exponent.
  const fixed = String(x);
  return fixed.includes('.') ? fixed : `${fixed}.0`;
}

/** LE_TEXT[e] is the bound of a bin ending below 2^e, 2^e - 1, as `le` text (e = 1..HISTOGRAM_MAX_EXP). */
export const LE_TEXT: readonly string[] = Array.from({ length: HISTOGRAM_MAX_EXP + 1 }, (_, e) => (e === 0 ? '' : canonicalFloat(2 ** e - 1)));

/** Finite buckets of a row with `bins` bins from `minExp` (minExp capped at HISTOGRAM_MAX_EXP). */
export function finiteBins(minExp: number, bins: number): number {
  if (bins < 2 || minExp >= HISTOGRAM_MAX_EXP) return 0;
  return Math.min(bins - 1, HISTOGRAM_MAX_EXP - minExp);
}

/** A row's min_exp from the u32 halves of its first word, capped at HISTOGRAM_MAX_EXP. */
export function minExpAt(u32: Uint32Array, pos: number): number {
  return u32[pos * 2 + 1] !== 0 ? HISTOGRAM_MAX_EXP : Math.min(u32[pos * 2], HISTOGRAM_MAX_EXP);
}

/**
 * One row as an OTLP explicit-bucket histogram point: `bounds` are the finite upper bounds
 * (inclusive, increasing), `counts` the per-bucket counts (not cumulative; counts[i] is the
 * bucket (bounds[i - 1], bounds[i]], the last one (bounds[last], +Inf)), `count` their sum. No sum:
 * see the file comment. Numbers above 2^53 are rounded, as every value handed to OTLP is.
 */
export interface HistogramPoint {
  bounds: number[];
  counts: number[];
  count: number;
}

/** The row of `len` words at word `start` of `values` ([min_exp, bins...]; len 0: no bins). */
export function histogramPoint(values: BigUint64Array, start: number, len: number): HistogramPoint {
  if (len < 2) return { bounds: [], counts: [0], count: 0 };
  const u32 = new Uint32Array(values.buffer, values.byteOffset, values.length * 2);
  const minExp = minExpAt(u32, start);
  const bins = len - 1;
  const finite = finiteBins(minExp, bins);
  const bounds: number[] = [];
  const counts: number[] = [];
  let rest = 0;
  for (let j = 0; j < bins; j++) {
    const c = Number(values[start + 1 + j]);
    if (j < finite) {
      bounds.push(2 ** (minExp + j + 1) - 1);
      counts.push(c);
    } else rest += c;
  }
  counts.push(rest);
  return { bounds, counts, count: counts.reduce((a, b) => a + b, 0) };
}

/**
 * Calls `visit` for every histogram series of the plan, with the point of each row: per thread
 * (`thread` the row) when perThread, else the summed row (thread -1). visitSamples leaves
 * histogram families out; this is their counterpart for exporters that need values (OTLP).
 */
export function visitHistograms(
  plan: Plan,
  view: SnapshotView,
  opts: { perThread: boolean },
  visit: (f: Family, series: number, thread: number, point: HistogramPoint) => void,
): void {
  for (const f of plan.families) {
    if (f.type !== 'histogram') continue;
    for (let i = 0; i < f.k.length; i++) {
      const k = f.k[i];
      if (view.status(k) !== 0) continue;
      const e = view.entry(k);
      for (let r = 0; r < e.rows; r++) {
        visit(f, i, opts.perThread && !f.noThreadLabel ? r : -1, histogramPoint(view.values, e.rowStarts[r], e.rowLengths[r]));
      }
    }
  }
}

/** u64 as JavaScript prints the nearest double (the renderers' form for every value). */
function u64Text(hi: number, lo: number): string {
  return hi === 0 ? String(lo) : String(hi * 4294967296 + lo);
}

/**
 * The exposition lines of one histogram row at word `start` of the u32 view (`len` words):
 * cumulative buckets, +Inf and, in the text format, _count. `head` is the label text before `le`
 * ('' for none). Counts add up modulo 2^64, as u64 words do in the native renderer.
 */
export function histogramRowText(name: string, head: string, u32: Uint32Array, start: number, len: number, openMetrics: boolean): string {
  const open = head === '' ? '{' : `{${head},`;
  let minExp = 0;
  let finite = 0;
  let totalHi = 0;
  let totalLo = 0;
  if (len > 0) {
    minExp = minExpAt(u32, start);
    finite = finiteBins(minExp, len - 1);
    for (let j = 1; j < len; j++) {
      totalLo += u32[(start + j) * 2];
      const carry = totalLo >= 4294967296 ? 1 : 0;
      totalLo -= carry * 4294967296;
      totalHi = (totalHi + u32[(start + j) * 2 + 1] + carry) >>> 0;
    }
  }
  let out = '';
  let hi = 0;
  let lo = 0;
  for (let j = 0; j < finite; j++) {
    lo += u32[(start + 1 + j) * 2];
    const carry = lo >= 4294967296 ? 1 : 0;
    lo -= carry * 4294967296;
    hi = (hi + u32[(start + 1 + j) * 2 + 1] + carry) >>> 0;
    out += `${name}_bucket${open}le="${LE_TEXT[minExp + j + 1]}"} ${u64Text(hi, lo)}\n`;
  }
  const total = u64Text(totalHi, totalLo);
  out += `${name}_bucket${open}le="+Inf"} ${total}\n`;
  if (!openMetrics) out += head === '' ? `${name}_count ${total}\n` : `${name}_count{${head}} ${total}\n`;
  return out;
}
