/**
 * The allocator behind every vector and string of the simulated segment: the role dlmalloc's
 * mspace plays in VPP. Offsets are byte offsets into the segment; bookkeeping lives in JavaScript,
 * nothing is written into the segment except zeroes for fresh blocks.
 *
 * Block sizes follow dlmalloc (16-byte granules, 32-byte minimum, 8 bytes of overhead before the
 * payload) so that the spare room a vector header reports (grow_elts) is what VPP would report for
 * the same request: the capture's "local0\0" string vector shows grow_elts 1, "null-node\0" 14.
 * Freed blocks go to an address-ordered free list, coalesce with their neighbours and are reused
 * first-fit; only when nothing fits does the heap's top move.
 */

const GRANULE = 16;
const MIN_BLOCK = 32;
const OVERHEAD = 8;

export class SegmentFullError extends Error {
  readonly code = 'SEGMENT_FULL';

  constructor(
    readonly requested: number,
    readonly heapBytes: number,
    readonly freeBytes: number,
    readonly largestFree: number,
  ) {
    super(
      `stats segment full: cannot allocate ${requested} bytes (heap ${heapBytes} bytes, ${freeBytes} free, ` +
        `largest free block ${largestFree}); use a larger segmentSize`,
    );
    this.name = 'SegmentFullError';
  }
}

export interface HeapStats {
  /** Bytes the heap spans. */
  total: number;
  /** Bytes in allocated blocks, overhead included. */
  used: number;
  free: number;
  /** Free-list blocks plus the untouched top, like dlmalloc's free chunk count. */
  freeChunks: number;
  largestFree: number;
}

interface Block {
  start: number;
  end: number;
}

export class Heap {
  /** Blocks by payload offset. */
  private readonly blocks = new Map<number, Block>();
  /** Free blocks ordered by address: parallel arrays. */
  private readonly freeStart: number[] = [];
  private readonly freeEnd: number[] = [];
  /** An upper bound of the largest free-list block, so that hopeless scans are skipped. */
  private freeMaxBound = 0;
  /** Everything from top to end is one untouched block. */
  private top: number;
  /** Memory at or past this offset was never handed out, so it is still zero. */
  private highWater: number;
  private usedBytes = 0;

  /**
   * @param bytes the segment's bytes (fresh blocks are zeroed through it)
   * @param start first payload offset; must be 16-aligned
   * @param end end of the heap (exclusive)
   */
  constructor(
    private readonly bytes: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    if (start % GRANULE !== 0) throw new RangeError('heap start must be 16-byte aligned');
    // Block starts sit 8 bytes before 16-aligned payloads.
    this.top = start - OVERHEAD;
    this.highWater = this.top;
    this.start = this.top;
  }

  readonly start: number;

  /** Returns the payload offset of a zeroed block of at least `bytes` bytes, aligned to `align`. */
  alloc(bytes: number, align = GRANULE): number {
    if (!Number.isInteger(bytes) || bytes < 0) throw new RangeError(`bad allocation size ${bytes}`);
    if (align < GRANULE || (align & (align - 1)) !== 0) throw new RangeError(`bad alignment ${align}`);
    const size = Math.max(MIN_BLOCK, roundUp(bytes + OVERHEAD, GRANULE));
    if (size <= this.freeMaxBound) {
      let largest = 0;
      for (let i = 0; i < this.freeStart.length; i++) {
        const payload = this.fit(this.freeStart[i], this.freeEnd[i], size, align);
        if (payload >= 0) return this.takeFree(i, payload, size);
        largest = Math.max(largest, this.freeEnd[i] - this.freeStart[i]);
      }
      this.freeMaxBound = largest;
    }
    const payload = this.fit(this.top, this.end, size, align);
    if (payload < 0) {
      const s = this.stats();
      throw new SegmentFullError(bytes, s.total, s.free, s.largestFree);
    }
    const lead = payload - OVERHEAD - this.top;
    if (lead > 0) this.insertFree(this.top, this.top + lead);
    const blockEnd = payload - OVERHEAD + size;
    this.top = this.end - blockEnd < MIN_BLOCK ? this.end : blockEnd;
    return this.use(payload, payload - OVERHEAD, this.top === this.end ? this.end : blockEnd);
  }

  free(payload: number): void {
    const b = this.blocks.get(payload);
    if (b === undefined) throw new Error(`heap: free of unknown block at ${payload}`);
    this.blocks.delete(payload);
    this.usedBytes -= b.end - b.start;
    if (b.end === this.top) {
      this.top = b.start;
      // The block below the top may now touch it.
      const last = this.freeStart.length - 1;
      if (last >= 0 && this.freeEnd[last] === this.top) {
        this.top = this.freeStart[last]!;
        this.freeStart.pop();
        this.freeEnd.pop();
      }
      return;
    }
    this.insertFree(b.start, b.end);
  }

  /** Bytes from the payload to the end of its block: what a vector may grow into in place. */
  usable(payload: number): number {
    const b = this.blocks.get(payload);
    if (b === undefined) throw new Error(`heap: unknown block at ${payload}`);
    return b.end - payload;
  }

  stats(): HeapStats {
    let largest = this.end - this.top;
    let freeBytes = largest;
    for (let i = 0; i < this.freeStart.length; i++) {
      const n = this.freeEnd[i] - this.freeStart[i];
      freeBytes += n;
      largest = Math.max(largest, n);
    }
    return {
      total: this.end - this.start,
      used: this.usedBytes,
      free: freeBytes,
      freeChunks: this.freeStart.length + (this.top < this.end ? 1 : 0),
      largestFree: largest,
    };
  }

  /** Payload offset for a block of `size` inside [from, to), or -1. Leftovers must be >= MIN_BLOCK. */
  private fit(from: number, to: number, size: number, align: number): number {
    let payload = roundUp(from + OVERHEAD, align);
    let lead = payload - OVERHEAD - from;
    if (lead > 0 && lead < MIN_BLOCK) {
      payload += roundUp(MIN_BLOCK - lead, align);
      lead = payload - OVERHEAD - from;
    }
    return payload - OVERHEAD + size <= to ? payload : -1;
  }

  private takeFree(i: number, payload: number, size: number): number {
    const from = this.freeStart[i];
    const to = this.freeEnd[i];
    const blockStart = payload - OVERHEAD;
    let blockEnd = blockStart + size;
    if (to - blockEnd < MIN_BLOCK) blockEnd = to;
    // Replace the free block by what is left before and after the new one.
    const pieces: [number, number][] = [];
    if (blockStart > from) pieces.push([from, blockStart]);
    if (to > blockEnd) pieces.push([blockEnd, to]);
    this.freeStart.splice(i, 1, ...pieces.map((p) => p[0]));
    this.freeEnd.splice(i, 1, ...pieces.map((p) => p[1]));
    return this.use(payload, blockStart, blockEnd);
  }

  private use(payload: number, start: number, end: number): number {
    this.blocks.set(payload, { start, end });
    this.usedBytes += end - start;
    // Never-used memory is still zero (a fresh memfd or ArrayBuffer); only reused memory needs it.
    const dirtyEnd = Math.min(end, this.highWater);
    if (payload < dirtyEnd) this.bytes.fill(0, payload, dirtyEnd);
    if (end > this.highWater) this.highWater = end;
    return payload;
  }

  private insertFree(start: number, end: number): void {
    // Binary search for the first free block after `start`.
    let lo = 0;
    let hi = this.freeStart.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.freeStart[mid] < start) lo = mid + 1;
      else hi = mid;
    }
    const prev = lo - 1;
    const mergesPrev = prev >= 0 && this.freeEnd[prev] === start;
    const mergesNext = lo < this.freeStart.length && this.freeStart[lo] === end;
    if (mergesPrev && mergesNext) {
      this.freeEnd[prev] = this.freeEnd[lo]!;
      this.freeStart.splice(lo, 1);
      this.freeEnd.splice(lo, 1);
    } else if (mergesPrev) {
      this.freeEnd[prev] = end;
    } else if (mergesNext) {
      this.freeStart[lo] = start;
    } else {
      this.freeStart.splice(lo, 0, start);
      this.freeEnd.splice(lo, 0, end);
    }
    const at = mergesPrev ? prev : lo;
    this.freeMaxBound = Math.max(this.freeMaxBound, this.freeEnd[at] - this.freeStart[at]);
  }
}

export function roundUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}
