/**
 * Scrape benchmark (PERFORMANCE.md, second and third rows): a full GET /metrics from our exporter
 * (a child process) on a simulator topology, beside (a) prom-client with one labelled series per
 * value, (b) a GoVPP statsclient + client_golang exporter (test/peers/govpp-exporter, also a
 * child process) on the same segment, and (c) a C formatting floor for the same series count.
 * CPU and RSS of the exporters come from /proc. Also the event-loop delay of an in-process
 * exporter while it is scraped, and the OTLP cost per data point.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, execFile, execFileSync, type ChildProcess } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import client from 'prom-client';
import { createStatsSimulator } from '../src/sim/index.js';
import { StatsClient } from '../src/stats/index.js';
import { StatsSource } from '../src/exporters/stats-source.js';
import { visitSamples } from '../src/exporters/exposition.js';
import { parseLabelBody } from '../src/exporters/names.js';
import { EXPORTER_SKIPPED_SYMLINKS, startExporter } from '../src/commands/run.js';
import { loadConfig } from '../src/config.js';
import { median, fmtMs, REPO, EXPORTER_NODE_FLAGS } from './util.js';

export interface ScrapeRow {
  interfaces: number;
  threads: number;
  series: number;
  bytes: number;
  oursMs: number;
  oursCpuMs: number;
  oursRssMb: number;
  /** What the RSS is made of (/proc/<pid>/status) and the V8 heap the exporter reports itself. */
  oursRss: RssBreakdown;
  oursV8HeapMb: number;
  /** After steadyMs of one scrape per STEADY_INTERVAL_MS (as Prometheus scrapes), when asked for. */
  oursSteadyRss?: RssBreakdown;
  oursSteadyV8HeapMb?: number;
  promClientMs: number;
  govppMs: number | undefined;
  govppCpuMs: number | undefined;
  govppRssMb: number | undefined;
  govppRss: RssBreakdown | undefined;
  govppSeries: number | undefined;
  floorMs: number;
}

const cacheBin = (name: string): string =>
  path.join(process.env.VPP_EXPORTER_CACHE ?? path.join(os.homedir(), '.cache', 'vpp-exporter'), 'bin', name);

function procCpuMs(pid: number): number {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const ticks = Number(f[11]) + Number(f[12]);
  return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
}

/**
 * RSS split as the kernel counts it: anonymous memory (V8 heap, malloc, the addon's plan), file
 * pages (mostly the executable's text) and shared memory (the pages of the mapped stats segment
 * this process touched: VPP's pages, counted again here once read).
 */
export interface RssBreakdown {
  rss: number;
  anon: number;
  file: number;
  shmem: number;
}

function procRss(pid: number): RssBreakdown {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const mb = (key: string): number => {
    const m = new RegExp(`${key}:\\s+(\\d+) kB`).exec(status);
    return m ? Number(m[1]) / 1024 : NaN;
  };
  return { rss: mb('VmRSS'), anon: mb('RssAnon'), file: mb('RssFile'), shmem: mb('RssShmem') };
}

/** The exporter's own V8 heap (committed), from its nodejs_heap_size_total_bytes. */
async function v8HeapMb(url: string): Promise<number> {
  const m = /^nodejs_heap_size_total_bytes (\d+)/m.exec(await (await fetch(url)).text());
  return m ? Number(m[1]) / 1048576 : NaN;
}

async function waitHttp(url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`${url}: the exporter exited`);
    try {
      const r = await fetch(url);
      await r.arrayBuffer();
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`${url} did not answer`);
}

/**
 * `reps` GETs by one curl process on one kept-alive connection, each timed by curl itself
 * (time_total: request sent to last byte read) and its body discarded: a lean C client, so that
 * the client is not what is measured. (Node's http client, which this used before, spends more on
 * a 30 MB chunked body than our exporter does producing it: 29-34 ms against curl's 14-15 ms on
 * the same 10k x 2 scrape.)
 */
function curlScrapes(url: string, reps: number): Promise<{ ms: number[]; bytes: number }> {
  const args = ['-s', '--fail', '-w', '%{time_total} %{size_download}\n'];
  for (let i = 0; i < reps; i++) args.push('-o', '/dev/null', url);
  return new Promise((resolve, reject) => {
    execFile('curl', args, { maxBuffer: 1 << 20 }, (e, stdout) => {
      if (e) return reject(new Error(`curl ${url}: ${e.message}`));
      const lines = stdout.trim().split('\n').map((l) => l.split(' ').map(Number));
      if (lines.length !== reps || lines.some(([t, b]) => !(t > 0) || !(b > 0))) return reject(new Error(`curl ${url}: unexpected output ${stdout}`));
      resolve({ ms: lines.map(([t]) => t * 1000), bytes: lines[lines.length - 1][1] });
    });
  });
}

async function timeScrapes(url: string, pid: number, reps: number): Promise<{ ms: number; cpuMs: number; rss: RssBreakdown; bytes: number; series: number }> {
  const body = await (await fetch(url)).text();
  const series = body.split('\n').filter((l) => l.startsWith('vpp_') && !l.startsWith('vpp_exporter')).length;
  const cpu0 = procCpuMs(pid);
  const { ms, bytes } = await curlScrapes(url, reps);
  return { ms: median(ms), cpuMs: (procCpuMs(pid) - cpu0) / reps, rss: procRss(pid), bytes, series };
}

function spawnQuiet(cmd: string, args: string[]): ChildProcess {
  const c = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, VPP_EXPORTER_LOG_LEVEL: 'warn' } });
  c.stderr.resume();
  return c;
}

/** prom-client with one labelled series per value: set every value, then render. */
async function promClientScrape(socketPath: string, reps: number): Promise<number> {
  const stats = new StatsClient({ socketPath, skipSymlinkPrefixes: EXPORTER_SKIPPED_SYMLINKS });
  const source = new StatsSource(stats, { perThread: false });
  const first = await source.collect();
  if (!first) throw new Error('prom-client baseline: no snapshot');
  const registry = new client.Registry();
  const metrics = new Map<string, client.Gauge>();
  for (const f of first.plan.families) {
    const labelNames = f.labelNames.length ? f.labelNames : [];
    metrics.set(f.name, new client.Gauge({ name: f.name, help: f.help, labelNames, registers: [registry] }));
  }
  const attrs = new Map(first.plan.families.map((f) => [f.name, f.labels.map((b, i) => (f.col[i] < 0 ? {} : parseLabelBody(b)))]));
  first.release();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    const c = await source.collect();
    if (!c) throw new Error('no snapshot');
    visitSamples(c.plan, c.view, { perThread: false, threads: c.threads }, (f, s, column, _thread, value) => {
      const a = attrs.get(f.name)![s];
      metrics.get(f.name)!.set(column >= 0 ? { ...a, [f.labels[s]]: String(column) } : a, value);
    });
    c.release();
    await registry.metrics();
    times.push(performance.now() - t0);
  }
  stats.close();
  return median(times);
}

/** The steady-state RSS is taken at Prometheus' usual pace. */
const STEADY_INTERVAL_MS = 15_000;

/**
 * `steadyMs` > 0 also measures our RSS after that long at one scrape per 15 s: the figures right
 * after `reps` back-to-back scrapes catch V8's heap before its memory reducer has run (10k x 9:
 * 140 MB then, 115-135 MB after 45-60 s in a probe).
 */
export async function benchScrape(interfaces: number, threads: number, reps: number, withPromClient: boolean, steadyMs = 0): Promise<ScrapeRow> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-scrape-'));
  const socketPath = path.join(dir, 'stats.sock');
  const sim = createStatsSimulator({ interfaces, workers: threads - 1, rate: 0, seed: 1, socketPath });
  const children: ChildProcess[] = [];
  try {
    const port = 19500 + Math.floor(Math.random() * 400);
    // As the installed bin runs it (its shebang passes the same V8 flag); no control API here.
    const ours = spawnQuiet(process.execPath, [...EXPORTER_NODE_FLAGS, path.join(REPO, 'dist/src/cli.js'), 'run', '--no-control', '--no-events', '--stats-socket', socketPath, '--web.listen-address', `127.0.0.1:${port}`]);
    children.push(ours);
    const oursUrl = `http://127.0.0.1:${port}/metrics`;
    await waitHttp(oursUrl, ours);
    const o = await timeScrapes(oursUrl, ours.pid!, reps);
    const oursV8HeapMb = await v8HeapMb(oursUrl);

    let g: Awaited<ReturnType<typeof timeScrapes>> | undefined;
    const govppBin = cacheBin('govpp-exporter');
    if (fs.existsSync(govppBin)) {
      const gport = port + 1000;
      const govpp = spawnQuiet(govppBin, ['--socket', socketPath, '--listen', `127.0.0.1:${gport}`]);
      children.push(govpp);
      const gurl = `http://127.0.0.1:${gport}/metrics`;
      await waitHttp(gurl, govpp);
      g = await timeScrapes(gurl, govpp.pid!, reps);
    }
    const promClientMs = withPromClient ? await promClientScrape(socketPath, Math.max(3, Math.floor(reps / 3))) : NaN;
    let steady: { rss: RssBreakdown; heapMb: number } | undefined;
    if (steadyMs > 0) {
      for (let t = 0; t < steadyMs; t += STEADY_INTERVAL_MS) {
        await sleep(STEADY_INTERVAL_MS);
        await curlScrapes(oursUrl, 1);
      }
      steady = { rss: procRss(ours.pid!), heapMb: await v8HeapMb(oursUrl) };
    }
    const floorOut = execFileSync(path.join(REPO, 'build/native/statseg_format_floor'), [String(o.series), String(reps)], { encoding: 'utf8' });
    const floorNs = Number(/format_ns_per_series ([\d.]+)/.exec(floorOut)![1]);
    return {
      interfaces,
      threads,
      series: o.series,
      bytes: o.bytes,
      oursMs: o.ms,
      oursCpuMs: o.cpuMs,
      oursRssMb: o.rss.rss,
      oursRss: o.rss,
      oursV8HeapMb,
      oursSteadyRss: steady?.rss,
      oursSteadyV8HeapMb: steady?.heapMb,
      promClientMs,
      govppMs: g?.ms,
      govppCpuMs: g?.cpuMs,
      govppRssMb: g?.rss.rss,
      govppRss: g?.rss,
      govppSeries: g?.series,
      floorMs: (floorNs * o.series) / 1e6,
    };
  } finally {
    for (const c of children) c.kill('SIGKILL');
    await sim.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export function scrapeTable(rows: ScrapeRow[]): string {
  let s =
    '| interfaces x threads | series | body | ours: wall | CPU | RSS | C format floor | ours / floor | prom-client objects | prom-client / ours | GoVPP+client_golang: wall (series) | CPU | RSS | GoVPP / ours |\n' +
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n';
  const mb = (b: number): string => `${(b / 1048576).toFixed(1)} MB`;
  for (const r of rows) {
    const pc = Number.isNaN(r.promClientMs) ? '-' : fmtMs(r.promClientMs);
    const pcRatio = Number.isNaN(r.promClientMs) ? '-' : `${(r.promClientMs / r.oursMs).toFixed(1)}x`;
    const gv = r.govppMs === undefined ? '(not built)' : `${fmtMs(r.govppMs)} (${r.govppSeries})`;
    s += `| ${r.interfaces} x ${r.threads} | ${r.series} | ${mb(r.bytes)} | ${fmtMs(r.oursMs)} | ${fmtMs(r.oursCpuMs)} | ${r.oursRssMb.toFixed(0)} MB | ${fmtMs(r.floorMs)} | ${(r.oursMs / r.floorMs).toFixed(1)}x | ${pc} | ${pcRatio} | ${gv} | ${r.govppCpuMs === undefined ? '-' : fmtMs(r.govppCpuMs)} | ${r.govppRssMb === undefined ? '-' : `${r.govppRssMb.toFixed(0)} MB`} | ${r.govppMs === undefined ? '-' : `${(r.govppMs / r.oursMs).toFixed(1)}x`} |\n`;
  }
  s +=
    '\nRSS breakdown after the scrapes (/proc/<pid>/status; shmem = pages of the stats segment the process touched, VPP\'s memory counted again); "steady": ours after 60 s more at one scrape per 15 s (10k rows only):\n\n' +
    '| interfaces x threads | ours: RSS | anon | file | shmem | V8 heap (committed, in anon) | ours, steady: RSS | V8 heap | GoVPP: RSS | anon | file | shmem |\n' +
    '|---|---|---|---|---|---|---|---|---|---|---|---|\n';
  const m = (x: number | undefined): string => (x === undefined || Number.isNaN(x) ? '-' : `${x.toFixed(0)} MB`);
  for (const r of rows) {
    s += `| ${r.interfaces} x ${r.threads} | ${m(r.oursRss.rss)} | ${m(r.oursRss.anon)} | ${m(r.oursRss.file)} | ${m(r.oursRss.shmem)} | ${m(r.oursV8HeapMb)} | ${m(r.oursSteadyRss?.rss)} | ${m(r.oursSteadyV8HeapMb)} | ${m(r.govppRss?.rss)} | ${m(r.govppRss?.anon)} | ${m(r.govppRss?.file)} | ${m(r.govppRss?.shmem)} |\n`;
  }
  return s;
}

/**
 * Event-loop delay (p50/p99/max) of an in-process exporter while it is scraped back to back by
 * curl in another process: an in-process client would allocate the 30 MB bodies in the measured
 * process and its garbage collections would be what is measured.
 */
export async function benchEventLoop(interfaces: number, scrapes: number): Promise<{ p50: number; p99: number; max: number; scrapeMs: number }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-eld-'));
  const socketPath = path.join(dir, 'stats.sock');
  const sim = createStatsSimulator({ interfaces, workers: 1, rate: 0, seed: 1, socketPath });
  const exporter = await startExporter(loadConfig({ 'web.listen-address': '127.0.0.1:0' }, {}), { socketPath });
  const curl = (): Promise<number> =>
    new Promise((resolve, reject) => {
      const t0 = performance.now();
      execFile('curl', ['-s', '-o', '/dev/null', exporter.url], (e) => (e ? reject(new Error(`curl: ${e.message}`)) : resolve(performance.now() - t0)));
    });
  try {
    await curl(); // the first scrape builds the plan
    const h = monitorEventLoopDelay({ resolution: 1 });
    h.enable();
    const times: number[] = [];
    for (let i = 0; i < scrapes; i++) times.push(await curl());
    h.disable();
    return { p50: h.percentile(50) / 1e6, p99: h.percentile(99) / 1e6, max: h.max / 1e6, scrapeMs: median(times) };
  } finally {
    await exporter.stop();
    await sim.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
