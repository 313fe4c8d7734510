/**
 * /metrics through the native renderer: the same body as the JavaScript reference in text,
 * OpenMetrics and gzip, and a client that goes away mid-scrape does not leave the scrape hanging
 * (it would hold its in-flight slot forever).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';
import { setTimeout as sleep } from 'node:timers/promises';
import { createStatsSimulator } from '../../src/sim/index.js';
import { StatsClient } from '../../src/stats/index.js';
import { StatsSource } from '../../src/exporters/stats-source.js';
import { SelfMetrics } from '../../src/exporters/self-metrics.js';
import { MetricsHandler, createMetricsServer, type MetricsServerOptions } from '../../src/exporters/prometheus.js';
import { EXPORTER_SKIPPED_SYMLINKS } from '../../src/commands/run.js';
import { logger } from '../../src/log.js';
import { fixtureImage, tmpDir } from '../helpers/paths.js';
import { stableLines } from '../helpers/exporter.js';

async function serve(filePath: string, opts: Partial<MetricsServerOptions>): Promise<{ url: string; close(): Promise<void> }> {
  const client = new StatsClient({ filePath, skipSymlinkPrefixes: EXPORTER_SKIPPED_SYMLINKS });
  const source = new StatsSource(client, { perThread: opts.perThread ?? false });
  const self = new SelfMetrics(client, 'stats');
  const log = logger('test');
  const server = createMetricsServer(new MetricsHandler({ source, self, log, perThread: false, ...opts }), log);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/metrics`,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => {
          client.close();
          r();
        });
      }),
  };
}

function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Buffer; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), headers: res.headers }));
      })
      .on('error', reject);
  });
}

/** The VPP families only (the exporter's own metrics carry timings). */
const vpp = (b: Buffer): string =>
  stableLines(b.toString('utf8'))
    .split('\n')
    .filter((l) => !/^(# (HELP|TYPE) )?vpp_(exporter_|up|scrape)/.test(l))
    .join('\n');

for (const perThread of [false, true]) {
  test(`native and JavaScript renderers serve the same /metrics (${perThread ? 'per thread' : 'summed'}): text, OpenMetrics, gzip`, async () => {
    const image = fixtureImage('statseg');
    const native = await serve(image, { perThread, renderer: 'native' });
    const js = await serve(image, { perThread, renderer: 'js' });
    try {
      for (const headers of [{}, { accept: 'application/openmetrics-text; version=1.0.0' }, { 'accept-encoding': 'gzip' }] as Record<string, string>[]) {
        const [a, b] = [await get(native.url, headers), await get(js.url, headers)];
        assert.equal(a.status, 200);
        assert.equal(a.headers['content-type'], b.headers['content-type']);
        const body = (r: typeof a): Buffer => (r.headers['content-encoding'] === 'gzip' ? zlib.gunzipSync(r.body) : r.body);
        const [x, y] = [vpp(body(a)), vpp(body(b))];
        assert.ok(x.length > 10_000, 'the VPP families are there');
        assert.equal(x, y, JSON.stringify(headers));
      }
    } finally {
      await native.close();
      await js.close();
    }
  });
}

test('a client that disconnects mid-scrape frees its in-flight slot', { timeout: 60_000 }, async () => {
  const file = path.join(tmpDir(), 'big.bin');
  const sim = createStatsSimulator({ interfaces: 3000, workers: 1, rate: 0, seed: 2 });
  try {
    fs.writeFileSync(file, sim.image());
  } finally {
    await sim.stop();
  }
  const srv = await serve(file, { maxInFlight: 1 });
  try {
    assert.equal((await get(srv.url)).status, 200, 'the plan is built');
    for (let i = 0; i < 4; i++) {
      // Read the first bytes of a multi-megabyte body, then go away without reading the rest.
      await new Promise<void>((resolve, reject) => {
        const req = http.get(srv.url, { headers: i % 2 === 1 ? { 'accept-encoding': 'gzip' } : {} }, (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        });
        req.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' ? resolve() : reject(e)));
      });
      await sleep(200);
      const next = await get(srv.url);
      assert.equal(next.status, 200, `scrape after disconnect ${i + 1}: ${next.body.subarray(0, 80).toString()}`);
      assert.match(next.body.toString(), /^vpp_up 1$/m);
    }
  } finally {
    await srv.close();
  }
});
