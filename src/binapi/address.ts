/**
 * Small builders for the API's address types, so that requests read like papi's
 * (`prefix('10.0.0.0/24')` instead of a hand-made 16-byte union). Parsing is strict: no leading
 * zeros, no octal, no zone ids, a prefix length within the family's width, nothing trailing.
 *
 *   vl_api_address_t  := af:u8 un:address_union (16 bytes; ip4 uses the first 4, the rest is 0)
 *   vl_api_prefix_t   := address len:u8
 *   vl_api_fib_path_t := ... nh.address (the same union) ... label_stack[16]
 */
import type { Address, Prefix } from './generated/ip_types.js';
import type { FibPath, FibMplsLabel } from './generated/fib_types.js';

export const ADDRESS_IP4 = 0;
export const ADDRESS_IP6 = 1;

const HEX_GROUP_RE = /^[0-9a-fA-F]{1,4}$/;

// Buffers here come from allocUnsafe, which slices node's shared pool for small sizes; every
// byte is written before they are returned. Buffer.alloc(16) would make an ArrayBuffer of its
// own for each address, and a few of those per route are what the garbage collector notices
// when many routes are built at once.

/**
 * Reads the dotted IPv4 address text[from, to) into out[at, at + 4); false when it is not one:
 * exactly four decimal octets of 0..255, no leading zeros, nothing else. By hand rather than by
 * a pattern: a route built with prefix() and fibPath() parses two addresses, and a program adds
 * routes by the hundred thousand.
 */
function readIp4(text: string, from: number, to: number, out: Uint8Array, at: number): boolean {
  let octets = 0;
  let value = 0;
  let digits = 0;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || octets === 3) return false;
      out[at + octets++] = value;
      value = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && value === 0) return false; // a leading zero
      value = value * 10 + (c - 48);
      if (++digits > 3 || value > 255) return false;
    } else {
      return false;
    }
  }
  if (digits === 0 || octets !== 3) return false;
  out[at + 3] = value;
  return true;
}

function ip4Bytes(text: string): Buffer | null {
  const out = Buffer.allocUnsafe(4);
  return readIp4(text, 0, text.length, out, 0) ? out : null;
}

function ip6Bytes(text: string): Buffer | null {
  if (text.length === 0 || text.length > 45) return null;
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const groups = (part: string): number[] | null => {
    if (part === '') return [];
    const out: number[] = [];
    const items = part.split(':');
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      if (i === items.length - 1 && item.includes('.')) {
        const v4 = ip4Bytes(item);
        if (v4 === null) return null;
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else if (HEX_GROUP_RE.test(item)) {
        out.push(parseInt(item, 16));
      } else {
        return null;
      }
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (head === null || tail === null) return null;
  // An embedded IPv4 part may only end the address.
  if (halves.length === 2 && halves[0].includes('.')) return null;
  const fill = 8 - head.length - tail.length;
  if (halves.length === 2 ? fill < 1 : fill !== 0) return null;
  const all = [...head, ...new Array<number>(fill).fill(0), ...tail];
  const out = Buffer.allocUnsafe(16);
  all.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  return out;
}

/** The 4 or 16 bytes of an IPv4 or IPv6 address in text form; throws a TypeError otherwise. */
export function ipBytes(text: string): Buffer {
  const b = ip4Bytes(text) ?? ip6Bytes(text);
  if (b === null) throw new TypeError(`not an IPv4 or IPv6 address: ${JSON.stringify(text)}`);
  return b;
}

/** The address text[from, to) as vl_api_address_t (one 16-byte buffer for IPv4). */
function addressIn(text: string, from: number, to: number): Address {
  const un = Buffer.allocUnsafe(16);
  if (readIp4(text, from, to, un, 0)) {
    for (let i = 4; i < 16; i++) un[i] = 0;
    return { af: ADDRESS_IP4, un };
  }
  const part = from === 0 && to === text.length ? text : text.slice(from, to);
  const b = ip6Bytes(part);
  if (b === null) throw new TypeError(`not an IPv4 or IPv6 address: ${JSON.stringify(part)}`);
  return { af: ADDRESS_IP6, un: b };
}

/** `192.0.2.1` or `2001:db8::1` -> vl_api_address_t. */
export function address(text: string): Address {
  return addressIn(text, 0, text.length);
}

/** `10.0.0.0/24` or `2001:db8::/48` -> vl_api_prefix_t (host bits are kept: `10.77.0.1/24` is an interface address). */
export function prefix(text: string): Prefix {
  const slash = text.indexOf('/');
  if (slash < 0) throw new TypeError(`not a prefix (no /length): ${JSON.stringify(text)}`);
  const addr = addressIn(text, 0, slash);
  const max = addr.af === ADDRESS_IP4 ? 32 : 128;
  // 0..max in decimal, without leading zeros or anything else.
  let len = 0;
  const digits = text.length - slash - 1;
  let ok = digits >= 1 && digits <= 3;
  for (let i = slash + 1; ok && i < text.length; i++) {
    const c = text.charCodeAt(i);
    ok = c >= 48 && c <= 57 && !(len === 0 && i > slash + 1);
    len = len * 10 + (c - 48);
  }
  if (!ok || len > max) throw new TypeError(`bad prefix length in ${JSON.stringify(text)} (0..${max})`);
  return { address: addr, len };
}

/** `de:ad:00:00:00:42` -> the 6 bytes of a mac_address field. */
export function macAddress(text: string): Buffer {
  if (!/^[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5}$/.test(text)) throw new TypeError(`not a MAC address: ${JSON.stringify(text)}`);
  return Buffer.from(text.replaceAll(':', ''), 'hex');
}

/**
 * 16 address bytes -> RFC 5952 text (lowercase, longest zero run as "::"). With `mappedDotted`,
 * an IPv4-mapped address keeps its IPv4 part dotted (RFC 5952 section 5, the control API's
 * canonical form); without, it is plain hex groups, as the WHATWG URL parser writes it.
 */
export function formatIp6(b: Uint8Array, opts: { mappedDotted?: boolean } = {}): string {
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push((b[i] << 8) | b[i + 1]);
  if (opts.mappedDotted && g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `::ffff:${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  }
  // RFC 5952 section 4.2: compress the longest run of at least two zero groups, the first on a tie.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (xs: number[]): string => xs.map((x) => x.toString(16)).join(':');
  if (best < 0) return hex(g);
  return `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}

/** vl_api_address_t -> text (`192.0.2.1`, `2001:db8::1`). */
export function formatAddress(a: Address): string {
  if (a.af === ADDRESS_IP4) return [...a.un.subarray(0, 4)].join('.');
  if (a.af === ADDRESS_IP6) return formatIp6(a.un);
  throw new TypeError(`unknown address family ${a.af}`);
}

/** vl_api_prefix_t -> text (`10.0.0.0/24`). */
export function formatPrefix(p: Prefix): string {
  return `${formatAddress(p.address)}/${p.len}`;
}

export interface PathSpec {
  /** The next hop, IPv4 or IPv6 text; it sets the path's proto. Omitted: an attached path (all zeros, IPv4). */
  readonly via?: string;
  /** The outgoing interface; default ~0 (none: resolve via the next hop). */
  readonly sw_if_index?: number;
  readonly table_id?: number;
  /** Default 1, as papi's and VPP's CLI. */
  readonly weight?: number;
  readonly preference?: number;
  /** fib_path_type (FibPathType), default NORMAL (0). */
  readonly type?: number;
  /** fib_path_flags (FibPathFlags), default NONE (0). */
  readonly flags?: number;
  /** Out-labels, at most 16 (they set n_labels; the rest of the stack is zeros). Default none. */
  readonly labels?: readonly FibMplsLabel[];
}

const LABEL_STACK = 16;
const NO_LABEL: FibMplsLabel = Object.freeze({ is_uniform: 0, label: 0, ttl: 0, exp: 0 });
// One frozen stack for every path without labels: 16 label objects per path are most of the
// allocation of a route built with fibPath(), and the encoder only reads them.
const NO_LABELS = Object.freeze(new Array<FibMplsLabel>(LABEL_STACK).fill(NO_LABEL)) as FibMplsLabel[];

function labelStack(labels: readonly FibMplsLabel[] | undefined): FibMplsLabel[] {
  if (labels === undefined || labels.length === 0) return NO_LABELS;
  if (labels.length > LABEL_STACK) throw new TypeError(`a fib path has at most ${LABEL_STACK} labels, not ${labels.length}`);
  const out = new Array<FibMplsLabel>(LABEL_STACK).fill(NO_LABEL);
  for (let i = 0; i < labels.length; i++) out[i] = labels[i];
  return out;
}

function zeros16(): Buffer {
  const b = Buffer.allocUnsafe(16);
  for (let i = 0; i < 16; i++) b[i] = 0;
  return b;
}

/**
 * A vl_api_fib_path_t with VPP's defaults: `fibPath({ via: '192.0.2.1', sw_if_index: 1 })`.
 * Without `labels` its label_stack is a shared frozen stack of 16 empty labels: give labels
 * in the spec rather than writing into it.
 */
export function fibPath(spec: PathSpec): FibPath {
  const nh = spec.via === undefined ? null : address(spec.via);
  return {
    sw_if_index: spec.sw_if_index ?? 0xffffffff,
    table_id: spec.table_id ?? 0,
    rpf_id: 0,
    weight: spec.weight ?? 1,
    preference: spec.preference ?? 0,
    type: spec.type ?? 0,
    flags: spec.flags ?? 0,
    proto: nh?.af === ADDRESS_IP6 ? 1 : 0,
    nh: { address: nh?.un ?? zeros16(), via_label: 0, obj_id: 0, classify_table_index: 0 },
    n_labels: spec.labels?.length ?? 0,
    label_stack: labelStack(spec.labels),
  };
}
