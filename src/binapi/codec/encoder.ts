/*
 * Encoder for VPP binary API message bodies (the bytes after the 16-byte socket header).
 *
 * Wire grammar (vppapigen's packed C structs; VPP byte-swaps them with its generated endian
 * functions, papi and GoVPP write the same bytes):
 *
 *   body        := field*                       packed, no padding, no alignment
 *   u8 | i8     := 1 byte
 *   u16 | i16   := 2 bytes big-endian
 *   u32 | i32   := 4 bytes big-endian           (i* two's complement)
 *   u64 | i64   := 8 bytes big-endian           (bigint in TypeScript)
 *   f64         := 8 bytes IEEE 754 LITTLE-endian: VPP's clib_host_to_net_f64 is the identity
 *                  (vppinfra/byte_order.h), papi packs '=d' and GoVPP LittleEndian, so on the
 *                  x86/arm64 hosts VPP runs on the double goes out in host (little) order
 *   bool        := 1 byte, 0 or 1
 *   string[N]   := N bytes, UTF-8 text NUL-padded; at most N-1 text bytes (VPP keeps a NUL)
 *   string[]    := u32 byte length, then the bytes (no NUL)
 *   T[N]        := N elements back to back (u8[N]: N raw bytes)
 *   T[len_fld]  := the elements only; their count is the earlier field `len_fld`, which the
 *                  generated code writes from the array's length
 *   enum        := its declared enumtype (u8, u16 or u32; u32 when none is declared)
 *   union       := as many bytes as its largest member
 *
 * A small chainable writer with an internal offset over a buffer that grows by doubling
 * (kafkajs src/protocol/encoder.js). Every value is range-checked first, so a bad value is a
 * CodecError naming the field, never a RangeError from Buffer.
 */
import { CodecError } from './errors.js';

const MAX_U64 = (1n << 64n) - 1n;
const MIN_I64 = -(1n << 63n);
const MAX_I64 = (1n << 63n) - 1n;

export class Encoder {
  private buf: Buffer;
  private off = 0;
  /** Where the current message starts in buf (error offsets are relative to it). */
  private base = 0;
  private name: string;

  constructor(what = 'message', initialSize = 64) {
    this.name = what;
    this.buf = Buffer.allocUnsafe(Math.max(16, initialSize));
  }

  /** What is being encoded (a message name), for error messages. */
  get what(): string {
    return this.name;
  }

  /** Bytes written so far. */
  get offset(): number {
    return this.off;
  }

  /**
   * The buffer written into; bytes [0, offset) are the output. It is replaced when the encoder
   * grows, so hold on to it only until the next write.
   */
  get buffer(): Buffer {
    return this.buf;
  }

  /**
   * Starts the next message at the current offset, named `what` for error messages: an encoder
   * that stays alive (a transport's output buffer) encodes many messages one after another.
   */
  begin(what: string): this {
    this.name = what;
    this.base = this.off;
    return this;
  }

  /** Moves the offset back to `offset` (dropping what was written after it). */
  seek(offset: number): this {
    if (!Number.isInteger(offset) || offset < 0 || offset > this.off) throw new RangeError(`seek(${offset}) outside [0, ${this.off}]`);
    this.off = offset;
    if (this.base > offset) this.base = offset;
    return this;
  }

  /** Starts over in `buf` (offset 0): the previous buffer is left to whoever holds it. */
  reset(buf: Buffer): this {
    this.buf = buf;
    this.off = 0;
    this.base = 0;
    return this;
  }

  private ensure(n: number): void {
    if (this.off + n > this.buf.length) this.grow(n);
  }

  /** Replaces the buffer by one at least twice as large with room for n more bytes. */
  private grow(n: number): void {
    const need = this.off + n;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = Buffer.allocUnsafe(size);
    next.set(new Uint8Array(this.buf.buffer, this.buf.byteOffset, this.off), 0);
    this.buf = next;
  }

  /** Throws the INVALID_VALUE for an integer that failed its range check. */
  private int(v: number, min: number, max: number, type: string, field: string): void {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      throw new CodecError('INVALID_VALUE', this.name, this.off - this.base, `${field}: ${String(v)} is not a ${type}`);
    }
  }

  // The integer writers check the range with one bit operation that gives back v exactly when
  // it is an integer of that type ((v >>> 0) === v for u32, and so on; typeof first, so a bigint
  // or a symbol never reaches the operator), then store the bytes themselves: Buffer's
  // write*BE would check the value and the offset again.

  u8(v: number, field = 'u8'): this {
    if (typeof v !== 'number' || (v & 0xff) !== v) this.int(v, 0, 0xff, 'u8', field);
    const o = this.off;
    if (o + 1 > this.buf.length) this.grow(1);
    this.buf[o] = v;
    this.off = o + 1;
    return this;
  }

  i8(v: number, field = 'i8'): this {
    if (typeof v !== 'number' || (v << 24) >> 24 !== v) this.int(v, -0x80, 0x7f, 'i8', field);
    const o = this.off;
    if (o + 1 > this.buf.length) this.grow(1);
    this.buf[o] = v;
    this.off = o + 1;
    return this;
  }

  u16(v: number, field = 'u16'): this {
    if (typeof v !== 'number' || (v & 0xffff) !== v) this.int(v, 0, 0xffff, 'u16', field);
    const o = this.off;
    if (o + 2 > this.buf.length) this.grow(2);
    const b = this.buf;
    b[o] = v >>> 8;
    b[o + 1] = v;
    this.off = o + 2;
    return this;
  }

  i16(v: number, field = 'i16'): this {
    if (typeof v !== 'number' || (v << 16) >> 16 !== v) this.int(v, -0x8000, 0x7fff, 'i16', field);
    const o = this.off;
    if (o + 2 > this.buf.length) this.grow(2);
    const b = this.buf;
    b[o] = v >>> 8;
    b[o + 1] = v;
    this.off = o + 2;
    return this;
  }

  u32(v: number, field = 'u32'): this {
    if (typeof v !== 'number' || v >>> 0 !== v) this.int(v, 0, 0xffffffff, 'u32', field);
    const o = this.off;
    if (o + 4 > this.buf.length) this.grow(4);
    const b = this.buf;
    b[o] = v >>> 24;
    b[o + 1] = v >>> 16;
    b[o + 2] = v >>> 8;
    b[o + 3] = v;
    this.off = o + 4;
    return this;
  }

  i32(v: number, field = 'i32'): this {
    if (typeof v !== 'number' || (v | 0) !== v) this.int(v, -0x80000000, 0x7fffffff, 'i32', field);
    const o = this.off;
    if (o + 4 > this.buf.length) this.grow(4);
    const b = this.buf;
    b[o] = v >>> 24;
    b[o + 1] = v >>> 16;
    b[o + 2] = v >>> 8;
    b[o + 3] = v;
    this.off = o + 4;
    return this;
  }

  u64(v: bigint, field = 'u64'): this {
    if (typeof v !== 'bigint' || v < 0n || v > MAX_U64) {
      throw new CodecError('INVALID_VALUE', this.name, this.off - this.base, `${field}: ${String(v)} is not a u64 bigint`);
    }
    this.ensure(8);
    this.buf.writeBigUInt64BE(v, this.off);
    this.off += 8;
    return this;
  }

  i64(v: bigint, field = 'i64'): this {
    if (typeof v !== 'bigint' || v < MIN_I64 || v > MAX_I64) {
      throw new CodecError('INVALID_VALUE', this.name, this.off - this.base, `${field}: ${String(v)} is not an i64 bigint`);
    }
    this.ensure(8);
    this.buf.writeBigInt64BE(v, this.off);
    this.off += 8;
    return this;
  }

  /** f64 goes out little-endian: see the grammar above. */
  f64(v: number, field = 'f64'): this {
    if (typeof v !== 'number') {
      throw new CodecError('INVALID_VALUE', this.name, this.off - this.base, `${field}: ${String(v)} is not a number`);
    }
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.off);
    this.off += 8;
    return this;
  }

  bool(v: boolean, field = 'bool'): this {
    if (typeof v !== 'boolean') {
      throw new CodecError('INVALID_VALUE', this.name, this.off - this.base, `${field}: ${String(v)} is not a boolean`);
    }
    const o = this.off;
    if (o + 1 > this.buf.length) this.grow(1);
    this.buf[o] = v ? 1 : 0;
    this.off = o + 1;
    return this;
  }

  /** Raw bytes, as they are (a variable-length u8 array; its count was written before). */
  bytes(v: Uint8Array, field = 'bytes'): this {
    if (!(v instanceof Uint8Array)) {
      throw new CodecError('INVALID_VALUE', this.name, this.off - this.base, `${field}: expected a Buffer`);
    }
    this.ensure(v.length);
    this.buf.set(v, this.off);
    this.off += v.length;
    return this;
  }

  /** Bytes [start, end) of `src`, as they are (an already encoded body). */
  raw(src: Buffer, start: number, end: number): this {
    const n = end - start;
    this.ensure(n);
    // TypedArray#set on a view: a builtin, where Buffer#copy is JavaScript that must warm up.
    this.buf.set(new Uint8Array(src.buffer, src.byteOffset + start, n), this.off);
    this.off += n;
    return this;
  }

  /** Exactly n bytes: v, zero-padded when shorter (u8[N], ip4_address, mac_address, unions). */
  fixedBytes(v: Uint8Array, n: number, field = 'bytes'): this {
    if (!(v instanceof Uint8Array)) {
      throw new CodecError('INVALID_VALUE', this.name, this.off - this.base, `${field}: expected a Buffer`);
    }
    if (v.length > n) {
      throw new CodecError('TOO_LONG', this.name, this.off - this.base, `${field}: ${v.length} bytes, the field holds ${n}`);
    }
    this.ensure(n);
    const b = this.buf;
    const o = this.off;
    const len = v.length;
    if (len <= 32) {
      // Address-sized fields: a loop beats the native set() and fill() calls.
      for (let i = 0; i < len; i++) b[o + i] = v[i];
      for (let i = len; i < n; i++) b[o + i] = 0;
    } else {
      b.set(v, o);
      if (len < n) b.fill(0, o + len, o + n);
    }
    this.off = o + n;
    return this;
  }

  /** n zero bytes. */
  zeros(n: number): this {
    this.ensure(n);
    const b = this.buf;
    const o = this.off;
    if (n <= 64) for (let i = 0; i < n; i++) b[o + i] = 0;
    else b.fill(0, o, o + n);
    this.off = o + n;
    return this;
  }

  /** `string x[N]`: the UTF-8 text NUL-padded to N bytes; at most N-1 bytes of text. */
  fixedString(v: string, n: number, field = 'string'): this {
    if (typeof v !== 'string') {
      throw new CodecError('INVALID_VALUE', this.name, this.off - this.base, `${field}: ${String(v)} is not a string`);
    }
    const len = Buffer.byteLength(v, 'utf8');
    if (len > n - 1) {
      throw new CodecError('TOO_LONG', this.name, this.off - this.base, `${field}: ${len} bytes, at most ${n - 1} fit in string[${n}]`);
    }
    this.ensure(n);
    this.buf.write(v, this.off, len, 'utf8');
    this.buf.fill(0, this.off + len, this.off + n);
    this.off += n;
    return this;
  }

  /** `string x[]`: u32 byte length, then the UTF-8 bytes. */
  string(v: string, field = 'string'): this {
    if (typeof v !== 'string') {
      throw new CodecError('INVALID_VALUE', this.name, this.off - this.base, `${field}: ${String(v)} is not a string`);
    }
    const len = Buffer.byteLength(v, 'utf8');
    this.u32(len, field);
    this.ensure(len);
    this.buf.write(v, this.off, len, 'utf8');
    this.off += len;
    return this;
  }

  /**
   * The count field of a variable-length array: the array's length, in the count field's type.
   * An array too long for its count field (more than 255 paths in a u8 n_paths) is TOO_LONG.
   */
  count(type: 'u8' | 'u16' | 'u32', items: { readonly length: number }, field: string): this {
    if (items === null || typeof items !== 'object' || typeof items.length !== 'number') {
      throw new CodecError('INVALID_VALUE', this.name, this.off - this.base, `${field}: expected an array`);
    }
    const max = type === 'u8' ? 0xff : type === 'u16' ? 0xffff : 0xffffffff;
    if (items.length > max) {
      throw new CodecError('TOO_LONG', this.name, this.off - this.base, `${field}: ${items.length} elements, the count is a ${type}`);
    }
    if (type === 'u8') return this.u8(items.length, field);
    if (type === 'u16') return this.u16(items.length, field);
    return this.u32(items.length, field);
  }

  /**
   * Checks that `items` is an array (of exactly `n` elements when given: a fixed array) and
   * returns it, for the caller to write its elements (the generated code loops over them).
   */
  checkArray<T>(items: readonly T[], field: string, n?: number): readonly T[] {
    const checked: unknown = items;
    if (!Array.isArray(checked)) {
      throw new CodecError('INVALID_VALUE', this.name, this.off - this.base, `${field}: expected an array`);
    }
    if (n !== undefined && items.length !== n) {
      throw new CodecError('LENGTH_MISMATCH', this.name, this.off - this.base, `${field}: ${items.length} elements, the field has ${n}`);
    }
    return items;
  }

  /** Each element with `write`; `n`, when given, is the exact element count a fixed array needs. */
  array<T>(items: readonly T[], write: (item: T) => void, field: string, n?: number): this {
    const checked: unknown = items;
    if (!Array.isArray(checked)) {
      throw new CodecError('INVALID_VALUE', this.name, this.off - this.base, `${field}: expected an array`);
    }
    if (n !== undefined && items.length !== n) {
      throw new CodecError('LENGTH_MISMATCH', this.name, this.off - this.base, `${field}: ${items.length} elements, the field has ${n}`);
    }
    for (const item of items) write(item);
    return this;
  }

  /**
   * The encoded bytes. A view of the encoder's buffer (no copy): the encoder is done after this.
   */
  finish(): Buffer {
    return this.buf.subarray(0, this.off);
  }
}
