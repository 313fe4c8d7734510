/**
 * GET /metrics on :9482, a drop-in for VPP's own C exporter: the VPP families written directly
 * from one consistent snapshot, then the exporter's own metrics. Output is streamed in chunks,
 * yielding to the event loop between them, so a large scrape does not hold up link events or API
 * replies. A failing part of the scrape reports success 0 and the rest is still served.
 */
import type http from 'node:http';
import zlib from 'node:zlib';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Logger } from '../log.js';
import type { Collected } from './stats-source.js';
import type { StatsClient } from '../stats/index.js';

/** What the handler needs of a stats source (StatsSource; tests inject faulty ones). */
export interface MetricsSource {
  readonly client: StatsClient;
  collect(): Promise<Collected | undefined>;
}
import { renderPlan } from './exposition.js';
import type { SelfMetrics } from './self-metrics.js';
import { createWebServer, type WebConfig } from '../web/web-config.js';

export interface MetricsServerOptions {
  source: MetricsSource;
  self: SelfMetrics;
  log: Logger;
  perThread: boolean;
  /** Scrapes served at once; more get 503. */
  maxInFlight?: number;
  /** Give up on reading VPP after this long; the scrape still answers, with vpp_up 0. */
  collectTimeoutMs?: number;
  /** Yield to the event loop after this much formatting time. */
  sliceMs?: number;
}

const TEXT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
const OPENMETRICS_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

function wantsOpenMetrics(accept: string | undefined): boolean {
  return accept !== undefined && /application\/openmetrics-text/.test(accept);
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export class MetricsHandler {
  private inFlight = 0;

  constructor(private readonly opts: MetricsServerOptions) {}

  /** Writes chunks to the response honouring backpressure. */
  private static async send(out: NodeJS.WritableStream, chunk: string): Promise<void> {
    if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', resolve));
  }

  async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const max = this.opts.maxInFlight ?? 10;
    if (this.inFlight >= max) {
      this.opts.self.scrapesRejected.inc();
      res.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '1' }).end(`too many scrapes in flight (limit ${max})\n`);
      return;
    }
    this.inFlight++;
    try {
      await this.scrape(req, res);
    } finally {
      this.inFlight--;
    }
  }

  private async scrape(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const { self, log } = this.opts;
    const openMetrics = wantsOpenMetrics(req.headers.accept);
    const gzip = /\bgzip\b/.test(req.headers['accept-encoding'] ?? '');
    res.writeHead(200, {
      'content-type': openMetrics ? OPENMETRICS_TYPE : TEXT_TYPE,
      ...(gzip ? { 'content-encoding': 'gzip' } : {}),
    });
    let out: NodeJS.WritableStream = res;
    if (gzip) {
      const z = zlib.createGzip();
      z.pipe(res);
      out = z;
    }
    const started = performance.now();
    let collected;
    try {
      collected = await withTimeout(this.opts.source.collect(), this.opts.collectTimeoutMs ?? 800, 'reading the stats segment');
    } catch (e) {
      log.warn({ err: (e as Error).message }, 'stats collection failed');
      collected = undefined;
    }
    const stats = this.opts.source.client;
    self.collectorDuration.set({ collector: 'stats' }, (performance.now() - started) / 1000);
    self.up.set(collected ? 1 : 0);
    if (collected) {
      self.epoch.set(collected.plan.epoch);
      self.unexported.set(collected.plan.unexported.length);
      const formatStart = performance.now();
      let ok = true;
      try {
        let sliceStart = performance.now();
        for (const chunk of renderPlan(collected.plan, collected.view, { perThread: this.opts.perThread, openMetrics, threads: collected.threads })) {
          await MetricsHandler.send(out, chunk);
          if (performance.now() - sliceStart > (this.opts.sliceMs ?? 5)) {
            await yieldToLoop();
            sliceStart = performance.now();
          }
        }
      } catch (e) {
        ok = false;
        log.error({ err: e }, 'formatting the VPP metrics failed');
      } finally {
        collected.release();
      }
      self.collectorSuccess.set({ collector: 'stats' }, ok ? 1 : 0);
      self.collectorDuration.set({ collector: 'format' }, (performance.now() - formatStart) / 1000);
    } else {
      self.collectorSuccess.set({ collector: 'stats' }, 0);
      if (stats.lastError) log.debug({ err: stats.lastError.message }, 'VPP stats unavailable');
    }
    self.scrapeDuration.set((performance.now() - started) / 1000);
    const registry = openMetrics ? self.openMetrics : self.text;
    await MetricsHandler.send(out, await registry.metrics());
    await new Promise<void>((resolve) => out.end(resolve));
  }
}

const LANDING = `<!doctype html><html><head><title>vpp-exporter</title></head><body>
<h1>vpp-exporter</h1><p>Prometheus exporter for FD.io VPP.</p><p><a href="/metrics">Metrics</a></p></body></html>
`;

/** The listener for /metrics (read-only); HTTPS and basic auth per the web config. */
export function createMetricsServer(handler: MetricsHandler, log: Logger, web?: WebConfig): http.Server {
  const server = createWebServer(web, (req, res) => {
    const url = req.url ?? '/';
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    if (url === '/metrics' || url.startsWith('/metrics?')) {
      handler.handle(req, res).catch((e: unknown) => {
        log.error({ err: e }, 'scrape failed');
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end();
      });
      return;
    }
    if (url === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(LANDING);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  });
  // Slow clients must not hold sockets forever.
  server.headersTimeout = 10_000;
  server.requestTimeout = 60_000;
  server.keepAliveTimeout = 5_000;
  return server;
}
