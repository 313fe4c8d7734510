/**
 * OTLP push to a real receiver (Prometheus 3 with its OTLP receiver, built from the Go module
 * proxy): the values it stores equal the simulator's truth; requests are split under the size
 * cap and still carry every point.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import { createStatsSimulator } from '../../src/sim/index.js';
import { StatsClient } from '../../src/stats/index.js';
import { StatsSource } from '../../src/exporters/stats-source.js';
import { OtlpPusher, parseLabelBody } from '../../src/exporters/otlp.js';
import { EXPORTER_SKIPPED_SYMLINKS } from '../../src/commands/run.js';
import { logger } from '../../src/log.js';
import type { DumpValue } from '../../src/stats/index.js';
import { tmpDir } from '../helpers/paths.js';
import { startOtlpReceiver } from '../helpers/otlp-receiver.js';

test('label bodies parse back to attributes', () => {
  assert.deepEqual(parseLabelBody('interface="a\\"b\\\\c\\nd",sw_if_index="3"'), { interface: 'a"b\\c\nd', sw_if_index: '3' });
});

for (const maxRequestBytes of [4 * 1024 * 1024, 16 * 1024]) {
  test(`OTLP/HTTP push equals the simulator's truth (request cap ${maxRequestBytes} bytes)`, { timeout: 120_000 }, async () => {
    const socketPath = path.join(tmpDir(), 'stats.sock');
    const sim = createStatsSimulator({ interfaces: 10, workers: 1, rate: 0, seed: 8, socketPath });
    const client = new StatsClient({ socketPath, skipSymlinkPrefixes: EXPORTER_SKIPPED_SYMLINKS });
    const receiver = await startOtlpReceiver();
    const pusher = new OtlpPusher(
      new StatsSource(client, { perThread: false }),
      { endpoint: receiver.otlpHttpUrl, protocol: 'http/protobuf', intervalMs: 60_000, instance: 'sim-test', perThread: false, maxRequestBytes },
      logger('otlp'),
    );
    try {
      await pusher.start();
      await pusher.flush();
      assert.equal(pusher.counters.failedExports, 0);
      if (maxRequestBytes < 100_000) assert.ok(pusher.counters.requests > 1, `split into ${pusher.counters.requests} requests`);
      else assert.equal(pusher.counters.requests, 1);
      const truth = sim.truth({ perThread: false });
      const names = truth.get('/if/names') as (string | null)[];
      const rx = (truth.get('/if/rx') as DumpValue[][])[0];
      const got = await receiver.waitForSeries('vpp_interface_rx_packets_total', 30_000);
      assert.equal(got.length, names.length);
      for (const s of got) {
        const sw = Number(s.metric.sw_if_index);
        assert.equal(s.metric.interface, names[sw]);
        assert.equal(Number(s.value[1]), Number((rx[sw] as bigint[])[0]), `rx of ${s.metric.interface}`);
      }
      const errors = await receiver.query('count(vpp_error_total)');
      const errorPaths = [...truth.keys()].filter((k) => k.startsWith('/err/')).length;
      assert.equal(Number(errors[0]?.value[1]), errorPaths);
      const heartbeat = await receiver.queryValue('vpp_heartbeat');
      assert.equal(heartbeat, Number(truth.get('/sys/heartbeat') as bigint));
      assert.equal(await receiver.queryValue('vpp_up'), 1);
    } finally {
      await pusher.stop();
      client.close();
      await receiver.stop();
      await sim.stop();
    }
  });
}

test('OTLP/HTTP: log2 histograms arrive as explicit-bucket histograms equal to the simulator truth', { timeout: 120_000 }, async () => {
  const socketPath = path.join(tmpDir(), 'stats.sock');
  // Traffic fills the histograms at build time; one tick a minute keeps them still during the test.
  const sim = createStatsSimulator({ interfaces: 4, workers: 1, rate: 1000, seed: 8, tickMs: 60_000, heartbeatMs: 60_000, histograms: true, socketPath });
  const client = new StatsClient({ socketPath, skipSymlinkPrefixes: EXPORTER_SKIPPED_SYMLINKS });
  const receiver = await startOtlpReceiver();
  const pusher = new OtlpPusher(
    new StatsSource(client, { perThread: false }),
    { endpoint: receiver.otlpHttpUrl, protocol: 'http/protobuf', intervalMs: 60_000, instance: 'sim-test', perThread: false },
    logger('otlp'),
  );
  try {
    await pusher.start();
    await pusher.flush();
    assert.equal(pusher.counters.failedExports, 0);
    const row = (sim.truth({ perThread: false }).get('/sim/rx-packet-bytes') as bigint[][])[0].map(Number);
    const [minExp, ...bins] = row;
    const total = bins.reduce((a, b) => a + b, 0);
    assert.ok(total > 0, 'the histogram has observations');
    const got = await receiver.waitForSeries('vpp_sim_rx_packet_bytes_bucket', 30_000);
    const byLe = new Map(got.map((s) => [s.metric.le === '+Inf' ? Infinity : Number(s.metric.le), Number(s.value[1])]));
    const want = new Map<number, number>([[Infinity, total]]);
    let cumulative = 0;
    // Every bin but the last (open ended) has the finite bound 2^(min_exp + i + 1) - 1.
    for (let i = 0; i < bins.length - 1; i++) {
      cumulative += bins[i];
      want.set(2 ** (minExp + i + 1) - 1, cumulative);
    }
    assert.deepEqual([...byLe].sort((a, b) => a[0] - b[0]), [...want].sort((a, b) => a[0] - b[0]));
    assert.equal(await receiver.queryValue('vpp_sim_rx_packet_bytes_count'), total);
  } finally {
    await pusher.stop();
    client.close();
    await receiver.stop();
    await sim.stop();
  }
});

for (const peer of ['answers 503 with Retry-After', 'never answers'] as const) {
  test(`stop() is bounded when the collector ${peer}`, { timeout: 60_000 }, async (t) => {
    const socketPath = path.join(tmpDir(), 'stats.sock');
    const sim = createStatsSimulator({ interfaces: 4, workers: 0, rate: 0, seed: 9, socketPath });
    t.after(() => sim.stop());
    const client = new StatsClient({ socketPath, skipSymlinkPrefixes: EXPORTER_SKIPPED_SYMLINKS });
    t.after(() => client.close());
    let requests = 0;
    const server = http.createServer((req, res) => {
      requests++;
      req.resume();
      if (peer === 'answers 503 with Retry-After') req.on('end', () => res.writeHead(503, { 'retry-after': '1' }).end());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    t.after(() => {
      server.closeAllConnections();
      server.close();
    });
    const port = (server.address() as { port: number }).port;
    const pusher = new OtlpPusher(
      new StatsSource(client, { perThread: false }),
      { endpoint: `http://127.0.0.1:${port}/v1/metrics`, protocol: 'http/protobuf', intervalMs: 30_000, instance: 'stop-test', perThread: false },
      logger('otlp'),
    );
    await pusher.start();
    const t0 = performance.now();
    await pusher.stop(500);
    const ms = performance.now() - t0;
    assert.ok(ms < 1500, `stop took ${Math.round(ms)} ms`);
    assert.ok(requests >= 1, 'the last push was tried');
    assert.equal(pusher.counters.dataPoints, 0);
  });
}
