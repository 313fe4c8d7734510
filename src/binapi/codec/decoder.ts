/*
 * Decoder for VPP binary API message bodies (the bytes after the 16-byte socket header).
 *
 * Wire grammar: the same as encoder.ts (packed, big-endian integers, f64 little-endian,
 * `string[N]` NUL-padded, `string[]` and `T[count_field]` preceded by a count):
 *
 *   body        := field*
 *   string[N]   := N bytes; the text is everything before the first NUL (all N if there is none)
 *   string[]    := u32 length L, then L bytes (L is checked against what is left first)
 *   T[count]    := count elements; count * (smallest element size) is checked against what is
 *                  left before anything is read or allocated, so a garbage count of 0xffffffff
 *                  fails at once instead of looping or allocating gigabytes
 *
 * A chainable reader with an internal offset (kafkajs src/protocol/decoder.js). Every read is
 * bounds-checked first: a truncated or garbage body is a CodecError with code TRUNCATED (or
 * TRAILING_BYTES from end()), never a RangeError from Buffer and never a hang. Text is decoded
 * as UTF-8 with replacement, so garbage text cannot throw either. Byte fields are copied out:
 * a decoded value never shares memory with the socket's receive buffer.
 */
import { CodecError } from './errors.js';

export class Decoder {
  private readonly buf: Buffer;
  private off: number;
  /** What is being decoded (a message name), for error messages. */
  readonly what: string;

  constructor(body: Uint8Array, what = 'message', offset = 0) {
    this.buf = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    this.what = what;
    this.off = offset;
  }

  get offset(): number {
    return this.off;
  }

  get remaining(): number {
    return this.buf.length - this.off;
  }

  private need(n: number, what: string): void {
    if (n > this.buf.length - this.off) {
      throw new CodecError(
        'TRUNCATED',
        this.what,
        this.off,
        `${what} needs ${n} bytes, ${this.buf.length - this.off} left of ${this.buf.length}`,
      );
    }
  }

  u8(): number {
    this.need(1, 'u8');
    return this.buf[this.off++];
  }

  i8(): number {
    this.need(1, 'i8');
    const v = this.buf.readInt8(this.off);
    this.off += 1;
    return v;
  }

  u16(): number {
    this.need(2, 'u16');
    const v = this.buf.readUInt16BE(this.off);
    this.off += 2;
    return v;
  }

  i16(): number {
    this.need(2, 'i16');
    const v = this.buf.readInt16BE(this.off);
    this.off += 2;
    return v;
  }

  u32(): number {
    this.need(4, 'u32');
    const v = this.buf.readUInt32BE(this.off);
    this.off += 4;
    return v;
  }

  i32(): number {
    this.need(4, 'i32');
    const v = this.buf.readInt32BE(this.off);
    this.off += 4;
    return v;
  }

  u64(): bigint {
    this.need(8, 'u64');
    const v = this.buf.readBigUInt64BE(this.off);
    this.off += 8;
    return v;
  }

  i64(): bigint {
    this.need(8, 'i64');
    const v = this.buf.readBigInt64BE(this.off);
    this.off += 8;
    return v;
  }

  /** Little-endian: see encoder.ts. */
  f64(): number {
    this.need(8, 'f64');
    const v = this.buf.readDoubleLE(this.off);
    this.off += 8;
    return v;
  }

  /** Any non-zero byte is true (VPP's C bool). */
  bool(): boolean {
    this.need(1, 'bool');
    return this.buf[this.off++] !== 0;
  }

  /** n bytes, copied out. */
  bytes(n: number): Buffer {
    this.need(n, `${n} bytes`);
    const v = Buffer.from(this.buf.subarray(this.off, this.off + n));
    this.off += n;
    return v;
  }

  /** Everything left, copied out (legacy variable arrays with no count field). */
  rest(): Buffer {
    return this.bytes(this.buf.length - this.off);
  }

  /** `string x[N]`: the text before the first NUL of the N bytes. */
  fixedString(n: number): string {
    this.need(n, `string[${n}]`);
    const start = this.off;
    const nul = this.buf.indexOf(0, start);
    const end = nul === -1 || nul >= start + n ? start + n : nul;
    this.off += n;
    return this.buf.toString('utf8', start, end);
  }

  /** `string x[]`: u32 length, then that many bytes of text. */
  string(): string {
    const len = this.u32();
    this.need(len, `string of ${len} bytes`);
    const v = this.buf.toString('utf8', this.off, this.off + len);
    this.off += len;
    return v;
  }

  /**
   * Checks that `count` elements of at least `minSize` bytes each can fit in what is left, and
   * returns count. Called before a variable-length array is read.
   */
  count(count: number, minSize: number): number {
    this.need(count * Math.max(1, minSize), `${count} array elements of ${minSize}+ bytes`);
    return count;
  }

  /** n elements read with `read`. Callers check n with count() first when it came off the wire. */
  array<T>(n: number, read: () => T): T[] {
    const out = new Array<T>(n);
    for (let i = 0; i < n; i++) out[i] = read();
    return out;
  }

  /** The remaining bytes as elements of `size` bytes each (legacy arrays with no count field). */
  restCount(size: number): number {
    const left = this.buf.length - this.off;
    if (left % size !== 0) {
      throw new CodecError('TRUNCATED', this.what, this.off, `${left} bytes left is not a whole number of ${size}-byte elements`);
    }
    return left / size;
  }

  /** Asserts the body was consumed exactly. */
  end(): void {
    if (this.off !== this.buf.length) {
      throw new CodecError('TRAILING_BYTES', this.what, this.off, `${this.buf.length - this.off} bytes after the last field`);
    }
  }
}

/** The u16 message id at the start of every body (big-endian), for dispatch before decoding. */
export function readMsgId(body: Uint8Array): number {
  if (body.length < 2) {
    throw new CodecError('TRUNCATED', 'message', 0, `a body needs at least the 2-byte message id, got ${body.length}`);
  }
  return (body[0] << 8) | body[1];
}
