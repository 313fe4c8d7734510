/**
 * Decodes an OTLP ExportMetricsServiceRequest (protobuf) into plain objects, for tests that check
 * what an encoder wrote. Written from opentelemetry/proto/metrics/v1/metrics.proto field numbers;
 * the test that uses it also runs it on the OpenTelemetry SDK's own serializer output, so a
 * decoding mistake shows there too.
 */

export interface DecodedPoint {
  attributes: Record<string, string>;
  startTimeUnixNano?: bigint;
  timeUnixNano?: bigint;
  /** as_int (exact) or as_double. */
  value: bigint | number;
  valueField: 'as_int' | 'as_double';
}

export interface DecodedHistogramPoint {
  attributes: Record<string, string>;
  startTimeUnixNano?: bigint;
  timeUnixNano?: bigint;
  count: bigint;
  sum?: number;
  bucketCounts: bigint[];
  explicitBounds: number[];
}

export interface DecodedMetric {
  name: string;
  description: string;
  kind: 'gauge' | 'sum' | 'histogram';
  temporality?: number;
  monotonic?: boolean;
  points: DecodedPoint[];
  histogramPoints: DecodedHistogramPoint[];
}

export interface DecodedRequest {
  resource: Record<string, string>;
  scope: { name: string; version: string };
  metrics: DecodedMetric[];
}

type Field = { no: number; wire: number; varint?: bigint; bytes?: Uint8Array; fixed64?: Uint8Array };

function fields(b: Uint8Array): Field[] {
  const out: Field[] = [];
  let at = 0;
  const varint = (): bigint => {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      if (at >= b.length) throw new Error('truncated varint');
      const x = b[at++];
      v |= BigInt(x & 0x7f) << shift;
      if (x < 0x80) return v;
      shift += 7n;
    }
  };
  while (at < b.length) {
    const key = Number(varint());
    const no = key >>> 3;
    const wire = key & 7;
    if (wire === 0) out.push({ no, wire, varint: varint() });
    else if (wire === 1) {
      if (at + 8 > b.length) throw new Error('truncated fixed64');
      out.push({ no, wire, fixed64: b.subarray(at, at + 8) });
      at += 8;
    } else if (wire === 2) {
      const n = Number(varint());
      if (at + n > b.length) throw new Error(`truncated field ${no}: ${n} bytes at ${at} of ${b.length}`);
      out.push({ no, wire, bytes: b.subarray(at, at + n) });
      at += n;
    } else if (wire === 5) at += 4;
    else throw new Error(`wire type ${wire}`);
  }
  return out;
}

const text = (b: Uint8Array | undefined): string => Buffer.from(b ?? new Uint8Array(0)).toString('utf8');
const u64 = (b: Uint8Array): bigint => Buffer.from(b).readBigUInt64LE(0);

function keyValues(fs: Field[], no: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of fs) {
    if (f.no !== no || !f.bytes) continue;
    const kv = fields(f.bytes);
    const key = text(kv.find((x) => x.no === 1)?.bytes);
    const any = kv.find((x) => x.no === 2)?.bytes;
    const s = any ? fields(any).find((x) => x.no === 1) : undefined;
    if (!s) throw new Error(`attribute ${key} is not a string_value`);
    out[key] = text(s.bytes);
  }
  return out;
}

function point(b: Uint8Array): DecodedPoint {
  const fs = fields(b);
  const p: DecodedPoint = { attributes: keyValues(fs, 7), value: 0, valueField: 'as_int' };
  for (const f of fs) {
    if (f.no === 2 && f.fixed64) p.startTimeUnixNano = u64(f.fixed64);
    if (f.no === 3 && f.fixed64) p.timeUnixNano = u64(f.fixed64);
    if (f.no === 4 && f.fixed64) {
      p.value = Buffer.from(f.fixed64).readDoubleLE(0);
      p.valueField = 'as_double';
    }
    if (f.no === 6 && f.fixed64) {
      p.value = Buffer.from(f.fixed64).readBigInt64LE(0);
      p.valueField = 'as_int';
    }
  }
  return p;
}

/** A packed repeated fixed64 or double field. */
function packed<T>(b: Uint8Array, read: (buf: Buffer, at: number) => T): T[] {
  if (b.length % 8 !== 0) throw new Error(`packed field of ${b.length} bytes`);
  const buf = Buffer.from(b);
  const out: T[] = [];
  for (let at = 0; at < b.length; at += 8) out.push(read(buf, at));
  return out;
}

function histogramPoint(b: Uint8Array): DecodedHistogramPoint {
  const fs = fields(b);
  const p: DecodedHistogramPoint = { attributes: keyValues(fs, 9), count: 0n, bucketCounts: [], explicitBounds: [] };
  for (const f of fs) {
    if (f.no === 2 && f.fixed64) p.startTimeUnixNano = u64(f.fixed64);
    if (f.no === 3 && f.fixed64) p.timeUnixNano = u64(f.fixed64);
    if (f.no === 4 && f.fixed64) p.count = u64(f.fixed64);
    if (f.no === 5 && f.fixed64) p.sum = Buffer.from(f.fixed64).readDoubleLE(0);
    if (f.no === 6 && f.bytes) p.bucketCounts.push(...packed(f.bytes, (x, at) => x.readBigUInt64LE(at)));
    if (f.no === 7 && f.bytes) p.explicitBounds.push(...packed(f.bytes, (x, at) => x.readDoubleLE(at)));
  }
  return p;
}

function metric(b: Uint8Array): DecodedMetric {
  const fs = fields(b);
  const m: DecodedMetric = { name: text(fs.find((f) => f.no === 1)?.bytes), description: text(fs.find((f) => f.no === 2)?.bytes), kind: 'gauge', points: [], histogramPoints: [] };
  const gauge = fs.find((f) => f.no === 5);
  const sum = fs.find((f) => f.no === 7);
  const histogram = fs.find((f) => f.no === 9);
  const data = [gauge, sum, histogram].filter((x) => x !== undefined);
  if (data.length !== 1) throw new Error(`metric ${m.name}: expected exactly one of gauge, sum and histogram`);
  m.kind = gauge ? 'gauge' : sum ? 'sum' : 'histogram';
  for (const f of fields(data[0].bytes!)) {
    if (f.no === 1 && f.bytes) {
      if (histogram) m.histogramPoints.push(histogramPoint(f.bytes));
      else m.points.push(point(f.bytes));
    }
    if (!gauge && f.no === 2) m.temporality = Number(f.varint);
    if (sum && f.no === 3) m.monotonic = f.varint === 1n;
  }
  return m;
}

/** Decodes a request with one ResourceMetrics and one ScopeMetrics (what the exporters send). */
export function decodeMetricsRequest(body: Uint8Array): DecodedRequest {
  const top = fields(body);
  if (top.length !== 1 || top[0].no !== 1) throw new Error(`expected one resource_metrics, got fields ${top.map((f) => f.no).join(',')}`);
  const rm = fields(top[0].bytes!);
  const resource = keyValues(fields(rm.find((f) => f.no === 1)?.bytes ?? new Uint8Array(0)), 1);
  const sms = rm.filter((f) => f.no === 2);
  if (sms.length !== 1) throw new Error(`expected one scope_metrics, got ${sms.length}`);
  const sm = fields(sms[0].bytes!);
  const scopeFields = fields(sm.find((f) => f.no === 1)?.bytes ?? new Uint8Array(0));
  return {
    resource,
    scope: { name: text(scopeFields.find((f) => f.no === 1)?.bytes), version: text(scopeFields.find((f) => f.no === 2)?.bytes) },
    metrics: sm.filter((f) => f.no === 2).map((f) => metric(f.bytes!)),
  };
}
