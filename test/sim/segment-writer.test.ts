/**
 * The writer at byte level: header, vector headers, entries and free lists look like the captured
 * VPP 26.10 segment (STATS-SEGMENT.md section 12), the allocator reuses memory, the lock protocol
 * moves the epoch once per change.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { SegmentWriter } from '../../src/sim/segment-writer.js';
import { Heap, SegmentFullError } from '../../src/sim/heap.js';
import { storedEntryName } from '../../src/sim/directory.js';
import { WriterStuckError } from '../../src/sim/segment-lock.js';
import { StatType } from '../../src/stats/types.js';
import { fixtureImage } from '../helpers/paths.js';

const BASE = 0x7fae_09de_1000n;
const MIB = 1024 * 1024;

function writer(size = 4 * MIB, directoryCapacity?: number): SegmentWriter {
  return new SegmentWriter(new ArrayBuffer(size), { base: BASE, directoryCapacity });
}

/** Byte views of a VPP-side pointer's surroundings in an image. */
class Image {
  readonly b: Buffer;
  readonly base: bigint;
  constructor(bytes: Buffer) {
    this.b = bytes;
    this.base = bytes.readBigUInt64LE(8);
  }
  off(ptr: bigint): number {
    return Number(ptr - this.base);
  }
  dir(): number {
    return this.off(this.b.readBigUInt64LE(32));
  }
  entry(i: number): { type: number; pad: number; value: bigint; name: string; nameBytes: Buffer } {
    const eo = this.dir() + i * 144;
    const nameBytes = this.b.subarray(eo + 16, eo + 144);
    return {
      type: this.b.readUInt32LE(eo),
      pad: this.b.readUInt32LE(eo + 4),
      value: this.b.readBigUInt64LE(eo + 8),
      name: nameBytes.subarray(0, nameBytes.indexOf(0)).toString(),
      nameBytes,
    };
  }
  find(name: string): number {
    const n = this.b.readUInt32LE(this.dir() - 8);
    for (let i = 0; i < n; i++) if (this.entry(i).name === name) return i;
    throw new Error(`no ${name}`);
  }
  /** vec_header_t fields of a vector whose data is at `data`. */
  vec(data: number): { len: number; hdrSize: number; alignByte: number; grow: number; vpad: number } {
    return {
      len: this.b.readUInt32LE(data - 8),
      hdrSize: this.b[data - 4],
      alignByte: this.b[data - 3],
      grow: this.b[data - 2],
      vpad: this.b[data - 1],
    };
  }
}

function imageOf(w: SegmentWriter): Image {
  return new Image(Buffer.from(w.mem.buffer));
}

test('header: version 2, base, epoch from 1, in_progress 0, directory pointer (section 2)', () => {
  const w = writer();
  const img = imageOf(w);
  assert.equal(img.b.readBigUInt64LE(0), 2n);
  assert.equal(img.b.readBigUInt64LE(8), BASE);
  assert.equal(img.b.readBigUInt64LE(16), 1n);
  assert.equal(img.b.readBigUInt64LE(24), 0n);
  const dir = img.dir();
  assert.ok(dir >= 4096, 'the directory lives in the heap, after the header page');
  assert.equal(dir % 16, 0);
});

test('directory vector header is vec_new_heap: heap handle, len, hdr_size 2, byte 0x03 (as observed)', () => {
  const w = writer();
  w.addScalar('/sys/heartbeat', 6n);
  w.addScalar('/sys/last_stats_clear', 0n);
  const img = imageOf(w);
  const dir = img.dir();
  const h = img.vec(dir);
  assert.deepEqual({ len: h.len, hdrSize: h.hdrSize, alignByte: h.alignByte, vpad: h.vpad }, { len: 2, hdrSize: 2, alignByte: 0x03, vpad: 0 });
  assert.equal(img.b.readBigUInt64LE(dir - 16), BASE + 0x13c0n, 'heap handle at -16');
  // Entry 0 byte for byte: type 1, pad 0, value 6, "/sys/heartbeat" NUL-terminated, zero after.
  const expected = Buffer.alloc(144);
  expected.writeUInt32LE(1, 0);
  expected.writeBigUInt64LE(6n, 8);
  expected.write('/sys/heartbeat', 16);
  assert.deepEqual(img.b.subarray(dir, dir + 144), expected);
});

test('the same header bytes as the captured segment, apart from addresses and lengths', () => {
  const real = new Image(fs.readFileSync(fixtureImage('statseg')));
  const w = writer();
  w.addScalar('/sys/heartbeat', 6n);
  const rx = w.addCounterVector('/if/rx', 'combined', 2, 9);
  const names = w.addNameVector('/if/names');
  names.set(0, 'local0');
  const ours = imageOf(w);
  // Directory header: bytes -4..-3 and -1 (hdr_size, align byte, vpad); -2 is spare room.
  const pick = (img: Image, data: number): number[] => [img.b[data - 4], img.b[data - 3], img.b[data - 1]];
  assert.deepEqual(pick(ours, ours.dir()), pick(real, real.dir()));
  // Combined counter vector: outer and row headers, 64 bytes with zeros up to -8.
  const realRx = real.off(real.entry(real.find('/if/rx')).value);
  const ourRx = ours.off(ours.entry(rx.slot).value);
  for (const [img, data] of [[real, realRx], [ours, ourRx]] as const) {
    assert.equal(data % 64, 0, 'counter data is cache-line aligned');
    const row = img.off(img.b.readBigUInt64LE(data + 8));
    for (const d of [data, row]) {
      assert.deepEqual(pick(img, d), [8, 0x86, 0]);
      assert.ok(img.b.subarray(d - 64, d - 8).every((x) => x === 0), 'no heap handle, zero padding');
    }
  }
  // Name vector: user header {u32 entry_index} + 4 pad, heap handle, hdr_size 3, byte 0x03.
  const realNames = real.off(real.entry(real.find('/if/names')).value);
  const ourNames = ours.off(ours.entry(names.slot).value);
  assert.deepEqual(pick(ours, ourNames), pick(real, realNames));
  assert.equal(real.b.readUInt32LE(realNames - 24), real.find('/if/names'));
  assert.equal(ours.b.readUInt32LE(ourNames - 24), names.slot);
  assert.equal(ours.b.readUInt32LE(ourNames - 20), 0);
  assert.equal(ours.b.readBigUInt64LE(ourNames - 16), BASE + 0x13c0n);
  assert.equal(real.b.readBigUInt64LE(realNames - 16) - real.base, 0x13c0n, 'the capture has the same heap handle offset');
  // String element "local0": own heap vector, len 7 with the NUL, the same spare room as VPP's (1).
  for (const [img, data] of [[real, realNames], [ours, ourNames]] as const) {
    const s = img.off(img.b.readBigUInt64LE(data));
    assert.deepEqual(img.vec(s), { len: 7, hdrSize: 2, alignByte: 0x03, grow: 1, vpad: 0 });
    assert.equal(img.b.subarray(s, s + 7).toString('latin1'), 'local0\0');
    assert.equal(img.b.readBigUInt64LE(s - 16) - img.base, 0x13c0n);
  }
});

test('symlink value is index1 | index2 << 32; names keep at most 127 bytes', () => {
  const w = writer();
  const tx = w.addCounterVector('/if/tx', 'combined', 1, 2);
  const link = w.addSymlink('/interfaces/loop0/tx', tx.slot, 1);
  const long = '/x/' + 'a'.repeat(200);
  const truncated = w.addScalar(long, 1n);
  const img = imageOf(w);
  assert.equal(img.entry(link).value, BigInt(tx.slot) | (1n << 32n));
  assert.equal(img.entry(link).type, StatType.SYMLINK);
  const e = img.entry(truncated);
  assert.equal(e.name.length, 127);
  assert.equal(e.nameBytes[127], 0, 'the last name byte stays NUL');
  assert.equal(storedEntryName(long), e.name);
  assert.throws(() => w.addSymlink('/bad', truncated, 0), /must point at a counter vector/);
});

test('removed entries become EMPTY with a LIFO free list through value, ending in 0xffffffff; slots are reused', () => {
  const w = writer();
  const slots = ['/a', '/b', '/c', '/d'].map((n) => w.addScalar(n, 7n));
  w.removeEntry(slots[1]);
  w.removeEntry(slots[2]);
  let img = imageOf(w);
  assert.deepEqual(
    { type: img.entry(slots[1]).type, value: img.entry(slots[1]).value },
    { type: StatType.EMPTY, value: 0xffff_ffffn },
  );
  assert.deepEqual(img.entry(slots[2]).value, BigInt(slots[1]), 'next free = the slot freed before');
  assert.ok(img.entry(slots[2]).nameBytes.every((x) => x === 0), 'an EMPTY slot has no name');
  assert.equal(w.directory.emptySlots, 2);
  // The most recently freed slot is taken first.
  assert.equal(w.addScalar('/e', 1n), slots[2]);
  assert.equal(w.addScalar('/f', 1n), slots[1]);
  assert.equal(w.addScalar('/g', 1n), 4, 'then the vector grows');
  img = imageOf(w);
  assert.equal(img.entry(slots[1]).name, '/f');
  assert.throws(() => w.removeEntry(99), RangeError);
});

test('lock protocol: one epoch per outermost change, in_progress set while changing, hooks before the epoch moves', () => {
  const w = writer();
  const e0 = w.epoch;
  const seen: { inProgress: boolean; epoch: number }[] = [];
  w.lock.beforeRelease(() => seen.push({ inProgress: w.inProgress, epoch: w.epoch }));
  w.change(() => {
    assert.equal(w.inProgress, true);
    w.addScalar('/x', 1n); // nested: no epoch of its own
    w.addScalar('/y', 2n);
    assert.equal(w.epoch, e0);
  });
  assert.equal(w.epoch, e0 + 1);
  assert.equal(w.inProgress, false);
  assert.deepEqual(seen, [{ inProgress: true, epoch: e0 }]);
  // A throwing change still publishes (the segment may have changed).
  assert.throws(() => w.change(() => { throw new Error('boom'); }), /boom/);
  assert.equal(w.epoch, e0 + 2);
  // Scalar updates take no lock.
  w.setScalar(0, 5n);
  assert.equal(w.epoch, e0 + 2);
});

test('stickInProgress leaves in_progress = 1 and refuses further changes', () => {
  const w = writer();
  w.stickInProgress();
  assert.equal(imageOf(w).b.readBigUInt64LE(24), 1n);
  assert.throws(() => w.addScalar('/x', 1n), WriterStuckError);
  assert.equal(imageOf(w).b.readBigUInt64LE(24), 1n);
});

test('a full directory moves under the lock: new pointer in the header, entries intact, old memory reused', () => {
  const w = writer(4 * MIB, 4);
  const before = imageOf(w).dir();
  const e0 = w.epoch;
  for (let i = 0; i < 50; i++) w.addScalar(`/s/${i}`, BigInt(i));
  const img = imageOf(w);
  assert.notEqual(img.dir(), before);
  assert.equal(img.vec(img.dir()).len, 50);
  for (let i = 0; i < 50; i++) assert.deepEqual([img.entry(i).name, img.entry(i).value], [`/s/${i}`, BigInt(i)]);
  assert.equal(w.epoch, e0 + 50);
  const stats = w.mem.heap.stats();
  assert.ok(stats.used < 64 * 1024, 'old directory vectors were freed');
});

test('counter rows grow in place while they have room and move when not, keeping values', () => {
  const w = writer();
  const v = w.addCounterVector('/if/drops', 'simple', 2, 1, 4);
  v.set(1, 0, 42n);
  const outer = imageOf(w).entry(v.slot).value;
  const row1 = imageOf(w).b.readBigUInt64LE(imageOf(w).off(outer) + 8);
  w.change(() => v.ensureColumns(4));
  let img = imageOf(w);
  assert.equal(img.b.readBigUInt64LE(img.off(outer) + 8), row1, 'room for 4: no move');
  assert.equal(img.vec(img.off(row1)).len, 4);
  w.change(() => v.ensureColumns(100));
  img = imageOf(w);
  const moved = img.b.readBigUInt64LE(img.off(outer) + 8);
  assert.notEqual(moved, row1);
  assert.equal(img.vec(img.off(moved)).len, 100);
  assert.equal(img.b.readBigUInt64LE(img.off(moved)), 42n);
  assert.equal(img.off(moved) % 64, 0);
  const e = w.epoch;
  v.ensureColumns(200);
  assert.equal(w.epoch, e + 1, 'growing takes the lock itself');
});

test('heap: alignment, dlmalloc-like sizes, first-fit reuse, coalescing, clear out-of-space error', () => {
  const bytes = new Uint8Array(64 * 1024);
  const h = new Heap(bytes, 0x1400, bytes.length);
  const a = h.alloc(23);
  assert.equal(a, 0x1400);
  assert.equal(h.usable(a), 24, '"local0" string vector: 16 + 7 bytes in a 32-byte chunk');
  const b = h.alloc(100, 64);
  assert.equal(b % 64, 0);
  const c = h.alloc(40);
  bytes.fill(0xab, c, c + 40);
  h.free(c);
  const d = h.alloc(40);
  assert.equal(d, c, 'freed block reused');
  assert.ok(bytes.subarray(d, d + 40).every((x) => x === 0), 'reused memory is zeroed');
  h.free(a);
  h.free(b);
  h.free(d);
  assert.equal(h.stats().used, 0);
  assert.equal(h.stats().freeChunks, 1, 'everything coalesced back into the top');
  assert.throws(() => h.alloc(1024 * 1024), (e: unknown) => e instanceof SegmentFullError && /use a larger segmentSize/.test(e.message));
  assert.throws(() => h.free(12345), /unknown block/);
});

test('heap under random allocation and release: blocks never overlap, everything coalesces back', () => {
  const bytes = new Uint8Array(1 << 20);
  const h = new Heap(bytes, 0x1400, bytes.length);
  let seed = 12345;
  const rand = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  const live = new Map<number, number>(); // payload -> requested bytes
  for (let step = 0; step < 20_000; step++) {
    if (live.size > 0 && rand(3) === 0) {
      const keys = [...live.keys()];
      const p = keys[rand(keys.length)];
      h.free(p);
      live.delete(p);
      continue;
    }
    const size = 1 + rand(rand(10) === 0 ? 4000 : 200);
    const align = [16, 16, 64][rand(3)];
    try {
      const p = h.alloc(size, align);
      assert.equal(p % align, 0);
      assert.ok(h.usable(p) >= size);
      live.set(p, size);
    } catch (e) {
      assert.ok(e instanceof SegmentFullError);
    }
  }
  const spans = [...live].map(([p]) => [p, p + h.usable(p)] as const).sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) assert.ok(spans[i][0] >= spans[i - 1][1], 'blocks overlap');
  for (const p of live.keys()) h.free(p);
  assert.deepEqual([h.stats().used, h.stats().freeChunks], [0, 1]);
});
