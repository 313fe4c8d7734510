/**
 * The low-level writer of a VPP 26.10 stats segment over an ArrayBuffer: the shared header at
 * offset 0, the heap from the second page, the directory and the entry kinds VPP creates. It knows
 * nothing about interfaces or nodes (that is stats-sim.ts); it knows bytes, pointers and the lock.
 *
 * The buffer must be fresh (all zero), as a new memfd or ArrayBuffer is: the heap relies on memory
 * it never handed out being zero, so that a large segment is not touched page by page up front.
 */
import { CounterVector, type CounterKind } from './counter-vector.js';
import { Directory } from './directory.js';
import { Log2Histogram } from './log2-histogram.js';
import { NameVector } from './name-vector.js';
import { SegmentLock } from './segment-lock.js';
import { SegmentMemory } from './segment-memory.js';
import { Header, STAT_SEGMENT_VERSION, StatType } from './segment-layout.js';

export interface SegmentWriterOptions {
  /** VPP-side address of the mapping (page aligned); every stored pointer is relative to it. */
  base: bigint;
  /** Directory entries to make room for before the vector first has to move. */
  directoryCapacity?: number;
}

export class SegmentWriter {
  readonly mem: SegmentMemory;
  readonly lock: SegmentLock;
  readonly directory: Directory;

  constructor(buffer: ArrayBuffer, opts: SegmentWriterOptions) {
    this.mem = new SegmentMemory(buffer, opts.base);
    const u64 = this.mem.u64;
    this.lock = new SegmentLock(u64);
    u64[Header.version / 8] = STAT_SEGMENT_VERSION;
    u64[Header.base / 8] = opts.base;
    u64[Header.epoch / 8] = 1n; // vlib_stats_init starts at 1
    u64[Header.inProgress / 8] = 0n;
    this.directory = new Directory(this.mem, this.lock, opts.directoryCapacity ?? 1024);
  }

  get base(): bigint {
    return this.mem.base;
  }

  get size(): number {
    return this.mem.size;
  }

  get epoch(): number {
    return this.lock.epoch;
  }

  get inProgress(): boolean {
    return Atomics.load(this.mem.u64, Header.inProgress / 8) !== 0n;
  }

  /** Runs a structural change under the lock: in_progress = 1, fn, epoch++, in_progress = 0. */
  change<T>(fn: () => T): T {
    return this.lock.run(fn);
  }

  /** SCALAR_INDEX or GAUGE entry. */
  addScalar(name: string, value: bigint, type: typeof StatType.SCALAR_INDEX | typeof StatType.GAUGE = StatType.SCALAR_INDEX): number {
    return this.change(() => this.directory.add(type, name, value));
  }

  /** Sets a scalar or gauge: one 8-byte store, without the lock (vlib_stats_set_gauge). */
  setScalar(slot: number, value: bigint): void {
    this.directory.setValue(slot, value);
  }

  scalar(slot: number): bigint {
    return this.directory.value(slot);
  }

  /** A counter vector of `rows` rows and `columns` columns, with room for `capacity` columns. */
  addCounterVector(name: string, kind: CounterKind, rows: number, columns: number, capacity = columns): CounterVector {
    return this.change(() => {
      this.directory.reserve(1);
      const v = new CounterVector(this.mem, this.lock, this.directory, kind, rows, columns, capacity);
      const type = kind === 'simple' ? StatType.COUNTER_VECTOR_SIMPLE : StatType.COUNTER_VECTOR_COMBINED;
      v.slot = this.directory.add(type, name, v.pointer);
      return v;
    });
  }

  /** A HISTOGRAM_LOG2 entry: one row per element of `minExp` (that row's min_exp), `bins` bins each. */
  addHistogramLog2(name: string, minExp: readonly number[], bins: number): Log2Histogram {
    return this.change(() => {
      this.directory.reserve(1);
      const h = new Log2Histogram(this.mem, this.lock, this.directory, minExp, bins);
      h.vector.slot = this.directory.add(StatType.HISTOGRAM_LOG2, name, h.vector.pointer);
      return h;
    });
  }

  addNameVector(name: string, initialCapacity = 16): NameVector {
    return this.change(() => {
      this.directory.reserve(1);
      const v = new NameVector(this.mem, this.lock, this.directory, initialCapacity);
      v.slot = this.directory.add(StatType.NAME_VECTOR, name, v.pointer);
      return v;
    });
  }

  /** SYMLINK to column `column` of the counter vector in slot `target`. */
  addSymlink(name: string, target: number, column: number): number {
    const t = this.directory.type(target);
    if (t !== StatType.COUNTER_VECTOR_SIMPLE && t !== StatType.COUNTER_VECTOR_COMBINED) {
      throw new Error(`symlink ${name} must point at a counter vector, slot ${target} has type ${t}`);
    }
    return this.change(() => this.directory.addSymlink(name, target, column));
  }

  removeEntry(slot: number): void {
    this.change(() => this.directory.remove(slot));
  }

  /** Leaves in_progress = 1 for good, like a VPP killed while holding the lock. */
  stickInProgress(): void {
    this.lock.stick();
  }
}
