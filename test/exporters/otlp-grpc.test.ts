/**
 * OTLP/gRPC against real peers: our exporter (--otlp.protocol grpc) -> the OpenTelemetry
 * Collector's otlp receiver (built with the collector's builder, scripts/peers/build-otelcol.sh)
 * -> its otlp_http exporter -> Prometheus 3's OTLP receiver -> PromQL. The values equal the
 * simulator's truth, an export larger than the collector's 4 MiB gRPC message limit arrives split,
 * and a collector that goes away and comes back on the same port gets the pushes again.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createStatsSimulator } from '../../src/sim/index.js';
import { StatsClient } from '../../src/stats/index.js';
import { StatsSource } from '../../src/exporters/stats-source.js';
import { OtlpPusher } from '../../src/exporters/otlp.js';
import { EXPORTER_SKIPPED_SYMLINKS } from '../../src/commands/run.js';
import { logger } from '../../src/log.js';
import type { DumpValue } from '../../src/stats/index.js';
import { tmpDir } from '../helpers/paths.js';
import { startOtlpReceiver } from '../helpers/otlp-receiver.js';
import { startCollector } from '../helpers/otel-collector.js';

/** Cleanups that run in reverse order of registration once the test is over, pass or fail. */
function cleanupStack(t: TestContext): (() => unknown)[] {
  const stack: (() => unknown)[] = [];
  t.after(async () => {
    for (const f of stack.reverse()) await f();
  });
  return stack;
}

test('OTLP/gRPC through the collector to Prometheus equals the simulator truth; a 4 MiB+ export arrives split', { timeout: 180_000 }, async (t) => {
  const cleanup = cleanupStack(t);
  const socketPath = path.join(tmpDir(), 'stats.sock');
  // ~2000 interfaces make an export of more than 4 MiB: two requests at least.
  const sim = createStatsSimulator({ interfaces: 2000, workers: 1, rate: 0, seed: 11, socketPath });
  cleanup.push(() => sim.stop());
  const client = new StatsClient({ socketPath, skipSymlinkPrefixes: EXPORTER_SKIPPED_SYMLINKS });
  cleanup.push(() => client.close());
  const prom = await startOtlpReceiver();
  cleanup.push(() => prom.stop());
  const collector = await startCollector({ metricsEndpoint: prom.otlpHttpUrl });
  cleanup.push(() => collector.stop());
  const pusher = new OtlpPusher(
    new StatsSource(client, { perThread: false }),
    { endpoint: collector.grpcEndpoint, protocol: 'grpc', intervalMs: 60_000, instance: 'grpc-test', perThread: false, headers: { 'x-test-header': 'yes' } },
    logger('otlp'),
  );
  cleanup.push(() => pusher.stop());
  await pusher.start();
  await pusher.flush();
  assert.equal(pusher.counters.failedExports, 0, `collector log: ${collector.logFile}`);
  assert.ok(pusher.counters.requests >= 2, `split into ${pusher.counters.requests} requests`);
  t.diagnostic(`${pusher.counters.dataPoints} points in ${pusher.counters.requests} gRPC requests`);

  const truth = sim.truth({ perThread: false });
  const names = truth.get('/if/names') as (string | null)[];
  const rx = (truth.get('/if/rx') as DumpValue[][])[0];
  const txBytes = (truth.get('/if/tx') as DumpValue[][])[0];
  // Sent by the collector as soon as our Export returned (no sending queue): no waiting.
  const got = await prom.query('vpp_interface_rx_packets_total');
  assert.equal(got.length, names.length);
  for (const s of got) {
    const sw = Number(s.metric.sw_if_index);
    assert.equal(s.metric.interface, names[sw]);
    assert.equal(s.metric.job, 'vpp-exporter');
    assert.equal(Number(s.value[1]), Number((rx[sw] as bigint[])[0]), `rx of ${s.metric.interface}`);
  }
  const tx = await prom.query('vpp_interface_tx_bytes_total');
  assert.equal(tx.length, names.length);
  for (const s of tx) assert.equal(Number(s.value[1]), Number((txBytes[Number(s.metric.sw_if_index)] as bigint[])[1]));
  const errorPaths = [...truth.keys()].filter((k) => k.startsWith('/err/')).length;
  assert.equal(await prom.queryValue('count(vpp_error_total)'), errorPaths);
  assert.equal(await prom.queryValue('vpp_heartbeat'), Number(truth.get('/sys/heartbeat') as bigint));
  assert.equal(await prom.queryValue('vpp_up'), 1);
  // Resource attributes other than service.name land on target_info.
  const info = await prom.query('target_info{job="vpp-exporter"}');
  assert.equal(info.length, 1);
  assert.equal(info[0].metric.vpp_instance, 'grpc-test');
});

test('OTLP/gRPC: a collector that goes down and comes back on the same port gets the pushes again', { timeout: 180_000 }, async (t) => {
  const cleanup = cleanupStack(t);
  const socketPath = path.join(tmpDir(), 'stats.sock');
  const sim = createStatsSimulator({ interfaces: 10, workers: 1, rate: 0, seed: 12, socketPath });
  cleanup.push(() => sim.stop());
  const client = new StatsClient({ socketPath, skipSymlinkPrefixes: EXPORTER_SKIPPED_SYMLINKS });
  cleanup.push(() => client.close());
  const prom = await startOtlpReceiver();
  cleanup.push(() => prom.stop());
  let collector = await startCollector({ metricsEndpoint: prom.otlpHttpUrl });
  cleanup.push(() => collector.stop());
  const grpcPort = collector.grpcPort;
  const pusher = new OtlpPusher(
    new StatsSource(client, { perThread: false }),
    { endpoint: `127.0.0.1:${grpcPort}`, protocol: 'grpc', intervalMs: 1000, instance: 'grpc-restart', perThread: false },
    logger('otlp'),
  );
  cleanup.push(() => pusher.stop());
  const waitFor = async (what: string, ok: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> => {
    const until = Date.now() + timeoutMs;
    while (!(await ok())) {
      if (Date.now() > until) throw new Error(`${what}: not within ${timeoutMs} ms (counters ${JSON.stringify(pusher.counters)})`);
      await sleep(100);
    }
  };
  await pusher.start();
  await waitFor('first push', () => pusher.counters.dataPoints > 0, 15_000);
  assert.equal(await prom.queryValue('vpp_up'), 1);

  await collector.stop();
  const failedBefore = pusher.counters.failedExports;
  // Pushes fail (gRPC UNAVAILABLE, retried with backoff within each export's 1 s budget).
  await waitFor('failed pushes while the collector is down', () => pusher.counters.failedExports >= failedBefore + 2, 20_000);
  const pointsWhileDown = pusher.counters.dataPoints;
  await sleep(2000);
  assert.equal(pusher.counters.dataPoints, pointsWhileDown, 'nothing is delivered while the collector is down');

  const back = Date.now();
  collector = await startCollector({ metricsEndpoint: prom.otlpHttpUrl, grpcPort });
  await waitFor('a push after the collector is back', () => pusher.counters.dataPoints > pointsWhileDown, 30_000);
  // The new samples carry timestamps from after the restart, with the simulator's values.
  await waitFor('samples from after the restart', async () => ((await prom.queryValue('timestamp(vpp_heartbeat)')) ?? 0) * 1000 >= back, 10_000);
  const truth = sim.truth({ perThread: false });
  assert.equal(await prom.queryValue('vpp_heartbeat'), Number(truth.get('/sys/heartbeat') as bigint));
  assert.equal(await prom.queryValue('count(vpp_interface_rx_packets_total)'), (truth.get('/if/names') as unknown[]).length);
});
