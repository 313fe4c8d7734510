/**
 * `vpp-exporter routes add|del|list` and `vpp-exporter interfaces list|set`: a client of the
 * control API (so the action is authenticated, rate-limited and audited there), or, with
 * --direct, of VPP's binary API itself (--api-socket; counters from --stats-socket when it is
 * there). Arguments read like VPP's own CLI:
 *
 *   routes list [table N] [ip4|ip6]
 *   routes add PREFIX [table N] (via ADDR | dev IFNAME | weight W | preference P | type T)...
 *   routes add from FILE            (JSON: one route, {"routes": [...]}, or a list; "-" is stdin)
 *   routes del PREFIX... [table N]
 *   interfaces list [NAME...]
 *   interfaces set NAME [up|down] [address PREFIX]... [replace]
 *
 * In `routes add` every `via` or `dev` that its path already has starts a new path:
 * `routes add 10.1.0.0/24 via 10.0.0.2 dev loop0 via 10.0.0.3 dev loop1` is two paths.
 * Token: --control.token-file or VPP_EXPORTER_CONTROL_TOKEN. URL: --control.url, else
 * http://<control.listen-address>. Exit codes: 0 ok, 1 the action failed (some routes included),
 * 2 bad usage.
 */
import fs from 'node:fs';
import { connectVpp, type VppClient } from '../binapi/index.js';
import { ConfigError, type Config, type ListenAddress } from '../config.js';
import { loadToken } from '../control/auth.js';
import { errorAnswer } from '../control/errors.js';
import { isLoopbackHost } from '../control/prefix.js';
import {
  ControlService,
  PROGRAMMABLE_PATH_TYPES,
  type InterfaceChange,
  type InterfaceChangeResult,
  type InterfaceView,
  type PathInput,
  type PathTypeName,
  type ProgramResult,
  type RouteInput,
  type RouteView,
} from '../control/service.js';
import { StatsClient } from '../stats/index.js';

export interface ControlCliContext {
  config: Config;
  /** The words after the subcommand. */
  args: readonly string[];
  write: (s: string) => void;
  writeErr?: (s: string) => void;
  env?: NodeJS.ProcessEnv;
  /** Reads a route file ("-": stdin). */
  readFile?: (path: string) => string;
}

type RouteBody = RouteInput | { routes: RouteInput[] };

/** What the commands need, over HTTP or directly. */
export interface ControlBackend {
  listInterfaces(): Promise<InterfaceView[]>;
  getInterface(name: string): Promise<InterfaceView>;
  setInterface(name: string, change: InterfaceChange): Promise<InterfaceChangeResult>;
  listRoutes(table: number, family: 4 | 6 | undefined): Promise<RouteView[]>;
  addRoutes(body: RouteBody): Promise<ProgramResult>;
  deleteRoute(prefix: string, table: number): Promise<{ deleted: string; table: number }>;
  close(): Promise<void>;
}

/** An error answer from the control API (or the same mapping of a direct call's error). */
export class ControlCliError extends Error {
  override name = 'ControlCliError';
  constructor(
    readonly status: number,
    readonly body: { error: string; message: string; [k: string]: unknown },
  ) {
    super(`${body.error}: ${body.message}`);
  }
}

const COMMANDS_USAGE = `Usage:
  vpp-exporter routes list [table N] [ip4|ip6]
  vpp-exporter routes add PREFIX [table N] (via ADDR | dev IFNAME | weight W | preference P | type ${PROGRAMMABLE_PATH_TYPES.join('|')})...
  vpp-exporter routes add from FILE|-
  vpp-exporter routes del PREFIX... [table N]
  vpp-exporter interfaces list [NAME...]
  vpp-exporter interfaces set NAME [up|down] [address PREFIX]... [replace]
Flags: --control.url URL, --control.token-file FILE (or VPP_EXPORTER_CONTROL_TOKEN), --direct (talk to --api-socket), --json`;

function usage(message: string): ConfigError {
  return new ConfigError(`${message}\n\n${COMMANDS_USAGE}`);
}

// --- backends ---------------------------------------------------------------------------------

const MAX_429_RETRIES = 5;

export function controlUrl(config: Config): string {
  const explicit = config['control.url'];
  if (typeof explicit === 'string' && explicit !== '') return explicit.replace(/\/+$/, '');
  const listen = (config['control.listen-address'] as ListenAddress | undefined) ?? { host: '127.0.0.1', port: 9483 };
  const host = listen.host === '' || listen.host === '0.0.0.0' || listen.host === '::' ? '127.0.0.1' : listen.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${listen.port}`;
}

export class HttpBackend implements ControlBackend {
  constructor(
    private readonly base: string,
    private readonly token: string | undefined,
  ) {
    const u = new URL(base);
    if (u.protocol === 'http:' && token !== undefined && !isLoopbackHost(u.hostname.replace(/^\[|\]$/g, ''))) {
      throw new ConfigError(`--control.url ${base}: refusing to send the token in clear text to a non-loopback address; use https://`);
    }
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { accept: 'application/json' };
      if (this.token !== undefined) headers.authorization = `Bearer ${this.token}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      let res: Response;
      try {
        res = await fetch(`${this.base}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
      } catch (e) {
        const cause = (e as Error & { cause?: Error }).cause;
        throw new ControlCliError(0, { error: 'unreachable', message: `cannot reach the control API at ${this.base}: ${cause?.message ?? (e as Error).message}` });
      }
      const text = await res.text();
      if (res.status === 429 && attempt < MAX_429_RETRIES) {
        const wait = Math.min(30, Number(res.headers.get('retry-after') ?? '1') || 1);
        await new Promise((r) => setTimeout(r, wait * 1000));
        continue;
      }
      let parsed: unknown;
      try {
        parsed = text === '' ? {} : JSON.parse(text);
      } catch {
        throw new ControlCliError(res.status, { error: 'bad_answer', message: `HTTP ${res.status}: ${text.slice(0, 200)}` });
      }
      if (!res.ok) {
        const b = parsed as { error?: unknown; message?: unknown };
        throw new ControlCliError(res.status, {
          ...(parsed as Record<string, unknown>),
          error: typeof b.error === 'string' ? b.error : `http_${res.status}`,
          message: typeof b.message === 'string' ? b.message : `HTTP ${res.status}`,
        });
      }
      return parsed as T;
    }
  }

  async listInterfaces(): Promise<InterfaceView[]> {
    return (await this.call<{ interfaces: InterfaceView[] }>('GET', '/interfaces')).interfaces;
  }

  getInterface(name: string): Promise<InterfaceView> {
    return this.call('GET', `/interfaces/${encodeURIComponent(name)}`);
  }

  setInterface(name: string, change: InterfaceChange): Promise<InterfaceChangeResult> {
    return this.call('PUT', `/interfaces/${encodeURIComponent(name)}`, change);
  }

  async listRoutes(table: number, family: 4 | 6 | undefined): Promise<RouteView[]> {
    const q = `?table=${table}${family === undefined ? '' : `&family=ip${family}`}`;
    return (await this.call<{ routes: RouteView[] }>('GET', `/routes${q}`)).routes;
  }

  addRoutes(body: RouteBody): Promise<ProgramResult> {
    return this.call('POST', '/routes', body);
  }

  deleteRoute(prefix: string, table: number): Promise<{ deleted: string; table: number }> {
    return this.call('DELETE', `/routes/${encodeURIComponent(prefix)}?table=${table}`);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** The same operations straight on VPP's binary API (no audit: the caller has the API socket). */
export class DirectBackend implements ControlBackend {
  private readonly service: ControlService;

  constructor(
    private readonly vpp: VppClient,
    private readonly stats: StatsClient | undefined,
  ) {
    this.service = new ControlService(vpp, stats);
  }

  static async connect(config: Config): Promise<DirectBackend> {
    const vpp = await connectVpp({ socketPath: config['api-socket'], clientName: 'vpp-exporter-cli', healthIntervalMs: 0 });
    const statsSocket = config['stats-socket'];
    const stats = fs.existsSync(statsSocket) ? new StatsClient({ socketPath: statsSocket }) : undefined;
    return new DirectBackend(vpp, stats);
  }

  private async wrap<T>(p: Promise<T>): Promise<T> {
    try {
      return await p;
    } catch (e) {
      const a = errorAnswer(e);
      if (a.body.error === 'internal') throw e;
      throw new ControlCliError(a.status, a.body);
    }
  }

  listInterfaces(): Promise<InterfaceView[]> {
    return this.wrap(this.service.listInterfaces());
  }

  getInterface(name: string): Promise<InterfaceView> {
    return this.wrap(this.service.getInterface(name));
  }

  setInterface(name: string, change: InterfaceChange): Promise<InterfaceChangeResult> {
    return this.wrap(this.service.setInterface(name, change));
  }

  listRoutes(table: number, family: 4 | 6 | undefined): Promise<RouteView[]> {
    return this.wrap(this.service.listRoutes(table, family));
  }

  addRoutes(body: RouteBody): Promise<ProgramResult> {
    const batch = 'routes' in body;
    const list = batch ? body.routes : [body];
    return this.wrap(
      (async () => {
        const { resolved, invalid } = await this.service.resolveRoutes(list);
        // One route: its error as the API would answer it (400/404, or VPP's).
        if (!batch && invalid.length > 0) throw new ControlCliError(invalid[0].error === 'not_found' ? 404 : 400, { error: invalid[0].error, message: invalid[0].message });
        if (!batch) return this.service.programRoute(resolved[0]);
        if (invalid.length > 0) {
          throw new ControlCliError(400, {
            error: 'bad_request',
            message: `${invalid.length} of ${list.length} routes are invalid (the first: ${invalid[0].message}); nothing was programmed`,
            failed: invalid,
          });
        }
        return this.service.programRoutes(resolved);
      })(),
    );
  }

  async deleteRoute(prefix: string, table: number): Promise<{ deleted: string; table: number }> {
    const r = await this.wrap(this.service.deleteRoute(prefix, table));
    return { deleted: r.prefix, table: r.table };
  }

  async close(): Promise<void> {
    this.stats?.close();
    await this.vpp.close();
  }
}

async function openBackend(ctx: ControlCliContext): Promise<ControlBackend> {
  if (ctx.config.direct === true) return DirectBackend.connect(ctx.config);
  const tokenFile = ctx.config['control.token-file'];
  const token = loadToken(typeof tokenFile === 'string' ? tokenFile : undefined, ctx.env ?? process.env);
  return new HttpBackend(controlUrl(ctx.config), token);
}

// --- argument parsing -------------------------------------------------------------------------

function uint(word: string, value: string | undefined, max: number): number {
  if (value === undefined || !/^(?:0|[1-9][0-9]*)$/.test(value) || Number(value) > max) throw usage(`'${word}' needs an integer from 0 to ${max}, got '${value ?? ''}'`);
  return Number(value);
}

/** `table N`, `ip4`/`ip6` out of a routes list/del argument list; the rest is returned. */
function takeTable(args: readonly string[]): { table: number; family: 4 | 6 | undefined; rest: string[] } {
  let table = 0;
  let family: 4 | 6 | undefined;
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === 'table') table = uint('table', args[++i], 0xffffffff);
    else if (a === 'ip4' || a === 'ip6') family = a === 'ip4' ? 4 : 6;
    else rest.push(a);
  }
  return { table, family, rest };
}

/** `PREFIX [table N] (via A | dev IF | weight W | preference P | type T)...` -> one route. */
export function parseRouteArgs(args: readonly string[]): RouteInput {
  const [prefix, ...words] = args;
  if (prefix === undefined) throw usage('routes add: give a prefix');
  let table = 0;
  const paths: PathInput[] = [];
  let cur: PathInput | undefined;
  const path = (key: keyof PathInput): PathInput => {
    if (cur === undefined || cur[key] !== undefined) {
      cur = {};
      paths.push(cur);
    }
    return cur;
  };
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    const value = words[i + 1];
    switch (w) {
      case 'table':
        table = uint(w, value, 0xffffffff);
        i++;
        break;
      case 'via':
        if (value === undefined) throw usage("'via' needs an address");
        path('via').via = value;
        i++;
        break;
      case 'dev':
      case 'interface':
        if (value === undefined) throw usage(`'${w}' needs an interface name`);
        path('interface').interface = value;
        i++;
        break;
      case 'weight':
        path('weight').weight = uint(w, value, 255);
        i++;
        break;
      case 'preference':
        path('preference').preference = uint(w, value, 255);
        i++;
        break;
      case 'type':
        if (value === undefined || !(PROGRAMMABLE_PATH_TYPES as readonly string[]).includes(value)) {
          throw usage(`'type' needs one of ${PROGRAMMABLE_PATH_TYPES.join(', ')}`);
        }
        path('type').type = value as PathTypeName;
        i++;
        break;
      default:
        throw usage(`routes add: unexpected '${w}'`);
    }
  }
  if (paths.length === 0) throw usage('routes add: give at least one path (via ADDR, dev IFNAME or type drop)');
  return { prefix, table, paths };
}

/** A route file: one route, {"routes": [...]}, or a list of routes. */
export function parseRouteFile(text: string, name: string): RouteBody {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw usage(`${name}: not JSON: ${(e as Error).message}`);
  }
  if (Array.isArray(doc)) return { routes: doc as RouteInput[] };
  if (typeof doc === 'object' && doc !== null) return doc as RouteBody;
  throw usage(`${name}: expected a route, {"routes": [...]} or a list of routes`);
}

export function parseInterfaceSet(args: readonly string[]): { name: string; change: InterfaceChange } {
  const [name, ...words] = args;
  if (name === undefined) throw usage('interfaces set: give an interface name');
  const change: InterfaceChange = {};
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if (w === 'up' || w === 'down') change.admin_up = w === 'up';
    else if (w === 'replace') change.replace_addresses = true;
    else if (w === 'address') {
      const v = words[++i];
      if (v === undefined) throw usage("'address' needs a prefix (10.0.0.1/24)");
      (change.addresses ??= []).push(v);
    } else throw usage(`interfaces set: unexpected '${w}'`);
  }
  if (change.replace_addresses === true && change.addresses === undefined) change.addresses = [];
  if (change.admin_up === undefined && change.addresses === undefined) throw usage('interfaces set: nothing to change (up, down, address PREFIX, replace)');
  return { name, change };
}

// --- output -----------------------------------------------------------------------------------

function table(rows: string[][]): string {
  if (rows.length === 0) return '';
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]))).join('  ').trimEnd()).join('\n') + '\n';
}

export function formatInterfaces(list: readonly InterfaceView[]): string {
  const rows = [['IDX', 'NAME', 'ADMIN', 'LINK', 'MTU', 'MAC', 'RX-PACKETS', 'TX-PACKETS', 'DROPS', 'ADDRESSES']];
  for (const i of list) {
    const c = i.counters;
    rows.push([
      String(i.sw_if_index),
      i.name,
      i.admin_up ? 'up' : 'down',
      i.link_up ? 'up' : 'down',
      String(i.mtu),
      i.mac,
      c ? String(c.rx_packets ?? 0) : '-',
      c ? String(c.tx_packets ?? 0) : '-',
      c ? String(c.drops ?? 0) : '-',
      i.addresses.join(' '),
    ]);
  }
  return table(rows);
}

function pathText(p: RouteView['paths'][number]): string {
  const parts: string[] = [];
  if (p.type !== 'normal') parts.push(p.type);
  if (p.via !== null) parts.push(`via ${p.via}`);
  if (p.interface !== null) parts.push(`dev ${p.interface}`);
  else if (p.sw_if_index !== null) parts.push(`sw_if_index ${p.sw_if_index}`);
  if (p.weight !== 1) parts.push(`weight ${p.weight}`);
  if (p.preference !== 0) parts.push(`preference ${p.preference}`);
  return parts.join(' ');
}

export function formatRoutes(list: readonly RouteView[]): string {
  const rows = [['PREFIX', 'TABLE', 'PATHS']];
  for (const r of list) rows.push([r.prefix, String(r.table), r.paths.map(pathText).join(', ')]);
  return table(rows);
}

function formatProgram(r: ProgramResult): string {
  let s = `programmed ${r.programmed} route${r.programmed === 1 ? '' : 's'} (${r.routes_per_second} routes/s)`;
  s += r.failed.length > 0 ? `, ${r.failed.length} failed:\n` : '\n';
  for (const f of r.failed.slice(0, 50)) s += `  ${f.route.prefix}: ${f.error}: ${f.message}\n`;
  if (r.failed.length > 50) s += `  ... and ${r.failed.length - 50} more\n`;
  return s;
}

function json(v: unknown): string {
  return `${JSON.stringify(v, null, 2)}\n`;
}

// --- commands ---------------------------------------------------------------------------------

async function withBackend(ctx: ControlCliContext, run: (b: ControlBackend) => Promise<number>): Promise<number> {
  const backend = await openBackend(ctx);
  const err = ctx.writeErr ?? ((s: string) => process.stderr.write(s));
  try {
    return await run(backend);
  } catch (e) {
    if (!(e instanceof ControlCliError)) throw e;
    err(`vpp-exporter: ${e.message}\n`);
    const failed = e.body.failed;
    if (Array.isArray(failed)) {
      for (const f of failed.slice(0, 20) as { route?: { prefix?: unknown }; message?: unknown }[]) {
        err(`  ${JSON.stringify(f.route?.prefix ?? null)}: ${String(f.message)}\n`);
      }
    }
    return 1;
  } finally {
    await backend.close();
  }
}

/** `vpp-exporter routes <sub> ...`; returns the exit code. Bad usage throws ConfigError (exit 2). */
export async function runRoutesCommand(sub: string | undefined, ctx: ControlCliContext): Promise<number> {
  const asJson = ctx.config.json === true;
  switch (sub) {
    case 'list': {
      const { table: t, family, rest } = takeTable(ctx.args);
      if (rest.length > 0) throw usage(`routes list: unexpected '${rest[0]}'`);
      return withBackend(ctx, async (b) => {
        const routes = await b.listRoutes(t, family);
        ctx.write(asJson ? json({ routes }) : formatRoutes(routes));
        return 0;
      });
    }
    case 'add': {
      let body: RouteBody;
      if (ctx.args[0] === 'from') {
        const file = ctx.args[1];
        if (file === undefined || ctx.args.length > 2) throw usage('routes add from FILE: give one file (or - for stdin)');
        const read = ctx.readFile ?? ((p: string) => fs.readFileSync(p === '-' ? 0 : p, 'utf8'));
        let text: string;
        try {
          text = read(file);
        } catch (e) {
          throw usage(`routes add from ${file}: ${(e as Error).message}`);
        }
        body = parseRouteFile(text, file);
      } else {
        body = parseRouteArgs(ctx.args);
      }
      return withBackend(ctx, async (b) => {
        const r = await b.addRoutes(body);
        ctx.write(asJson ? json(r) : formatProgram(r));
        return r.failed.length > 0 ? 1 : 0;
      });
    }
    case 'del':
    case 'delete': {
      const { table: t, family, rest } = takeTable(ctx.args);
      if (family !== undefined) throw usage('routes del: the family follows from the prefix');
      if (rest.length === 0) throw usage('routes del: give at least one prefix');
      return withBackend(ctx, async (b) => {
        const done: { deleted: string; table: number }[] = [];
        for (const p of rest) done.push(await b.deleteRoute(p, t));
        ctx.write(asJson ? json({ deleted: done }) : done.map((d) => `deleted ${d.deleted} (table ${d.table})\n`).join(''));
        return 0;
      });
    }
    default:
      throw usage(`routes: expected 'list', 'add' or 'del', got '${sub ?? ''}'`);
  }
}

/** `vpp-exporter interfaces <sub> ...`; returns the exit code. Bad usage throws ConfigError (exit 2). */
export async function runInterfacesCommand(sub: string | undefined, ctx: ControlCliContext): Promise<number> {
  const asJson = ctx.config.json === true;
  switch (sub) {
    case 'list':
      return withBackend(ctx, async (b) => {
        const list = ctx.args.length === 0 ? await b.listInterfaces() : await Promise.all(ctx.args.map((n) => b.getInterface(n)));
        ctx.write(asJson ? json({ interfaces: list }) : formatInterfaces(list));
        return 0;
      });
    case 'set': {
      const { name, change } = parseInterfaceSet(ctx.args);
      return withBackend(ctx, async (b) => {
        const r = await b.setInterface(name, change);
        if (asJson) ctx.write(json(r));
        else {
          const what = [
            ...(r.admin_changed ? [`admin ${r.interface.admin_up ? 'up' : 'down'}`] : []),
            ...r.added.map((a) => `+${a}`),
            ...r.removed.map((a) => `-${a}`),
          ];
          ctx.write(`${name}: ${what.length > 0 ? what.join(' ') : 'no change'}\n${formatInterfaces([r.interface])}`);
        }
        return 0;
      });
    }
    default:
      throw usage(`interfaces: expected 'list' or 'set', got '${sub ?? ''}'`);
  }
}

/** The flags these commands take (cli.ts COMMAND_FLAGS; 'direct' and 'control.url' are new options). */
export const CONTROL_CLI_FLAGS = ['config', 'control.url', 'control.listen-address', 'control.token-file', 'direct', 'api-socket', 'stats-socket', 'json', 'log.level'] as const;
