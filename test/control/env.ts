/**
 * The control API against the simulator: a VPP simulator with its binary API socket, our binary
 * API client and stats client on it, and startControlApi on a free loopback port.
 */
import path from 'node:path';
import { connectVpp, formatAddress, formatPrefix, type VppClient } from '../../src/binapi/index.js';
import { loadConfig, type Config } from '../../src/config.js';
import { MemoryAuditSink, startControlApi, type AuditSink, type ControlApi, type ControlOptions, type StartControlApiOptions } from '../../src/control/index.js';
import { startStatsSimulator, type StatsSimulatorHandle } from '../../src/sim/index.js';
import { StatsClient } from '../../src/stats/index.js';
import type { WebConfig } from '../../src/web/web-config.js';
import type { Logger } from '../../src/log.js';
import { tmpDir } from '../helpers/paths.js';

export const TOKEN = 'test-token-0123456789abcdef';

export interface ControlEnv {
  sim: StatsSimulatorHandle;
  vpp: VppClient;
  stats: StatsClient;
  audit: MemoryAuditSink;
  api: ControlApi;
  url: string;
  config: Config;
  apiSocket: string;
  statsSocket: string;
  /** fetch with the test token (unless `token` is given: null sends none). */
  call<T = ErrorBody>(method: string, p: string, opts?: CallOptions): Promise<Answer<T>>;
  stop(): Promise<void>;
}

export interface CallOptions {
  body?: unknown;
  raw?: string;
  /** null sends no Authorization header; default the test token. */
  token?: string | null;
  headers?: Record<string, string>;
}

export interface ErrorBody {
  error: string;
  message: string;
  [k: string]: unknown;
}

export interface Answer<T> {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed body (the caller says its shape). */
  json: T;
}

export interface ControlEnvOptions {
  interfaces?: number;
  rate?: number;
  options?: Partial<ControlOptions>;
  /** null: no token at all. */
  token?: string | null;
  web?: WebConfig;
  audit?: AuditSink;
  env?: NodeJS.ProcessEnv;
  config?: Record<string, unknown>;
  withStats?: boolean;
  log?: Logger;
}

export async function startControlEnv(o: ControlEnvOptions = {}): Promise<ControlEnv> {
  const dir = tmpDir('vpp-control-');
  const apiSocket = path.join(dir, 'api.sock');
  const statsSocket = path.join(dir, 'stats.sock');
  const sim = await startStatsSimulator({ interfaces: o.interfaces ?? 8, workers: 1, rate: o.rate ?? 0, seed: 3, socketPath: statsSocket, apiSocketPath: apiSocket });
  const vpp = await connectVpp({ socketPath: apiSocket, clientName: 'control-test' });
  const stats = new StatsClient({ socketPath: statsSocket });
  const memory = new MemoryAuditSink();
  const config: Config = { ...loadConfig({}, {}), 'api-socket': apiSocket, 'stats-socket': statsSocket, ...o.config };
  const start: StartControlApiOptions = {
    config,
    vpp,
    ...(o.withStats === false ? {} : { stats }),
    audit: o.audit ?? memory,
    env: o.env ?? {},
    options: { listen: { host: '127.0.0.1', port: 0 }, rateLimit: 0, ...o.options },
    ...(o.token === null ? {} : { token: o.token ?? TOKEN }),
    ...(o.web ? { web: o.web } : {}),
    ...(o.log ? { log: o.log } : {}),
  };
  let api: ControlApi;
  try {
    api = await startControlApi(start);
  } catch (e) {
    await vpp.close();
    stats.close();
    await sim.stop();
    throw e;
  }
  const call = async <T = ErrorBody>(method: string, p: string, opts: CallOptions = {}): Promise<Answer<T>> => {
    const headers: Record<string, string> = { ...opts.headers };
    const token = opts.token === undefined ? TOKEN : opts.token;
    if (token !== null) headers.authorization = `Bearer ${token}`;
    let body: string | undefined;
    if (opts.raw !== undefined) body = opts.raw;
    else if (opts.body !== undefined) body = JSON.stringify(opts.body);
    if (body !== undefined && headers['content-type'] === undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${api.url}${p}`, { method, headers, ...(body !== undefined ? { body } : {}) });
    const text = await res.text();
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, text, json: json as T };
  };
  return {
    sim,
    vpp,
    stats,
    audit: memory,
    api,
    url: api.url,
    config,
    apiSocket,
    statsSocket,
    call,
    async stop() {
      await api.close();
      await vpp.close();
      stats.close();
      await sim.stop();
    },
  };
}

/**
 * The routes of a table as the simulator's ip_route_dump has them, read with the binary API client
 * directly (not through the control API): prefix -> its paths as "via@sw_if_index/weight/preference/type".
 */
export async function dumpRoutes(env: ControlEnv, family: 4 | 6 = 4, table = 0): Promise<Map<string, string[]>> {
  const details = await env.vpp.dump('ip_route_dump', { table: { table_id: table, is_ip6: family === 6, name: '' } });
  const out = new Map<string, string[]>();
  for (const { route } of details) {
    out.set(
      formatPrefix(route.prefix),
      route.paths.map((p) => {
        const via = p.proto === 0 || p.proto === 1 ? formatAddress({ af: p.proto, un: p.nh.address }) : '?';
        return `${via}@${p.sw_if_index}/${p.weight}/${p.preference}/${p.type}`;
      }),
    );
  }
  return out;
}
