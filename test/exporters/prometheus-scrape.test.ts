/**
 * A real Prometheus (Debian's package) scrapes the exporter running on the simulator with
 * traffic; PromQL over the scraped series gives what operators ask: rx packet rate per
 * interface, vectors per call per node, error rates, and quantiles of a VPP log2 histogram.
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
  const sim = createStatsSimulator({ interfaces, workers: 2, rate: 2000, seed: 9, socketPath, heartbeatMs: 200, tickMs: 100, histograms: true });
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

    // The median received packet size over the last 10 s, from the log2 histogram's buckets
    // summed over both workers. Each interface keeps one packet size and a fixed share of the
    // traffic, so the bucket holding the median is the one the simulator's cumulative counts give.
    const q = 'histogram_quantile(0.5, sum by (le) (rate(vpp_sim_rx_packet_bytes_bucket[10s])))';
    const [median] = await prom.waitForSeries(`${q} > 0`, 30_000);
    assert.deepEqual(median.metric, {}, 'one series, without labels');
    const at = median.value[0];
    const instant = async (promql: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> =>
      ((await prom.api(`/api/v1/query?query=${encodeURIComponent(promql)}&time=${at}`)) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } }).data.result;
    const buckets = (await instant('sum by (le) (rate(vpp_sim_rx_packet_bytes_bucket[10s]))'))
      .map((b) => ({ le: b.metric.le === '+Inf' ? Infinity : Number(b.metric.le), rate: Number(b.value[1]) }))
      .sort((a, b) => a.le - b.le);
    assert.equal(buckets.length, 11, '10 finite buckets and +Inf');
    assert.equal(buckets.at(-1)?.le, Infinity);
    // Prometheus's answer is the linear interpolation inside the bucket where half the count falls.
    const half = buckets.at(-1)!.rate / 2;
    const i = buckets.findIndex((b) => b.rate >= half);
    const lower = i === 0 ? 0 : buckets[i - 1].le;
    const below = i === 0 ? 0 : buckets[i - 1].rate;
    const want = lower + ((buckets[i].le - lower) * (half - below)) / (buckets[i].rate - below);
    const got = Number((await instant(q))[0]?.value[1]);
    assert.ok(Math.abs(got - want) <= 1e-9 * want, `histogram_quantile ${got}, from the buckets ${want}`);
    const truth = (sim.truth({ perThread: false }).get('/sim/rx-packet-bytes') as bigint[][])[0].slice(1).map(Number);
    const total = truth.reduce((a, b) => a + b, 0);
    let cum = 0;
    const bin = truth.findIndex((c) => (cum += c) >= total / 2);
    assert.equal(buckets[i].le, 2 ** (6 + bin + 1) - 1, `the median is in the bucket of bin ${bin} (min_exp 6)`);
    // Prometheus 2.42 asks for OpenMetrics first, where _count comes only with _sum.
    assert.deepEqual(await prom.query('vpp_sim_rx_packet_bytes_count'), []);

    const targets = (await prom.api('/api/v1/targets')) as { data: { activeTargets: { health: string; lastError: string }[] } };
    assert.equal(targets.data.activeTargets[0]?.health, 'up', targets.data.activeTargets[0]?.lastError);
  } finally {
    await prom.stop();
    await exporter.stop();
    await sim.stop();
  }
});
