/**
 * The simulated VPP's FIB: IPv4 and IPv6 tables by table id, each a map prefix -> entry, shaped
 * after VPP's (vnet/fib) closely enough that ip_route_add_del, ip_route_dump and ip_table_* answer
 * like VPP 26.10 (see README.md in this folder for where it is simpler):
 *
 * - An entry has up to three sources; a dump shows the best one (VPP's source priority):
 *   `iface` (the routes an interface address makes while the interface is admin up: the
 *   connected prefix, the local /32 or /128, and for IPv4 prefixes up to /30 the network and
 *   broadcast /32 drops), then `api` (ip_route_add_del), then `special` (each table's default
 *   entries: 0.0.0.0/0, 0.0.0.0/32, 240.0.0.0/4, 224.0.0.0/4, 255.255.255.255/32 drops; ::/0 drop).
 * - Entries are keyed by the masked prefix (VPP's hash key); an entry's index is its stats_index:
 *   one pool for all tables, freed indices reused last-in first-out like a vppinfra pool, index 0
 *   unused (in the captures 0.0.0.0/0 of table 0 has stats_index 1).
 * - Route programming follows fib_api_route_add_del: without is_multipath an add replaces the
 *   entry's API paths and a delete removes them; with is_multipath paths are added to / removed
 *   from the API path list. Deleting what is not there is not an error (VPP allows it).
 * - Paths are kept as their wire bytes (167 per path, wire.ts): a route add copies them out of the
 *   request, a dump decodes them with the generated codec.
 *
 * The interface routes follow the shared InterfaceModel through its events, so addresses added by
 * any means (topology, tests, sw_interface_add_del_address) show up as VPP's would.
 */
import type { FibPath } from '../../binapi/generated/fib_types.js';
import { messages } from '../../binapi/generated/index.js';
import type { IpRouteAddDel } from '../../binapi/generated/ip.js';
import type { InterfaceModel, InterfaceState } from '../model.js';
import { AF_IP4, AF_IP6, type Af, broadcast, masked, maxLen, parsePrefix, type ParsedPrefix } from './addr.js';
import { decodePaths, encodePath, NO_LABELS, PATH, ROUTE } from './wire.js';

/** Retvals used here (src/binapi/errors.ts; VPP's vnet/error.h). */
export const RV = {
  OK: 0,
  UNSPECIFIED: -1,
  INVALID_SW_IF_INDEX: -2,
  NO_SUCH_FIB: -3,
  INVALID_REGISTRATION: -31,
  NO_PATHS_IN_ROUTE: -52,
  NO_MATCHING_INTERFACE: -54,
  ADDRESS_NOT_FOUND_FOR_INTERFACE: -60,
  IP_PREFIX_INVALID: -88,
  INVALID_ADDRESS_FAMILY: -97,
  ADDRESS_IN_USE: -105,
} as const;

const PATH_TYPE_NORMAL = 0;
const PATH_TYPE_LOCAL = 1;
const PATH_TYPE_DROP = 2;
/** fib_api_path_nh_proto_to_dpo knows 0..4 (ip4, ip6, mpls, ethernet, bier); others are -1. */
const MAX_NH_PROTO = 4;
const NO_INDEX = 0xffffffff;

/** A path as VPP's fib_api_path_encode writes the ones it makes itself, as wire bytes. */
function simplePath(af: Af, type: number, swIfIndex: number, nh: Buffer | null): Buffer {
  return encodePath({
    sw_if_index: swIfIndex,
    table_id: 0,
    rpf_id: 0,
    weight: 1,
    preference: 0,
    type,
    flags: 0,
    proto: af,
    nh: { address: nh ?? Buffer.alloc(16), via_label: 0, obj_id: 0, classify_table_index: 0 },
    n_labels: 0,
    label_stack: NO_LABELS as FibPath['label_stack'],
  });
}

const DROP = [simplePath(AF_IP4, PATH_TYPE_DROP, NO_INDEX, null), simplePath(AF_IP6, PATH_TYPE_DROP, NO_INDEX, null)];

export interface FibEntry {
  /** The stats_index. */
  readonly index: number;
  readonly table: FibTable;
  readonly af: Af;
  /**
   * The 16-byte address union when it is not the key's (interface routes keep the interface's
   * own address; IPv6 keys are strings); null for an IPv4 entry whose address is its masked key.
   * Read it with entryAddr().
   */
  readonly stored: Buffer | null;
  readonly len: number;
  readonly key: number | string;
  /** Each source's paths as wire bytes (n * 167), null when the source has none. */
  iface: Buffer | null;
  api: Buffer | null;
  special: Buffer | null;
}

export class FibTable {
  readonly entries = new Map<number | string, FibEntry>();
  constructor(
    readonly af: Af,
    readonly tableId: number,
    public name: string,
  ) {}

  /** Entries in ip_route_dump order: by prefix length, then address (VPP walks per length). */
  sorted(): FibEntry[] {
    return [...this.entries.values()].sort((a, b) => a.len - b.len || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }
}

/** An entry's prefix address (address union). */
export function entryAddr(e: FibEntry): Buffer {
  if (e.stored) return e.stored;
  const out = Buffer.alloc(16);
  out.writeUInt32BE(Math.floor((e.key as number) / 64), 0);
  return out;
}

/** The key of a prefix: VPP masks the address for its hash key. `addr` is read at `off`. */
export function prefixKey(af: Af, addr: Uint8Array, len: number, off = 0): number | string {
  if (af === AF_IP4) {
    const a = ((addr[off] << 24) | (addr[off + 1] << 16) | (addr[off + 2] << 8) | addr[off + 3]) >>> 0;
    const m = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
    return ((a & m) >>> 0) * 64 + len;
  }
  return `${masked(af, addr.subarray(off, off + 16), len).toString('hex')}/${len}`;
}

/** At most `max` bytes of UTF-8, cut at a character boundary (a `string[64]` field holds 63). */
function fitString(s: string, max: number): string {
  if (Buffer.byteLength(s, 'utf8') <= max) return s;
  let out = '';
  let bytes = 0;
  for (const ch of s) {
    const n = Buffer.byteLength(ch, 'utf8');
    if (bytes + n > max) break;
    out += ch;
    bytes += n;
  }
  return out;
}

function tableKey(af: Af, tableId: number): number {
  return tableId * 2 + af;
}

/** What identifies a path in a path list: everything but weight, preference and labels. */
function pathKey(raw: Buffer, off: number): string {
  return raw.toString('hex', off, off + PATH.weight) + raw.toString('hex', off + PATH.type, off + PATH.nLabels);
}

function splitPaths(raw: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let o = 0; o < raw.length; o += PATH.size) out.push(raw.subarray(o, o + PATH.size));
  return out;
}

/** A route operation's outcome; reused by the caller on the hot path. */
export interface RouteResult {
  retval: number;
  /** The entry's stats_index after an add, ~0 otherwise (VPP's reply). */
  statsIndex: number;
}

interface IfaceRoute {
  af: Af;
  addr: Buffer;
  len: number;
  paths: Buffer;
}

export class Fib {
  private readonly tablesByKey = new Map<number, FibTable>();
  private nextIndex = 1;
  private readonly freeIndices: number[] = [];
  /** The parsed addresses of every interface that has some (for conflict checks). */
  private readonly addresses = new Map<number, ParsedPrefix[]>();
  private apiCount = 0;
  private attached = true;
  /**
   * The path bytes of the last route added: routes programmed in a row mostly share their paths,
   * and then share one copy (VPP shares path-lists between entries too).
   */
  private lastPaths: Buffer | null = null;

  private readonly onCreated = (i: InterfaceState): void => this.follow(null, i);
  private readonly onDeleted = (i: InterfaceState): void => this.follow(i, null);
  private readonly onChanged = (i: InterfaceState, prev: InterfaceState): void => this.follow(prev, i);

  constructor(private readonly model: InterfaceModel) {
    this.addTable(AF_IP4, 0, '');
    this.addTable(AF_IP6, 0, '');
    for (const iface of model.list()) this.follow(null, iface);
    model.on('created', this.onCreated);
    model.on('deleted', this.onDeleted);
    model.on('changed', this.onChanged);
  }

  /** Stops following the model. */
  detach(): void {
    if (!this.attached) return;
    this.attached = false;
    this.model.off('created', this.onCreated);
    this.model.off('deleted', this.onDeleted);
    this.model.off('changed', this.onChanged);
  }

  /** Entries with an API source (routes added by ip_route_add_del and not deleted). */
  get apiRoutes(): number {
    return this.apiCount;
  }

  table(af: Af, tableId: number): FibTable | undefined {
    return this.tablesByKey.get(tableKey(af, tableId));
  }

  /** Every table: IPv4 ones first, then IPv6, each in creation order (ip_table_dump). */
  tables(): FibTable[] {
    const all = [...this.tablesByKey.values()];
    return [...all.filter((t) => t.af === AF_IP4), ...all.filter((t) => t.af === AF_IP6)];
  }

  /** ip_table_create: an existing table is kept (VPP re-locks it); table 0 always exists. */
  addTable(af: Af, tableId: number, name: string): FibTable {
    const existing = this.table(af, tableId);
    if (existing) return existing;
    const t = new FibTable(af, tableId, name !== '' ? fitString(name, 63) : `${af === AF_IP4 ? 'ipv4' : 'ipv6'}-VRF:${tableId}`);
    this.tablesByKey.set(tableKey(af, tableId), t);
    if (af === AF_IP4) {
      for (const [a, len] of [
        [[0, 0, 0, 0], 0],
        [[0, 0, 0, 0], 32],
        [[240, 0, 0, 0], 4],
        [[224, 0, 0, 0], 4],
        [[255, 255, 255, 255], 32],
      ] as const) {
        const addr = Buffer.alloc(16);
        addr.set(a);
        this.entry(t, addr, len).special = DROP[AF_IP4];
      }
    } else {
      this.entry(t, Buffer.alloc(16), 0).special = DROP[AF_IP6];
    }
    return t;
  }

  /** ip_table_delete: ignored for table 0; a missing table is not an error. Its entries go. */
  deleteTable(af: Af, tableId: number): void {
    if (tableId === 0) return;
    const t = this.table(af, tableId);
    if (!t) return;
    for (const e of t.entries.values()) {
      if (e.api) this.apiCount--;
      this.freeIndices.push(e.index);
    }
    t.entries.clear();
    this.tablesByKey.delete(tableKey(af, tableId));
  }

  /** The paths a dump shows (the best source's), decoded by the generated codec. */
  bestPaths(e: FibEntry): FibPath[] {
    const raw = e.iface ?? e.api ?? e.special;
    return raw ? decodePaths(raw) : [];
  }

  /** ip_route_add_del from a decoded message (encoded again by the generated codec). */
  routeAddDel(m: IpRouteAddDel): RouteResult {
    const out: RouteResult = { retval: 0, statsIndex: NO_INDEX };
    this.routeAddDelWire(messages.ip_route_add_del.encode(m, 0), out);
    return out;
  }

  /**
   * ip_route_add_del straight from its wire bytes (layout in wire.ts), with VPP's checks in VPP's
   * order (ip_api.c ip_route_add_del_t_handler, fib_api.c). Returns false for a body too short for
   * its n_paths (VPP drops such a message without a reply); else fills `out`.
   */
  routeAddDelWire(body: Buffer, out: RouteResult): boolean {
    if (body.length < ROUTE.paths) return false;
    const n = body[ROUTE.nPaths];
    const end = ROUTE.paths + n * PATH.size;
    if (body.length < end) return false;
    out.retval = RV.OK;
    out.statsIndex = NO_INDEX;
    const af = body[ROUTE.af];
    const len = body[ROUTE.len];
    // VPP does not check these two (a bad family or length is undefined behaviour there).
    if (af !== AF_IP4 && af !== AF_IP6) {
      out.retval = RV.INVALID_ADDRESS_FAMILY;
      return true;
    }
    if (len > maxLen(af)) {
      out.retval = RV.IP_PREFIX_INVALID;
      return true;
    }
    const table = this.table(af, body.readUInt32BE(ROUTE.tableId));
    if (!table) {
      out.retval = RV.NO_SUCH_FIB;
      return true;
    }
    for (let o = ROUTE.paths; o < end; o += PATH.size) {
      const rv = this.checkPath(body, o);
      if (rv !== 0) {
        out.retval = rv;
        return true;
      }
    }
    const isAdd = body[ROUTE.isAdd] !== 0;
    const multipath = body[ROUTE.isMultipath] !== 0;
    if (n === 0 && (multipath || isAdd)) {
      out.retval = RV.NO_PATHS_IN_ROUTE;
      return true;
    }
    const key = prefixKey(af, body, len, ROUTE.addr);
    if (isAdd) {
      let raw = this.lastPaths;
      if (raw === null || raw.length !== end - ROUTE.paths || body.compare(raw, 0, raw.length, ROUTE.paths, end) !== 0) {
        raw = Buffer.from(body.subarray(ROUTE.paths, end));
        for (let o = 0; o < raw.length; o += PATH.size) if (raw[o + PATH.weight] === 0) raw[o + PATH.weight] = 1;
        this.lastPaths = raw;
      }
      let e = table.entries.get(key);
      if (e === undefined) e = this.entry(table, af === AF_IP4 ? null : masked(af, body.subarray(ROUTE.addr, ROUTE.addr + 16), len), len, key);
      if (e.api === null) {
        this.apiCount++;
        e.api = raw;
      } else if (multipath) {
        const merged = new Map<string, Buffer>();
        for (const p of splitPaths(e.api)) merged.set(pathKey(p, 0), p);
        for (const p of splitPaths(raw)) merged.set(pathKey(p, 0), p);
        e.api = Buffer.concat([...merged.values()]);
      } else {
        e.api = raw;
      }
      out.statsIndex = e.index;
      return true;
    }
    const e = table.entries.get(key);
    if (e?.api) {
      if (multipath) {
        const gone = new Set<string>();
        for (let o = ROUTE.paths; o < end; o += PATH.size) gone.add(pathKey(body, o));
        const left = splitPaths(e.api).filter((p) => !gone.has(pathKey(p, 0)));
        e.api = left.length > 0 ? Buffer.concat(left) : null;
      } else {
        e.api = null;
      }
      if (e.api === null) {
        this.apiCount--;
        this.release(e);
      }
    }
    return true;
  }

  /** fib_api_path_decode's checks for the path kinds a route can have. */
  private checkPath(b: Buffer, o: number): number {
    const proto = b.readUInt32BE(o + PATH.proto);
    if (proto > MAX_NH_PROTO) return RV.UNSPECIFIED;
    if (b.readUInt32BE(o + PATH.type) === PATH_TYPE_NORMAL && (proto === AF_IP4 || proto === AF_IP6)) {
      const sw = b.readUInt32BE(o + PATH.swIfIndex);
      if (sw === NO_INDEX) {
        if (!this.table(proto, b.readUInt32BE(o + PATH.tableId))) return RV.NO_SUCH_FIB;
      } else if (this.model.get(sw) === undefined) {
        return RV.NO_MATCHING_INTERFACE;
      }
    }
    return RV.OK;
  }

  /** The entry of a prefix, made when missing; `addr` null: an IPv4 address equal to its masked key. */
  private entry(table: FibTable, addr: Buffer | null, len: number, key = prefixKey(table.af, addr ?? Buffer.alloc(16), len)): FibEntry {
    const existing = table.entries.get(key);
    if (existing) return existing;
    const e: FibEntry = {
      index: this.freeIndices.pop() ?? this.nextIndex++,
      table,
      af: table.af,
      stored: addr,
      len,
      key,
      iface: null,
      api: null,
      special: null,
    };
    table.entries.set(key, e);
    return e;
  }

  private release(e: FibEntry): void {
    if (e.iface || e.api || e.special) return;
    if (e.table.entries.get(e.key) !== e) return;
    e.table.entries.delete(e.key);
    this.freeIndices.push(e.index);
  }

  // --- interfaces ---------------------------------------------------------------------------

  /** The parsed addresses of every interface, for sw_interface_add_del_address's checks. */
  interfaceAddresses(): ReadonlyMap<number, readonly ParsedPrefix[]> {
    return this.addresses;
  }

  private follow(prev: InterfaceState | null, next: InterfaceState | null): void {
    if (prev && next && prev.adminUp === next.adminUp && prev.addresses === next.addresses) return;
    const sw = (next ?? prev)!.swIfIndex;
    if (next === null || next.addresses.length === 0) this.addresses.delete(sw);
    else this.addresses.set(sw, next.addresses.map(parsePrefix).filter((p): p is ParsedPrefix => p !== undefined));
    const before = prev?.adminUp ? this.routesOf(prev) : [];
    const after = next?.adminUp ? this.routesOf(next) : [];
    const tableOf = (af: Af): FibTable => this.table(af, 0)!;
    const keep = new Set(after.map((r) => `${r.af}:${String(prefixKey(r.af, r.addr, r.len))}`));
    for (const r of before) {
      if (keep.has(`${r.af}:${String(prefixKey(r.af, r.addr, r.len))}`)) continue;
      const e = tableOf(r.af).entries.get(prefixKey(r.af, r.addr, r.len));
      if (e) {
        e.iface = null;
        this.release(e);
      }
    }
    for (const r of after) this.entry(tableOf(r.af), r.addr, r.len).iface = r.paths;
  }

  /** The routes ip4/ip6_add_interface_routes make for an interface's addresses. */
  private routesOf(iface: InterfaceState): IfaceRoute[] {
    const out: IfaceRoute[] = [];
    const sw = iface.swIfIndex;
    for (const text of iface.addresses) {
      const p = parsePrefix(text);
      if (p === undefined) continue;
      const max = maxLen(p.af);
      if (p.len < max) out.push({ af: p.af, addr: p.addr, len: p.len, paths: simplePath(p.af, PATH_TYPE_NORMAL, sw, null) });
      out.push({ af: p.af, addr: p.addr, len: max, paths: simplePath(p.af, PATH_TYPE_LOCAL, sw, p.addr) });
      if (p.af === AF_IP4 && p.len <= 30) {
        out.push({ af: AF_IP4, addr: masked(AF_IP4, p.addr, p.len), len: 32, paths: DROP[AF_IP4] });
        out.push({ af: AF_IP4, addr: broadcast(AF_IP4, p.addr, p.len), len: 32, paths: DROP[AF_IP4] });
      }
    }
    return out;
  }
}
