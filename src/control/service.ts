/**
 * What the control API does, without HTTP: read interfaces (state from the binary API, counters
 * from the stats snapshot), configure an interface, read, program and delete routes. The REST
 * server and the CLI's --direct mode both use it. Inputs are validated here (strict prefixes,
 * names resolved to sw_if_index, unknown interfaces 404) before anything is sent to VPP; VPP's
 * failures stay VppApiError / ConnectionError for the caller to map (errors.ts).
 *
 * Routes are programmed with ip_route_add_del, is_multipath false: the route's paths become
 * exactly the ones given (posting the same route again changes nothing). A batch is sent
 * pipelined with the client's requestBatch: one ip_route_add_del per route, through the client's
 * in-flight window, each reply's retval checked.
 */
import type { HealthState, MessageOf, RequestFields, VppClient } from '../binapi/index.js';
import { ConnectionError, FibPathType, IfStatusFlags, VppApiError } from '../binapi/index.js';
import type { StatsClient } from '../stats/index.js';
import { readInterfaceCounters, type Counters } from './counters.js';
import { badRequest, notFound, HttpError } from './errors.js';
import {
  addressUnion,
  apiFamily,
  formatIp,
  formatPrefix,
  fromAddressUnion,
  parseIp,
  parsePrefix,
  PrefixError,
  type IpFamily,
  type IpPrefix,
} from './prefix.js';

/** The part of VppClient the service uses (tests may pass their own). */
export type VppApi = Pick<VppClient, 'request' | 'requestBatch' | 'dump' | 'connected' | 'health'>;

type FibPath = MessageOf<'ip_route_add_del'>['route']['paths'][number];
type ApiPrefix = MessageOf<'ip_route_add_del'>['route']['prefix'];
type InterfaceDetails = MessageOf<'sw_interface_details'>;

const NO_INDEX = 0xffffffff;
const MAX_TABLE_ID = 0xffffffff;

export interface InterfaceView {
  name: string;
  sw_if_index: number;
  admin_up: boolean;
  link_up: boolean;
  mtu: number;
  mac: string;
  addresses: string[];
  /** From the current stats snapshot; null when the stats segment is not readable or has no column for it. */
  counters: Counters | null;
  /** VPP's device type ("dpdk", "Loopback", "memif", ...). */
  dev_type: string;
  /** The parent interface's sw_if_index (itself unless a sub-interface). */
  sup_sw_if_index: number;
  /** Link speed in kbit/s (0: unknown). */
  link_speed: number;
}

export interface InterfaceChange {
  admin_up?: boolean;
  addresses?: string[];
  /** true: the interface's addresses become exactly `addresses` (missing ones are removed). */
  replace_addresses?: boolean;
}

export interface InterfaceChangeResult {
  interface: InterfaceView;
  added: string[];
  removed: string[];
  admin_changed: boolean;
}

export const PATH_TYPES = {
  normal: FibPathType.FIB_API_PATH_TYPE_NORMAL,
  local: FibPathType.FIB_API_PATH_TYPE_LOCAL,
  drop: FibPathType.FIB_API_PATH_TYPE_DROP,
  'udp-encap': FibPathType.FIB_API_PATH_TYPE_UDP_ENCAP,
  'bier-imp': FibPathType.FIB_API_PATH_TYPE_BIER_IMP,
  'icmp-unreachable': FibPathType.FIB_API_PATH_TYPE_ICMP_UNREACH,
  'icmp-prohibit': FibPathType.FIB_API_PATH_TYPE_ICMP_PROHIBIT,
  'source-lookup': FibPathType.FIB_API_PATH_TYPE_SOURCE_LOOKUP,
  dvr: FibPathType.FIB_API_PATH_TYPE_DVR,
  'interface-rx': FibPathType.FIB_API_PATH_TYPE_INTERFACE_RX,
  classify: FibPathType.FIB_API_PATH_TYPE_CLASSIFY,
} as const;

export type PathTypeName = keyof typeof PATH_TYPES;
/** The path types a client may program (the others need fields this API does not take). */
export const PROGRAMMABLE_PATH_TYPES = ['normal', 'drop', 'icmp-unreachable', 'icmp-prohibit'] as const satisfies readonly PathTypeName[];

const PATH_TYPE_NAMES = new Map<number, PathTypeName>(Object.entries(PATH_TYPES).map(([k, v]) => [v, k as PathTypeName]));

export interface PathInput {
  interface?: string | null;
  via?: string | null;
  weight?: number;
  preference?: number;
  type?: PathTypeName;
}

export interface RouteInput {
  prefix: string;
  table?: number;
  paths?: PathInput[];
}

export interface PathView {
  interface: string | null;
  via: string | null;
  weight: number;
  preference: number;
  type: PathTypeName | 'unknown';
  sw_if_index: number | null;
}

export interface RouteView {
  prefix: string;
  table: number;
  paths: PathView[];
  stats_index: number;
}

export interface FailedRoute {
  /** Position in the request's list. */
  index: number;
  route: RouteInput;
  /** VPP's retval name (NO_SUCH_FIB), or bad_request / not_found / vpp_unavailable. */
  error: string;
  message: string;
  retval: number | null;
}

export interface ProgramResult {
  programmed: number;
  failed: FailedRoute[];
  routes_per_second: number;
  duration_ms: number;
}

/** A route checked and resolved, ready for ip_route_add_del. */
export interface ResolvedRoute {
  readonly input: RouteInput;
  readonly prefix: IpPrefix;
  readonly table: number;
  readonly paths: FibPath[];
}

function macText(b: Uint8Array): string {
  return [...b.subarray(0, 6)].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

function apiPrefix(p: IpPrefix): ApiPrefix {
  return { address: { af: apiFamily(p.family), un: addressUnion(p) }, len: p.len };
}

const NO_LABELS: FibPath['label_stack'] = Array.from({ length: 16 }, () => ({ is_uniform: 0, label: 0, ttl: 0, exp: 0 }));

export function checkTable(table: unknown): number {
  if (table === undefined) return 0;
  if (typeof table !== 'number' || !Number.isInteger(table) || table < 0 || table > MAX_TABLE_ID) {
    throw badRequest(`table must be an integer from 0 to ${MAX_TABLE_ID}`);
  }
  return table;
}

/** Parses a table id from a query string ("0".."4294967295", no leading zeros). */
export function parseTableParam(text: string | undefined): number {
  if (text === undefined) return 0;
  if (!/^(?:0|[1-9][0-9]{0,9})$/.test(text) || Number(text) > MAX_TABLE_ID) throw badRequest(`table must be an integer from 0 to ${MAX_TABLE_ID}`);
  return Number(text);
}

export class ControlService {
  constructor(
    private readonly vpp: VppApi,
    private readonly stats?: StatsClient,
  ) {}

  get vppConnected(): boolean {
    return this.vpp.connected;
  }

  get vppHealth(): HealthState {
    return this.vpp.health;
  }

  /** Whether the stats segment can be read now (undefined: no stats client). */
  async statsReadable(): Promise<boolean | undefined> {
    if (!this.stats) return undefined;
    return (await this.stats.directory()) !== undefined;
  }

  // --- interfaces -----------------------------------------------------------------------------

  private dumpInterfaces(nameFilter?: string): Promise<InterfaceDetails[]> {
    return this.vpp.dump('sw_interface_dump', {
      sw_if_index: NO_INDEX,
      name_filter_valid: nameFilter !== undefined,
      name_filter: nameFilter ?? '',
    });
  }

  /** The interface of exactly this name (VPP's name filter is a substring match); 404 otherwise. */
  private async findInterface(name: string): Promise<InterfaceDetails> {
    // VPP's name_filter is a string[64]-sized field in older releases: use it only when it fits.
    const details = Buffer.byteLength(name) < 64 ? await this.dumpInterfaces(name) : await this.dumpInterfaces();
    const found = details.find((d) => d.interface_name === name);
    if (!found) throw notFound(`no interface named ${JSON.stringify(name)}`);
    return found;
  }

  /** name -> sw_if_index for every interface. */
  async interfaceIndex(): Promise<Map<string, number>> {
    const details = await this.dumpInterfaces();
    return new Map(details.map((d) => [d.interface_name, d.sw_if_index]));
  }

  private async addresses(swIfIndex: number): Promise<string[]> {
    const [v4, v6] = await Promise.all([
      this.vpp.dump('ip_address_dump', { sw_if_index: swIfIndex, is_ipv6: false }),
      this.vpp.dump('ip_address_dump', { sw_if_index: swIfIndex, is_ipv6: true }),
    ]);
    const out: string[] = [];
    for (const a of [...v4, ...v6]) {
      const ip = fromAddressUnion(a.prefix.address.af, a.prefix.address.un);
      if (ip) out.push(formatPrefix({ ...ip, len: a.prefix.len }));
    }
    return out;
  }

  private view(d: InterfaceDetails, addresses: string[], counters: Counters | undefined): InterfaceView {
    return {
      name: d.interface_name,
      sw_if_index: d.sw_if_index,
      admin_up: (d.flags & IfStatusFlags.IF_STATUS_API_FLAG_ADMIN_UP) !== 0,
      link_up: (d.flags & IfStatusFlags.IF_STATUS_API_FLAG_LINK_UP) !== 0,
      // mtu[0] is the L3 MTU; a sub-interface without its own shows 0 there: the link's then.
      mtu: d.mtu[0] !== 0 ? d.mtu[0] : d.link_mtu,
      mac: macText(d.l2_address),
      addresses,
      counters: counters ?? null,
      dev_type: d.interface_dev_type,
      sup_sw_if_index: d.sup_sw_if_index,
      link_speed: d.link_speed,
    };
  }

  private async views(details: InterfaceDetails[], withCounters: boolean): Promise<InterfaceView[]> {
    const [addresses, counters] = await Promise.all([
      Promise.all(details.map((d) => this.addresses(d.sw_if_index))),
      withCounters && this.stats ? readInterfaceCounters(this.stats) : Promise.resolve(undefined),
    ]);
    return details.map((d, i) => this.view(d, addresses[i], counters?.get(d.sw_if_index, d.interface_name)));
  }

  async listInterfaces(opts: { counters?: boolean } = {}): Promise<InterfaceView[]> {
    const details = await this.dumpInterfaces();
    details.sort((a, b) => a.sw_if_index - b.sw_if_index);
    return this.views(details, opts.counters ?? true);
  }

  async getInterface(name: string, opts: { counters?: boolean } = {}): Promise<InterfaceView> {
    const d = await this.findInterface(name);
    const [v] = await this.views([d], opts.counters ?? true);
    return v;
  }

  /** Checks a change before anything is sent; returns the addresses in canonical form. */
  static checkInterfaceChange(change: InterfaceChange): { addresses: IpPrefix[] | undefined } {
    if (change.replace_addresses === true && change.addresses === undefined) {
      throw badRequest('replace_addresses needs addresses (an empty list removes every address)');
    }
    if (change.admin_up === undefined && change.addresses === undefined) throw badRequest('nothing to change: give admin_up and/or addresses');
    if (change.addresses === undefined) return { addresses: undefined };
    const seen = new Map<string, IpPrefix>();
    for (const a of change.addresses) {
      let p: IpPrefix;
      try {
        p = parsePrefix(a, { hostBits: 'keep' });
      } catch (e) {
        throw badRequest(`addresses: ${(e as PrefixError).message}`);
      }
      seen.set(formatPrefix(p), p);
    }
    return { addresses: [...seen.values()] };
  }

  /**
   * Applies a change in this order: address removals (replace_addresses), additions, then the
   * admin state. Addresses already there are not added again. Stops at the first VPP error.
   */
  async setInterface(name: string, change: InterfaceChange): Promise<InterfaceChangeResult> {
    const { addresses } = ControlService.checkInterfaceChange(change);
    const d = await this.findInterface(name);
    const sw = d.sw_if_index;
    const added: string[] = [];
    const removed: string[] = [];
    if (addresses !== undefined) {
      const current = await this.addresses(sw);
      const wanted = new Set(addresses.map(formatPrefix));
      if (change.replace_addresses === true) {
        for (const text of current) {
          if (wanted.has(text)) continue;
          const p = parsePrefix(text, { hostBits: 'keep' });
          await this.vpp.request('sw_interface_add_del_address', { sw_if_index: sw, is_add: false, del_all: false, prefix: apiPrefix(p) });
          removed.push(text);
        }
      }
      const have = new Set(current);
      for (const p of addresses) {
        const text = formatPrefix(p);
        if (have.has(text)) continue;
        await this.vpp.request('sw_interface_add_del_address', { sw_if_index: sw, is_add: true, del_all: false, prefix: apiPrefix(p) });
        added.push(text);
      }
    }
    let adminChanged = false;
    if (change.admin_up !== undefined) {
      const up = (d.flags & IfStatusFlags.IF_STATUS_API_FLAG_ADMIN_UP) !== 0;
      if (up !== change.admin_up) {
        await this.vpp.request('sw_interface_set_flags', {
          sw_if_index: sw,
          flags: change.admin_up ? IfStatusFlags.IF_STATUS_API_FLAG_ADMIN_UP : 0,
        });
        adminChanged = true;
      }
    }
    const after = await this.vpp.dump('sw_interface_dump', { sw_if_index: sw, name_filter_valid: false, name_filter: '' });
    const now = after.find((x) => x.sw_if_index === sw);
    if (!now) throw notFound(`interface ${JSON.stringify(name)} went away`);
    const [v] = await this.views([now], true);
    return { interface: v, added, removed, admin_changed: adminChanged };
  }

  // --- routes ---------------------------------------------------------------------------------

  /**
   * Checks one route and resolves its interface names; throws HttpError (400, or 404 for an
   * unknown interface). `ifaces` is the name -> sw_if_index map (interfaceIndex()).
   */
  static resolveRoute(input: RouteInput, ifaces: ReadonlyMap<string, number> | undefined, opts: { needPaths: boolean }): ResolvedRoute {
    if (typeof input !== 'object' || input === null) throw badRequest('a route must be an object');
    let prefix: IpPrefix;
    try {
      prefix = parsePrefix(input.prefix, { hostBits: 'reject' });
    } catch (e) {
      if (e instanceof PrefixError) throw badRequest(`prefix: ${e.message}`);
      throw e;
    }
    const table = checkTable(input.table);
    const inPaths = input.paths ?? [];
    if (opts.needPaths && inPaths.length === 0) throw badRequest('a route needs at least one path');
    const paths = inPaths.map((p, i) => ControlService.resolvePath(p, i, prefix.family, table, ifaces));
    return { input, prefix, table, paths };
  }

  private static resolvePath(p: PathInput, i: number, family: IpFamily, table: number, ifaces: ReadonlyMap<string, number> | undefined): FibPath {
    const where = `paths[${i}]`;
    const typeName = p.type ?? 'normal';
    if (!(PROGRAMMABLE_PATH_TYPES as readonly string[]).includes(typeName)) {
      throw badRequest(`${where}.type must be one of ${PROGRAMMABLE_PATH_TYPES.join(', ')}`);
    }
    const iface = p.interface ?? undefined;
    const via = p.via ?? undefined;
    if (typeName === 'normal' && iface === undefined && via === undefined) throw badRequest(`${where} needs an interface, a via address or both`);
    let sw = NO_INDEX;
    if (iface !== undefined) {
      const found = ifaces?.get(iface);
      if (found === undefined) throw notFound(`${where}: no interface named ${JSON.stringify(iface)}`);
      sw = found;
    }
    let nh: Buffer = Buffer.alloc(16);
    let proto: number = apiFamily(family);
    if (via !== undefined) {
      try {
        const a = parseIp(via);
        nh = addressUnion(a);
        proto = apiFamily(a.family);
      } catch (e) {
        if (e instanceof PrefixError) throw badRequest(`${where}.via: ${e.message}`);
        throw e;
      }
    }
    const weight = p.weight ?? 1;
    const preference = p.preference ?? 0;
    if (!Number.isInteger(weight) || weight < 1 || weight > 255) throw badRequest(`${where}.weight must be an integer from 1 to 255`);
    if (!Number.isInteger(preference) || preference < 0 || preference > 255) throw badRequest(`${where}.preference must be an integer from 0 to 255`);
    return {
      sw_if_index: sw,
      // A next hop without an interface is resolved in the route's own table.
      table_id: table,
      rpf_id: 0,
      weight,
      preference,
      type: PATH_TYPES[typeName],
      flags: 0,
      proto,
      nh: { address: nh, via_label: 0, obj_id: 0, classify_table_index: 0 },
      n_labels: 0,
      label_stack: NO_LABELS,
    };
  }

  /** Whether any route names an interface (then the name map is needed). */
  static namesInterfaces(routes: readonly RouteInput[]): boolean {
    return routes.some((r) => Array.isArray(r.paths) && r.paths.some((p) => typeof p === 'object' && p !== null && p.interface != null));
  }

  /**
   * Checks every route first; returns the resolved ones and, for the invalid ones, why. Nothing
   * is sent to VPP here.
   */
  async resolveRoutes(routes: readonly RouteInput[]): Promise<{ resolved: ResolvedRoute[]; invalid: FailedRoute[] }> {
    const ifaces = ControlService.namesInterfaces(routes) ? await this.interfaceIndex() : undefined;
    const resolved: ResolvedRoute[] = [];
    const invalid: FailedRoute[] = [];
    routes.forEach((r, index) => {
      try {
        resolved.push(ControlService.resolveRoute(r, ifaces, { needPaths: true }));
      } catch (e) {
        if (!(e instanceof HttpError)) throw e;
        invalid.push({ index, route: r, error: e.code, message: e.message, retval: null });
      }
    });
    return { resolved, invalid };
  }

  private addRoute(r: ResolvedRoute): Promise<unknown> {
    return this.vpp.request('ip_route_add_del', addRequest(r));
  }

  /** Programs one route; VPP's failure is thrown (VppApiError, ConnectionError). */
  async programRoute(r: ResolvedRoute): Promise<ProgramResult> {
    const began = performance.now();
    await this.addRoute(r);
    const ms = performance.now() - began;
    return { programmed: 1, failed: [], routes_per_second: ms > 0 ? Math.round(1000 / ms) : 0, duration_ms: Math.round(ms * 1000) / 1000 };
  }

  /**
   * Programs resolved routes, pipelined: one requestBatch, so the client's window stays full
   * and the batch's timeout runs only while VPP makes no progress on it. Requests go out in the
   * list's order. VPP's failures are listed, not thrown; when the batch cannot be sent at all
   * (VPP not connected) every route fails with that reason.
   */
  async programRoutes(routes: readonly ResolvedRoute[]): Promise<ProgramResult> {
    const began = performance.now();
    const failed: FailedRoute[] = [];
    try {
      const r = await this.vpp.requestBatch('ip_route_add_del', routes.map(addRequest));
      if (r.failed > 0) {
        r.errors.forEach((e, i) => {
          if (e !== undefined) failed.push(failedRoute(i, routes[i].input, e));
        });
      }
    } catch (e) {
      routes.forEach((r, i) => failed.push(failedRoute(i, r.input, e)));
    }
    const ms = performance.now() - began;
    const programmed = routes.length - failed.length;
    return {
      programmed,
      failed,
      routes_per_second: programmed > 0 && ms > 0 ? Math.round((programmed * 1000) / ms) : 0,
      duration_ms: Math.round(ms * 1000) / 1000,
    };
  }

  /** Deletes a route's API paths (ip_route_add_del is_add false). VPP does not say whether it existed. */
  async deleteRoute(prefixText: string, table: number): Promise<{ prefix: string; table: number }> {
    let p: IpPrefix;
    try {
      p = parsePrefix(prefixText, { hostBits: 'reject' });
    } catch (e) {
      if (e instanceof PrefixError) throw badRequest(`prefix: ${e.message}`);
      throw e;
    }
    checkTable(table);
    await this.vpp.request('ip_route_add_del', {
      is_add: false,
      is_multipath: false,
      route: { table_id: table, stats_index: 0, prefix: apiPrefix(p), paths: [] },
    });
    return { prefix: formatPrefix(p), table };
  }

  /** The routes of a table (both families unless one is given); 404 when VPP has no such table. */
  async listRoutes(table: number, family?: IpFamily): Promise<RouteView[]> {
    const tables = await this.vpp.dump('ip_table_dump', {});
    const families = ([4, 6] as const).filter(
      (f) => (family === undefined || family === f) && tables.some((t) => t.table.table_id === table && t.table.is_ip6 === (f === 6)),
    );
    if (families.length === 0) throw notFound(`no ${family === undefined ? 'IPv4 or IPv6' : `IPv${family}`} table ${table}`);
    const [names, ...dumps] = await Promise.all([
      this.dumpInterfaces(),
      ...families.map((f) => this.vpp.dump('ip_route_dump', { table: { table_id: table, is_ip6: f === 6, name: '' } })),
    ]);
    const byIndex = new Map(names.map((d) => [d.sw_if_index, d.interface_name]));
    const out: RouteView[] = [];
    for (const dump of dumps) {
      for (const { route } of dump) {
        const ip = fromAddressUnion(route.prefix.address.af, route.prefix.address.un);
        if (!ip) continue;
        out.push({
          prefix: formatPrefix({ ...ip, len: route.prefix.len }),
          table: route.table_id,
          stats_index: route.stats_index,
          paths: route.paths.map((p) => pathView(p, byIndex)),
        });
      }
    }
    return out;
  }
}

function pathView(p: FibPath, names: ReadonlyMap<number, string>): PathView {
  let via: string | null = null;
  if (p.proto === 0 || p.proto === 1) {
    const ip = fromAddressUnion(p.proto, p.nh.address);
    if (ip && ip.bytes.some((b) => b !== 0)) via = formatIp(ip);
  }
  const sw = p.sw_if_index === NO_INDEX ? null : p.sw_if_index;
  return {
    interface: sw === null ? null : (names.get(sw) ?? null),
    via,
    weight: p.weight,
    preference: p.preference,
    type: PATH_TYPE_NAMES.get(p.type) ?? 'unknown',
    sw_if_index: sw,
  };
}

/** The ip_route_add_del of a resolved route (is_multipath false: its paths become exactly these). */
function addRequest(r: ResolvedRoute): RequestFields<'ip_route_add_del'> {
  return {
    is_add: true,
    is_multipath: false,
    route: { table_id: r.table, stats_index: 0, prefix: apiPrefix(r.prefix), paths: r.paths },
  };
}

export function failedRoute(index: number, route: RouteInput, e: unknown): FailedRoute {
  if (e instanceof VppApiError) return { index, route, error: e.vppName, message: e.message, retval: e.retval };
  if (e instanceof ConnectionError) return { index, route, error: 'vpp_unavailable', message: e.message, retval: null };
  if (e instanceof HttpError) return { index, route, error: e.code, message: e.message, retval: null };
  return { index, route, error: 'internal', message: e instanceof Error ? e.message : String(e), retval: null };
}
