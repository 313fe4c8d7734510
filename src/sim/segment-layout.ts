/**
 * Byte layout of VPP 26.10's stats segment as the writer side needs it. Every number here is from
 * ../shared/vpp/STATS-SEGMENT.md (sections 1-5) and was checked against the bytes of the captured
 * segment (section 12); the reader side has its own copy in native/statseg.h on purpose.
 */
export { StatType } from '../stats/types.js';

/** The first system page is the shared header; the heap starts after it. */
export const PAGE_SIZE = 4096;
export const STAT_SEGMENT_VERSION = 2n;

/** vlib_stats_shared_header_t: five 8-byte words at offset 0 (byte offsets). */
export const Header = {
  version: 0,
  base: 8,
  epoch: 16,
  inProgress: 24,
  directoryVector: 32,
} as const;

/** vlib_stats_entry_t: u32 type, 4 bytes pad, 8-byte union, char name[128]. */
export const ENTRY_SIZE = 144;
export const ENTRY_VALUE = 8;
export const ENTRY_NAME = 16;
/** VPP copies at most 127 bytes of a name, so the 128-byte field always ends in NUL. */
export const ENTRY_NAME_MAX_BYTES = 127;
/** End of the EMPTY-slot free list: VPP's CLIB_U32_MAX stored in the u64 union. */
export const FREE_LIST_END = 0xffff_ffff;

/**
 * The heap handle VPP stores in front of every vector allocated with an explicit heap. It points at
 * dlmalloc's state inside the heap's first page: observed as base + 0x13c0, and the first heap
 * object starts at 0x1400.
 */
export const HEAP_HANDLE_OFFSET = 0x13c0;
export const HEAP_FIRST_OBJECT = 0x1400;

/** Size of a counter_t (u64) and of a vlib_counter_t {packets, bytes}. */
export const COUNTER_BYTES = 8;
export const COMBINED_COUNTER_BYTES = 16;
/** Counter data is cache-line aligned (vec_validate_aligned with CLIB_CACHE_LINE_BYTES). */
export const CACHE_LINE = 64;
