/**
 * A log2 histogram entry (STAT_DIR_TYPE_HISTOGRAM_LOG2) as VPP 26.10 lays it out
 * (vlib/counter.c vlib_validate_log2_histogram): the memory of a simple counter vector - an outer
 * cache-line-aligned vector with one row per thread - where each row is [min_exp, bin 0, ...,
 * bin n-1]. VPP stores the same min_exp in every row; the simulator can store one per row, because
 * nothing in the layout promises they agree and readers must cope.
 *
 * Observing follows vlib_log2_histogram_bin_index: value 0 and everything below 2^(min_exp + 1)
 * go to bin 0, v to bin floor(log2 v) - min_exp, and everything past the last bin to the last bin.
 * That last clamp is where the simulator differs from VPP 26.10, whose clamp counts the min_exp
 * word as a bin and so increments one word past the row (readers never see those values); the
 * simulator keeps them in the last bin, as the clamp means to. Bins move without the lock, as
 * VPP's counters do.
 */
import { CounterVector } from './counter-vector.js';
import type { Directory } from './directory.js';
import type { SegmentLock } from './segment-lock.js';
import type { SegmentMemory } from './segment-memory.js';

/** Bins per row VPP can address: vlib_log2_histogram_bin_index returns a u8. */
export const MAX_HISTOGRAM_BINS = 255;

export class Log2Histogram {
  /** The rows' memory: column 0 is min_exp, column 1 + j bin j. */
  readonly vector: CounterVector;
  private readonly minExps: readonly number[];

  constructor(
    mem: SegmentMemory,
    lock: SegmentLock,
    dir: Directory,
    /** min_exp of each thread's row (its length is the number of rows). */
    minExp: readonly number[],
    /** Bins after min_exp (VPP's num_bins); 0 leaves rows that hold min_exp only. */
    readonly bins: number,
  ) {
    if (!Number.isInteger(bins) || bins < 0 || bins > MAX_HISTOGRAM_BINS) throw new RangeError(`histogram bins must be an integer from 0 to ${MAX_HISTOGRAM_BINS}, got ${bins}`);
    for (const e of minExp) if (!Number.isInteger(e) || e < 0 || e > 0xffff_ffff) throw new RangeError(`histogram min_exp must be a u32, got ${e}`);
    this.minExps = [...minExp];
    this.vector = new CounterVector(mem, lock, dir, 'simple', minExp.length, bins + 1);
    this.minExps.forEach((e, r) => this.vector.set(r, 0, BigInt(e)));
  }

  get rows(): number {
    return this.vector.rows;
  }

  get slot(): number {
    return this.vector.slot;
  }

  minExp(row: number): number {
    return this.minExps[row];
  }

  /** The bin a value goes to in `row` (see the file comment); -1 when the rows have no bins. */
  binOf(row: number, value: number): number {
    if (this.bins === 0) return -1;
    if (value < 1) return 0;
    // floor(log2 v) exactly (Math.log2 rounds up just below powers of two past 2^48).
    const v = Math.floor(value);
    const log2 = v < 4294967296 ? 31 - Math.clz32(v) : BigInt(v).toString(2).length - 1;
    const bin = log2 - this.minExps[row];
    return Math.min(this.bins - 1, Math.max(0, bin));
  }

  /** Counts `count` observations of `value` in `row`. */
  observe(row: number, value: number, count: number): void {
    const bin = this.binOf(row, value);
    if (bin < 0 || count <= 0) return;
    this.vector.add(row, 1 + bin, BigInt(count));
  }

  /** Row `row` as the segment holds it: [min_exp, bin 0, ...]. */
  row(row: number): bigint[] {
    const out: bigint[] = [];
    for (let c = 0; c < this.bins + 1; c++) out.push(this.vector.get(row, c));
    return out;
  }
}
