// The durable spool (src/sink/spool.ts): order, group commit, acknowledgements, restart replay,
// the size bound with overflow counted, torn and damaged records after a crash, the lock, and a
// writer killed -9 at random points losing nothing it had reported accepted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RECORD_HEADER_BYTES, Spool, SpoolError, spoolSegments, type SpoolEntry } from '../../src/sink/spool.js';
import { tmpDir } from '../helpers/paths.js';

const payload = (i: number): Buffer => Buffer.from(`event-${i}-${'y'.repeat(i % 97)}`);

async function readAll(spool: Spool, max = 100, timeoutMs = 100): Promise<SpoolEntry[]> {
  const out: SpoolEntry[] = [];
  for (;;) {
    const ac = new AbortController();
    const t = setTimeout(() => ac.abort(), timeoutMs);
    try {
      out.push(...(await spool.read(max, 64 * 1024, ac.signal)));
    } catch {
      return out;
    } finally {
      clearTimeout(t);
    }
  }
}

test('appends are read back in order, then acknowledged', async () => {
  const spool = await Spool.open({ dir: tmpDir() });
  const r1 = await spool.append([payload(0), payload(1), payload(2)]);
  assert.deepEqual([r1.accepted, r1.dropped, r1.firstOffset], [3, 0, 0]);
  const r2 = await spool.append([payload(3)]);
  assert.equal(r2.firstOffset, 3);
  assert.equal(spool.stats.depth, 4);
  const got = await readAll(spool);
  assert.deepEqual(
    got.map((e) => [e.offset, e.payload.toString()]),
    [0, 1, 2, 3].map((i) => [i, payload(i).toString()]),
  );
  assert.ok(got.every((e) => typeof e.time === 'number' && Math.abs(e.time - Date.now()) < 10_000));
  spool.ack(1);
  assert.equal(spool.stats.depth, 2);
  assert.throws(() => spool.ack(9), (e: unknown) => e instanceof SpoolError && e.code === 'BAD_ACK');
  spool.ack(3);
  assert.equal(spool.stats.depth, 0);
  assert.equal(spool.stats.oldestTime, undefined);
  await spool.close();
  await assert.rejects(spool.append([payload(9)]), (e: unknown) => e instanceof SpoolError && e.code === 'CLOSED');
});

test('group commit: concurrent appends share fsyncs and keep their order', async () => {
  const spool = await Spool.open({ dir: tmpDir() });
  const results = await Promise.all(Array.from({ length: 500 }, (_, i) => spool.append([payload(i)])));
  // Offsets follow the order of the append() calls.
  assert.deepEqual(
    results.map((r) => r.firstOffset),
    Array.from({ length: 500 }, (_, i) => i),
  );
  assert.ok(spool.stats.commits < 100, `500 appends in ${spool.stats.commits} commits`);
  const got = await readAll(spool, 1000);
  assert.deepEqual(
    got.map((e) => e.payload.toString()),
    Array.from({ length: 500 }, (_, i) => payload(i).toString()),
  );
  await spool.close();
});

test('after a restart the unacknowledged records come back in order, from disk', async () => {
  const dir = tmpDir();
  const crashed = await Spool.open({ dir, segmentBytes: 16 * 1024, tailCacheBytes: 1024 });
  for (let i = 0; i < 1000; i += 10) await crashed.append(Array.from({ length: 10 }, (_, j) => payload(i + j)));
  assert.ok(spoolSegments(dir).length > 3, 'several segments');
  // A read stops at a segment's end: read until 300.
  const first: SpoolEntry[] = [];
  while (first.length < 300) first.push(...(await crashed.read(300 - first.length, 1 << 30)));
  assert.deepEqual(
    first.map((e) => e.offset),
    Array.from({ length: 300 }, (_, i) => i),
  );
  crashed.ack(299);
  await crashed.flushAck();
  // Segments holding only acknowledged records are gone.
  assert.ok(fs.readdirSync(dir).filter((n) => n.endsWith('.seg')).length < 12);
  // No close(): as if the process died here (the lock holds our own pid, which open() accepts).
  let spool = await Spool.open({ dir, segmentBytes: 16 * 1024 });
  assert.equal(spool.stats.depth, 700);
  assert.equal(spool.stats.acked, 299);
  assert.ok(spool.stats.oldestTime !== undefined);
  const rest = await readAll(spool, 77);
  assert.deepEqual(
    rest.map((e) => e.offset),
    Array.from({ length: 700 }, (_, i) => 300 + i),
  );
  assert.ok(rest.every((e) => e.payload.equals(payload(e.offset))));
  // Appends continue after the last offset.
  const r = await spool.append([payload(1000)]);
  assert.equal(r.firstOffset, 1000);
  assert.deepEqual((await spool.read(10, 1000)).map((e) => e.offset), [1000]);
  spool.ack(1000);
  await spool.flushAck();
  assert.equal(spool.stats.depth, 0);
  await spool.close();
  spool = await Spool.open({ dir });
  assert.equal(spool.stats.depth, 0);
  assert.equal(spool.stats.nextOffset, 1001);
  await spool.close();
  await crashed.close(); // only its file handles now
});

test('memos ride along with records read from memory (once), count against the memory budget, and are not on disk', async () => {
  const dir = tmpDir();
  // Room in memory for eight 100-byte records, or about half as many with memos.
  const spool = await Spool.open({ dir, tailCacheBytes: 8 * (RECORD_HEADER_BYTES + 100) });
  const memos = [0, 1, 2].map((i) => ({ i }));
  await spool.append([0, 1, 2].map(() => Buffer.alloc(100, 1)), memos);
  await spool.append([Buffer.alloc(100, 2)]);
  const first = await readAll(spool);
  assert.deepEqual(first.map((e) => e.offset), [0, 1, 2, 3]);
  assert.ok(first[0].memo === memos[0] && first[1].memo === memos[1] && first[2].memo === memos[2], 'the very objects appended');
  assert.equal(first[3].memo, undefined);
  // Ten with memos overflow the budget: the older ones are read from disk, without memo.
  const ten = Array.from({ length: 10 }, (_, i) => ({ i: 10 + i }));
  await spool.append(ten.map(() => Buffer.alloc(100, 3)), ten);
  // (One at a time: a read from disk returns as many as it is asked for, memory or not.)
  const next = await readAll(spool, 1);
  assert.deepEqual(next.map((e) => e.offset), Array.from({ length: 10 }, (_, i) => 4 + i));
  const withMemo = next.filter((e) => e.memo !== undefined);
  assert.ok(withMemo.length >= 1 && withMemo.length <= 5, `${withMemo.length} of 10 from memory with their memos`);
  assert.ok(withMemo.every((e) => e.memo === ten[e.offset - 4]));
  assert.ok(next.slice(0, 10 - withMemo.length).every((e) => e.memo === undefined && e.payload.equals(Buffer.alloc(100, 3))));
  // After a restart everything unacknowledged comes from disk: payloads only.
  await spool.close();
  const again = await Spool.open({ dir });
  const reread = await readAll(again);
  assert.equal(reread.length, 14);
  assert.ok(reread.every((e) => e.memo === undefined));
  await again.close();
});

test('memory: records stay in memory until acknowledged, within tailCacheBytes', async () => {
  const spool = await Spool.open({ dir: tmpDir(), tailCacheBytes: 64 * 1024 });
  assert.equal(spool.stats.cachedBytes, 0);
  await spool.append(Array.from({ length: 100 }, () => Buffer.alloc(100)));
  assert.equal(spool.stats.cachedBytes, 100 * (RECORD_HEADER_BYTES + 100));
  const got = await readAll(spool, 40);
  assert.equal(got.length, 100);
  assert.equal(spool.stats.cachedBytes, 100 * (RECORD_HEADER_BYTES + 100), 'read, not acknowledged: kept');
  spool.ack(59);
  assert.equal(spool.stats.cachedBytes, 40 * (RECORD_HEADER_BYTES + 100));
  spool.ack(99);
  assert.equal(spool.stats.cachedBytes, 0);
  // Over the budget: the oldest go (the reader then reads them from disk).
  await spool.append(Array.from({ length: 1000 }, () => Buffer.alloc(100)));
  assert.ok(spool.stats.cachedBytes <= 64 * 1024 && spool.stats.cachedBytes > 60 * 1024, `${spool.stats.cachedBytes}`);
  const more = await readAll(spool, 1000);
  assert.deepEqual(more.map((e) => e.offset), Array.from({ length: 1000 }, (_, i) => 100 + i));
  spool.ack(1099);
  assert.equal(spool.stats.cachedBytes, 0);
  await spool.close();
});

test('bounded: a full spool refuses (and counts) new records, keeps the accepted ones, takes more after draining', async () => {
  const dir = tmpDir();
  const maxBytes = 64 * 1024;
  const spool = await Spool.open({ dir, maxBytes });
  let spaceEvents = 0;
  spool.on('space', () => spaceEvents++);
  const accepted: number[] = [];
  let dropped = 0;
  for (let i = 0; i < 2000; i++) {
    const r = await spool.append([Buffer.alloc(100, i % 256)]);
    if (r.accepted === 1) accepted.push(r.firstOffset!);
    dropped += r.dropped;
  }
  assert.ok(dropped > 0, 'some were refused');
  assert.equal(spool.stats.overflowDropped, dropped);
  assert.equal(accepted.length + dropped, 2000);
  assert.ok(spool.stats.bytes <= maxBytes, `${spool.stats.bytes} <= ${maxBytes}`);
  const onDisk = spoolSegments(dir).reduce((n, f) => n + fs.statSync(f).size, 0);
  assert.equal(onDisk, spool.stats.bytes);
  assert.ok(onDisk <= maxBytes);
  // A batch that half fits: the first ones are accepted, in order.
  const partial = await spool.append([Buffer.alloc(10), Buffer.alloc(10)]);
  assert.equal(partial.accepted + partial.dropped, 2);
  // Drain everything: all accepted records are there, none of the refused ones.
  const got = await readAll(spool, 500);
  assert.deepEqual(
    got.slice(0, accepted.length).map((e) => e.offset),
    accepted,
  );
  spool.ack(got[got.length - 1].offset);
  await spool.flushAck();
  // The next commit starts a new segment; the old ones go.
  const after = await spool.append([Buffer.alloc(100)]);
  assert.equal(after.accepted, 1);
  await spool.flushAck();
  assert.ok(spaceEvents >= 1, 'space announced');
  assert.ok(spool.stats.bytes < maxBytes / 2, `bytes after draining: ${spool.stats.bytes}`);
  await spool.close();
});

test('a torn last record (crash during a write) is cut off; everything before it survives', async () => {
  const dir = tmpDir();
  let spool = await Spool.open({ dir });
  for (let i = 0; i < 50; i++) await spool.append([payload(i)]);
  await spool.close();
  const [seg] = spoolSegments(dir);
  const size = fs.statSync(seg).size;
  // Cut the last record in the middle of its payload.
  fs.truncateSync(seg, size - 5);
  spool = await Spool.open({ dir });
  assert.equal(spool.stats.depth, 49);
  assert.ok(spool.stats.truncatedBytes > 0);
  const r = await spool.append([payload(999)]);
  assert.equal(r.firstOffset, 49, 'the lost record\'s offset is taken again');
  const got = await readAll(spool);
  assert.deepEqual(
    got.map((e) => e.payload.toString()),
    [...Array.from({ length: 49 }, (_, i) => payload(i).toString()), payload(999).toString()],
  );
  await spool.close();

  // Garbage after the last record (a half-written header, zeros of a pre-allocated block).
  fs.appendFileSync(seg, Buffer.concat([Buffer.alloc(RECORD_HEADER_BYTES + 3), Buffer.from([1, 2, 3])]));
  spool = await Spool.open({ dir });
  assert.equal(spool.stats.depth, 50);
  assert.equal(spool.stats.truncatedBytes, RECORD_HEADER_BYTES + 6);
  await spool.close();
  // A header cut in two.
  fs.appendFileSync(seg, Buffer.alloc(7, 0xff));
  spool = await Spool.open({ dir });
  assert.equal(spool.stats.depth, 50);
  assert.equal((await readAll(spool)).length, 50);
  await spool.close();
});

test('the active segment is zero-filled ahead: after a crash the zeros are not damage, a torn record in them is', async () => {
  const dir = tmpDir();
  const crashed = await Spool.open({ dir });
  for (let i = 0; i < 40; i++) await crashed.append([payload(i)]);
  const [seg] = spoolSegments(dir);
  const records = Array.from({ length: 40 }, (_, i) => RECORD_HEADER_BYTES + payload(i).length).reduce((a, b) => a + b, 0);
  const file = fs.readFileSync(seg);
  assert.ok(file.length > records, `room ahead: ${file.length} > ${records}`);
  assert.ok(file.subarray(records).every((b) => b === 0), 'the room holds zeros');
  assert.equal(crashed.stats.bytes, file.length, 'stats.bytes counts the file as it is on disk');
  // No close(): the process died with the room still there.
  let spool = await Spool.open({ dir });
  assert.deepEqual([spool.stats.depth, spool.stats.truncatedBytes, spool.stats.corruptRecords], [40, 0, 0]);
  const r = await spool.append([payload(40)]);
  assert.equal(r.firstOffset, 40);
  assert.deepEqual(
    (await readAll(spool)).map((e) => e.payload.toString()),
    Array.from({ length: 41 }, (_, i) => payload(i).toString()),
  );
  await spool.close();
  assert.equal(fs.statSync(seg).size, records + RECORD_HEADER_BYTES + payload(40).length, 'close() cuts the room off');
  // A crash in the middle of a commit into the room: a header and part of a payload, then zeros.
  const torn = fs.readFileSync(seg);
  const header = Buffer.alloc(RECORD_HEADER_BYTES);
  header.writeUInt32BE(100, 0);
  header.writeUInt32BE(0xdeadbeef, 4);
  header.writeBigUInt64BE(41n, 8);
  header.writeDoubleBE(Date.now(), 16);
  fs.writeFileSync(seg, Buffer.concat([torn, header, Buffer.alloc(30, 0x61), Buffer.alloc(4096)]));
  spool = await Spool.open({ dir });
  assert.equal(spool.stats.depth, 41, 'nothing committed is lost');
  assert.equal(spool.stats.truncatedBytes, RECORD_HEADER_BYTES + 30 + 4096, 'the torn record and what follows are cut off');
  await spool.close();
});

test('a damaged record in an older segment: the rest of that segment is skipped and counted, later segments are read', async () => {
  const dir = tmpDir();
  let spool = await Spool.open({ dir, segmentBytes: 16 * 1024 });
  for (let i = 0; i < 600; i += 20) await spool.append(Array.from({ length: 20 }, (_, j) => payload(i + j)));
  await spool.close();
  const segs = spoolSegments(dir);
  assert.ok(segs.length >= 3);
  const firstBase = Number(path.basename(segs[1]).slice(0, 20));
  const secondBase = Number(path.basename(segs[2]).slice(0, 20));
  // Flip a byte inside the 5th record of the second segment.
  const buf = fs.readFileSync(segs[1]);
  let pos = 0;
  for (let k = 0; k < 4; k++) pos += RECORD_HEADER_BYTES + buf.readUInt32BE(pos);
  buf[pos + RECORD_HEADER_BYTES + 2] ^= 0xff;
  fs.writeFileSync(segs[1], buf);
  spool = await Spool.open({ dir });
  assert.equal(spool.stats.corruptRecords, 1);
  const got = await readAll(spool, 1000);
  const offsets = got.map((e) => e.offset);
  // Everything but the damaged record and the rest of its segment.
  const expected = Array.from({ length: 600 }, (_, i) => i).filter((o) => o < firstBase + 4 || o >= secondBase);
  assert.deepEqual(offsets, expected);
  assert.ok(got.every((e) => e.payload.equals(payload(e.offset))));
  assert.equal(spool.stats.depth, expected.length);
  spool.ack(offsets[offsets.length - 1]);
  assert.equal(spool.stats.depth, 0);
  await spool.close();
});

test('a damaged acknowledgement file means sending again, never skipping', async () => {
  const dir = tmpDir();
  let spool = await Spool.open({ dir });
  await spool.append([payload(0), payload(1), payload(2)]);
  await spool.read(10, 1 << 20);
  spool.ack(1);
  await spool.close();
  assert.match(fs.readFileSync(path.join(dir, 'acked'), 'utf8'), /^acked 0{19}2 [0-9a-f]{8}\n$/);
  spool = await Spool.open({ dir });
  assert.equal(spool.stats.depth, 1);
  await spool.close();
  const f = path.join(dir, 'acked');
  fs.writeFileSync(f, fs.readFileSync(f, 'utf8').replace('acked 0', 'acked 9'));
  spool = await Spool.open({ dir });
  assert.equal(spool.stats.acked, -1);
  assert.deepEqual(
    (await readAll(spool)).map((e) => e.offset),
    [0, 1, 2],
  );
  await spool.close();
});

test('one process at a time: a live owner locks the spool, a dead one does not', async () => {
  const dir = tmpDir();
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'LOCK'), `${process.ppid}\n`);
  await assert.rejects(Spool.open({ dir }), (e: unknown) => e instanceof SpoolError && e.code === 'LOCKED');
  // A pid that is not running (the highest possible is far above any real one).
  fs.writeFileSync(path.join(dir, 'LOCK'), '4194000\n');
  const spool = await Spool.open({ dir });
  assert.equal(fs.readFileSync(path.join(dir, 'LOCK'), 'utf8').trim(), String(process.pid));
  await spool.close();
  assert.equal(fs.existsSync(path.join(dir, 'LOCK')), false);
});

test('writer killed -9 at random points: every record it reported accepted is there, intact, in order', { timeout: 60_000 }, async () => {
  const dir = tmpDir();
  const child = path.join(path.dirname(fileURLToPath(import.meta.url)), 'spool-child.js');
  const accepted = new Map<number, string>();
  for (let round = 0; round < 5; round++) {
    const c = spawn(process.execPath, [child, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    await new Promise<void>((resolve) => {
      const check = (): void => {
        if (out.includes('ready')) resolve();
        else setTimeout(check, 10);
      };
      check();
    });
    await new Promise((r) => setTimeout(r, 200 + Math.random() * 500));
    c.kill('SIGKILL');
    await exited;
    const lines = out.split('\n');
    lines.pop(); // possibly cut
    for (const l of lines) {
      if (l.startsWith('ready')) continue;
      const sp = l.indexOf(' ');
      accepted.set(Number(l.slice(0, sp)), l.slice(sp + 1));
    }
  }
  assert.ok(accepted.size > 1000, `accepted ${accepted.size}`);
  const spool = await Spool.open({ dir, maxBytes: 64 * 1024 * 1024 });
  const all = await readAll(spool, 5000);
  const byOffset = new Map(all.map((e) => [e.offset, e.payload.toString()]));
  for (const [o, p] of accepted) assert.equal(byOffset.get(o), p, `offset ${o}`);
  // Offsets are consecutive: nothing vanished in between either.
  all.forEach((e, i) => assert.equal(e.offset, i));
  await spool.close();
});
