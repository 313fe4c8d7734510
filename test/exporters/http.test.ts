/** The /metrics listener: formats, compression, limits, and a failing or hanging stats read. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import zlib from 'node:zlib';
import { fixtureImage } from '../helpers/paths.js';
import { exporterOn } from '../helpers/exporter.js';
import { StatsClient } from '../../src/stats/index.js';
import { SelfMetrics } from '../../src/exporters/self-metrics.js';
import { MetricsHandler, createMetricsServer, type MetricsSource } from '../../src/exporters/prometheus.js';
import { logger } from '../../src/log.js';

function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http.get(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    }).on('error', reject);
  });
}

test('OpenMetrics when asked: counters named without _total, samples with it, # EOF last', async () => {
  const exporter = await exporterOn({ filePath: fixtureImage('statseg') });
  try {
    const res = await get(exporter.url, { accept: 'application/openmetrics-text; version=1.0.0' });
    assert.equal(res.status, 200);
    assert.match(String(res.headers['content-type']), /^application\/openmetrics-text; version=1\.0\.0/);
    const body = res.body.toString();
    assert.match(body, /^# TYPE vpp_interface_rx_packets counter$/m);
    assert.match(body, /^vpp_interface_rx_packets_total\{interface="host-vpp-veth0",sw_if_index="5"\} 36$/m);
    assert.ok(body.endsWith('# EOF\n'), 'OpenMetrics ends with # EOF');
    assert.equal(body.match(/^# EOF$/gm)?.length, 1);
  } finally {
    await exporter.stop();
  }
});

test('gzip when asked, identical content', async () => {
  const exporter = await exporterOn({ filePath: fixtureImage('statseg') });
  try {
    const plain = await get(exporter.url);
    const gz = await get(exporter.url, { 'accept-encoding': 'gzip' });
    assert.equal(gz.headers['content-encoding'], 'gzip');
    const unzipped = zlib.gunzipSync(gz.body).toString();
    const vpp = (s: string): string => s.split('\n').filter((l) => l.startsWith('vpp_interface') || l.startsWith('vpp_error')).join('\n');
    assert.equal(vpp(unzipped), vpp(plain.body.toString()));
    assert.ok(vpp(unzipped).length > 1000);
  } finally {
    await exporter.stop();
  }
});

test('landing page, 404 and 405', async () => {
  const exporter = await exporterOn({ filePath: fixtureImage('statseg') });
  try {
    const base = exporter.url.replace(/\/metrics$/, '');
    assert.equal((await get(base + '/')).status, 200);
    assert.equal((await get(base + '/nope')).status, 404);
    const res = await fetch(exporter.url, { method: 'POST' });
    assert.equal(res.status, 405);
    await res.arrayBuffer();
  } finally {
    await exporter.stop();
  }
});

async function handlerServer(source: MetricsSource, opts: { maxInFlight?: number } = {}): Promise<{ url: string; close(): Promise<void>; self: SelfMetrics }> {
  const self = new SelfMetrics(source.client, 'stats');
  const log = logger('test');
  const server = createMetricsServer(new MetricsHandler({ source, self, log, perThread: false, ...opts }), log);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/metrics`,
    self,
    close: () => new Promise((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

for (const fault of ['throws', 'hangs'] as const) {
  test(`a stats read that ${fault} still gives 200 within 1 s with vpp_up 0 and success 0`, async () => {
    const client = new StatsClient({ filePath: fixtureImage('statseg') });
    const source: MetricsSource = {
      client,
      collect: () => (fault === 'throws' ? Promise.reject(new Error('forced failure')) : new Promise(() => {})),
    };
    const srv = await handlerServer(source);
    try {
      const t0 = performance.now();
      const res = await get(srv.url);
      const ms = performance.now() - t0;
      assert.equal(res.status, 200);
      assert.ok(ms < 1000, `answered after ${ms.toFixed(0)} ms`);
      const body = res.body.toString();
      assert.match(body, /^vpp_up 0$/m);
      assert.match(body, /^vpp_exporter_collector_success\{collector="stats"\} 0$/m);
      assert.match(body, /^process_cpu_user_seconds_total /m, 'the rest of the scrape is there');
      assert.doesNotMatch(body, /^vpp_interface_/m);
    } finally {
      await srv.close();
      client.close();
    }
  });
}

test('scrapes beyond the in-flight limit get 503', async () => {
  const client = new StatsClient({ filePath: fixtureImage('statseg') });
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const source: MetricsSource = { client, collect: async () => { await gate; return undefined; } };
  const srv = await handlerServer(source, { maxInFlight: 2 });
  try {
    const first = [get(srv.url), get(srv.url)];
    await new Promise((r) => setTimeout(r, 100));
    const third = await get(srv.url);
    assert.equal(third.status, 503);
    assert.match(third.body.toString(), /too many scrapes/);
    release();
    for (const r of await Promise.all(first)) assert.equal(r.status, 200);
    assert.equal(await srv.self.scrapesRejected.get().then((m) => m.values[0]?.value), 1);
  } finally {
    await srv.close();
    client.close();
  }
});

test('an OpenMetrics scrape does not rename the text format counters (separate metric objects)', async () => {
  const exporter = await exporterOn({ filePath: fixtureImage('statseg') });
  try {
    await get(exporter.url, { accept: 'application/openmetrics-text; version=1.0.0' });
    const body = (await get(exporter.url)).body.toString();
    assert.match(body, /^vpp_exporter_stats_retries_total 0$/m);
    assert.match(body, /^vpp_exporter_scrapes_rejected_total 0$/m);
    assert.doesNotMatch(body, /^vpp_exporter_stats_retries /m);
  } finally {
    await exporter.stop();
  }
});
