/**
 * clib vectors as VPP lays them out in the stats segment (STATS-SEGMENT.md section 5): the element
 * count is a u32 at data - 8, then hdr_size (header bytes / 8), log2_align:7 | default_heap:1, and
 * grow_elts (spare room in elements, capped to a byte); vectors allocated with an explicit heap
 * carry the heap handle at data - 16. Readers only use the length; the rest is written as VPP does
 * so that a hex dump of ours matches a hex dump of VPP's (section 12).
 */
import type { SegmentMemory } from './segment-memory.js';

export interface VecKind {
  readonly name: string;
  /** Bytes between the start of the allocation and the data: user header + heap handle + vec_header_t. */
  readonly headerBytes: number;
  /** Alignment of the allocation, and so of the data (headerBytes is a multiple of it or 8). */
  readonly align: number;
  /** The log2_align:7 | default_heap:1 byte. */
  readonly alignByte: number;
  readonly heapHandle: boolean;
}

/** vec_new_heap(): the directory and every string; heap handle at -16 (observed 16-byte header, byte 0x03). */
export const HEAP_VEC: VecKind = { name: 'heap', headerBytes: 16, align: 16, alignByte: 0x03, heapHandle: true };

/**
 * vec_validate_aligned(..., CLIB_CACHE_LINE_BYTES) with the stats heap as the current heap: counter
 * vectors and their per-thread rows. 64-byte header so that the data is cache-line aligned, byte 0x86
 * = log2_align 6 + default_heap 1, no heap handle (bytes -64..-8 stay zero).
 */
export const ALIGNED_VEC: VecKind = { name: 'aligned', headerBytes: 64, align: 64, alignByte: 0x86, heapHandle: false };

/**
 * vec_new_generic(..., sizeof (vlib_stats_header_t), 0, heap): a name vector's list of string
 * pointers. A 4-byte user header {u32 entry_index} (+4 pad) comes before the heap handle: 24 bytes.
 */
export const STRING_VECTOR_VEC: VecKind = { name: 'string-vector', headerBytes: 24, align: 16, alignByte: 0x03, heapHandle: true };

/** Allocates a zeroed vector with room for `capacity` elements and length `len`; returns the data offset. */
export function allocVec(mem: SegmentMemory, kind: VecKind, eltBytes: number, capacity: number, len = 0): number {
  const payload = mem.heap.alloc(kind.headerBytes + capacity * eltBytes, kind.align);
  const data = payload + kind.headerBytes;
  if (kind.heapHandle) mem.u64[(data - 16) / 8] = mem.heapHandle;
  mem.u8[data - 4] = kind.headerBytes / 8;
  mem.u8[data - 3] = kind.alignByte;
  setVecLen(mem, kind, data, eltBytes, len);
  return data;
}

/** Elements the vector can hold without moving. */
export function vecCapacity(mem: SegmentMemory, kind: VecKind, data: number, eltBytes: number): number {
  const room = mem.heap.usable(data - kind.headerBytes) - kind.headerBytes;
  return eltBytes === 0 ? 0 : Math.floor(room / eltBytes);
}

export function vecLen(mem: SegmentMemory, data: number): number {
  return mem.u32[(data - 8) / 4];
}

/** Sets the length (and grow_elts, the spare room VPP records beside it). */
export function setVecLen(mem: SegmentMemory, kind: VecKind, data: number, eltBytes: number, len: number): void {
  writeVecLen(mem, data, len, vecCapacity(mem, kind, data, eltBytes));
}

/** setVecLen for a caller that knows the capacity (hot paths: no allocator lookup). */
export function writeVecLen(mem: SegmentMemory, data: number, len: number, capacity: number): void {
  if (len > capacity) throw new Error(`vector at ${data} cannot hold ${len} elements`);
  mem.u32[(data - 8) / 4] = len;
  mem.u8[data - 2] = Math.min(255, capacity - len);
}

export function freeVec(mem: SegmentMemory, kind: VecKind, data: number): void {
  mem.heap.free(data - kind.headerBytes);
}

/** Capacity to allocate when a vector must move to hold `needed` elements: half again, so appends amortise. */
export function grownCapacity(current: number, needed: number): number {
  return Math.max(needed, Math.ceil(current * 1.5), 4);
}
