/**
 * The control API's own strict parser for IPv4/IPv6 addresses and prefixes. Everything a client
 * sends goes through here before anything reaches VPP, so it accepts exactly the textual forms
 * below and nothing else:
 *
 *   IPv4    d.d.d.d, each d 0..255 in decimal, no leading zeros ("010" could be octal), no
 *           fewer or more than four parts ("10.1" is not 10.0.0.1), no hex, no whitespace
 *   IPv6    RFC 4291 section 2.2: eight groups of 1-4 hex digits (either case, leading zeros in a
 *           group allowed), one "::" for a run of at least one zero group, and an IPv4 dotted
 *           quad (rules above) as the last 32 bits; no zone ids ("%eth0"), no brackets
 *   prefix  ADDRESS/LEN, LEN decimal without leading zeros, 0..32 or 0..128; nothing trailing
 *
 * Host bits (bits past LEN set, as in 10.1.2.3/24) are a choice of the caller: a route must name
 * a network ("reject", the control API's choice: the message names the network meant, so a typo
 * such as 10.1.2.0/16 is not silently widened), an interface address keeps them ("keep"), and
 * "normalise" clears them. Errors are PrefixError with a message saying what is wrong.
 */
import { formatIp6 } from '../binapi/address.js';

export type IpFamily = 4 | 6;

export interface IpAddress {
  readonly family: IpFamily;
  /** 4 bytes for IPv4, 16 for IPv6, network order. */
  readonly bytes: Uint8Array;
}

export interface IpPrefix extends IpAddress {
  readonly len: number;
}

export type HostBits = 'reject' | 'normalise' | 'keep';

export class PrefixError extends Error {
  override name = 'PrefixError';
}

/** Longest valid texts: "255.255.255.255" and "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255". */
const MAX_IP4_TEXT = 15;
const MAX_IP6_TEXT = 45;

function quote(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}...` : text);
}

const CODE_0 = 0x30;
const CODE_9 = 0x39;

function isDigit(c: number): boolean {
  return c >= CODE_0 && c <= CODE_9;
}

function hexValue(c: number): number {
  if (c >= CODE_0 && c <= CODE_9) return c - CODE_0;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10; // a-f
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10; // A-F
  return -1;
}

/** One decimal octet: "0".."255", no leading zero, no sign; -1 otherwise. */
function octet(part: string): number {
  if (part.length === 0 || part.length > 3) return -1;
  let n = 0;
  for (let i = 0; i < part.length; i++) {
    const c = part.charCodeAt(i);
    if (!isDigit(c)) return -1;
    n = n * 10 + (c - CODE_0);
  }
  if (part.length > 1 && part.charCodeAt(0) === CODE_0) return -2;
  return n > 255 ? -1 : n;
}

/** Why `text` is not an IPv4 address, or its 4 bytes written into `out` at `at`. */
function ip4Into(text: string, out: Uint8Array, at: number): string | null {
  if (text.length > MAX_IP4_TEXT) return 'too long for an IPv4 address';
  const parts = text.split('.');
  if (parts.length !== 4) return `an IPv4 address has 4 dot-separated parts, not ${parts.length}`;
  for (let i = 0; i < 4; i++) {
    const v = octet(parts[i]);
    if (v === -2) return `leading zero in the part ${quote(parts[i])} (ambiguous: octal or decimal)`;
    if (v < 0) return `${quote(parts[i])} is not a decimal number from 0 to 255`;
    out[at + i] = v;
  }
  return null;
}

/** One IPv6 group: 1-4 hex digits; -1 otherwise. */
function group(part: string): number {
  if (part.length === 0 || part.length > 4) return -1;
  let n = 0;
  for (let i = 0; i < part.length; i++) {
    const v = hexValue(part.charCodeAt(i));
    if (v < 0) return -1;
    n = (n << 4) | v;
  }
  return n;
}

/** The groups of one side of "::" (16-bit values; an IPv4 tail gives two), or an error text. */
function groupsOf(side: string, mayEndInIp4: boolean): number[] | string {
  if (side === '') return [];
  const items = side.split(':');
  const out: number[] = [];
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    if (item.includes('.')) {
      if (!mayEndInIp4 || i !== items.length - 1) return 'an embedded IPv4 address may only end an IPv6 address';
      const b = new Uint8Array(4);
      const why = ip4Into(item, b, 0);
      if (why !== null) return `embedded IPv4 part: ${why}`;
      out.push((b[0] << 8) | b[1], (b[2] << 8) | b[3]);
      continue;
    }
    const g = group(item);
    if (g < 0) return item === '' ? 'empty group (a single ":" where "::" or a group belongs)' : `${quote(item)} is not a group of 1 to 4 hex digits`;
    out.push(g);
  }
  return out;
}

function ip6(text: string): Uint8Array | string {
  if (text.length > MAX_IP6_TEXT) return 'too long for an IPv6 address';
  if (text.includes('%')) return 'zone ids (%...) are not allowed';
  if (text.startsWith('[') || text.endsWith(']')) return 'brackets are not allowed';
  const halves = text.split('::');
  if (halves.length > 2) return '"::" may appear only once';
  const head = groupsOf(halves[0], halves.length === 1);
  if (typeof head === 'string') return head;
  const tail = halves.length === 2 ? groupsOf(halves[1], true) : [];
  if (typeof tail === 'string') return tail;
  const fill = 8 - head.length - tail.length;
  if (halves.length === 2 && fill < 1) return 'too many groups around "::"';
  if (halves.length === 1 && fill !== 0) return `an IPv6 address has 8 groups (or "::"), not ${head.length}`;
  const out = new Uint8Array(16);
  const all = [...head, ...new Array<number>(fill).fill(0), ...tail];
  for (let i = 0; i < 8; i++) {
    out[i * 2] = all[i] >> 8;
    out[i * 2 + 1] = all[i] & 0xff;
  }
  return out;
}

function asciiOnly(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

/** An IPv4 or IPv6 address; throws PrefixError saying what is wrong. */
export function parseIp(text: string): IpAddress {
  if (typeof text !== 'string') throw new PrefixError('an address must be a string');
  if (text.length === 0) throw new PrefixError('empty address');
  if (!asciiOnly(text)) throw new PrefixError(`${quote(text)} contains whitespace, control or non-ASCII characters`);
  if (text.includes(':')) {
    const r = ip6(text);
    if (typeof r === 'string') throw new PrefixError(`${quote(text)} is not an IPv6 address: ${r}`);
    return { family: 6, bytes: r };
  }
  const bytes = new Uint8Array(4);
  const why = ip4Into(text, bytes, 0);
  if (why !== null) throw new PrefixError(`${quote(text)} is not an IPv4 address: ${why}`);
  return { family: 4, bytes };
}

/** parseIp without the exception. */
export function tryParseIp(text: string): IpAddress | undefined {
  try {
    return parseIp(text);
  } catch {
    return undefined;
  }
}

export function maxPrefixLength(family: IpFamily): number {
  return family === 4 ? 32 : 128;
}

/** The prefix with every bit past len cleared. */
export function maskPrefix(p: IpPrefix): IpPrefix {
  const bytes = new Uint8Array(p.bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const bits = Math.min(8, Math.max(0, p.len - i * 8));
    bytes[i] = p.bytes[i] & ((0xff << (8 - bits)) & 0xff);
  }
  return { family: p.family, bytes, len: p.len };
}

/** Whether any bit past len is set (10.1.2.3/24). */
export function hostBitsSet(p: IpPrefix): boolean {
  const m = maskPrefix(p);
  for (let i = 0; i < m.bytes.length; i++) if (m.bytes[i] !== p.bytes[i]) return true;
  return false;
}

/**
 * ADDRESS/LEN; throws PrefixError saying what is wrong. `hostBits` (default "reject"): what to do
 * when bits past LEN are set.
 */
export function parsePrefix(text: string, opts: { hostBits?: HostBits } = {}): IpPrefix {
  if (typeof text !== 'string') throw new PrefixError('a prefix must be a string');
  const slash = text.indexOf('/');
  if (slash < 0) throw new PrefixError(`${quote(text)} is not a prefix: no /length`);
  const addr = parseIp(text.slice(0, slash));
  const lenText = text.slice(slash + 1);
  const max = maxPrefixLength(addr.family);
  let len = 0;
  let ok = lenText.length > 0 && lenText.length <= 3;
  for (let i = 0; ok && i < lenText.length; i++) {
    const c = lenText.charCodeAt(i);
    if (!isDigit(c)) ok = false;
    else len = len * 10 + (c - CODE_0);
  }
  if (ok && lenText.length > 1 && lenText.charCodeAt(0) === CODE_0) ok = false;
  if (!ok || len > max) throw new PrefixError(`${quote(text)}: the prefix length must be a decimal number from 0 to ${max} without leading zeros`);
  const p: IpPrefix = { ...addr, len };
  const policy = opts.hostBits ?? 'reject';
  if (policy === 'keep' || !hostBitsSet(p)) return p;
  const network = maskPrefix(p);
  if (policy === 'normalise') return network;
  throw new PrefixError(`${quote(text)} has host bits set (bits past /${len}); the network is ${formatPrefix(network)}`);
}

/** parsePrefix without the exception. */
export function tryParsePrefix(text: string, opts: { hostBits?: HostBits } = {}): IpPrefix | undefined {
  try {
    return parsePrefix(text, opts);
  } catch {
    return undefined;
  }
}

/** Canonical text: dotted quad, or RFC 5952 IPv6 (lowercase, longest zero run as "::"). */
export function formatIp(a: IpAddress): string {
  if (a.family === 4) return `${a.bytes[0]}.${a.bytes[1]}.${a.bytes[2]}.${a.bytes[3]}`;
  return formatIp6(a.bytes, { mappedDotted: true });
}

export function formatPrefix(p: IpPrefix): string {
  return `${formatIp(p)}/${p.len}`;
}

/** Whether a listen host is a loopback address (127.0.0.0/8, ::1, ::ffff:127.0.0.0/104, "localhost"). */
export function isLoopbackHost(host: string): boolean {
  if (host.toLowerCase() === 'localhost') return true;
  const a = tryParseIp(host);
  if (!a) return false;
  if (a.family === 4) return a.bytes[0] === 127;
  const b = a.bytes;
  const zeros = (from: number, to: number): boolean => b.subarray(from, to).every((x) => x === 0);
  if (zeros(0, 15) && b[15] === 1) return true;
  return zeros(0, 10) && b[10] === 0xff && b[11] === 0xff && b[12] === 127;
}

/** The 16-byte address union of VPP's vl_api_address_t (IPv4 in the first 4 bytes). */
export function addressUnion(a: IpAddress): Buffer {
  const un = Buffer.alloc(16);
  un.set(a.bytes);
  return un;
}

/** VPP's address family code (ADDRESS_IP4 0, ADDRESS_IP6 1). */
export function apiFamily(family: IpFamily): 0 | 1 {
  return family === 4 ? 0 : 1;
}

/** Back from VPP's af and 16-byte union; undefined for an unknown af. */
export function fromAddressUnion(af: number, un: Uint8Array): IpAddress | undefined {
  if (af === 0) return { family: 4, bytes: Uint8Array.from(un.subarray(0, 4)) };
  if (af === 1) return { family: 6, bytes: Uint8Array.from(un.subarray(0, 16)) };
  return undefined;
}

/** Whether two addresses are the same (family and bytes). */
export function sameIp(a: IpAddress, b: IpAddress): boolean {
  if (a.family !== b.family) return false;
  for (let i = 0; i < a.bytes.length; i++) if (a.bytes[i] !== b.bytes[i]) return false;
  return true;
}
