/**
 * IP addresses as the simulator's API side needs them: the model keeps interface addresses as text
 * ("10.0.0.1/24", "2001:db8::1/64"), the wire carries `address_union` (16 bytes, an IPv4 address in
 * the first 4). Parsing, canonical formatting (RFC 5952 for IPv6) and prefix arithmetic.
 */
import { formatIp6 } from '../../binapi/address.js';

export const AF_IP4 = 0;
export const AF_IP6 = 1;
export type Af = typeof AF_IP4 | typeof AF_IP6;

export function maxLen(af: Af): number {
  return af === AF_IP4 ? 32 : 128;
}

export function addrBytes(af: Af): number {
  return af === AF_IP4 ? 4 : 16;
}

export interface ParsedPrefix {
  af: Af;
  /** 16 bytes (address_union); IPv4 in bytes 0..3, the rest zero. */
  addr: Buffer;
  len: number;
}

/** "10.0.0.1/24" or "2001:db8::1/64" -> address union and length; undefined when it is not one. */
export function parsePrefix(text: string): ParsedPrefix | undefined {
  const slash = text.lastIndexOf('/');
  if (slash < 0) return undefined;
  const len = Number(text.slice(slash + 1));
  const addr = text.slice(0, slash);
  const af: Af = addr.includes(':') ? AF_IP6 : AF_IP4;
  if (!Number.isInteger(len) || len < 0 || len > maxLen(af)) return undefined;
  const bytes = af === AF_IP4 ? parseIp4(addr) : parseIp6(addr);
  return bytes === undefined ? undefined : { af, addr: bytes, len };
}

function parseIp4(text: string): Buffer | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out = Buffer.alloc(16);
  for (let i = 0; i < 4; i++) {
    if (!/^\d{1,3}$/.test(parts[i])) return undefined;
    const n = Number(parts[i]);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

function parseIp6(text: string): Buffer | undefined {
  let groups: string[];
  const dbl = text.indexOf('::');
  if (dbl >= 0) {
    if (text.indexOf('::', dbl + 1) >= 0) return undefined;
    const head = text.slice(0, dbl) === '' ? [] : text.slice(0, dbl).split(':');
    const tail = text.slice(dbl + 2) === '' ? [] : text.slice(dbl + 2).split(':');
    if (head.length + tail.length > 7) return undefined;
    groups = [...head, ...new Array<string>(8 - head.length - tail.length).fill('0'), ...tail];
  } else {
    groups = text.split(':');
  }
  if (groups.length !== 8) return undefined;
  const out = Buffer.alloc(16);
  for (let i = 0; i < 8; i++) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(groups[i])) return undefined;
    out.writeUInt16BE(parseInt(groups[i], 16), i * 2);
  }
  return out;
}

/** The text of an address union: dotted quad, or RFC 5952 IPv6 (lowercase, longest zero run as ::). */
export function formatAddr(af: Af, addr: Uint8Array): string {
  if (af === AF_IP4) return `${addr[0]}.${addr[1]}.${addr[2]}.${addr[3]}`;
  return formatIp6(addr);
}

export function formatPrefix(af: Af, addr: Uint8Array, len: number): string {
  return `${formatAddr(af, addr)}/${len}`;
}

/** A copy of the 16-byte union with the bits past `len` cleared (and the unused IPv4 tail zeroed). */
export function masked(af: Af, addr: Uint8Array, len: number): Buffer {
  const out = Buffer.alloc(16);
  const n = addrBytes(af);
  for (let i = 0; i < n; i++) {
    const bits = Math.min(8, Math.max(0, len - i * 8));
    out[i] = addr[i] & ((0xff << (8 - bits)) & 0xff);
  }
  return out;
}

/** The address with every bit past `len` set (an IPv4 subnet's broadcast address). */
export function broadcast(af: Af, addr: Uint8Array, len: number): Buffer {
  const out = Buffer.alloc(16);
  const n = addrBytes(af);
  for (let i = 0; i < n; i++) {
    const bits = Math.min(8, Math.max(0, len - i * 8));
    out[i] = addr[i] | (~(0xff << (8 - bits)) & 0xff);
  }
  return out;
}

/** Whether a and b agree on their first `len` bits. */
export function samePrefix(af: Af, a: Uint8Array, b: Uint8Array, len: number): boolean {
  const n = addrBytes(af);
  for (let i = 0; i < n; i++) {
    const bits = Math.min(8, Math.max(0, len - i * 8));
    if (bits === 0) return true;
    const m = (0xff << (8 - bits)) & 0xff;
    if ((a[i] & m) !== (b[i] & m)) return false;
  }
  return true;
}

export function isZero(af: Af, addr: Uint8Array): boolean {
  const n = addrBytes(af);
  for (let i = 0; i < n; i++) if (addr[i] !== 0) return false;
  return true;
}

/** Whether the first `addrBytes(af)` bytes of a and b are equal. */
export function sameAddr(af: Af, a: Uint8Array, b: Uint8Array): boolean {
  const n = addrBytes(af);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}
