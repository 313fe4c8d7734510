// The real OTLP receiver peer (scripts/peers/build-otlp-receiver.sh, test/helpers/otlp-receiver.ts):
// Prometheus 3 takes an OTLP/HTTP ExportMetricsServiceRequest (protobuf, encoded by hand here,
// and JSON) and the values come back through PromQL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startOtlpReceiver } from '../helpers/otlp-receiver.js';

// ---- a minimal protobuf writer (just what opentelemetry/proto/metrics/v1 needs here) ----------
function varint(n: bigint | number): number[] {
  let v = BigInt(n);
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return out;
}
const tag = (field: number, wire: number): number[] => varint((field << 3) | wire);
const bytesField = (field: number, b: number[]): number[] => [...tag(field, 2), ...varint(b.length), ...b];
const stringField = (field: number, s: string): number[] => bytesField(field, [...Buffer.from(s, 'utf8')]);
const varintField = (field: number, n: number | bigint): number[] => [...tag(field, 0), ...varint(n)];
function fixed64Field(field: number, n: bigint): number[] {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(n);
  return [...tag(field, 1), ...b];
}
function doubleField(field: number, x: number): number[] {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(x);
  return [...tag(field, 1), ...b];
}
// KeyValue{1 key, 2 value: AnyValue{1 string_value}}
const kv = (field: number, k: string, v: string): number[] => bytesField(field, [...stringField(1, k), ...bytesField(2, stringField(1, v))]);

/** ExportMetricsServiceRequest with one resource, one scope, one gauge and one monotonic sum. */
function encodeRequest(o: { gauge: number; counter: number; timeNs: bigint; startNs: bigint }): Uint8Array {
  // NumberDataPoint{7 attributes, 2 start_time_unix_nano, 3 time_unix_nano, 4 as_double}
  const gaugePoint = [...kv(7, 'interface', 'loop0'), ...fixed64Field(3, o.timeNs), ...doubleField(4, o.gauge)];
  // Metric{1 name, 2 description, 3 unit, 5 gauge{1 data_points}}
  const gauge = [
    ...stringField(1, 'vpp_peer_test_gauge'),
    ...stringField(2, 'a hand-encoded OTLP gauge'),
    ...bytesField(5, bytesField(1, gaugePoint)),
  ];
  // NumberDataPoint with as_int (6, sfixed64); Sum{1 data_points, 2 aggregation_temporality=2 (cumulative), 3 is_monotonic}
  const sumPoint = [
    ...kv(7, 'interface', 'loop0'),
    ...fixed64Field(2, o.startNs),
    ...fixed64Field(3, o.timeNs),
    ...fixed64Field(6, BigInt(o.counter)),
  ];
  const sum = [
    ...stringField(1, 'vpp_peer_test_packets'),
    ...bytesField(7, [...bytesField(1, sumPoint), ...varintField(2, 2), ...varintField(3, 1)]),
  ];
  // ScopeMetrics{1 scope{1 name, 2 version}, 2 metrics}
  const scopeMetrics = [
    ...bytesField(1, [...stringField(1, 'vpp-exporter-peer-test'), ...stringField(2, '0.1.0')]),
    ...bytesField(2, gauge),
    ...bytesField(2, sum),
  ];
  // ResourceMetrics{1 resource{1 attributes}, 2 scope_metrics}
  const resource = [
    ...kv(1, 'service.name', 'vpp-exporter-test'),
    ...kv(1, 'service.instance.id', 'peer-1'),
    ...kv(1, 'host.name', 'vpp-test-host'),
  ];
  const resourceMetrics = [...bytesField(1, resource), ...bytesField(2, scopeMetrics)];
  // ExportMetricsServiceRequest{1 resource_metrics}
  return Uint8Array.from(bytesField(1, resourceMetrics));
}

test('OTLP receiver: protobuf and JSON pushes come back through PromQL', { timeout: 120_000 }, async (t) => {
  const t0 = performance.now();
  const rx = await startOtlpReceiver();
  t.after(() => rx.stop());
  t.diagnostic(`Prometheus 3 OTLP receiver at ${rx.otlpHttpUrl}, ready in ${Math.round(performance.now() - t0)} ms`);

  const nowMs = Date.now();
  const timeNs = BigInt(nowMs) * 1_000_000n;
  const r = await rx.push(encodeRequest({ gauge: 42.5, counter: 1234, timeNs, startNs: timeNs - 60_000_000_000n }));
  assert.equal(r.status, 200, `OTLP protobuf push: HTTP ${r.status} ${r.body}`);

  const g = await rx.waitForSeries('vpp_peer_test_gauge', 10_000);
  assert.equal(g.length, 1);
  assert.equal(Number(g[0].value[1]), 42.5);
  assert.equal(g[0].metric.job, 'vpp-exporter-test');
  assert.equal(g[0].metric.instance, 'peer-1');
  assert.equal(g[0].metric.interface, 'loop0');
  assert.equal(await rx.queryValue('vpp_peer_test_packets_total{interface="loop0"}'), 1234);
  // The other resource attributes land on target_info.
  const info = await rx.query('target_info{job="vpp-exporter-test"}');
  assert.equal(info.length, 1);
  assert.equal(info[0].metric.host_name, 'vpp-test-host');

  // JSON encoding of the same protocol (content-type application/json).
  const json = {
    resourceMetrics: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'vpp-exporter-test' } }] },
        scopeMetrics: [
          {
            scope: { name: 'vpp-exporter-peer-test' },
            metrics: [
              {
                name: 'vpp_peer_test_json_gauge',
                unit: 'By',
                gauge: { dataPoints: [{ timeUnixNano: String(timeNs + 1_000_000n), asDouble: 7 }] },
              },
            ],
          },
        ],
      },
    ],
  };
  const rj = await rx.push(JSON.stringify(json), 'application/json');
  assert.equal(rj.status, 200, `OTLP JSON push: HTTP ${rj.status} ${rj.body}`);
  // Unit By becomes the _bytes suffix.
  const jg = await rx.waitForSeries('vpp_peer_test_json_gauge_bytes', 10_000);
  assert.equal(Number(jg[0].value[1]), 7);

  // Garbage is refused, not swallowed.
  const bad = await rx.push(Uint8Array.from([0xff, 0xff, 0xff]));
  assert.ok(bad.status >= 400, `garbage push answered ${bad.status}`);
});
