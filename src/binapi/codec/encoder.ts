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
  /** What is being encoded (a message name), for error messages. */
  readonly what: string;

  constructor(what = 'message', initialSize = 64) {
    this.what = what;
    this.buf = Buffer.allocUnsafe(Math.max(16, initialSize));
  }

  /** Bytes written so far. */
  get offset(): number {
    return this.off;
  }

  private ensure(n: number): void {
    const need = this.off + n;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.off);
    this.buf = next;
  }

  private int(v: number, min: number, max: number, type: string, field: string): void {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      throw new CodecError('INVALID_VALUE', this.what, this.off, `${field}: ${String(v)} is not a ${type}`);
    }
  }

  u8(v: number, field = 'u8'): this {
    this.int(v, 0, 0xff, 'u8', field);
    this.ensure(1);
    this.buf[this.off++] = v;
    return this;
  }

  i8(v: number, field = 'i8'): this {
    this.int(v, -0x80, 0x7f, 'i8', field);
    this.ensure(1);
    this.buf.writeInt8(v, this.off);
    this.off += 1;
    return this;
  }

  u16(v: number, field = 'u16'): this {
    this.int(v, 0, 0xffff, 'u16', field);
    this.ensure(2);
    this.buf.writeUInt16BE(v, this.off);
    this.off += 2;
    return this;
  }

  i16(v: number, field = 'i16'): this {
    this.int(v, -0x8000, 0x7fff, 'i16', field);
    this.ensure(2);
    this.buf.writeInt16BE(v, this.off);
    this.off += 2;
    return this;
  }

  u32(v: number, field = 'u32'): this {
    this.int(v, 0, 0xffffffff, 'u32', field);
    this.ensure(4);
    this.buf.writeUInt32BE(v, this.off);
    this.off += 4;
    return this;
  }

  i32(v: number, field = 'i32'): this {
    this.int(v, -0x80000000, 0x7fffffff, 'i32', field);
    this.ensure(4);
    this.buf.writeInt32BE(v, this.off);
    this.off += 4;
    return this;
  }

  u64(v: bigint, field = 'u64'): this {
    if (typeof v !== 'bigint' || v < 0n || v > MAX_U64) {
      throw new CodecError('INVALID_VALUE', this.what, this.off, `${field}: ${String(v)} is not a u64 bigint`);
    }
    this.ensure(8);
    this.buf.writeBigUInt64BE(v, this.off);
    this.off += 8;
    return this;
  }

  i64(v: bigint, field = 'i64'): this {
    if (typeof v !== 'bigint' || v < MIN_I64 || v > MAX_I64) {
      throw new CodecError('INVALID_VALUE', this.what, this.off, `${field}: ${String(v)} is not an i64 bigint`);
    }
    this.ensure(8);
    this.buf.writeBigInt64BE(v, this.off);
    this.off += 8;
    return this;
  }

  /** f64 goes out little-endian: see the grammar above. */
  f64(v: number, field = 'f64'): this {
    if (typeof v !== 'number') {
      throw new CodecError('INVALID_VALUE', this.what, this.off, `${field}: ${String(v)} is not a number`);
    }
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.off);
    this.off += 8;
    return this;
  }

  bool(v: boolean, field = 'bool'): this {
    if (typeof v !== 'boolean') {
      throw new CodecError('INVALID_VALUE', this.what, this.off, `${field}: ${String(v)} is not a boolean`);
    }
    this.ensure(1);
    this.buf[this.off++] = v ? 1 : 0;
    return this;
  }

  /** Raw bytes, as they are (a variable-length u8 array; its count was written before). */
  bytes(v: Uint8Array, field = 'bytes'): this {
    if (!(v instanceof Uint8Array)) {
      throw new CodecError('INVALID_VALUE', this.what, this.off, `${field}: expected a Buffer`);
    }
    this.ensure(v.length);
    this.buf.set(v, this.off);
    this.off += v.length;
    return this;
  }

  /** Exactly n bytes: v, zero-padded when shorter (u8[N], ip4_address, mac_address, unions). */
  fixedBytes(v: Uint8Array, n: number, field = 'bytes'): this {
    if (!(v instanceof Uint8Array)) {
      throw new CodecError('INVALID_VALUE', this.what, this.off, `${field}: expected a Buffer`);
    }
    if (v.length > n) {
      throw new CodecError('TOO_LONG', this.what, this.off, `${field}: ${v.length} bytes, the field holds ${n}`);
    }
    this.ensure(n);
    this.buf.set(v, this.off);
    this.buf.fill(0, this.off + v.length, this.off + n);
    this.off += n;
    return this;
  }

  /** n zero bytes. */
  zeros(n: number): this {
    this.ensure(n);
    this.buf.fill(0, this.off, this.off + n);
    this.off += n;
    return this;
  }

  /** `string x[N]`: the UTF-8 text NUL-padded to N bytes; at most N-1 bytes of text. */
  fixedString(v: string, n: number, field = 'string'): this {
    if (typeof v !== 'string') {
      throw new CodecError('INVALID_VALUE', this.what, this.off, `${field}: ${String(v)} is not a string`);
    }
    const len = Buffer.byteLength(v, 'utf8');
    if (len > n - 1) {
      throw new CodecError('TOO_LONG', this.what, this.off, `${field}: ${len} bytes, at most ${n - 1} fit in string[${n}]`);
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
      throw new CodecError('INVALID_VALUE', this.what, this.off, `${field}: ${String(v)} is not a string`);
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
      throw new CodecError('INVALID_VALUE', this.what, this.off, `${field}: expected an array`);
    }
    const max = type === 'u8' ? 0xff : type === 'u16' ? 0xffff : 0xffffffff;
    if (items.length > max) {
      throw new CodecError('TOO_LONG', this.what, this.off, `${field}: ${items.length} elements, the count is a ${type}`);
    }
    if (type === 'u8') return this.u8(items.length, field);
    if (type === 'u16') return this.u16(items.length, field);
    return this.u32(items.length, field);
  }

  /** Each element with `write`; `n`, when given, is the exact element count a fixed array needs. */
  array<T>(items: readonly T[], write: (item: T) => void, field: string, n?: number): this {
    const checked: unknown = items;
    if (!Array.isArray(checked)) {
      throw new CodecError('INVALID_VALUE', this.what, this.off, `${field}: expected an array`);
    }
    if (n !== undefined && items.length !== n) {
      throw new CodecError('LENGTH_MISMATCH', this.what, this.off, `${field}: ${items.length} elements, the field has ${n}`);
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
