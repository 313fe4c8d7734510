/**
 * GET /metrics on :9482, a drop-in for VPP's own C exporter: the VPP families written directly
 * from one consistent snapshot, then those read over the binary API (api-families.ts), then the
 * exporter's own metrics. Output is streamed in chunks,
 * yielding to the event loop between them, so a large scrape does not hold up link events or API
 * replies. A failing part of the scrape reports success 0 and the rest is still served.
 *
 * The VPP families are written by the native renderer (exposition.ts renderNative) straight into
 * Buffers of SLICE_BYTES taken from a small pool: a Buffer goes back to the pool when the socket
 * (or gzip) is done with it, so a scrape allocates no memory per chunk and encodes no text.
 */
import type http from 'node:http';
import type { Writable } from 'node:stream';
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
import { renderNative, renderPlan, SLICE_BYTES } from './exposition.js';
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
  /** 'native' (default) writes Buffers from the addon; 'js' the reference renderer's strings. */
  renderer?: 'native' | 'js';
  /** Families from VPP's binary API (version, interface admin/link state), written after the stats ones. */
  apiFamilies?: { render(): string };
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

/** Buffers kept for reuse across scrapes (a few per scrape in flight are enough). */
const POOL_MAX = 8;
/**
 * Rendered bytes that may wait in the response before formatting stops for 'drain'. Waiting at
 * the stream's own mark (16 KiB, less than one slice) would take turns: format a slice, wait until
 * the socket took all of it, format the next. A few slices queued keep both going.
 */
const QUEUE_BYTES = 4 * SLICE_BYTES;

export class MetricsHandler {
  private inFlight = 0;
  private readonly pool: Buffer[] = [];

  constructor(private readonly opts: MetricsServerOptions) {}

  private take(): Buffer {
    return this.pool.pop() ?? Buffer.allocUnsafeSlow(SLICE_BYTES);
  }

  private give(buf: Buffer): void {
    if (this.pool.length < POOL_MAX) this.pool.push(buf);
  }

  /**
   * Writes a chunk honouring backpressure; `written` runs once the stream is done with the
   * chunk. Resolves at once while less than `queued` bytes wait in the stream, else on 'drain',
   * or when the response closed (a client that went away never drains).
   */
  private static async send(out: Writable, res: http.ServerResponse, chunk: string | Buffer, written?: () => void, queued = 0): Promise<void> {
    const ok = written ? out.write(chunk, written) : out.write(chunk);
    if (ok || res.destroyed || out.writableLength < queued) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        out.off('drain', done);
        res.off('close', done);
        resolve();
      };
      out.on('drain', done);
      res.on('close', done);
    });
  }

  /** The VPP families, natively rendered into pooled Buffers. */
  private async writeNative(out: Writable, res: http.ServerResponse, collected: Collected, openMetrics: boolean): Promise<void> {
    const r = renderNative(collected.plan, collected.view, { perThread: this.opts.perThread, openMetrics, threads: collected.threads });
    const sliceMs = this.opts.sliceMs ?? 5;
    let sliceStart = performance.now();
    while (!res.destroyed) {
      const buf = this.take();
      let n: number;
      try {
        n = r.fill(buf);
      } catch (e) {
        this.give(buf);
        throw e;
      }
      if (n === 0) {
        this.give(buf);
        return;
      }
      await MetricsHandler.send(out, res, buf.subarray(0, n), () => this.give(buf), QUEUE_BYTES);
      if (performance.now() - sliceStart > sliceMs) {
        await yieldToLoop();
        sliceStart = performance.now();
      }
    }
  }

  /** The VPP families through the JavaScript reference renderer. */
  private async writeJs(out: Writable, res: http.ServerResponse, collected: Collected, openMetrics: boolean): Promise<void> {
    let sliceStart = performance.now();
    for (const chunk of renderPlan(collected.plan, collected.view, { perThread: this.opts.perThread, openMetrics, threads: collected.threads })) {
      await MetricsHandler.send(out, res, chunk);
      if (res.destroyed) return;
      if (performance.now() - sliceStart > (this.opts.sliceMs ?? 5)) {
        await yieldToLoop();
        sliceStart = performance.now();
      }
    }
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
    let out: Writable = res;
    if (gzip) {
      // Prometheus asks for gzip on every scrape. Level 1: at 10k interfaces (31 MB of text) it
      // costs 84 ms of CPU for a 10.7x smaller body, level 6 (zlib's default) 219 ms for 12.5x.
      const z = zlib.createGzip({ level: zlib.constants.Z_BEST_SPEED });
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
        if (this.opts.renderer === 'js') await this.writeJs(out, res, collected, openMetrics);
        else await this.writeNative(out, res, collected, openMetrics);
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
    const api = this.opts.apiFamilies?.render();
    if (api && !res.destroyed) await MetricsHandler.send(out, res, api);
    self.scrapeDuration.set((performance.now() - started) / 1000);
    const registry = openMetrics ? self.openMetrics : self.text;
    const text = await registry.metrics();
    if (res.destroyed) {
      // The client went away: nothing will drain or finish; let gzip go too.
      if (out !== res) out.destroy();
      return;
    }
    await MetricsHandler.send(out, res, text);
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
