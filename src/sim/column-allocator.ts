/**
 * Columns of /node/errors: every node's error counters take a contiguous range (the node's
 * error_heap_index + i, vlib/error.c). Ranges of unregistered errors are reused first-fit, which is
 * what the churn capture shows: loop4-output's errors took the columns loop3-output had freed.
 * The vector never shrinks.
 */
export class ColumnAllocator {
  private used = 0;
  private readonly freeRanges: { start: number; count: number }[] = [];

  /** Columns the vector must have. */
  get length(): number {
    return this.used;
  }

  /** The length the vector will need after allocating these ranges in turn, without allocating. */
  lengthAfter(counts: readonly number[]): number {
    const trial = new ColumnAllocator();
    trial.used = this.used;
    trial.freeRanges.push(...this.freeRanges.map((r) => ({ ...r })));
    for (const c of counts) if (c > 0) trial.alloc(c);
    return trial.used;
  }

  alloc(count: number): number {
    const i = this.freeRanges.findIndex((r) => r.count >= count);
    if (i >= 0) {
      const r = this.freeRanges[i];
      const start = r.start;
      r.start += count;
      r.count -= count;
      if (r.count === 0) this.freeRanges.splice(i, 1);
      return start;
    }
    const start = this.used;
    this.used += count;
    return start;
  }

  free(start: number, count: number): void {
    if (count === 0) return;
    let i = this.freeRanges.findIndex((r) => r.start > start);
    if (i < 0) i = this.freeRanges.length;
    this.freeRanges.splice(i, 0, { start, count });
    // Coalesce with the neighbours.
    const next = this.freeRanges[i + 1];
    if (next && start + count === next.start) {
      this.freeRanges[i].count += next.count;
      this.freeRanges.splice(i + 1, 1);
    }
    const prev = this.freeRanges[i - 1];
    if (prev && prev.start + prev.count === start) {
      prev.count += this.freeRanges[i].count;
      this.freeRanges.splice(i, 1);
    }
  }
}
