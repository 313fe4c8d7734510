/**
 * Route programming benchmark (PERFORMANCE.md, route rows): N IPv4 /32 routes added through the
 * simulator's binary API (the simulator in its own process), one at a time and pipelined, by our
 * client, by GoVPP (test/peers/govpp-api: sync and stream), by vpp-papi (synchronous), beside the
 * simulator's own ceiling (a raw client writing pre-encoded frames: bench/sim-api-ceiling.ts).
 *
 * Both clients run the same way: a fresh process per pass (ours: bench/routes-client.ts in a new
 * Node; GoVPP: the peer binary) on a fresh simulator, one connection, 10,000 untimed pipelined
 * warm-up routes (100.32.0.0 + i), N routes one at a time (100.64.0.0 + i), then N more
 * pipelined (100.96.0.0 + i), each pass's clock around building, sending and answering its
 * routes. Each route value is made as its request goes out, as GoVPP's sender makes each request
 * right before SendMsg. Ours pipelines two ways, each a pass of its own: requestBatch (one call
 * for the N requests, values from valueAt) and request() per route under Promise.all. Every
 * route is its own ip_route_add_del
 * with its own reply, and a pass with a failed route throws. The three pipelined clients run in
 * rounds (see benchRoutes); the table gives medians and each round's ratios.
 *
 * History: ours first ran inside this process, where each pass carried the heap and garbage of
 * the passes before it while GoVPP started afresh each time; before that a pipelined pass on a
 * simulator of its own timed the simulator's start-up.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { simApiCeiling } from './sim-api-ceiling.js';
import { REPO } from './util.js';

const run = promisify(execFile);
const cache = process.env.VPP_EXPORTER_CACHE ?? path.join(os.homedir(), '.cache', 'vpp-exporter');

/** Rates in routes/s; a pass run several times keeps every repetition, in run order. */
export interface RoutesRow {
  routes: number;
  reps: number;
  oursSync: number[];
  /** requestBatch. */
  oursBatch: number[];
  /** request() per route, Promise.all. */
  oursPipelined: number[];
  govppSync: number[];
  govppStream: number[];
  papiSync?: number;
  ceiling: number;
}

async function withSim<T>(fn: (apiSocket: string) => Promise<T>): Promise<T> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-routes-'));
  const apiSocket = path.join(dir, 'api.sock');
  const child: ChildProcess = spawn(
    process.execPath,
    [path.join(REPO, 'dist/src/cli.js'), 'sim', '--stats-socket', path.join(dir, 'stats.sock'), '--api-socket', apiSocket, '--interfaces', '4', '--rate', '0'],
    { stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, VPP_EXPORTER_LOG_LEVEL: 'warn' } },
  );
  try {
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('stats socket')) resolve();
      });
      child.once('exit', () => reject(new Error('simulator exited')));
    });
    return await fn(apiSocket);
  } finally {
    child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Routes each client programs, pipelined and untimed, on its fresh simulator before its timed passes (100.32.0.0 + i). */
const WARMUP_ROUTES = 10_000;
/** The next-hop interface of every route, for both clients (the simulator's first interface). */
const NH_SW_IF_INDEX = 1;

/**
 * Pipelined passes per process, for both clients; each reports the median. A pass of 1000 routes
 * lasts 2-6 ms, so one garbage collection or a neighbour taking a core decides a single pass:
 * 7 passes at 1000, 3 at 10k, 1 at 100k.
 */
function passesFor(n: number): number {
  return Math.max(1, Math.min(7, Math.floor(30_000 / n) | 1));
}

interface PeerRates {
  sync?: { routes_per_s?: number };
  async?: { routes_per_s?: number };
}

/** Our client in a fresh Node process (bench/routes-client.ts), as govpp() runs GoVPP: one at a time, then pipelined. */
async function ours(apiSocket: string, n: number, how: 'batch' | 'promises'): Promise<{ sync: number; pipelined: number }> {
  const { stdout } = await run(
    process.execPath,
    [path.join(REPO, 'dist/bench/routes-client.js'), '--socket', apiSocket, '--bench-routes', String(n), '--how', how, '--warmup', String(WARMUP_ROUTES), '--passes', String(passesFor(n)), '--nh-sw-if-index', String(NH_SW_IF_INDEX)],
    { maxBuffer: 1 << 20, env: { ...process.env, VPP_EXPORTER_LOG_LEVEL: 'warn' } },
  );
  const j = JSON.parse(stdout) as PeerRates;
  if (j.sync?.routes_per_s === undefined || j.async?.routes_per_s === undefined) throw new Error(`routes-client: no rates in ${stdout}`);
  return { sync: j.sync.routes_per_s, pipelined: j.async.routes_per_s };
}

async function govpp(apiSocket: string, n: number): Promise<{ sync?: number; stream?: number }> {
  const bin = path.join(cache, 'bin', 'govpp-api');
  if (!fs.existsSync(bin)) return {};
  const { stdout } = await run(bin, ['--socket', apiSocket, '--bench-routes', String(n), '--warmup', String(WARMUP_ROUTES), '--passes', String(passesFor(n)), '--nh-sw-if-index', String(NH_SW_IF_INDEX)], {
    maxBuffer: 1 << 20,
  });
  const j = JSON.parse(stdout) as PeerRates;
  return { sync: j.sync?.routes_per_s, stream: j.async?.routes_per_s };
}

async function papi(apiSocket: string, n: number): Promise<number | undefined> {
  const python = path.join(cache, 'venv', 'bin', 'python');
  if (!fs.existsSync(python)) return undefined;
  const shared = process.env.VPP_EXPORTER_SHARED ?? path.resolve(REPO, '..', 'shared');
  const { stdout } = await run(python, [path.join(REPO, 'test/peers/papi_api.py'), '--apidir', path.join(shared, 'vpp/api'), '--socket', apiSocket, '--bench-routes', String(n)], { maxBuffer: 1 << 20 });
  return (JSON.parse(stdout) as { routes_per_second: number }).routes_per_second;
}

/**
 * `reps` rounds, each running ours (requestBatch), ours (Promise.all) and GoVPP one after the
 * other, every one on a fresh simulator: a neighbour's burst on this shared machine then hits
 * one round of all three rather than all rounds of one, and the rates of one round compare
 * side by side.
 */
export async function benchRoutes(n: number, reps = 1): Promise<RoutesRow> {
  const row: RoutesRow = { routes: n, reps, oursSync: [], oursBatch: [], oursPipelined: [], govppSync: [], govppStream: [], ceiling: 0 };
  for (let k = 0; k < reps; k++) {
    const b = await withSim((s) => ours(s, n, 'batch'));
    row.oursSync.push(b.sync);
    row.oursBatch.push(b.pipelined);
    row.oursPipelined.push((await withSim((s) => ours(s, n, 'promises'))).pipelined);
    const g = await withSim((s) => govpp(s, n));
    if (g.sync !== undefined) row.govppSync.push(g.sync);
    if (g.stream !== undefined) row.govppStream.push(g.stream);
  }
  if (n <= 10_000) row.papiSync = await withSim((s) => papi(s, n));
  row.ceiling = (await simApiCeiling({ routes: Math.max(n, 100_000) })).add.frames_per_s;
  return row;
}

function median(xs: readonly number[]): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Medians over the rounds; the last columns give each round's own ratio (one neighbour's burst shows as one outlier). */
export function routesTable(rows: RoutesRow[]): string {
  const f = (xs: readonly number[] | number | undefined): string => {
    const x = typeof xs === 'object' ? median(xs) : xs;
    return x === undefined ? '-' : `${Math.round(x).toLocaleString('en-US')}/s`;
  };
  const ratio = (x: number | undefined, peer: number | undefined): string => (x !== undefined && peer ? `${(x / peer).toFixed(2)}x` : '-');
  const perRound = (ours: readonly number[], peer: readonly number[]): string => (peer.length === 0 ? '-' : ours.map((x, i) => ratio(x, peer[i])).join(' '));
  let s =
    '| routes | ours, one at a time | ours, requestBatch | ours, request() + Promise.all | GoVPP sync | GoVPP stream | vpp-papi (sync) | simulator ceiling ' +
    '| requestBatch / GoVPP stream (medians) | each round | Promise.all / GoVPP stream (medians) | each round |\n' +
    '|---|---|---|---|---|---|---|---|---|---|---|---|\n';
  for (const r of rows) {
    const stream = median(r.govppStream);
    s +=
      `| ${r.routes} | ${f(r.oursSync)} | ${f(r.oursBatch)} | ${f(r.oursPipelined)} | ${f(r.govppSync)} | ${f(r.govppStream)} | ${f(r.papiSync)} | ${f(r.ceiling)} ` +
      `| ${ratio(median(r.oursBatch), stream)} | ${perRound(r.oursBatch, r.govppStream)} | ${ratio(median(r.oursPipelined), stream)} | ${perRound(r.oursPipelined, r.govppStream)} |\n`;
  }
  return s;
}
