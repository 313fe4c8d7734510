/**
 * Event ids: UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then random bits, so ids
 * sort by creation time and never repeat. An id is made once, when the event is accepted, and
 * travels with it through the spool: an event sent again after a crash keeps its id.
 */
import crypto from 'node:crypto';

const POOL_SIZE = 16 * 256;
let pool = Buffer.allocUnsafe(0);
let poolAt = 0;
let lastMs = 0;
let counter = 0;

function random10(): Buffer {
  if (poolAt + 10 > pool.length) {
    pool = crypto.randomBytes(POOL_SIZE);
    poolAt = 0;
  }
  const b = pool.subarray(poolAt, poolAt + 10);
  poolAt += 10;
  return b;
}

/**
 * A new UUIDv7. Within one millisecond the 12-bit rand_a field counts up from a random start
 * (RFC 9562 method 1), so ids made in one process are strictly increasing.
 */
export function uuidv7(now: number = Date.now()): string {
  const r = random10();
  let ms = Math.max(now, lastMs);
  if (ms === lastMs) {
    counter++;
    if (counter > 0xfff) {
      // The counter ran out within this millisecond: borrow the next one.
      ms++;
      counter = r[0] & 0x3ff;
    }
  } else {
    counter = ((r[0] << 8) | r[1]) & 0x3ff; // random start, leaving room to count up
  }
  lastMs = ms;
  const b = Buffer.allocUnsafe(16);
  b.writeUIntBE(ms, 0, 6);
  b[6] = 0x70 | (counter >> 8);
  b[7] = counter & 0xff;
  b[8] = 0x80 | (r[2] & 0x3f);
  r.copy(b, 9, 3, 10);
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export const UUID_V7_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
