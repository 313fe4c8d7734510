/**
 * A counter vector entry's data (STATS-SEGMENT.md sections 4, 8): an outer cache-line-aligned
 * vector with one pointer per thread row, each row a cache-line-aligned vector of u64 counters
 * (simple) or {packets, bytes} pairs (combined), indexed by sw_if_index / node / error index.
 *
 * Counters are plain aligned u64 stores, without the lock, as VPP increments them. Anything that
 * moves memory (a row outgrowing its room, torture relocation) happens under the lock: allocate,
 * copy, store the new pointer, free the old.
 */
import { ALIGNED_VEC, allocVec, freeVec, grownCapacity, vecCapacity, writeVecLen } from './clib-vec.js';
import type { Directory } from './directory.js';
import type { SegmentLock } from './segment-lock.js';
import type { SegmentMemory } from './segment-memory.js';

export type CounterKind = 'simple' | 'combined';

/** What torture mode leaves in freed counter memory. */
export const GARBAGE_WORD = 0xdead_beef_dead_beefn;
const GARBAGE_LEN = 0xdead_beef;

export class CounterVector {
  /** u64 words per element: 1 simple, 2 combined. */
  readonly width: 1 | 2;
  /** Directory slot, set when the entry is added. */
  slot = -1;
  private outer: number;
  private readonly rowData: number[] = [];
  private readonly rowCapacity: number[] = [];
  private cols: number;

  constructor(
    private readonly mem: SegmentMemory,
    private readonly lock: SegmentLock,
    private readonly dir: Directory,
    readonly kind: CounterKind,
    readonly rows: number,
    columns: number,
    /** Columns to make room for up front, so that growing to them moves nothing. */
    capacity = columns,
  ) {
    if (!Number.isInteger(rows) || rows < 1) throw new RangeError(`counter vector needs at least one row, got ${rows}`);
    this.width = kind === 'simple' ? 1 : 2;
    this.cols = columns;
    this.outer = this.allocRows(columns, Math.max(columns, capacity), this.rowData, this.rowCapacity);
  }

  get columns(): number {
    return this.cols;
  }

  /** VPP-side address of the outer vector: the directory entry's value. */
  get pointer(): bigint {
    return this.mem.pointer(this.outer);
  }

  /** Index into the segment's u64 view of element (row, column); combined bytes are at +1. */
  word(row: number, column: number): number {
    return this.rowData[row] / 8 + column * this.width;
  }

  get(row: number, column: number, w = 0): bigint {
    return this.mem.u64[this.word(row, column) + w];
  }

  add(row: number, column: number, delta: bigint, w = 0): void {
    this.mem.u64[this.word(row, column) + w] += delta;
  }

  set(row: number, column: number, value: bigint, w = 0): void {
    this.mem.u64[this.word(row, column) + w] = value;
  }

  /**
   * Grows every row to `n` columns (new columns zero); rows move only when they lack room. Takes
   * the lock, as vlib_stats_validate does when it may reallocate.
   */
  ensureColumns(n: number): void {
    if (n <= this.cols) return;
    this.lock.run(() => this.grow(n));
  }

  private grow(n: number): void {
    const elt = this.width * 8;
    // Allocate every row that must move first, so that running out of space changes nothing.
    const moved = new Map<number, number>();
    try {
      for (let r = 0; r < this.rows; r++) {
        if (this.rowCapacity[r] < n) moved.set(r, allocVec(this.mem, ALIGNED_VEC, elt, grownCapacity(this.rowCapacity[r], n), this.cols));
      }
    } catch (e) {
      for (const data of moved.values()) freeVec(this.mem, ALIGNED_VEC, data);
      throw e;
    }
    for (const [r, data] of moved) {
      const old = this.rowData[r];
      this.mem.u8.copyWithin(data, old, old + this.cols * elt);
      this.rowData[r] = data;
      this.rowCapacity[r] = vecCapacity(this.mem, ALIGNED_VEC, data, elt);
      this.mem.u64[this.outer / 8 + r] = this.mem.pointer(data);
      freeVec(this.mem, ALIGNED_VEC, old);
    }
    for (let r = 0; r < this.rows; r++) writeVecLen(this.mem, this.rowData[r], n, this.rowCapacity[r]);
    this.cols = n;
  }

  /** Sets every counter of every row to `value`. */
  fill(value: bigint): void {
    for (let r = 0; r < this.rows; r++) {
      const w = this.rowData[r] / 8;
      this.mem.u64.fill(value, w, w + this.cols * this.width);
    }
  }

  zeroColumn(column: number): void {
    for (let r = 0; r < this.rows; r++) {
      const w = this.word(r, column);
      this.mem.u64.fill(0n, w, w + this.width);
    }
  }

  /**
   * Moves the whole vector (outer and rows) to new memory filled with `value`, publishes it in the
   * directory, then poisons the old memory (0xdeadbeef counters and lengths, row pointers outside the
   * mapping) before freeing it: a reader that keeps using the old pointers across the epoch change
   * reads garbage or fails a bounds check, so only the epoch check can save it.
   */
  relocate(value: bigint): void {
    this.lock.assertHeld('relocating a counter vector');
    const newRows: number[] = [];
    const newCapacity: number[] = [];
    // Allocate before touching anything, so that running out of space leaves the vector as it was.
    const newOuter = this.allocRows(this.cols, this.cols, newRows, newCapacity);
    const oldOuter = this.outer;
    const oldRows = this.rowData.splice(0, this.rows, ...newRows);
    this.rowCapacity.splice(0, this.rows, ...newCapacity);
    this.outer = newOuter;
    this.fill(value);
    this.dir.setValue(this.slot, this.pointer);
    const words = this.cols * this.width;
    oldRows.forEach((data, r) => {
      this.mem.u64.fill(GARBAGE_WORD, data / 8, data / 8 + words);
      this.mem.u32[(data - 8) / 4] = GARBAGE_LEN;
      this.mem.u64[oldOuter / 8 + r] = this.mem.outsidePointer(r);
    });
    this.mem.u32[(oldOuter - 8) / 4] = GARBAGE_LEN;
    for (const data of oldRows) freeVec(this.mem, ALIGNED_VEC, data);
    freeVec(this.mem, ALIGNED_VEC, oldOuter);
  }

  /** Allocates the outer vector and one row per thread, the rows' pointers filled in. */
  private allocRows(columns: number, capacity: number, rowData: number[], rowCapacity: number[]): number {
    const elt = this.width * 8;
    const outer = allocVec(this.mem, ALIGNED_VEC, 8, this.rows, this.rows);
    try {
      for (let r = 0; r < this.rows; r++) {
        const data = allocVec(this.mem, ALIGNED_VEC, elt, capacity, columns);
        rowData.push(data);
        rowCapacity.push(vecCapacity(this.mem, ALIGNED_VEC, data, elt));
        this.mem.u64[outer / 8 + r] = this.mem.pointer(data);
      }
    } catch (e) {
      // Out of space half way: give back what was taken so the heap stays consistent.
      for (const data of rowData.splice(0)) freeVec(this.mem, ALIGNED_VEC, data);
      rowCapacity.length = 0;
      freeVec(this.mem, ALIGNED_VEC, outer);
      throw e;
    }
    return outer;
  }
}
