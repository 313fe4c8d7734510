/**
 * Typed views over the segment's bytes plus the translation between offsets and VPP-side pointers
 * (pointer = base + offset, STATS-SEGMENT.md section 6). One set of views over the whole buffer:
 * the writer indexes them instead of making an object per vector or counter.
 */
import { Heap } from './heap.js';
import { HEAP_FIRST_OBJECT, HEAP_HANDLE_OFFSET, PAGE_SIZE } from './segment-layout.js';

export class SegmentMemory {
  readonly u8: Uint8Array;
  readonly u32: Uint32Array;
  readonly u64: BigUint64Array;
  /** Node's Buffer over the same memory: its write() encodes a string in place without a copy. */
  readonly bytes: Buffer;
  readonly heap: Heap;
  /** The heap handle stored in vectors that carry one (VPP's mspace pointer). */
  readonly heapHandle: bigint;

  constructor(
    readonly buffer: ArrayBuffer,
    readonly base: bigint,
  ) {
    if (buffer.byteLength < 2 * PAGE_SIZE || buffer.byteLength % PAGE_SIZE !== 0) {
      throw new RangeError(`segment size ${buffer.byteLength} must be a multiple of ${PAGE_SIZE} and at least two pages`);
    }
    if (base % BigInt(PAGE_SIZE) !== 0n) throw new RangeError('segment base address must be page aligned');
    this.u8 = new Uint8Array(buffer);
    this.u32 = new Uint32Array(buffer);
    this.u64 = new BigUint64Array(buffer);
    this.bytes = Buffer.from(buffer);
    this.heap = new Heap(this.u8, HEAP_FIRST_OBJECT, buffer.byteLength);
    this.heapHandle = base + BigInt(HEAP_HANDLE_OFFSET);
  }

  get size(): number {
    return this.buffer.byteLength;
  }

  /** VPP-side address of a byte offset. */
  pointer(offset: number): bigint {
    return this.base + BigInt(offset);
  }

  /** Byte offset of a VPP-side address the writer itself stored. */
  offset(pointer: bigint): number {
    return Number(pointer - this.base);
  }

  /** A VPP-side address past the end of the mapping: what torture mode leaves in freed memory. */
  outsidePointer(k: number): bigint {
    return this.base + BigInt(this.size) + BigInt(PAGE_SIZE) * BigInt(1 + k);
  }
}
