/**
 * Three speed-ups for kafkajs 2.2.4 (its last release) that must be in place before kafkajs loads,
 * because its modules keep the functions they require: src/sink/kafka.ts imports this module
 * before kafkajs (ES modules run in import order), and so must any entry point that imports
 * kafkajs itself and wants them. Each replaces one kafkajs module in Node's CommonJS cache with a
 * function that gives the same result (checked here against the original before it is used, and
 * in test/sink/kafkajs-fixes.test.ts against a process running stock kafkajs).
 *
 * - producer/groupMessagesPerPartition: it copied a partition's whole array for every message it
 *   added (`[...current, message]`), so a batch of n messages to p partitions cost n^2/2p element
 *   copies, and as much garbage: about 1.7 million for one of our 6500-message batches. Now each
 *   message is pushed once.
 * - protocol/recordBatch/crc32C: every record batch is checksummed (CRC-32C) a byte at a time;
 *   now eight bytes at a time (slicing-by-8 tables), about 3x faster.
 * - protocol/recordBatch/record/v0: each header of a record was encoded into an encoder of its
 *   own and copied into the record's (a link event's two records have seven CloudEvents headers
 *   each); now records whose header values are all strings are written into one encoder, in the
 *   same Kafka record (v2) layout; any other record goes to kafkajs' own function.
 *
 * When kafkajs was loaded before this module, or is not the version it knows, nothing is
 * replaced and `applied` says so (kafkajs then works as it always did, only slower).
 */
import { createRequire } from 'node:module';

interface GroupArgs {
  topic: string;
  partitionMetadata: readonly unknown[];
  messages: readonly unknown[];
  partitioner: (a: { topic: string; partitionMetadata: readonly unknown[]; message: unknown }) => number;
}
type GroupMessages = (a: GroupArgs) => Record<number, unknown[]>;
type Crc32c = (buffer: Buffer) => number;

interface RecordArgs {
  offsetDelta?: number;
  timestampDelta?: unknown;
  key: unknown;
  value: unknown;
  headers?: Record<string, unknown>;
}
type EncodeRecord = (a: RecordArgs) => unknown;

/** The part of kafkajs' Encoder the record encoder uses. */
interface Encoder {
  writeVarInt(v: number): Encoder;
  writeInt8(v: number): Encoder;
  writeVarLong(v: unknown): Encoder;
  writeVarIntBytes(v: unknown): Encoder;
  writeVarIntString(v: string): Encoder;
}
interface EncoderClass {
  new (): Encoder;
  sizeOfVarInt(v: number): number;
  sizeOfVarLong(v: unknown): number;
  sizeOfVarIntBytes(v: unknown): number;
}

/** Messages by partition, in order; the same object kafkajs' version returns. */
export const groupMessagesPerPartition: GroupMessages = ({ topic, partitionMetadata, messages, partitioner }) => {
  const result: Record<number, unknown[]> = {};
  if (partitionMetadata.length === 0) return result;
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message });
    const list = result[partition];
    if (list === undefined) result[partition] = [message];
    else list.push(message);
  }
  return result;
};

/** CRC-32C (Castagnoli, reflected polynomial 0x82f63b78) tables for slicing-by-8. */
const CRC_TABLES = ((): Int32Array[] => {
  const t: Int32Array[] = Array.from({ length: 8 }, () => new Int32Array(256));
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[0][n] = c;
  }
  for (let n = 0; n < 256; n++) for (let k = 1; k < 8; k++) t[k][n] = (t[k - 1][n] >>> 8) ^ t[0][t[k - 1][n] & 0xff];
  return t;
})();

/** CRC-32C of `buffer`, unsigned, as kafkajs' crc32C module returns it. */
export const crc32c: Crc32c = (buffer) => {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = CRC_TABLES;
  let crc = -1;
  let i = 0;
  const end8 = buffer.length - (buffer.length % 8);
  for (; i < end8; i += 8) {
    crc ^= buffer[i] | (buffer[i + 1] << 8) | (buffer[i + 2] << 16) | (buffer[i + 3] << 24);
    crc =
      t7[crc & 0xff] ^
      t6[(crc >>> 8) & 0xff] ^
      t5[(crc >>> 16) & 0xff] ^
      t4[crc >>> 24] ^
      t3[buffer[i + 4]] ^
      t2[buffer[i + 5]] ^
      t1[buffer[i + 6]] ^
      t0[buffer[i + 7]];
  }
  for (; i < buffer.length; i++) crc = t0[(crc ^ buffer[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
};

/**
 * A Kafka record (v2 layout: length, attributes, timestamp delta, offset delta, key, value,
 * headers as key/value pairs) in one encoder; records with a header value other than a string
 * go to `original` (kafkajs' function, which also takes buffers and arrays of values).
 */
export function recordEncoder(Encoder: EncoderClass, original: EncodeRecord): EncodeRecord {
  return (args) => {
    const { offsetDelta = 0, timestampDelta = 0, key, value, headers = {} } = args;
    const names = Object.keys(headers);
    let headersSize = Encoder.sizeOfVarInt(names.length);
    for (const name of names) {
      const v = headers[name];
      if (typeof v !== 'string') return original(args);
      const k = Buffer.byteLength(name);
      const n = Buffer.byteLength(v);
      headersSize += Encoder.sizeOfVarInt(k) + k + Encoder.sizeOfVarInt(n) + n;
    }
    const bodySize =
      1 + Encoder.sizeOfVarLong(timestampDelta) + Encoder.sizeOfVarInt(offsetDelta) + Encoder.sizeOfVarIntBytes(key) + Encoder.sizeOfVarIntBytes(value) + headersSize;
    const e = new Encoder().writeVarInt(bodySize).writeInt8(0).writeVarLong(timestampDelta).writeVarInt(offsetDelta).writeVarIntBytes(key).writeVarIntBytes(value).writeVarInt(names.length);
    for (const name of names) e.writeVarIntString(name).writeVarIntBytes(headers[name]);
    return e;
  };
}

/** Inputs on which a replacement must agree with the original. */
function sameGrouping(original: GroupMessages, replacement: GroupMessages): boolean {
  const messages = Array.from({ length: 200 }, (_, i) => ({ key: `k${i % 37}`, n: i }));
  const partitioner: GroupArgs['partitioner'] = ({ message }) => ((message as { n: number }).n * 7919) % 6;
  const args = { topic: 't', partitionMetadata: [0, 1, 2, 3, 4, 5], messages, partitioner };
  const a = original(args);
  const b = replacement(args);
  const keysA = Object.keys(a);
  if (keysA.join() !== Object.keys(b).join()) return false;
  if (Object.keys(original({ ...args, partitionMetadata: [] })).length !== 0) return false;
  return keysA.every((k) => {
    const x = a[Number(k)];
    const y = b[Number(k)];
    return x.length === y.length && x.every((m, i) => m === y[i]);
  });
}

function sameCrc(original: Crc32c, replacement: Crc32c): boolean {
  const data = Buffer.alloc(1031);
  for (let i = 0; i < data.length; i++) data[i] = (i * 131 + (i >> 3)) & 0xff;
  for (const len of [0, 1, 7, 8, 9, 15, 16, 63, 64, 1000, 1031]) {
    const b = data.subarray(0, len);
    if (original(b) !== replacement(b)) return false;
  }
  return true;
}

function sameRecords(original: EncodeRecord, replacement: EncodeRecord): boolean {
  const bytes = (r: unknown): Buffer => (r as { buffer: Buffer }).buffer;
  const samples: RecordArgs[] = [
    { offsetDelta: 0, timestampDelta: 0, key: 'k', value: '{"a":1}', headers: { ce_id: 'x', 'content-type': 'application/json' } },
    { offsetDelta: 300, timestampDelta: 70000, key: Buffer.from('key'), value: null, headers: { 'ü': 'é'.repeat(100) } },
    { offsetDelta: 5, timestampDelta: 1, key: null, value: 'v'.repeat(5000) },
    { offsetDelta: 1, key: 'k', value: 'v', headers: { a: ['1', '2'], b: Buffer.from('3') } },
  ];
  return samples.every((a) => bytes(original(a)).equals(bytes(replacement(a))));
}

/**
 * Replaces a CommonJS module's exports with what `make` builds from the original, after checking
 * it against the original; only while nothing has loaded that module (its users keep what they got).
 */
function replace<T>(require: NodeJS.Require, id: string, make: (original: T) => T, same: (original: T, replacement: T) => boolean): boolean {
  const file = require.resolve(id);
  const cached = (): NodeJS.Module | undefined => require.cache[file];
  if (cached() !== undefined) return false;
  const original = require(file) as T;
  const loaded = cached();
  if (typeof original !== 'function' || loaded === undefined) return false;
  const replacement = make(original);
  if (!same(original, replacement)) return false;
  loaded.exports = replacement;
  return true;
}

function apply(): { applied: boolean; reason?: string } {
  const require = createRequire(import.meta.url);
  try {
    const version = (require('kafkajs/package.json') as { version: string }).version;
    if (!version.startsWith('2.')) return { applied: false, reason: `kafkajs ${version} is not the 2.x these fixes know` };
    const Encoder = require('kafkajs/src/protocol/encoder.js') as EncoderClass;
    const done = [
      replace<GroupMessages>(require, 'kafkajs/src/producer/groupMessagesPerPartition.js', () => groupMessagesPerPartition, sameGrouping),
      replace<Crc32c>(require, 'kafkajs/src/protocol/recordBatch/crc32C/index.js', () => crc32c, sameCrc),
      replace<EncodeRecord>(require, 'kafkajs/src/protocol/recordBatch/record/v0/index.js', (original) => recordEncoder(Encoder, original), sameRecords),
    ];
    if (done.includes(false)) return { applied: false, reason: 'a kafkajs module was loaded before src/sink/kafkajs-batch-fix.ts, or is not the one these fixes know' };
    return { applied: true };
  } catch (e) {
    return { applied: false, reason: `kafkajs not found: ${(e as Error).message}` };
  }
}

/** Whether all three replacements are in place in this process (and why not, when not). */
export const KAFKAJS_BATCH_FIX: { readonly applied: boolean; readonly reason?: string } = apply();
