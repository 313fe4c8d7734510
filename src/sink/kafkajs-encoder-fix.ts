/**
 * A speed-up for kafkajs 2.2.4's protocol encoder (its last release), applied once when the Kafka
 * transport is loaded. The bytes on the wire stay the same: checked here at load against the
 * original code, and in test/sink/kafkajs-fixes.test.ts against a process running stock kafkajs.
 *
 * kafkajs encodes every record, and every header of every record, into a new Encoder whose
 * constructor takes Buffer.alloc(512): zero-filled, with an ArrayBuffer of its own that the
 * garbage collector must track and sweep. A link event is two records with seven CloudEvents
 * headers each, so a batch of 3000 events made about 50k of them; and each varint went through an
 * array and Buffer.from. (docs/benchmarks.md, "Link events to Kafka": the storm with and without.)
 *
 * What changes:
 * - An Encoder starts with an empty buffer and grows with Buffer.allocUnsafe, which below 4 KiB
 *   cuts from Node's shared pool instead of making an ArrayBuffer each time. Only bytes written
 *   are ever read (`buffer` is `buf.slice(0, offset)`, and so is everything built from it), so the
 *   unwritten tail is never sent.
 * - writeUVarInt writes its bytes in place.
 */
import { createRequire } from 'node:module';

interface EncoderInstance {
  buf: Buffer;
  offset: number;
  readonly buffer: Buffer;
  ensureAvailable: (this: EncoderInstance, length: number) => void;
  writeUVarInt: (this: EncoderInstance, value: number) => EncoderInstance;
  writeVarIntString: (this: EncoderInstance, value: string) => EncoderInstance;
  writeInt32: (this: EncoderInstance, value: number) => EncoderInstance;
  writeBytes: (this: EncoderInstance, value: Buffer) => EncoderInstance;
}

interface EncoderClass {
  new (initialSize?: number): EncoderInstance;
  nextPowerOfTwo: (this: void, value: number) => number;
  prototype: EncoderInstance & { [FIXED]?: true };
}

const FIXED = Symbol.for('vpp-exporter.kafkajs-encoder-fix');

/** Grows to the next power of two at or above `need` (at least 64 bytes). */
function ensureAvailable(this: EncoderInstance, length: number): void {
  const need = this.offset + length;
  if (need <= this.buf.length) return;
  const grown = Buffer.allocUnsafe(need <= 64 ? 64 : 2 ** (32 - Math.clz32(need - 1)));
  this.buf.copy(grown, 0, 0, this.offset);
  this.buf = grown;
}

/** LEB128, as kafkajs writes it (a negative int32 is taken as its unsigned value). */
function writeUVarInt(this: EncoderInstance, value: number): EncoderInstance {
  let bytes = 1;
  for (let v = value; (v & 0xffffff80) !== 0; v >>>= 7) bytes++;
  this.ensureAvailable(bytes);
  while ((value & 0xffffff80) !== 0) {
    this.buf[this.offset++] = (value & 0x7f) | 0x80;
    value >>>= 7;
  }
  this.buf[this.offset++] = value & 0x7f;
  return this;
}

const SAMPLE_VARINTS = [0, 1, 63, 64, 127, 128, 255, 300, 16383, 16384, 2 ** 21 - 1, 2 ** 21, 2 ** 28 - 1, 2 ** 28, 2 ** 31 - 1, -1, -64, -(2 ** 31), 0xffffffff];

/** What a mix of writes produces, for comparing the original encoder with the patched one. */
function sample(Encoder: EncoderClass): Buffer {
  const e = new Encoder();
  for (const v of SAMPLE_VARINTS) e.writeUVarInt(v).writeInt32(v | 0);
  e.writeVarIntString('ce_source').writeBytes(Buffer.alloc(5000, 7)).writeVarIntString('é'.repeat(300));
  const inner = new Encoder().writeVarIntString('key').writeUVarInt(1 << 20);
  return Buffer.concat([e.buffer, inner.buffer]);
}

/** Returns whether the fix is in place (false when kafkajs' encoder is not the one it knows, or gives other bytes). */
export function applyKafkajsEncoderFix(): boolean {
  const require = createRequire(import.meta.url);
  let Encoder: EncoderClass;
  try {
    const version = (require('kafkajs/package.json') as { version: string }).version;
    if (!version.startsWith('2.')) return false;
    Encoder = require('kafkajs/src/protocol/encoder.js') as EncoderClass;
  } catch {
    return false;
  }
  const proto = Encoder.prototype;
  if (proto[FIXED] === true) return true;
  if (typeof Encoder.nextPowerOfTwo !== 'function' || typeof proto.ensureAvailable !== 'function' || typeof proto.writeUVarInt !== 'function') return false;
  const original = { nextPowerOfTwo: Encoder.nextPowerOfTwo, ensureAvailable: proto.ensureAvailable, writeUVarInt: proto.writeUVarInt };
  let expected: Buffer;
  try {
    expected = sample(Encoder);
  } catch {
    return false;
  }
  // The constructor sizes its buffer with nextPowerOfTwo (and so did ensureAvailable, replaced here).
  Encoder.nextPowerOfTwo = () => 0;
  proto.ensureAvailable = ensureAvailable;
  proto.writeUVarInt = writeUVarInt;
  let same = false;
  try {
    same = sample(Encoder).equals(expected);
  } catch {
    same = false;
  }
  if (!same) {
    Encoder.nextPowerOfTwo = original.nextPowerOfTwo;
    proto.ensureAvailable = original.ensureAvailable;
    proto.writeUVarInt = original.writeUVarInt;
    return false;
  }
  proto[FIXED] = true;
  return true;
}
