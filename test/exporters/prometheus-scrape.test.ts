/**
 * A real Prometheus (Debian's package) scrapes the exporter running on the simulator with
 * traffic; PromQL over the scraped series gives what operators ask: rx packet rate per
 * interface, vectors per call per node, error rates.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { createStatsSimulator } from '../../src/sim/index.js';
import { tmpDir } from '../helpers/paths.js';
import { exporterOn } from '../helpers/exporter.js';
import { startPrometheus } from '../helpers/prometheus.js';

test('Prometheus scrapes the exporter on the simulator; PromQL answers rates, vectors/call, errors', { timeout: 120_000 }, async () => {
  const socketPath = path.join(tmpDir(), 'stats.sock');
  const interfaces = 16;
  const sim = createStatsSimulator({ interfaces, workers: 2, rate: 2000, seed: 9, socketPath, heartbeatMs: 200, tickMs: 100 });
  const exporter = await exporterOn({ socketPath });
  const target = new URL(exporter.url).host;
  const prom = await startPrometheus({ scrapeTargets: [target], scrapeIntervalMs: 1000 });
  try {
    assert.equal((await prom.waitForSeries('vpp_up == 1', 30_000)).length, 1);
    // rate() needs two samples in the window.
    const rx = await prom.waitForSeries('rate(vpp_interface_rx_packets_total[10s]) > 0', 30_000);
    const names = new Set(rx.map((s) => s.metric.interface));
    assert.ok(names.size >= interfaces / 2, `rx rate for ${names.size} interfaces`);
    for (const s of rx) assert.match(s.metric.sw_if_index ?? '', /^\d+$/);
    const all = await prom.query('vpp_interface_rx_packets_total');
    assert.equal(all.length, interfaces + 1, 'one series per interface (local0 included)');

    const vpc = await prom.waitForSeries('rate(vpp_node_vectors_total[10s]) / rate(vpp_node_calls_total[10s]) > 0', 30_000);
    assert.ok(vpc.length > 0);
    for (const s of vpc) {
      assert.ok(s.metric.node, 'vectors/call is per node');
      assert.ok(Number(s.value[1]) > 0 && Number(s.value[1]) <= 256, `vectors/call ${s.value[1]} for ${s.metric.node}`);
    }
    const errors = await prom.query('sum by (node, error) (rate(vpp_error_total[10s]))');
    assert.ok(errors.length > 100, `${errors.length} error series`);
    assert.ok(errors.every((s) => s.metric.node !== undefined && s.metric.error !== undefined));
    const targets = (await prom.api('/api/v1/targets')) as { data: { activeTargets: { health: string; lastError: string }[] } };
    assert.equal(targets.data.activeTargets[0]?.health, 'up', targets.data.activeTargets[0]?.lastError);
  } finally {
    await prom.stop();
    await exporter.stop();
    await sim.stop();
  }
});
