/** The big-endian encoder and the bounds-checked decoder, byte by byte. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CodecError, Decoder, Encoder, isCodecError, readMsgId } from '../../src/binapi/codec/index.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('Encoder', () => {
  it('writes integers big-endian, chained', () => {
    const e = new Encoder('t', 16);
    const r = e.u8(0x01).u16(0x0203).u32(0x04050607).u64(0x08090a0b0c0d0e0fn).i8(-1).i16(-2).i32(-3).i64(-4n).bool(true).bool(false);
    assert.equal(r, e);
    assert.equal(hex(e.finish()), '01' + '0203' + '04050607' + '08090a0b0c0d0e0f' + 'ff' + 'fffe' + 'fffffffd' + 'fffffffffffffffc' + '01' + '00');
  });

  it('writes f64 little-endian, as VPP (host order), papi and GoVPP do', () => {
    assert.equal(hex(new Encoder().f64(1).finish()), '000000000000f03f');
    assert.equal(hex(new Encoder().f64(-0).finish()), '0000000000000080');
  });

  it('grows by doubling from a small start and keeps what it wrote', () => {
    const e = new Encoder('t', 16);
    for (let i = 0; i < 10000; i++) e.u32(i);
    const b = e.finish();
    assert.equal(b.length, 40000);
    for (let i = 0; i < 10000; i += 997) assert.equal(b.readUInt32BE(i * 4), i);
    assert.equal(e.offset, 40000);
  });

  it('strings: fixed NUL-padded (at most N-1 bytes), variable with a u32 length', () => {
    assert.equal(hex(new Encoder().fixedString('ab', 4).finish()), '61620000');
    assert.equal(hex(new Encoder().fixedString('abc', 4).finish()), '61626300');
    assert.equal(hex(new Encoder().fixedString('é', 4).finish()), 'c3a90000');
    assert.equal(hex(new Encoder().string('abc').finish()), '00000003616263');
    assert.equal(hex(new Encoder().string('').finish()), '00000000');
    assert.throws(() => new Encoder('m').fixedString('abcd', 4, 'name'), (e) => isCodecError(e, 'TOO_LONG') && /name: 4 bytes, at most 3/.test(e.message));
  });

  it('bytes: fixed ones zero-padded, too long refused', () => {
    assert.equal(hex(new Encoder().fixedBytes(Buffer.from([1, 2]), 4).finish()), '01020000');
    assert.equal(hex(new Encoder().bytes(Buffer.from([1, 2])).zeros(2).finish()), '01020000');
    assert.throws(() => new Encoder().fixedBytes(Buffer.alloc(5), 4), (e) => isCodecError(e, 'TOO_LONG'));
    assert.throws(() => new Encoder().fixedBytes('abcd' as unknown as Buffer, 4), (e) => isCodecError(e, 'INVALID_VALUE'));
  });

  it('arrays and counts', () => {
    const e = new Encoder();
    const items = [1, 2, 3];
    e.count('u8', items, 'n').array(items, (x) => e.u16(x), 'items');
    assert.equal(hex(e.finish()), '03000100020003');
    assert.throws(() => new Encoder().array([1], () => undefined, 'mtu', 4), (err) => isCodecError(err, 'LENGTH_MISMATCH'));
    assert.throws(() => new Encoder().count('u8', new Array<number>(256).fill(0), 'n_paths'), (err) => isCodecError(err, 'TOO_LONG'));
    assert.equal(hex(new Encoder().count('u16', new Array<number>(256).fill(0), 'n').finish()), '0100');
  });

  it('refuses values that do not fit, with a CodecError naming the field', () => {
    const bad: [string, (e: Encoder) => void][] = [
      ['u8 256', (e) => e.u8(256, 'f')],
      ['u8 -1', (e) => e.u8(-1, 'f')],
      ['u16 65536', (e) => e.u16(65536, 'f')],
      ['u32 -1', (e) => e.u32(-1, 'f')],
      ['u32 2^32', (e) => e.u32(2 ** 32, 'f')],
      ['u32 1.5', (e) => e.u32(1.5, 'f')],
      ['u32 NaN', (e) => e.u32(NaN, 'f')],
      ['u32 undefined', (e) => e.u32(undefined as unknown as number, 'f')],
      ['i8 128', (e) => e.i8(128, 'f')],
      ['i16 -32769', (e) => e.i16(-32769, 'f')],
      ['i32 2^31', (e) => e.i32(2 ** 31, 'f')],
      ['u64 -1n', (e) => e.u64(-1n, 'f')],
      ['u64 2^64', (e) => e.u64(1n << 64n, 'f')],
      ['u64 number', (e) => e.u64(1 as unknown as bigint, 'f')],
      ['i64 2^63', (e) => e.i64(1n << 63n, 'f')],
      ['bool 1', (e) => e.bool(1 as unknown as boolean, 'f')],
      ['f64 string', (e) => e.f64('1' as unknown as number, 'f')],
      ['string number', (e) => e.string(1 as unknown as string, 'f')],
      ['array non-array', (e) => e.array(1 as unknown as number[], () => undefined, 'f')],
      ['count non-array', (e) => e.count('u32', null as unknown as number[], 'f')],
    ];
    for (const [what, f] of bad) {
      assert.throws(() => f(new Encoder('msg')), (e) => e instanceof CodecError && e.code === 'INVALID_VALUE' && e.what === 'msg' && /^msg: .*f: /.test(e.message), what);
    }
  });
});

describe('Decoder', () => {
  it('reads what the encoder wrote', () => {
    const e = new Encoder();
    e.u8(1).i8(-1).u16(0xfffe).i16(-2).u32(0xfffffffd).i32(-3).u64((1n << 64n) - 1n).i64(-(1n << 63n)).f64(Math.PI).bool(true);
    e.fixedString('loop0', 8).string('x').fixedBytes(Buffer.from([9]), 3);
    const d = new Decoder(e.finish());
    assert.equal(d.u8(), 1);
    assert.equal(d.i8(), -1);
    assert.equal(d.u16(), 0xfffe);
    assert.equal(d.i16(), -2);
    assert.equal(d.u32(), 0xfffffffd);
    assert.equal(d.i32(), -3);
    assert.equal(d.u64(), (1n << 64n) - 1n);
    assert.equal(d.i64(), -(1n << 63n));
    assert.equal(d.f64(), Math.PI);
    assert.equal(d.bool(), true);
    assert.equal(d.fixedString(8), 'loop0');
    assert.equal(d.string(), 'x');
    assert.deepEqual(d.bytes(3), Buffer.from([9, 0, 0]));
    assert.equal(d.remaining, 0);
    d.end();
  });

  it('a fixed string with no NUL is all N bytes; bytes after the NUL are ignored', () => {
    assert.equal(new Decoder(Buffer.from('abcd')).fixedString(4), 'abcd');
    assert.equal(new Decoder(Buffer.from([0x61, 0, 0x62, 0])).fixedString(4), 'a');
    assert.equal(new Decoder(Buffer.from([0xff, 0xfe, 0])).fixedString(3), '\ufffd\ufffd');
  });

  it('any non-zero byte is true', () => {
    assert.equal(new Decoder(Buffer.from([7])).bool(), true);
  });

  it('works on a Uint8Array view and copies bytes out', () => {
    const backing = new Uint8Array([0xaa, 0xbb, 1, 2, 3, 4]);
    const view = backing.subarray(2);
    const d = new Decoder(view);
    const b = d.bytes(2);
    backing[2] = 0xff;
    assert.deepEqual(b, Buffer.from([1, 2]));
    assert.equal(d.u16(), 0x0304);
  });

  it('every read past the end is TRUNCATED with the offset', () => {
    const reads: [string, (d: Decoder) => unknown][] = [
      ['u8', (d) => d.u8()],
      ['i8', (d) => d.i8()],
      ['u16', (d) => d.u16()],
      ['i16', (d) => d.i16()],
      ['u32', (d) => d.u32()],
      ['i32', (d) => d.i32()],
      ['u64', (d) => d.u64()],
      ['i64', (d) => d.i64()],
      ['f64', (d) => d.f64()],
      ['bool', (d) => d.bool()],
      ['bytes', (d) => d.bytes(1)],
      ['fixedString', (d) => d.fixedString(1)],
      ['string', (d) => d.string()],
    ];
    for (const [what, read] of reads) {
      const d = new Decoder(Buffer.alloc(3), 'msg');
      d.u8();
      d.u16();
      assert.throws(() => read(d), (e) => isCodecError(e, 'TRUNCATED') && e.offset === 3 && e.what === 'msg', what);
    }
    const s = new Decoder(Buffer.from([0, 0, 0, 5, 0x61]));
    assert.throws(() => s.string(), (e) => isCodecError(e, 'TRUNCATED') && e.offset === 4);
  });

  it('count() refuses what cannot fit before anything is read', () => {
    const d = new Decoder(Buffer.alloc(10));
    assert.equal(d.count(5, 2), 5);
    assert.equal(d.count(10, 0), 10);
    assert.throws(() => d.count(6, 2), (e) => isCodecError(e, 'TRUNCATED'));
    assert.throws(() => d.count(0xffffffff, 66), (e) => isCodecError(e, 'TRUNCATED'));
    assert.deepEqual(d.array(3, () => d.u8()), [0, 0, 0]);
  });

  it('restCount() and rest() for trailing arrays', () => {
    const d = new Decoder(Buffer.alloc(8));
    assert.equal(d.restCount(4), 2);
    assert.throws(() => d.restCount(3), (e) => isCodecError(e, 'TRUNCATED'));
    assert.equal(d.rest().length, 8);
    d.end();
  });

  it('end() reports bytes left over', () => {
    const d = new Decoder(Buffer.alloc(3), 'm');
    d.u16();
    assert.throws(() => d.end(), (e) => isCodecError(e, 'TRAILING_BYTES') && e.offset === 2);
  });

  it('readMsgId', () => {
    assert.equal(readMsgId(Buffer.from('03880000', 'hex')), 904);
    assert.throws(() => readMsgId(Buffer.from([3])), (e) => isCodecError(e, 'TRUNCATED'));
  });
});
