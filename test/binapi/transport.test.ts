/**
 * The framing transport against a local unix-socket server that plays VPP: frames in random
 * pieces, several per piece, big ones, the real captured frames with VPP's garbage q field,
 * oversize and cut-off frames, backpressure.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import fc from 'fast-check';
import {
  DEFAULT_MAX_MESSAGE_SIZE,
  FrameReader,
  frameHeader,
  HEADER_SIZE,
  SocketTransport,
  TransportError,
} from '../../src/binapi/transport.js';
import { tmpDir } from '../helpers/paths.js';
import { loadSession } from './session.js';

const dir = tmpDir('binapi-transport-');
let seq = 0;

/** A server on a fresh socket path; each accepted connection goes to `onConn`. */
async function server(onConn: (s: net.Socket) => void): Promise<{ path: string; srv: net.Server; close: () => Promise<void> }> {
  const p = path.join(dir, `api${seq++}.sock`);
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    onConn(s);
  });
  await new Promise<void>((resolve) => srv.listen(p, resolve));
  return {
    path: p,
    srv,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        srv.close(() => resolve());
      }),
  };
}

function frame(body: Buffer, q = 0n): Buffer {
  const h = frameHeader(body.length);
  h.writeBigUInt64BE(q, 0);
  return Buffer.concat([h, body]);
}

/** Splits `data` at the given cut points (any order, duplicates and out-of-range ignored). */
function split(data: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let at = 0;
  for (const p of points) {
    if (p > at) out.push(data.subarray(at, p));
    at = Math.max(at, p);
  }
  if (at < data.length) out.push(data.subarray(at));
  return out;
}

/** Writes pieces one by one, letting each reach the client separately. */
async function dribble(s: net.Socket, pieces: Buffer[]): Promise<void> {
  for (const p of pieces) {
    await new Promise<void>((resolve) => s.write(p, () => resolve()));
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

function collect(t: SocketTransport, n: number): Promise<Buffer[]> {
  const got: Buffer[] = [];
  return new Promise((resolve) => {
    t.onMessage((b) => {
      got.push(Buffer.from(b));
      if (got.length === n) resolve(got);
    });
  });
}

function closed(t: SocketTransport): Promise<TransportError | null> {
  return new Promise((resolve) => t.onClose(resolve));
}

describe('FrameReader (no socket)', () => {
  it('reassembles any chunking of any frames (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        (bodies, cuts) => {
          const stream = Buffer.concat(bodies.map((b) => frame(Buffer.from(b), 0x8062063001000000n)));
          const got: Buffer[] = [];
          const r = new FrameReader(DEFAULT_MAX_MESSAGE_SIZE, (b) => got.push(Buffer.from(b)));
          for (const piece of split(stream, cuts)) r.push(piece);
          assert.deepEqual(got, bodies.map((b) => Buffer.from(b)));
          assert.equal(r.pending, 0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('byte by byte, including an empty body', () => {
    const bodies = [Buffer.from([1, 2, 3]), Buffer.alloc(0), Buffer.from('hello')];
    const stream = Buffer.concat(bodies.map((b) => frame(b)));
    const got: Buffer[] = [];
    const r = new FrameReader(1024, (b) => got.push(Buffer.from(b)));
    for (let i = 0; i < stream.length; i++) {
      r.push(stream.subarray(i, i + 1));
      if (i < stream.length - 1) assert.ok(r.pending > 0 || got.length > 0);
    }
    assert.deepEqual(got, bodies);
  });

  it('refuses a data_len over the maximum before buffering it', () => {
    const r = new FrameReader(100, () => assert.fail('delivered'));
    assert.throws(() => r.push(frameHeader(101)), (e) => e instanceof TransportError && e.code === 'FRAME_TOO_LARGE');
  });
});

describe('SocketTransport', () => {
  const servers: { close: () => Promise<void> }[] = [];
  after(async () => {
    for (const s of servers) await s.close();
  });

  it('sends header (q 0, big-endian data_len, gc 0) + body, as papi does', async () => {
    const received: Buffer[] = [];
    let done: () => void = () => undefined;
    const all = new Promise<void>((r) => (done = r));
    const s = await server((c) =>
      c.on('data', (d: Buffer) => {
        received.push(d);
        if (Buffer.concat(received).length >= 2 * HEADER_SIZE + 10 + 70) done();
      }),
    );
    servers.push(s);
    const t = new SocketTransport({ path: s.path });
    await t.connect();
    assert.equal(t.isOpen, true);
    const frames = loadSession('api-session-basic');
    const create = frames[0];
    const version = frames[2];
    assert.ok(create && version);
    t.send(create.body);
    t.send(version.body);
    await all;
    assert.deepEqual(Buffer.concat(received), Buffer.concat([create.header, create.body, version.header, version.body]));
    assert.deepEqual(t.stats, { framesIn: 0, framesOut: 2, bytesIn: 0, bytesOut: 2 * HEADER_SIZE + 70 + 10 });
    await t.close();
  });

  it('receives the captured VPP frames (garbage q) in random pieces, in order', async () => {
    const frames = loadSession('api-session-basic').filter((f) => f.dir === 's2c');
    const stream = Buffer.concat(frames.map((f) => Buffer.concat([f.header, f.body])));
    // Cut points: every header boundary ±1 plus random ones, so headers split too.
    const cuts: number[] = [];
    let at = 0;
    for (const f of frames) {
      cuts.push(at + 1, at + 7, at + 15, at + 17);
      at += HEADER_SIZE + f.body.length;
    }
    let x = 12345; // a fixed LCG: the same pieces on every run
    for (let i = 0; i < 200; i++) {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      cuts.push(x % stream.length);
    }
    const pieces = split(stream, cuts);
    const s = await server((c) => void dribble(c, pieces));
    servers.push(s);
    const t = new SocketTransport({ path: s.path });
    const got = collect(t, frames.length);
    await t.connect();
    const bodies = await got;
    assert.equal(bodies.length, frames.length);
    for (let i = 0; i < frames.length; i++) assert.ok(bodies[i]?.equals(frames[i]?.body ?? Buffer.alloc(1)), `frame ${i}`);
    assert.equal(t.stats.framesIn, frames.length);
    assert.equal(t.stats.bytesIn, stream.length);
    await t.close();
  });

  it('a large message (4 MiB) and many small ones in one write', async () => {
    const big = Buffer.alloc(4 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 4) big.writeUInt32BE(i, i);
    const small = Array.from({ length: 500 }, (_, i) => Buffer.from([i & 0xff, 1, 2]));
    const stream = Buffer.concat([frame(big), ...small.map((b) => frame(b))]);
    const s = await server((c) => c.write(stream));
    servers.push(s);
    const t = new SocketTransport({ path: s.path });
    const got = collect(t, 501);
    await t.connect();
    const bodies = await got;
    assert.ok(bodies[0]?.equals(big));
    assert.deepEqual(bodies.slice(1), small);
    await t.close();
  });

  it('an oversize data_len closes with FRAME_TOO_LARGE', async () => {
    const s = await server((c) => c.write(frameHeader(2000)));
    servers.push(s);
    const t = new SocketTransport({ path: s.path, maxMessageSize: 1000 });
    const err = closed(t);
    await t.connect();
    const e = await err;
    assert.equal(e?.code, 'FRAME_TOO_LARGE');
    assert.equal(t.isOpen, false);
    assert.throws(() => t.send(Buffer.from([0, 1])), (x) => x instanceof TransportError && x.code === 'CLOSED');
  });

  it('the peer closing mid-frame is PARTIAL_FRAME; between frames it is a clean close', async () => {
    const cut = await server((c) => c.end(frame(Buffer.from('abcdef')).subarray(0, 20)));
    servers.push(cut);
    const t1 = new SocketTransport({ path: cut.path });
    const e1 = closed(t1);
    await t1.connect();
    assert.equal((await e1)?.code, 'PARTIAL_FRAME');

    const clean = await server((c) => c.end(frame(Buffer.from('abc'))));
    servers.push(clean);
    const t2 = new SocketTransport({ path: clean.path });
    const got = collect(t2, 1);
    const e2 = closed(t2);
    await t2.connect();
    assert.deepEqual(await got, [Buffer.from('abc')]);
    assert.equal(await e2, null);
  });

  it('close() is clean and idempotent; onClose gets null', async () => {
    const s = await server(() => undefined);
    servers.push(s);
    const t = new SocketTransport({ path: s.path });
    const e = closed(t);
    await t.connect();
    await t.close();
    await t.close();
    assert.equal(await e, null);
    await assert.rejects(t.connect(), (x) => x instanceof TransportError && x.code === 'CLOSED');
  });

  it('a callback that throws closes the connection with CALLBACK', async () => {
    const s = await server((c) => c.write(Buffer.concat([frame(Buffer.from('a')), frame(Buffer.from('b'))])));
    servers.push(s);
    const t = new SocketTransport({ path: s.path });
    let calls = 0;
    t.onMessage(() => {
      calls++;
      throw new Error('bug upstairs');
    });
    const e = closed(t);
    await t.connect();
    const err = await e;
    assert.equal(err?.code, 'CALLBACK');
    assert.equal(err?.retriable, false);
    assert.equal(calls, 1);
  });

  it('connecting to a missing socket fails with CONNECT (retriable)', async () => {
    const t = new SocketTransport({ path: path.join(dir, 'nobody.sock') });
    await assert.rejects(t.connect(), (e) => e instanceof TransportError && e.code === 'CONNECT' && e.retriable && /nobody\.sock/.test(e.message));
  });

  it('backpressure: send() turns false while the peer does not read; drained() resolves when it does', async () => {
    const peers: net.Socket[] = [];
    const s = await server((c) => {
      peers.push(c);
      c.pause();
    });
    servers.push(s);
    const t = new SocketTransport({ path: s.path });
    await t.connect();
    const body = Buffer.alloc(64 * 1024, 7);
    let sent = 0;
    while (t.send(body)) {
      sent++;
      if (sent > 10000) assert.fail('send() never reported a full buffer');
    }
    sent++;
    const drained = t.drained();
    assert.equal(peers.length, 1);
    for (const p of peers) p.resume();
    await drained;
    assert.equal(t.stats.framesOut, sent);
    await t.close();
  });
});
