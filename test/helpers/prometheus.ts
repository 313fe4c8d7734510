/**
 * A real Prometheus server for tests, and promtool. Both come from Debian's `prometheus` package
 * (2.42), installed by scripts/peers/install-prometheus.sh. Each server runs on a free loopback
 * port with a temporary config and data dir, and is killed when the test process exits.
 *
 * The process utilities at the end (free ports, children killed on exit, a watchdog for a test
 * process that dies by SIGKILL) are shared by the other peer helpers (kafka.ts, otlp-receiver.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { constants as osConstants } from 'node:os';
import path from 'node:path';
import { tmpDir } from './paths.js';

const INSTALL_SCRIPT = 'scripts/peers/install-prometheus.sh';

/** One element of an instant vector (or a scalar/string result, with an empty metric). */
export interface PromSample {
  metric: Record<string, string>;
  /** [unix seconds, value as Prometheus prints it] */
  value: [number, string];
}

export interface PrometheusServer {
  /** http://127.0.0.1:<port> */
  url: string;
  port: number;
  /** The temporary folder: prometheus.yml, data/, prometheus.log. */
  dir: string;
  configFile: string;
  logFile: string;
  /** Instant query; a scalar or string result comes back as one sample with no labels. */
  query: (promql: string) => Promise<PromSample[]>;
  /** The first sample's value as a number, or undefined when the result is empty. */
  queryValue: (promql: string) => Promise<number | undefined>;
  /**
   * Poll `promql` until it returns a non-empty result; throws after timeoutMs (default 15 s).
   * Prometheus hands new targets to its scrape loop on a 5 s tick, so the first scrape comes
   * about 5 s after start whatever the scrape interval.
   */
  waitForSeries: (promql: string, timeoutMs?: number) => Promise<PromSample[]>;
  /** GET an API path (e.g. '/api/v1/targets') and return the parsed JSON body. */
  api: (pathAndQuery: string) => Promise<unknown>;
  /** SIGTERM, then SIGKILL after 10 s. Idempotent. */
  stop: () => Promise<void>;
}

export interface StartPrometheusOptions {
  /** "host:port" or full URLs ("http://127.0.0.1:9000/metrics"); all on 127.0.0.1. */
  scrapeTargets: string[];
  scrapeIntervalMs: number;
  /** Paths of rule files (loaded as given). */
  ruleFiles?: string[];
  evaluationIntervalMs?: number;
  /** job label of the scrape job(s) (default 'test'; more than one URL path adds _1, _2...). */
  jobName?: string;
  /** Extra scrape config keys for every job, e.g. { honor_labels: true }. */
  scrapeConfig?: Record<string, unknown>;
}

export interface PromtoolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Debian's prometheus binary; throws (naming the install script) when it is missing. */
export function prometheusBinary(): string {
  return findBinary('prometheus', ['/usr/bin/prometheus'], `Prometheus is not installed: run ${INSTALL_SCRIPT} (or scripts/peers/install-all.sh)`);
}

/** Debian's promtool; throws (naming the install script) when it is missing. */
export function promtoolBinary(): string {
  return findBinary('promtool', ['/usr/bin/promtool'], `promtool is not installed: run ${INSTALL_SCRIPT} (or scripts/peers/install-all.sh)`);
}

/** Run promtool with `args`; `input` is written to its stdin (e.g. for `check metrics`). */
export function promtool(args: string[], opts: { input?: string | Buffer; timeoutMs?: number } = {}): Promise<PromtoolResult> {
  const bin = promtoolBinary();
  return new Promise((resolve, reject) => {
    const c = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const unregister = registerChild(c);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    c.stdout.on('data', (b: Buffer) => out.push(b));
    c.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => c.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    c.on('error', (e) => {
      clearTimeout(timer);
      unregister();
      reject(e);
    });
    c.on('close', (code, signal) => {
      clearTimeout(timer);
      unregister();
      resolve({
        code: code ?? (signal ? 128 + (signalNumber(signal) ?? 0) : 1),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
    c.stdin.on('error', () => {}); // promtool may exit before reading all of stdin
    c.stdin.end(opts.input ?? '');
  });
}

function scrapeJobs(o: StartPrometheusOptions): Record<string, unknown>[] {
  const groups = new Map<string, { scheme: string; path: string; targets: string[] }>();
  for (const t of o.scrapeTargets) {
    let scheme = 'http';
    let mpath = '/metrics';
    let hostPort = t;
    if (/^[a-z]+:\/\//i.test(t)) {
      const u = new URL(t);
      scheme = u.protocol.replace(/:$/, '');
      mpath = u.pathname || '/metrics';
      hostPort = u.host;
    }
    const key = `${scheme} ${mpath}`;
    const g = groups.get(key) ?? { scheme, path: mpath, targets: [] };
    g.targets.push(hostPort);
    groups.set(key, g);
  }
  const job = o.jobName ?? 'test';
  return [...groups.values()].map((g, i) => ({
    job_name: i === 0 ? job : `${job}_${i}`,
    scrape_interval: `${o.scrapeIntervalMs}ms`,
    scrape_timeout: `${Math.max(100, Math.min(o.scrapeIntervalMs, 10_000))}ms`,
    scheme: g.scheme,
    metrics_path: g.path,
    static_configs: [{ targets: g.targets }],
    ...o.scrapeConfig,
  }));
}

/** Start Debian's Prometheus scraping `scrapeTargets`, and wait until it is ready. */
export async function startPrometheus(o: StartPrometheusOptions): Promise<PrometheusServer> {
  const bin = prometheusBinary();
  const config = {
    global: {
      scrape_interval: `${o.scrapeIntervalMs}ms`,
      evaluation_interval: `${o.evaluationIntervalMs ?? o.scrapeIntervalMs}ms`,
    },
    ...(o.ruleFiles?.length ? { rule_files: o.ruleFiles.map((f) => path.resolve(f)) } : {}),
    scrape_configs: scrapeJobs(o),
  };
  return launchPrometheus({ bin, config, extraArgs: [], what: 'Prometheus' });
}

/**
 * Start a Prometheus binary with `config` (written as JSON, which is YAML) on a free loopback
 * port and a fresh data dir; used for Debian's 2.42 here and for Prometheus 3 (otlp-receiver.ts).
 */
export async function launchPrometheus(o: {
  bin: string;
  config: Record<string, unknown>;
  extraArgs: string[];
  what: string;
  readyTimeoutMs?: number;
}): Promise<PrometheusServer> {
  const dir = tmpDir('vpp-exporter-prometheus-');
  const configFile = path.join(dir, 'prometheus.yml');
  const logFile = path.join(dir, 'prometheus.log');
  fs.writeFileSync(configFile, JSON.stringify(o.config, null, 2) + '\n');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const out = fs.openSync(logFile, 'a');
  const child = spawn(
    o.bin,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
      ...o.extraArgs,
    ],
    { stdio: ['ignore', out, out], cwd: dir },
  );
  fs.closeSync(out);
  const stop = supervise(child);

  const logTail = (): string => {
    try {
      return fs.readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n');
    } catch {
      return '';
    }
  };

  const deadline = Date.now() + (o.readyTimeoutMs ?? 30_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await stop();
      throw new Error(`${o.bin} exited during start (${child.exitCode ?? child.signalCode}):\n${logTail()}`);
    }
    try {
      const r = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(2000) });
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${o.what} on ${url} not ready in time:\n${logTail()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  const api = async (p: string): Promise<unknown> => {
    const r = await fetch(url + p, { signal: AbortSignal.timeout(10_000) });
    const body = await r.text();
    if (!r.ok) throw new Error(`${o.what} ${p}: HTTP ${r.status}: ${body}`);
    return JSON.parse(body);
  };

  const query = async (promql: string): Promise<PromSample[]> => {
    const res = (await api(`/api/v1/query?query=${encodeURIComponent(promql)}`)) as {
      status: string;
      data: { resultType: string; result: unknown };
    };
    if (res.status !== 'success') throw new Error(`query ${promql}: ${JSON.stringify(res)}`);
    const { resultType, result } = res.data;
    if (resultType === 'vector') return result as PromSample[];
    if (resultType === 'scalar' || resultType === 'string') {
      return [{ metric: {}, value: result as [number, string] }];
    }
    throw new Error(`query ${promql}: unexpected result type ${resultType} (use an instant vector)`);
  };

  const server: PrometheusServer = {
    url,
    port,
    dir,
    configFile,
    logFile,
    query,
    queryValue: async (promql) => {
      const r = await query(promql);
      return r.length ? Number(r[0].value[1]) : undefined;
    },
    waitForSeries: async (promql, timeoutMs = 15_000) => {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const r = await query(promql);
        if (r.length) return r;
        if (Date.now() > until) {
          let targets = '';
          try {
            const t = (await api('/api/v1/targets')) as {
              data: { activeTargets: { scrapeUrl: string; health: string; lastError: string }[] };
            };
            targets = t.data.activeTargets.map((x) => `${x.scrapeUrl} ${x.health} ${x.lastError}`).join('; ');
          } catch {
            // best effort
          }
          throw new Error(`no series for ${promql} after ${timeoutMs} ms${targets ? ` (targets: ${targets})` : ''}`);
        }
        await new Promise((res) => setTimeout(res, 200));
      }
    },
    api,
    stop,
  };
  return server;
}

// ---- process utilities shared by the peer helpers ------------------------------------------

function findBinary(name: string, candidates: string[], missing: string): string {
  for (const c of candidates) {
    try {
      fs.accessSync(c, fs.constants.X_OK);
      return c;
    } catch {
      // next
    }
  }
  for (const d of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!d) continue;
    const p = path.join(d, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  throw new Error(missing);
}

function signalNumber(sig: NodeJS.Signals): number | undefined {
  return (osConstants.signals as Record<string, number>)[sig];
}

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

const children = new Set<ChildProcess>();
let hooked = false;

function killAll(): void {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) {
      try {
        c.kill('SIGKILL');
      } catch {
        // gone
      }
    }
  }
  children.clear();
}

/** Kill `c` with SIGKILL when the test process exits (or gets SIGINT/SIGTERM/SIGHUP). */
export function registerChild(c: ChildProcess): () => void {
  children.add(c);
  if (!hooked) {
    hooked = true;
    process.on('exit', killAll);
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      const onSignal = (): void => {
        killAll();
        process.removeListener(sig, onSignal);
        // Die as the signal would have (unless someone else handles it), but through exit so that
        // the other exit handlers (temporary folders) run too.
        if (process.listenerCount(sig) === 0) process.exit(128 + (signalNumber(sig) ?? 0));
      };
      process.on(sig, onSignal);
    }
  }
  return () => {
    children.delete(c);
  };
}

/**
 * A detached shell that SIGKILLs `pid` should this (test) process vanish without running its exit
 * handlers (e.g. killed by SIGKILL). Returns a function that ends the watchdog.
 */
export function startWatchdog(pid: number): () => void {
  const script =
    `while kill -0 ${pid} 2>/dev/null; do ` +
    `if ! kill -0 ${process.pid} 2>/dev/null; then kill -9 ${pid} 2>/dev/null; exit 0; fi; ` +
    `sleep 1; done`;
  const w = spawn('sh', ['-c', script], { detached: true, stdio: 'ignore' });
  w.unref();
  w.on('error', () => {});
  return () => {
    if (w.exitCode === null && w.signalCode === null) {
      try {
        w.kill('SIGKILL');
      } catch {
        // gone
      }
    }
  };
}

/**
 * Kills `child` with this process (registerChild, startWatchdog); the returned stop() ends it with
 * SIGTERM, then SIGKILL after 10 s, and releases both. Idempotent.
 */
export function supervise(child: ChildProcess): () => Promise<void> {
  const unregister = registerChild(child);
  const stopWatchdog = child.pid !== undefined ? startWatchdog(child.pid) : () => {};
  return async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      if (!(await waitForExit(child, 10_000))) {
        child.kill('SIGKILL');
        await waitForExit(child, 5_000);
      }
    }
    stopWatchdog();
    unregister();
  };
}

/** Resolve true when `c` has exited within timeoutMs, false otherwise. */
export function waitForExit(c: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      c.removeListener('exit', onExit);
      resolve(false);
    }, timeoutMs);
    const onExit = (): void => {
      clearTimeout(t);
      resolve(true);
    };
    c.once('exit', onExit);
  });
}
