/**
 * The direct OTLP encoder against the simulator: every request decodes to exactly the samples
 * the exposition writes (names without _total, label pairs as attributes, values exact), in
 * requests no larger than the cap, cut on data point boundaries; and the same decoder reads the
 * OpenTelemetry SDK's own serialization of the same snapshot to the same samples.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import type { Attributes } from '@opentelemetry/api';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { createStatsSimulator } from '../../src/sim/index.js';
import { StatsClient, SnapshotView } from '../../src/stats/index.js';
import { StatsSource, type Collected } from '../../src/exporters/stats-source.js';
import { visitSamples } from '../../src/exporters/exposition.js';
import { parseLabelBody } from '../../src/exporters/names.js';
import type { Plan } from '../../src/exporters/catalog.js';
import { OtlpRequestEncoder, otlpMetricName, type EncoderOptions } from '../../src/exporters/otlp-encoder.js';
import { EXPORTER_SKIPPED_SYMLINKS } from '../../src/commands/run.js';
import type { NativeSnapshot } from '../../src/native/index.js';
import { tmpDir } from '../helpers/paths.js';
import { decodeMetricsRequest, type DecodedRequest } from '../helpers/otlp-decode.js';

const key = (name: string, attrs: Record<string, unknown>): string =>
  name + '{' + Object.keys(attrs).sort().map((k) => `${k}=${JSON.stringify(attrs[k])}`).join(',') + '}';

/** What the exposition writes for this snapshot, as OTLP names and attribute maps. */
function truthOf(c: Collected, perThread: boolean): Map<string, number> {
  const m = new Map<string, number>();
  visitSamples(c.plan, c.view, { perThread, threads: c.threads }, (f, i, column, thread, value) => {
    const a: Record<string, string> = f.col[i] >= 0 ? parseLabelBody(f.labels[i]) : {};
    if (column >= 0) a[f.labels[i]] = String(column);
    if (thread >= 0) a.thread = String(thread);
    const k = key(otlpMetricName(f), a);
    assert.ok(!m.has(k), `duplicate series ${k}`);
    m.set(k, value);
  });
  return m;
}

function samplesOf(reqs: DecodedRequest[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of reqs) {
    for (const metric of r.metrics) {
      for (const p of metric.points) {
        const k = key(metric.name, p.attributes);
        assert.ok(!m.has(k), `series ${k} sent twice`);
        m.set(k, Number(p.value));
      }
    }
  }
  return m;
}

const baseOptions = (o: Partial<EncoderOptions>): EncoderOptions => ({
  resourceAttributes: { 'service.name': 'vpp-exporter', 'vpp.instance': 'enc-test' },
  scopeName: 'vpp-exporter',
  scopeVersion: '9.9.9',
  maxRequestBytes: 4 * 1024 * 1024,
  perThread: false,
  ...o,
});

/** The start time the hand-made inputs below carry, and a time after it. */
const START_NS = 1_700_000_000_000_000_000n;
const TIME_NS = 1_800_000_000_000_000_009n;

for (const perThread of [false, true]) {
  for (const maxRequestBytes of [4 * 1024 * 1024, 4096]) {
    test(`encoded requests equal the exposition's samples (${perThread ? 'per thread' : 'summed'}, cap ${maxRequestBytes} bytes)`, { timeout: 60_000 }, async () => {
      const socketPath = path.join(tmpDir(), 'stats.sock');
      const sim = createStatsSimulator({ interfaces: 20, workers: 2, rate: 0, seed: 5, socketPath });
      const client = new StatsClient({ socketPath, skipSymlinkPrefixes: EXPORTER_SKIPPED_SYMLINKS });
      try {
        const c = (await new StatsSource(client, { perThread }).collect())!;
        assert.ok(c, 'a snapshot');
        const enc = new OtlpRequestEncoder(baseOptions({ maxRequestBytes, perThread }));
        const timeNs = 1_800_000_000_123_456_789n;
        const decoded: DecodedRequest[] = [];
        let points = 0;
        for (const r of enc.requests(c, timeNs)) {
          assert.ok(r.body.length <= maxRequestBytes, `request of ${r.body.length} bytes over the cap`);
          const d = decodeMetricsRequest(r.body.slice());
          assert.equal(d.metrics.reduce((n, m) => n + m.points.length + m.histogramPoints.length, 0), r.points);
          // Histogram families (log2 histograms) are checked on their own below; these are the samples.
          points += d.metrics.reduce((n, m) => n + m.points.length, 0);
          decoded.push(d);
        }
        const truth = truthOf(c, perThread);
        // The start of every cumulative series is the simulated VPP's boot time (whole seconds).
        const bootNs = BigInt(sim.truth().get('/sys/boottime') as bigint) * 1_000_000_000n;
        assert.equal(c.startTimeNs, bootNs);
        c.release();
        const got = samplesOf(decoded);
        assert.equal(got.get('vpp_up{}'), 1);
        got.delete('vpp_up{}');
        assert.equal(points, truth.size + 1);
        assert.deepEqual([...got.keys()].sort(), [...truth.keys()].sort());
        for (const [k, v] of truth) assert.equal(got.get(k), v, k);

        for (const d of decoded) {
          assert.deepEqual(d.resource, { 'service.name': 'vpp-exporter', 'vpp.instance': 'enc-test' });
          assert.deepEqual(d.scope, { name: 'vpp-exporter', version: '9.9.9' });
          for (const m of d.metrics) {
            assert.ok(m.points.length + m.histogramPoints.length > 0, `${m.name}: a metric without points`);
            for (const p of m.points) {
              assert.equal(p.timeUnixNano, timeNs);
              assert.equal(p.valueField, 'as_int');
            }
            if (m.kind === 'sum') {
              assert.equal(m.temporality, 2, `${m.name} is cumulative`);
              assert.equal(m.monotonic, true);
              assert.ok(!m.name.endsWith('_total'), m.name);
              for (const p of m.points) assert.equal(p.startTimeUnixNano, bootNs, m.name);
            } else {
              // Optional for gauges (data model: "Gauge"); none is sent.
              for (const p of m.points) assert.equal(p.startTimeUnixNano, undefined, m.name);
            }
          }
        }
        if (maxRequestBytes < 100_000) {
          assert.ok(decoded.length > 3, `split into ${decoded.length} requests`);
          // A family larger than one request is cut between data points and sent in several.
          const perName = new Map<string, number>();
          for (const d of decoded) for (const m of d.metrics) perName.set(m.name, (perName.get(m.name) ?? 0) + 1);
          assert.ok([...perName.values()].some((n) => n > 1), 'some family spans requests');
        } else {
          assert.equal(decoded.length, 1);
        }
      } finally {
        client.close();
        await sim.stop();
      }
    });
  }
}

test("the decoder reads the OpenTelemetry SDK's serialization of the same snapshot to the same samples", { timeout: 60_000 }, async () => {
  const socketPath = path.join(tmpDir(), 'stats.sock');
  const sim = createStatsSimulator({ interfaces: 8, workers: 1, rate: 0, seed: 6, socketPath });
  const client = new StatsClient({ socketPath, skipSymlinkPrefixes: EXPORTER_SKIPPED_SYMLINKS });
  try {
    const c = (await new StatsSource(client, { perThread: false }).collect())!;
    class Reader extends MetricReader {
      protected override onForceFlush(): Promise<void> {
        return Promise.resolve();
      }
      protected override onShutdown(): Promise<void> {
        return Promise.resolve();
      }
    }
    const reader = new Reader({ cardinalitySelector: () => 1_000_000 });
    const provider = new MeterProvider({ readers: [reader] });
    const meter = provider.getMeter('sdk');
    const byFamily = new Map<string, [number, Attributes][]>();
    visitSamples(c.plan, c.view, { perThread: false, threads: c.threads }, (f, i, column, _thread, value) => {
      const a: Attributes = f.col[i] >= 0 ? parseLabelBody(f.labels[i]) : {};
      if (column >= 0) a[f.labels[i]] = String(column);
      const name = otlpMetricName(f);
      if (!byFamily.has(name)) {
        byFamily.set(name, []);
        const inst = f.type === 'counter' ? meter.createObservableCounter(name) : meter.createObservableGauge(name);
        inst.addCallback((r) => {
          for (const [v, attrs] of byFamily.get(name)!) r.observe(v, attrs);
        });
      }
      byFamily.get(name)!.push([value, a]);
    });
    const { resourceMetrics } = await reader.collect();
    const sdkBody = ProtobufMetricsSerializer.serializeRequest(resourceMetrics)!;
    const sdk = samplesOf([decodeMetricsRequest(sdkBody)]);
    const ours = new OtlpRequestEncoder(baseOptions({}));
    const oursDecoded: DecodedRequest[] = [];
    for (const r of ours.requests(c, 1n)) oursDecoded.push(decodeMetricsRequest(r.body));
    const mine = samplesOf(oursDecoded);
    mine.delete('vpp_up{}');
    c.release();
    await provider.shutdown();
    assert.ok(sdk.size > 100, `${sdk.size} SDK samples`);
    assert.deepEqual(new Map([...mine].sort()), new Map([...sdk].sort()));
  } finally {
    client.close();
    await sim.stop();
  }
});

test('u64 values go out exactly as as_int, and as as_double past 2^63; without a snapshot only vpp_up 0', () => {
  // A hand-made snapshot: two scalar entries (layout: status, type, offset, rows, width; at the
  // offset the row length, then the value).
  const values = BigUint64Array.from([1n, 2n ** 53n + 1n, 1n, 2n ** 63n + 4096n]);
  const layout = Uint32Array.from([0, 1, 0, 1, 1, 0, 1, 2, 1, 1]);
  const view = new SnapshotView({ epoch: 7, values, layout, names: [] } as unknown as NativeSnapshot);
  const family = (name: string, k: number): Plan['families'][number] => ({
    name,
    help: 'h',
    type: 'counter',
    source: '/x',
    labelNames: ['x'],
    k: Int32Array.of(k),
    col: Int32Array.of(0),
    word: Uint8Array.of(0),
    labels: ['x="a\\"b"'],
    noThreadLabel: true,
    extraRow: false,
  });
  const plan: Plan = { epoch: 7, slots: Uint32Array.of(0, 1), families: [family('vpp_a_total', 0), family('vpp_b_total', 1)], unexported: [], bootTimeK: -1 };
  const enc = new OtlpRequestEncoder(baseOptions({}));
  const [req] = [...enc.requests({ plan, view, threads: 1, startTimeNs: 4n }, 5n)].map((r) => decodeMetricsRequest(r.body.slice()));
  const a = req.metrics.find((m) => m.name === 'vpp_a')!;
  assert.deepEqual(a.points[0].attributes, { x: 'a"b' });
  assert.equal(a.points[0].valueField, 'as_int');
  assert.equal(a.points[0].value, 2n ** 53n + 1n);
  const b = req.metrics.find((m) => m.name === 'vpp_b')!;
  assert.equal(b.points[0].valueField, 'as_double');
  assert.equal(b.points[0].value, 2 ** 63 + 4096); // doubles are 2048 apart here: exact
  assert.deepEqual([a.points[0].startTimeUnixNano, a.points[0].timeUnixNano], [4n, 5n]);

  // A start after the export's time (VPP's clock ahead of ours) is sent as the export's time.
  const [ahead] = [...enc.requests({ plan, view, threads: 1, startTimeNs: 6n }, 5n)].map((r) => decodeMetricsRequest(r.body.slice()));
  for (const m of ahead.metrics.filter((x) => x.kind === 'sum')) assert.equal(m.points[0].startTimeUnixNano, 5n, m.name);

  const down = [...enc.requests(undefined, 5n)].map((r) => decodeMetricsRequest(r.body.slice()));
  assert.equal(down.length, 1);
  assert.deepEqual(
    down[0].metrics.map((m) => [m.name, m.kind, m.points.map((p) => p.value)]),
    [['vpp_up', 'gauge', [0n]]],
  );
});

/** A hand-made snapshot of one log2 histogram entry with the given rows ([min_exp, bins...]). */
function histogramInput(rows: bigint[][]): { plan: Plan; view: SnapshotView; threads: number; startTimeNs: bigint } {
  const values = BigUint64Array.from([...rows.map((r) => BigInt(r.length)), ...rows.flat()]);
  const layout = Uint32Array.from([0, 7, 0, rows.length, 1]);
  const view = new SnapshotView({ epoch: 3, values, layout, names: [] } as unknown as NativeSnapshot);
  const family: Plan['families'][number] = {
    name: 'vpp_sizes',
    help: 'sizes',
    type: 'histogram',
    source: '/sizes',
    labelNames: [],
    k: Int32Array.of(0),
    col: Int32Array.of(0),
    word: Uint8Array.of(0),
    labels: [''],
    noThreadLabel: false,
    extraRow: false,
  };
  return { plan: { epoch: 3, slots: Uint32Array.of(0), families: [family], unexported: [], bootTimeK: -1 }, view, threads: rows.length, startTimeNs: START_NS };
}

test('log2 histogram rows become cumulative explicit-bucket histogram points (bounds 2^e - 1, last bin open, no sum)', () => {
  const summed = histogramInput([[3n, 5n, 0n, 7n, 2n]]);
  const enc = new OtlpRequestEncoder(baseOptions({}));
  const [req] = [...enc.requests(summed, TIME_NS)].map((r) => decodeMetricsRequest(r.body.slice()));
  const h = req.metrics.find((m) => m.name === 'vpp_sizes')!;
  assert.equal(h.kind, 'histogram');
  assert.equal(h.temporality, 2);
  assert.equal(h.histogramPoints.length, 1);
  const p = h.histogramPoints[0];
  assert.deepEqual(p.attributes, {});
  assert.equal(p.startTimeUnixNano, START_NS);
  assert.equal(p.timeUnixNano, TIME_NS);
  assert.deepEqual(p.explicitBounds, [15, 31, 63]);
  assert.deepEqual(p.bucketCounts, [5n, 0n, 7n, 2n]);
  assert.equal(p.count, 14n);
  assert.equal(p.sum, undefined);

  // Per thread: bins whose bound would pass 2^64 go to the open bucket; a row without bins is an
  // empty point; counts add up modulo 2^64.
  const rows = [[62n, 1n, 2n, 3n, 4n], [0n], [1n, 2n ** 64n - 1n, 1n]];
  const perThread = histogramInput(rows);
  const enc2 = new OtlpRequestEncoder(baseOptions({ perThread: true }));
  const [req2] = [...enc2.requests(perThread, TIME_NS)].map((r) => decodeMetricsRequest(r.body.slice()));
  const pts = req2.metrics.find((m) => m.name === 'vpp_sizes')!.histogramPoints;
  assert.deepEqual(pts.map((x) => x.attributes), [{ thread: '0' }, { thread: '1' }, { thread: '2' }]);
  assert.deepEqual(pts[0].explicitBounds, [2 ** 63, 2 ** 64]);
  assert.deepEqual(pts[0].bucketCounts, [1n, 2n, 7n]);
  assert.equal(pts[0].count, 10n);
  assert.deepEqual(pts[1].explicitBounds, []);
  assert.deepEqual(pts[1].bucketCounts, [0n]);
  assert.equal(pts[1].count, 0n);
  assert.deepEqual(pts[2].explicitBounds, [3]);
  assert.deepEqual(pts[2].bucketCounts, [2n ** 64n - 1n, 1n]);
  assert.equal(pts[2].count, 0n);

  // Cut between histogram points like any other: a cap that holds about one point a request.
  const many = histogramInput(Array.from({ length: 40 }, (_, i) => [BigInt(i % 5), ...Array.from({ length: 20 }, (_, j) => BigInt(i * j))]));
  const enc3 = new OtlpRequestEncoder(baseOptions({ perThread: true, maxRequestBytes: 1024 }));
  const reqs: DecodedRequest[] = [];
  // Each body is decoded before the generator is resumed: the encoder reuses its buffer.
  for (const r of enc3.requests(many, TIME_NS)) {
    assert.ok(r.body.length <= 1024, `${r.body.length} bytes`);
    reqs.push(decodeMetricsRequest(r.body));
  }
  assert.ok(reqs.length > 5, `${reqs.length} requests`);
  const all = reqs.flatMap((r) => r.metrics.filter((m) => m.name === 'vpp_sizes').flatMap((m) => m.histogramPoints));
  assert.deepEqual(all.map((x) => x.attributes.thread), Array.from({ length: 40 }, (_, i) => String(i)));
  for (const [i, x] of all.entries()) {
    assert.equal(x.count, BigInt(i * 190), `thread ${i}`);
    assert.equal(x.explicitBounds.length, 19);
    assert.equal(x.explicitBounds[0], 2 ** ((i % 5) + 1) - 1);
  }
});

test('gauge families given as values (version, link state) encode exactly and split at the cap on point boundaries', () => {
  const points = Array.from({ length: 500 }, (_, i) => ({ attributes: [['interface', `eth"${i}\\x`], ['sw_if_index', String(i)]] as const, value: i % 2 }));
  const families = [
    { name: 'vpp_version_info', description: 'the version', points: [{ attributes: [['version', '26.10'], ['build_date', 'd']] as const, value: 1 }] },
    { name: 'vpp_interface_link_up', description: 'link', points },
  ];
  const timeNs = 1_800_000_000_000_000_007n;
  for (const maxRequestBytes of [4 * 1024 * 1024, 2048]) {
    const enc = new OtlpRequestEncoder(baseOptions({ maxRequestBytes }));
    const got = new Map<string, { attributes: Record<string, string>; value: bigint | number }[]>();
    let requests = 0;
    for (const r of enc.gaugeRequests(families, timeNs)) {
      requests++;
      assert.ok(r.body.length <= maxRequestBytes, `${r.body.length} bytes over the cap ${maxRequestBytes}`);
      const d = decodeMetricsRequest(r.body.slice());
      assert.equal(d.resource['vpp.instance'], 'enc-test');
      assert.equal(d.metrics.reduce((n, m) => n + m.points.length, 0), r.points);
      for (const m of d.metrics) {
        assert.equal(m.kind, 'gauge');
        for (const p of m.points) assert.equal(p.timeUnixNano, timeNs);
        got.set(m.name, [...(got.get(m.name) ?? []), ...m.points.map((p) => ({ attributes: p.attributes, value: p.value }))]);
      }
    }
    if (maxRequestBytes < 10_000) assert.ok(requests > 5, `${requests} requests`);
    else assert.equal(requests, 1);
    assert.deepEqual(got.get('vpp_version_info'), [{ attributes: { version: '26.10', build_date: 'd' }, value: 1n }]);
    assert.deepEqual(
      got.get('vpp_interface_link_up'),
      points.map((p) => ({ attributes: Object.fromEntries(p.attributes), value: BigInt(p.value) })),
    );
  }
});
