/**
 * The stats directory: a clib vector (vec_new_heap) of 144-byte vlib_stats_entry_t, whose address
 * the shared header publishes. Removed entries become EMPTY and form a LIFO free list threaded
 * through their value field, ending in CLIB_U32_MAX, and the next added entry takes the most
 * recently freed slot (vlib/stats/stats.c:110-114,196-202; the churn capture shows exactly this).
 * When the vector is full it moves: new vector, copy, publish the new address in the header, free
 * the old one - all under the segment lock, like vec_validate under vlib_stats_segment_lock.
 */
import { allocVec, freeVec, grownCapacity, HEAP_VEC, vecCapacity, writeVecLen } from './clib-vec.js';
import type { SegmentLock } from './segment-lock.js';
import type { SegmentMemory } from './segment-memory.js';
import {
  ENTRY_NAME,
  ENTRY_NAME_MAX_BYTES,
  ENTRY_SIZE,
  ENTRY_VALUE,
  FREE_LIST_END,
  Header,
  StatType,
} from './segment-layout.js';

export class Directory {
  private data: number;
  private len = 0;
  private capacity: number;
  private firstFree = FREE_LIST_END;
  private empties = 0;
  /** Mirror of each slot's type, to check callers and count entries without reading the segment. */
  private types: Uint8Array;

  constructor(
    private readonly mem: SegmentMemory,
    private readonly lock: SegmentLock,
    initialCapacity: number,
  ) {
    this.data = allocVec(mem, HEAP_VEC, ENTRY_SIZE, Math.max(1, initialCapacity));
    this.capacity = vecCapacity(mem, HEAP_VEC, this.data, ENTRY_SIZE);
    this.types = new Uint8Array(this.capacity);
    Atomics.store(mem.u64, Header.directoryVector / 8, mem.pointer(this.data));
  }

  /** Slots in the vector, EMPTY ones included. */
  get length(): number {
    return this.len;
  }

  get emptySlots(): number {
    return this.empties;
  }

  /** Byte offset of the directory's data (entry 0). */
  get dataOffset(): number {
    return this.data;
  }

  /** Head of the EMPTY free list (FREE_LIST_END when none). */
  get freeListHead(): number {
    return this.firstFree;
  }

  type(slot: number): number {
    if (slot < 0 || slot >= this.len) throw new RangeError(`no directory slot ${slot}`);
    return this.types[slot];
  }

  /** Makes sure `n` more entries can be added without the vector moving. */
  reserve(n: number): void {
    const needed = this.len + Math.max(0, n - this.empties);
    if (needed > this.capacity) this.moveTo(grownCapacity(this.capacity, needed));
  }

  add(type: number, name: string, value: bigint): number {
    const slot = this.takeSlot();
    const eo = this.writeHead(slot, type, name);
    this.mem.u64[(eo + ENTRY_VALUE) / 8] = value;
    return slot;
  }

  addSymlink(name: string, target: number, column: number): number {
    const slot = this.takeSlot();
    const eo = this.writeHead(slot, StatType.SYMLINK, name);
    // index1 | index2 << 32 on little-endian: two u32 stores, under the lock.
    this.mem.u32[(eo + ENTRY_VALUE) / 4] = target;
    this.mem.u32[(eo + ENTRY_VALUE + 4) / 4] = column;
    return slot;
  }

  remove(slot: number): void {
    this.lock.assertHeld('removing a directory entry');
    const t = this.type(slot);
    if (t === StatType.EMPTY) throw new Error(`directory slot ${slot} is already EMPTY`);
    const eo = this.data + slot * ENTRY_SIZE;
    this.mem.u32[eo / 4] = StatType.EMPTY;
    this.mem.u32[eo / 4 + 1] = 0;
    this.mem.u64[(eo + ENTRY_VALUE) / 8] = BigInt(this.firstFree);
    // VPP leaves an EMPTY slot's name zeroed (observed in the churn capture).
    this.mem.u8.fill(0, eo + ENTRY_NAME, eo + ENTRY_SIZE);
    this.types[slot] = StatType.EMPTY;
    this.firstFree = slot;
    this.empties++;
  }

  /** Stores a scalar, gauge or data pointer: one aligned 8-byte store, so it needs no lock. */
  setValue(slot: number, value: bigint): void {
    this.mem.u64[(this.data + slot * ENTRY_SIZE + ENTRY_VALUE) / 8] = value;
  }

  value(slot: number): bigint {
    return this.mem.u64[(this.data + slot * ENTRY_SIZE + ENTRY_VALUE) / 8];
  }

  /** Counts of live entries by type (EMPTY included). */
  countByType(): Map<number, number> {
    const m = new Map<number, number>();
    for (let i = 0; i < this.len; i++) m.set(this.types[i], (m.get(this.types[i]) ?? 0) + 1);
    return m;
  }

  private takeSlot(): number {
    this.lock.assertHeld('adding a directory entry');
    if (this.firstFree !== FREE_LIST_END) {
      const slot = this.firstFree;
      this.firstFree = Number(this.value(slot) & 0xffff_ffffn);
      this.empties--;
      return slot;
    }
    if (this.len === this.capacity) this.moveTo(grownCapacity(this.capacity, this.len + 1));
    const slot = this.len++;
    writeVecLen(this.mem, this.data, this.len, this.capacity);
    return slot;
  }

  private writeHead(slot: number, type: number, name: string): number {
    const eo = this.data + slot * ENTRY_SIZE;
    this.mem.u32[eo / 4] = type;
    this.mem.u32[eo / 4 + 1] = 0;
    const n = this.mem.bytes.write(name, eo + ENTRY_NAME, ENTRY_NAME_MAX_BYTES, 'utf8');
    this.mem.u8.fill(0, eo + ENTRY_NAME + n, eo + ENTRY_SIZE);
    this.types[slot] = type;
    return eo;
  }

  private moveTo(capacity: number): void {
    this.lock.assertHeld('moving the directory');
    const old = this.data;
    const data = allocVec(this.mem, HEAP_VEC, ENTRY_SIZE, capacity, this.len);
    this.mem.u8.copyWithin(data, old, old + this.len * ENTRY_SIZE);
    this.data = data;
    this.capacity = vecCapacity(this.mem, HEAP_VEC, data, ENTRY_SIZE);
    Atomics.store(this.mem.u64, Header.directoryVector / 8, this.mem.pointer(data));
    freeVec(this.mem, HEAP_VEC, old);
    const types = new Uint8Array(this.capacity);
    types.set(this.types.subarray(0, this.len));
    this.types = types;
  }
}

/** The name a reader finds for `name`: VPP keeps at most 127 bytes (cut at a character boundary here). */
export function storedEntryName(name: string): string {
  const b = Buffer.from(name, 'utf8');
  if (b.length <= ENTRY_NAME_MAX_BYTES) return name;
  const out = Buffer.alloc(ENTRY_NAME_MAX_BYTES);
  const n = out.write(name, 0, ENTRY_NAME_MAX_BYTES, 'utf8');
  return out.subarray(0, n).toString('utf8');
}
