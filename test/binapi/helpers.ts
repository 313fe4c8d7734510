/** Small helpers for the binary API client tests. */
import type { ConnectionEvents, VppClient } from '../../src/binapi/index.js';

/** The next `event` of the client (that passes `filter`), or a rejection after timeoutMs. */
export function nextEvent<K extends keyof ConnectionEvents>(
  vpp: VppClient,
  event: K,
  timeoutMs = 5000,
  filter: (...args: ConnectionEvents[K]) => boolean = () => true,
): Promise<ConnectionEvents[K][0]> {
  return new Promise((resolve, reject) => {
    const listener = (...args: ConnectionEvents[K]): void => {
      if (!filter(...args)) return;
      clearTimeout(timer);
      vpp.off(event, listener);
      resolve(args[0]);
    };
    const timer = setTimeout(() => {
      vpp.off(event, listener);
      reject(new Error(`no '${event}' event within ${timeoutMs} ms`));
    }, timeoutMs);
    vpp.on(event, listener);
  });
}

/** A frame as VPP writes it: q (VPP puts a pointer there), big-endian data_len, gc mark 0. */
export function vppFrame(body: Buffer, dataLen = body.length): Buffer {
  const h = Buffer.alloc(16);
  h.writeBigUInt64BE(0x8062063001000000n, 0);
  h.writeUInt32BE(dataLen, 8);
  return Buffer.concat([h, body]);
}

/** mulberry32: a small seeded PRNG, so that a failing fuzz case can be replayed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
