/**
 * The simulator's own account of every directory entry, in exactly the shapes src/stats/dump.ts
 * gives for a snapshot (vpp-papi's shapes): scalar/gauge -> bigint; simple -> [row][column];
 * combined -> [row][column] = [packets, bytes]; name vector -> [string | null]; symlink -> the
 * linked column per row; log2 histogram -> [row] = [min_exp, bins...]. Summed (perThread false)
 * collapses the rows into one, like the reader; histogram rows aligned by exponent (summedHistogram).
 *
 * It is built from the writer's bookkeeping (which slot holds what, which row lives where), never
 * by parsing the segment's pointers and headers: comparing a reader's output with it checks the
 * reader's walk of the layout against the writer's intent.
 */
import type { DumpValue } from '../stats/dump.js';
import type { CounterVector } from './counter-vector.js';
import type { Log2Histogram } from './log2-histogram.js';
import type { NameVector } from './name-vector.js';
import { StatType } from './segment-layout.js';

export interface TruthOptions {
  /** One row per thread (default) or summed over threads. */
  perThread?: boolean;
}

/** One directory entry as the simulator made it. */
export interface ExpectedEntry {
  index: number;
  type: number;
  name: string;
}

/** What truth() walks: every live entry, by kind. */
export interface TruthSource {
  scalars(): Iterable<[name: string, slot: number, type: number, value: bigint]>;
  vectors(): Iterable<[name: string, vector: CounterVector]>;
  nameVectors(): Iterable<[name: string, vector: NameVector]>;
  symlinks(): Iterable<[name: string, slot: number, target: CounterVector, column: number]>;
  histograms(): Iterable<[name: string, histogram: Log2Histogram]>;
}

export function buildTruth(src: TruthSource, opts: TruthOptions = {}): Map<string, DumpValue> {
  const perThread = opts.perThread ?? true;
  const out = new Map<string, DumpValue>();
  for (const [name, , , value] of src.scalars()) out.set(name, value);
  for (const [name, v] of src.vectors()) out.set(name, vectorValue(v, perThread));
  for (const [name, v] of src.nameVectors()) out.set(name, v.list());
  for (const [name, , target, column] of src.symlinks()) out.set(name, columnValue(target, column, perThread));
  for (const [name, h] of src.histograms()) {
    const rows = Array.from({ length: h.rows }, (_, r) => h.row(r));
    out.set(name, perThread ? rows : [summedHistogram(rows)]);
  }
  return out;
}

/** Bins whose bound is past 2^64 count only in +Inf (src/exporters/log2-histogram.ts). */
const MAX_EXP = 64n;

function finite(minExp: bigint, bins: number): number {
  if (bins < 2 || minExp >= MAX_EXP) return 0;
  return Math.min(bins - 1, Number(MAX_EXP - minExp));
}

/**
 * Histogram rows [min_exp, bins...] summed over threads by exponent: the sum starts at the smallest
 * min_exp of a row with a finite bin (else of any row with bins); finite bin j of a row lands at
 * (its min_exp - that) + j, its last bin (open-ended) and bins past 2^64 in the sum's last bin.
 * Rows without bins add nothing; none with bins gives an empty row.
 */
export function summedHistogram(rows: readonly (readonly bigint[])[]): bigint[] {
  const withBins = rows.filter((r) => r.length >= 2).map((r) => ({ minExp: r[0], bins: r.slice(1), finite: finite(r[0], r.length - 1) }));
  if (withBins.length === 0) return [];
  const lowest = (xs: bigint[]): bigint => xs.reduce((a, b) => (b < a ? b : a));
  const withFinite = withBins.filter((r) => r.finite > 0);
  const low = lowest((withFinite.length > 0 ? withFinite : withBins).map((r) => r.minExp));
  let width = 0;
  for (const r of withFinite) width = Math.max(width, Number(r.minExp - low) + r.finite);
  const out = new Array<bigint>(width + 1).fill(0n);
  for (const r of withBins) {
    r.bins.forEach((c, j) => {
      const at = j < r.finite ? Number(r.minExp - low) + j : width;
      out[at] = BigInt.asUintN(64, out[at] + c);
    });
  }
  return [low, ...out];
}

export function buildExpectedDirectory(src: TruthSource, length: number): ExpectedEntry[] {
  const dir: ExpectedEntry[] = Array.from({ length }, (_, index) => ({ index, type: StatType.EMPTY, name: '' }));
  const put = (slot: number, type: number, name: string): void => {
    if (dir[slot].type !== StatType.EMPTY) throw new Error(`two entries claim directory slot ${slot}`);
    dir[slot] = { index: slot, type, name };
  };
  for (const [name, slot, type] of src.scalars()) put(slot, type, name);
  for (const [name, v] of src.vectors()) {
    put(v.slot, v.kind === 'simple' ? StatType.COUNTER_VECTOR_SIMPLE : StatType.COUNTER_VECTOR_COMBINED, name);
  }
  for (const [name, v] of src.nameVectors()) put(v.slot, StatType.NAME_VECTOR, name);
  for (const [name, slot] of src.symlinks()) put(slot, StatType.SYMLINK, name);
  for (const [name, h] of src.histograms()) put(h.slot, StatType.HISTOGRAM_LOG2, name);
  return dir;
}

function element(v: CounterVector, row: number, column: number): DumpValue {
  if (column >= v.columns) return v.width === 1 ? 0n : [0n, 0n];
  return v.width === 1 ? v.get(row, column) : [v.get(row, column, 0), v.get(row, column, 1)];
}

function vectorValue(v: CounterVector, perThread: boolean): DumpValue {
  if (perThread) {
    const rows: DumpValue[] = [];
    for (let r = 0; r < v.rows; r++) {
      const row: DumpValue[] = [];
      for (let c = 0; c < v.columns; c++) row.push(element(v, r, c));
      rows.push(row);
    }
    return rows;
  }
  const row: DumpValue[] = [];
  for (let c = 0; c < v.columns; c++) row.push(summed(v, c));
  return [row];
}

function columnValue(v: CounterVector, column: number, perThread: boolean): DumpValue {
  if (!perThread) return [summed(v, column)];
  const out: DumpValue[] = [];
  for (let r = 0; r < v.rows; r++) out.push(element(v, r, column));
  return out;
}

function summed(v: CounterVector, column: number): DumpValue {
  if (column >= v.columns) return v.width === 1 ? 0n : [0n, 0n];
  let a = 0n;
  let b = 0n;
  for (let r = 0; r < v.rows; r++) {
    a += v.get(r, column, 0);
    if (v.width === 2) b += v.get(r, column, 1);
  }
  // u64 arithmetic wraps in the reader too.
  a = BigInt.asUintN(64, a);
  b = BigInt.asUintN(64, b);
  return v.width === 1 ? a : [a, b];
}
