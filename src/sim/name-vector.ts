/**
 * A NAME_VECTOR entry's data (/if/names, /sys/node/names): a vector of pointers to strings, with
 * VPP's 4-byte user header {u32 entry_index} in front (vlib_stats_add_string_vector); each string is
 * its own heap vector holding the bytes and a trailing NUL (stats.c:352-360). Unset elements are
 * NULL pointers. Every change is structural, so it takes the segment lock (like
 * vlib_stats_set_string_vector).
 */
import { allocVec, freeVec, grownCapacity, HEAP_VEC, STRING_VECTOR_VEC, vecCapacity, writeVecLen } from './clib-vec.js';
import type { Directory } from './directory.js';
import type { SegmentLock } from './segment-lock.js';
import type { SegmentMemory } from './segment-memory.js';

export class NameVector {
  private slotIndex = -1;
  private data: number;
  private capacity: number;
  /** String vector data offsets (0 = NULL) and their text, mirrored for truth(). */
  private readonly stringData: number[] = [];
  private readonly strings: (string | null)[] = [];

  constructor(
    private readonly mem: SegmentMemory,
    private readonly lock: SegmentLock,
    private readonly dir: Directory,
    initialCapacity: number,
  ) {
    this.data = allocVec(mem, STRING_VECTOR_VEC, 8, Math.max(1, initialCapacity));
    this.capacity = vecCapacity(mem, STRING_VECTOR_VEC, this.data, 8);
  }

  /** Directory slot; also written into the vector's user header. */
  get slot(): number {
    return this.slotIndex;
  }

  set slot(index: number) {
    this.slotIndex = index;
    this.mem.u32[(this.data - 24) / 4] = index;
  }

  get pointer(): bigint {
    return this.mem.pointer(this.data);
  }

  get length(): number {
    return this.strings.length;
  }

  get(i: number): string | null {
    return this.strings[i] ?? null;
  }

  /** A copy of the elements, as a reader decodes them. */
  list(): (string | null)[] {
    return this.strings.slice();
  }

  /** Makes sure the vector can reach length `n` without moving. */
  reserve(n: number): void {
    if (n > this.capacity) this.moveTo(grownCapacity(this.capacity, n));
  }

  /** Sets element i (growing the vector with NULLs up to it); null frees the string. Takes the lock. */
  set(i: number, text: string | null): void {
    this.lock.run(() => this.setLocked(i, text));
  }

  private setLocked(i: number, text: string | null): void {
    if (i >= this.strings.length) {
      this.reserve(i + 1);
      while (this.strings.length <= i) {
        this.strings.push(null);
        this.stringData.push(0);
      }
      writeVecLen(this.mem, this.data, this.strings.length, this.capacity);
    }
    const old = this.stringData[i];
    let s = 0;
    if (text !== null) {
      const n = Buffer.byteLength(text, 'utf8');
      // The string's vector counts its NUL; fresh memory is zero, so the NUL is already there.
      s = allocVec(this.mem, HEAP_VEC, 1, n + 1, n + 1);
      this.mem.bytes.write(text, s, n, 'utf8');
    }
    this.mem.u64[this.data / 8 + i] = s === 0 ? 0n : this.mem.pointer(s);
    this.stringData[i] = s;
    this.strings[i] = text;
    if (old !== 0) freeVec(this.mem, HEAP_VEC, old);
  }

  private moveTo(capacity: number): void {
    this.lock.assertHeld('moving a name vector');
    const old = this.data;
    const data = allocVec(this.mem, STRING_VECTOR_VEC, 8, capacity, this.strings.length);
    this.mem.u8.copyWithin(data, old, old + this.strings.length * 8);
    this.data = data;
    this.capacity = vecCapacity(this.mem, STRING_VECTOR_VEC, data, 8);
    if (this.slotIndex >= 0) {
      this.slot = this.slotIndex;
      this.dir.setValue(this.slotIndex, this.pointer);
    }
    freeVec(this.mem, STRING_VECTOR_VEC, old);
  }
}
