/** The native reader on bad input: clear errors with codes, never a crash. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { native, StatsError } from '../../src/native/index.js';
import { fixtureImage, tmpDir } from '../helpers/paths.js';

function patched(edit: (b: Buffer) => void): string {
  const b = fs.readFileSync(fixtureImage('statseg'));
  edit(b);
  const p = path.join(tmpDir(), 'patched.bin');
  fs.writeFileSync(p, b);
  return p;
}

function assertCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (e: unknown) => e instanceof StatsError && e.code === code);
}

test('unsupported version is refused with VERSION', () => {
  const p = patched((b) => b.writeBigUInt64LE(3n, 0));
  assertCode(() => native().StatSegment.openFile(p), 'VERSION');
});

test('a file smaller than the header is refused with MAP', () => {
  const p = path.join(tmpDir(), 'tiny.bin');
  fs.writeFileSync(p, Buffer.alloc(16));
  assertCode(() => native().StatSegment.openFile(p), 'MAP');
});

test('a missing file is OPEN, a missing socket is CONNECT', async () => {
  assertCode(() => native().StatSegment.openFile('/nonexistent/x'), 'OPEN');
  await assert.rejects(native().StatSegment.openSocketAsync('/nonexistent/stats.sock'), (e: unknown) => e instanceof StatsError && e.code === 'CONNECT');
});

test('a stream socket that is not a stats socket gives CONNECT, not a hang or crash', async () => {
  const sock = path.join(tmpDir(), 's.sock');
  const server = net.createServer((c) => c.end('hello'));
  await new Promise<void>((r) => server.listen(sock, r));
  try {
    // SEQPACKET connect to a SOCK_STREAM listener fails with EPROTOTYPE.
    await assert.rejects(native().StatSegment.openSocketAsync(sock), (e: unknown) => e instanceof StatsError && e.code === 'CONNECT');
  } finally {
    server.close();
  }
});

test('a directory pointer outside the mapping is BAD_POINTER', () => {
  const p = patched((b) => b.writeBigUInt64LE(b.readBigUInt64LE(8) + 0x10000000n, 32));
  const seg = native().StatSegment.openFile(p);
  assertCode(() => seg.directory(), 'BAD_POINTER');
  seg.close();
});

test('a corrupt counter pointer fails that entry only', () => {
  const image = fixtureImage('statseg');
  const seg0 = native().StatSegment.openFile(image);
  const dir = seg0.directory();
  const k = dir.names.indexOf('/if/rx');
  const slot = dir.index[k];
  const dirOff = Number(seg0.header().directoryVector - seg0.header().base);
  seg0.close();
  const p = patched((b) => b.writeBigUInt64LE(0xdead0000n, dirOff + slot * 144 + 8));
  const seg = native().StatSegment.openFile(p);
  const snap = seg.snapshot(new Uint32Array([slot, dir.index[0]]), { epoch: dir.epoch });
  assert.equal(native().codes[snap.layout[0]], 'BAD_POINTER');
  assert.equal(snap.layout[5], 0, 'the other entry is fine');
  seg.close();
});

test('a stuck in_progress fails with BUSY within about the timeout', () => {
  const p = patched((b) => b.writeBigUInt64LE(1n, 24));
  const seg = native().StatSegment.openFile(p);
  const t0 = performance.now();
  assertCode(() => seg.snapshot(new Uint32Array([0]), { busyTimeoutMs: 100 }), 'BUSY');
  const ms = performance.now() - t0;
  assert.ok(ms >= 90 && ms < 1000, `BUSY after ${ms} ms`);
  seg.close();
});

test('an expected epoch that differs is STALE', () => {
  const seg = native().StatSegment.openFile(fixtureImage('statseg'));
  assertCode(() => seg.snapshot(new Uint32Array([0]), { epoch: 1 }), 'STALE');
  seg.close();
});

test('a closed segment is CLOSED', () => {
  const seg = native().StatSegment.openFile(fixtureImage('statseg'));
  seg.close();
  assert.equal(seg.closed, true);
  assertCode(() => seg.header(), 'CLOSED');
});
