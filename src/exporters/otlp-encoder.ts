/**
 * OTLP ExportMetricsServiceRequest (opentelemetry/proto/collector/metrics/v1) written directly as
 * protobuf from a snapshot's dense arrays, the way exposition.ts writes the text format: the
 * encoded attributes of every series (KeyValue messages) are prepared once per plan, i.e. per
 * directory epoch, and an export only copies them and writes timestamps and values.
 *
 * An export is planned in one pass over the snapshot that lists its data points (four numbers
 * each, in reused typed arrays) and cuts them into requests of at most maxBytes on data point
 * boundaries (a family cut in two is sent as one Metric in each request). Each request is then
 * written into one reused buffer, so an export holds at most one request's bytes whatever the
 * VPP size, and every length prefix is computed before its message is written (no copying back).
 *
 * Mapping: counter families become monotonic cumulative Sums named without `_total`, gauges
 * Gauges; values are u64 and go out as as_int (sfixed64), or as_double past 2^63. Histogram
 * families (VPP log2 histograms: each row is [min_exp, bins...]) become cumulative explicit-bucket
 * Histograms: bound 2^(min_exp + j + 1) - 1 for bin j, the last bin and any bin past 2^64 in the
 * open bucket, count = all bins, no sum (log2 bins do not give it). Sums and histograms carry the
 * input's start time (VPP's boot time: the start of every cumulative value in the segment), never
 * later than the export's time; gauges carry none (it is optional for them).
 */
import type { Family, MetricType, Plan } from './catalog.js';
import { rowsOf } from './exposition.js';
import { parseLabelBody } from './names.js';
import { finiteBins, HISTOGRAM_MAX_EXP, minExpAt } from './log2-histogram.js';
import type { SnapshotView } from '../stats/index.js';

/** What the encoder needs from one collection: the plan, its snapshot, the thread count and start. */
export interface EncodeInput {
  plan: Plan;
  view: SnapshotView;
  threads: number;
  /** start_time_unix_nano of the cumulative sums and histograms (StatsSource: VPP's boot time). */
  startTimeNs: bigint;
}

export interface EncoderOptions {
  resourceAttributes: Record<string, string>;
  scopeName: string;
  scopeVersion: string;
  maxRequestBytes: number;
  perThread: boolean;
}

/** A gauge family given as values (the few families not read from the stats snapshot). */
export interface GaugeFamily {
  readonly name: string;
  readonly description: string;
  readonly points: readonly { readonly attributes: readonly (readonly [string, string])[]; readonly value: number }[];
}

/** One request body; valid until the generator is resumed (the buffer is reused). */
export interface EncodedRequest {
  body: Uint8Array;
  points: number;
}

// ---- protobuf wire format -----------------------------------------------------------------
const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const tag = (field: number, wire: number): number => (field << 3) | wire;

// ExportMetricsServiceRequest.resource_metrics = 1; ResourceMetrics.resource = 1, scope_metrics = 2;
// Resource.attributes = 1; ScopeMetrics.scope = 1, metrics = 2; InstrumentationScope.name = 1,
// version = 2; KeyValue.key = 1, value = 2; AnyValue.string_value = 1.
const T_RESOURCE_METRICS = tag(1, WIRE_LEN);
const F_RESOURCE = 1;
const T_SCOPE_METRICS = tag(2, WIRE_LEN);
const T_METRIC = tag(2, WIRE_LEN);
// Metric.name = 1, description = 2, gauge = 5, sum = 7, histogram = 9.
const F_METRIC_NAME = 1;
const F_METRIC_DESCRIPTION = 2;
const T_GAUGE = tag(5, WIRE_LEN);
const T_SUM = tag(7, WIRE_LEN);
const T_HISTOGRAM = tag(9, WIRE_LEN);
// Gauge/Sum/Histogram.data_points = 1; Sum/Histogram.aggregation_temporality = 2 (2 = CUMULATIVE),
// Sum.is_monotonic = 3.
const T_DATA_POINT = tag(1, WIRE_LEN);
const SUM_TRAILER = Uint8Array.of(tag(2, WIRE_VARINT), 2, tag(3, WIRE_VARINT), 1);
const HISTOGRAM_TRAILER = Uint8Array.of(tag(2, WIRE_VARINT), 2);
const NO_TRAILER = new Uint8Array(0);
// NumberDataPoint.attributes = 7, start_time_unix_nano = 2, time_unix_nano = 3 (fixed64),
// as_double = 4 (double), as_int = 6 (sfixed64).
const T_START_TIME = tag(2, WIRE_I64);
const T_TIME = tag(3, WIRE_I64);
const T_AS_DOUBLE = tag(4, WIRE_I64);
const T_AS_INT = tag(6, WIRE_I64);
// HistogramDataPoint.attributes = 9, start_time_unix_nano = 2, time_unix_nano = 3, count = 4
// (fixed64), bucket_counts = 6 (packed fixed64), explicit_bounds = 7 (packed double).
const T_COUNT = tag(4, WIRE_I64);
const T_BUCKET_COUNTS = tag(6, WIRE_LEN);
const T_EXPLICIT_BOUNDS = tag(7, WIRE_LEN);

/** A varint's width up to 2^35 (request sizes, message lengths). */
function varintSize(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5;
}

/** Appends protobuf fields to a growable byte list (per-plan and per-encoder constants only). */
class ByteWriter {
  bytes: number[] = [];
  varint(n: number): this {
    while (n >= 0x80) {
      this.bytes.push((n & 0x7f) | 0x80);
      n = Math.floor(n / 128);
    }
    this.bytes.push(n);
    return this;
  }
  raw(b: ArrayLike<number>): this {
    for (let i = 0; i < b.length; i++) this.bytes.push(b[i]);
    return this;
  }
  /** A length-delimited field (message, bytes) number `no`. */
  field(no: number, b: ArrayLike<number>): this {
    return this.varint(tag(no, WIRE_LEN)).varint(b.length).raw(b);
  }
  string(no: number, s: string): this {
    return this.field(no, Buffer.from(s, 'utf8'));
  }
  done(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

/** A KeyValue{key, AnyValue{string_value}} as the field number `no` of its parent. */
function keyValue(no: number, key: string, value: string): Uint8Array {
  const any = new ByteWriter().string(1, value).done();
  const kv = new ByteWriter().string(1, key).field(2, any).done();
  return new ByteWriter().field(no, kv).done();
}

// ---- point kinds ----------------------------------------------------------------------------
/** How a family's data points are encoded (a kind is a case in each function below). */
const enum PointKind {
  Gauge = 0,
  Sum = 1,
  Histogram = 2,
}

function kindOf(type: MetricType): PointKind {
  switch (type) {
    case 'counter':
      return PointKind.Sum;
    case 'gauge':
      return PointKind.Gauge;
    case 'histogram':
      return PointKind.Histogram;
  }
}

/** NumberDataPoint.attributes = 7, HistogramDataPoint.attributes = 9. */
const F_POINT_ATTRIBUTE = 7;
const F_HISTOGRAM_POINT_ATTRIBUTE = 9;

function attributeFieldOf(kind: PointKind): number {
  return kind === PointKind.Histogram ? F_HISTOGRAM_POINT_ATTRIBUTE : F_POINT_ATTRIBUTE;
}

function metricTagOf(kind: PointKind): number {
  return kind === PointKind.Sum ? T_SUM : kind === PointKind.Histogram ? T_HISTOGRAM : T_GAUGE;
}

function trailerOf(kind: PointKind): Uint8Array {
  return kind === PointKind.Sum ? SUM_TRAILER : kind === PointKind.Histogram ? HISTOGRAM_TRAILER : NO_TRAILER;
}

/**
 * Bytes of a number data point besides its attributes: [start time,] time, value (tag + 8 bytes
 * each); of a histogram point, start time, time and count (histogramBodySize adds the buckets).
 */
function fixedBodySize(kind: PointKind): number {
  return kind === PointKind.Gauge ? 18 : 27;
}

/** HISTOGRAM_BOUND[e] = 2^e - 1 (as the nearest double): the bound of a bin ending below 2^e. */
const HISTOGRAM_BOUND = Array.from({ length: HISTOGRAM_MAX_EXP + 1 }, (_, e) => 2 ** e - 1);

/** Finite buckets of a row of `len` words (min_exp and the bins): log2-histogram.ts's rules. */
function finiteBuckets(u32: Uint32Array, start: number, len: number): number {
  return len < 1 ? 0 : finiteBins(minExpAt(u32, start), len - 1);
}

/** Bytes of a histogram point's count, bucket_counts and explicit_bounds fields. */
function histogramBucketsSize(finite: number): number {
  const counts = 8 * (finite + 1);
  return 1 + varintSize(counts) + counts + (finite > 0 ? 1 + varintSize(8 * finite) + 8 * finite : 0);
}

/** The OTLP metric name: counters lose `_total` (OTLP sums carry no suffix; receivers add it). */
export function otlpMetricName(f: Pick<Family, 'name' | 'type'>): string {
  return f.type === 'counter' ? f.name.replace(/_total$/, '') : f.name;
}

// ---- per-plan encodings -----------------------------------------------------------------------
/** Encoded KeyValue attribute fields in one growable arena, by id. */
class AttributeTable {
  arena = new Uint8Array(1 << 16);
  private used = 0;
  off: number[] = [];
  len: number[] = [];
  private readonly byText = new Map<string, number>();

  /** Id of the attribute fields for `key` (e.g. a label body), made by `encode` on first use. */
  intern(key: string, encode: () => Uint8Array[]): number {
    let id = this.byText.get(key);
    if (id !== undefined) return id;
    const parts = encode();
    let n = 0;
    for (const p of parts) n += p.length;
    if (this.used + n > this.arena.length) {
      const grown = new Uint8Array(Math.max(this.arena.length * 2, this.used + n));
      grown.set(this.arena.subarray(0, this.used));
      this.arena = grown;
    }
    id = this.off.length;
    this.off.push(this.used);
    this.len.push(n);
    for (const p of parts) {
      this.arena.set(p, this.used);
      this.used += p.length;
    }
    this.byText.set(key, id);
    return id;
  }
}

interface FamilyEncoding {
  kind: PointKind;
  /** Metric.name and Metric.description fields. */
  header: Uint8Array;
  /** Attribute id per series (col >= 0), or -1 (col -1: the column attribute is per point). */
  attr: Int32Array;
  /** For col -1 series: attribute ids of `label="c"` by column c, made on first use. */
  columnAttr: Map<string, number[]>;
}

interface PlanEncoding {
  families: FamilyEncoding[];
  attrs: AttributeTable;
  /** Attribute id of `thread="t"` by t, for number points (index 0) and histogram points (1). */
  threadAttr: [number[], number[]];
}

const encodings = new WeakMap<Plan, PlanEncoding>();

function planEncoding(plan: Plan): PlanEncoding {
  let pe = encodings.get(plan);
  if (pe) return pe;
  const attrs = new AttributeTable();
  const families = plan.families.map((f): FamilyEncoding => {
    const kind = kindOf(f.type);
    const field = attributeFieldOf(kind);
    const attr = new Int32Array(f.k.length);
    for (let i = 0; i < f.k.length; i++) {
      const body = f.labels[i];
      attr[i] = f.col[i] < 0 ? -1 : attrs.intern(`${field}L${body}`, () => Object.entries(parseLabelBody(body)).map(([k, v]) => keyValue(field, k, v)));
    }
    const header = new ByteWriter().string(F_METRIC_NAME, otlpMetricName(f)).string(F_METRIC_DESCRIPTION, f.help).done();
    return { kind, header, attr, columnAttr: new Map() };
  });
  pe = { families, attrs, threadAttr: [[], []] };
  encodings.set(plan, pe);
  return pe;
}

function threadAttrId(pe: PlanEncoding, kind: PointKind, t: number): number {
  const byThread = pe.threadAttr[kind === PointKind.Histogram ? 1 : 0];
  let id = byThread[t];
  if (id === undefined) {
    const field = attributeFieldOf(kind);
    id = pe.attrs.intern(`${field}T${t}`, () => [keyValue(field, 'thread', String(t))]);
    byThread[t] = id;
  }
  return id;
}

function columnAttrId(pe: PlanEncoding, fe: FamilyEncoding, label: string, c: number): number {
  let ids = fe.columnAttr.get(label);
  if (!ids) fe.columnAttr.set(label, (ids = []));
  let id = ids[c];
  if (id === undefined) {
    id = pe.attrs.intern(`C${label}\0${c}`, () => [keyValue(F_POINT_ATTRIBUTE, label, String(c))]);
    ids[c] = id;
  }
  return id;
}

// ---- the encoder ------------------------------------------------------------------------------
/** Value slots that are not snapshot words: vpp_up's constant 0 or 1. */
const CONST_ZERO = -1;
const CONST_ONE = -2;

/** An export's time_unix_nano and start_time_unix_nano, as u32 halves (little-endian fixed64). */
interface PointTimes {
  timeLo: number;
  timeHi: number;
  startLo: number;
  startHi: number;
}

/** A family's run of points inside one request. */
interface Segment {
  /** Family index in the plan, or -1 for vpp_up. */
  family: number;
  from: number;
  to: number;
  /** Bytes of the data_points fields of the run. */
  pointBytes: number;
}

const UP_HEADER = new ByteWriter()
  .string(F_METRIC_NAME, 'vpp_up')
  .string(F_METRIC_DESCRIPTION, "1 when VPP's stats segment could be read for this export.")
  .done();

export class OtlpRequestEncoder {
  private readonly prefix: Uint8Array;
  private readonly scope: Uint8Array;
  private readonly buf: Uint8Array;
  private readonly dv: DataView;
  // The export's points, in order: attribute id, second attribute id (thread) or -1, value slot
  // (word index into the snapshot's values, or CONST_*; a histogram's row), family index (-1:
  // vpp_up), and for histograms the row's length in words.
  private pAttr: Int32Array = new Int32Array(0);
  private pAttr2: Int32Array = new Int32Array(0);
  private pValue: Int32Array = new Int32Array(0);
  private pFamily: Int32Array = new Int32Array(0);
  private pRowLen: Int32Array = new Int32Array(0);

  constructor(private readonly opts: EncoderOptions) {
    const resource = new ByteWriter();
    for (const [k, v] of Object.entries(opts.resourceAttributes)) resource.raw(keyValue(1, k, v));
    this.prefix = new ByteWriter().field(F_RESOURCE, resource.done()).done();
    const scope = new ByteWriter().string(1, opts.scopeName).string(2, opts.scopeVersion).done();
    this.scope = new ByteWriter().field(1, scope).done();
    if (opts.maxRequestBytes < 1024) throw new RangeError('maxRequestBytes must be at least 1024');
    this.buf = new Uint8Array(opts.maxRequestBytes);
    this.dv = new DataView(this.buf.buffer);
  }

  private ensurePoints(n: number): void {
    if (this.pAttr.length >= n) return;
    const size = Math.max(n, Math.ceil(this.pAttr.length * 1.5), 1024);
    const grow = (a: Int32Array): Int32Array => {
      const b = new Int32Array(size);
      b.set(a);
      return b;
    };
    this.pAttr = grow(this.pAttr);
    this.pAttr2 = grow(this.pAttr2);
    this.pValue = grow(this.pValue);
    this.pFamily = grow(this.pFamily);
    this.pRowLen = grow(this.pRowLen);
  }

  /**
   * The requests of one export: vpp_up (1 with a snapshot, 0 without) and every family of the
   * plan. Each yielded body is only valid until the generator is resumed.
   */
  *requests(input: EncodeInput | undefined, timeNs: bigint): Generator<EncodedRequest, void, undefined> {
    const pe = input ? planEncoding(input.plan) : undefined;
    const n = this.listPoints(input, pe);
    const u32 = input ? new Uint32Array(input.view.values.buffer, input.view.values.byteOffset, input.view.values.length * 2) : new Uint32Array(0);
    const parts = this.cut(n, pe, u32);
    const timeLo = Number(timeNs & 0xffffffffn);
    const timeHi = Number(timeNs >> 32n);
    // A start after the point's time would make an interval the data model has no meaning for
    // (a boot time ahead of this host's clock): the interval then starts and ends now.
    const startNs = input && input.startTimeNs < timeNs ? input.startTimeNs : timeNs;
    const times: PointTimes = { timeLo, timeHi, startLo: Number(startNs & 0xffffffffn), startHi: Number(startNs >> 32n) };
    for (const segs of parts) {
      const len = this.write(segs, pe, u32, times);
      let points = 0;
      for (const s of segs) points += s.to - s.from;
      yield { body: this.buf.subarray(0, len), points };
    }
  }

  /**
   * Requests for gauge families given as values (api-families.ts), cut at maxRequestBytes on
   * point boundaries. Unlike requests() this builds each point's bytes: these families are small
   * next to the snapshot's. Each yielded body is only valid until the generator is resumed.
   */
  *gaugeRequests(families: readonly GaugeFamily[], timeNs: bigint): Generator<EncodedRequest, void, undefined> {
    const time = new Uint8Array(9);
    time[0] = T_TIME;
    new DataView(time.buffer).setBigUint64(1, timeNs, true);
    const lenPrefixed = (tagByte: number, len: number): Uint8Array => new ByteWriter().varint(tagByte).varint(len).done();
    const fixed = 1 + 5 + this.prefix.length + 1 + 5 + this.scope.length;
    let metrics: Uint8Array[] = [];
    let used = fixed;
    let points = 0;
    const flush = (): EncodedRequest => {
      const scopeMetricsLen = this.scope.length + metrics.reduce((a, m) => a + m.length, 0);
      const scopeMetrics = [lenPrefixed(T_SCOPE_METRICS, scopeMetricsLen), this.scope, ...metrics];
      const resourceMetricsLen = this.prefix.length + scopeMetrics.reduce((a, m) => a + m.length, 0);
      let at = 0;
      for (const part of [lenPrefixed(T_RESOURCE_METRICS, resourceMetricsLen), this.prefix, ...scopeMetrics]) {
        this.buf.set(part, at);
        at += part.length;
      }
      const r = { body: this.buf.subarray(0, at), points };
      metrics = [];
      used = fixed;
      points = 0;
      return r;
    };
    for (const f of families) {
      const header = new ByteWriter().string(F_METRIC_NAME, f.name).string(F_METRIC_DESCRIPTION, f.description).done();
      const overhead = header.length + 2 * (1 + 5);
      let pointBytes: Uint8Array[] = [];
      const closeMetric = (): void => {
        if (pointBytes.length === 0) return;
        const dataLen = pointBytes.reduce((a, b) => a + b.length, 0);
        const gauge = [lenPrefixed(T_GAUGE, dataLen), ...pointBytes];
        const metricLen = header.length + gauge.reduce((a, b) => a + b.length, 0);
        metrics.push(Buffer.concat([lenPrefixed(T_METRIC, metricLen), header, ...gauge]));
        pointBytes = [];
      };
      if (used + overhead > this.opts.maxRequestBytes && metrics.length) yield flush();
      used += overhead;
      for (const pt of f.points) {
        const w = new ByteWriter();
        for (const [k, v] of pt.attributes) w.raw(keyValue(7, k, v));
        w.raw(time);
        const value = new Uint8Array(9);
        value[0] = T_AS_INT;
        new DataView(value.buffer).setBigInt64(1, BigInt(Math.trunc(pt.value)), true);
        w.raw(value);
        const body = w.done();
        const point = Buffer.concat([lenPrefixed(T_DATA_POINT, body.length), body]);
        if (used + point.length > this.opts.maxRequestBytes && (pointBytes.length || metrics.length)) {
          closeMetric();
          yield flush();
          used += overhead;
        }
        pointBytes.push(point);
        used += point.length;
        points++;
      }
      closeMetric();
    }
    if (metrics.length) yield flush();
  }

  /** Lists the export's points (the series renderPlan writes, in the same order); returns their count. */
  private listPoints(input: EncodeInput | undefined, pe: PlanEncoding | undefined): number {
    this.ensurePoints(1);
    this.pAttr[0] = -1;
    this.pAttr2[0] = -1;
    this.pValue[0] = input ? CONST_ONE : CONST_ZERO;
    this.pFamily[0] = -1;
    let n = 1;
    if (!input || !pe) return n;
    const { plan, view } = input;
    const rows = rowsOf(view);
    const perThread = this.opts.perThread;
    for (let fi = 0; fi < plan.families.length; fi++) {
      const f = plan.families[fi];
      const fe = pe.families[fi];
      const threadLabel = perThread && !f.noThreadLabel;
      const histogram = fe.kind === PointKind.Histogram;
      for (let i = 0; i < f.k.length; i++) {
        const k = f.k[i];
        const r0 = rows.first[k];
        let r1 = rows.first[k + 1];
        if (threadLabel && f.extraRow && r1 - r0 > input.threads) r1 = r0 + input.threads;
        const width = rows.width[k];
        const word = f.word[i];
        const col = f.col[i];
        for (let r = r0; r < r1; r++) {
          const t = threadLabel ? threadAttrId(pe, fe.kind, r - r0) : -1;
          const start = rows.start[r];
          const len = rows.len[r];
          if (histogram) {
            // The row whole is one point: [min_exp, bins...].
            this.ensurePoints(n + 1);
            this.pAttr[n] = fe.attr[i];
            this.pAttr2[n] = t;
            this.pValue[n] = start;
            this.pRowLen[n] = len;
            this.pFamily[n] = fi;
            n++;
          } else if (col >= 0) {
            this.ensurePoints(n + 1);
            this.pAttr[n] = fe.attr[i];
            this.pAttr2[n] = t;
            this.pValue[n] = col < len ? start + col * width + word : CONST_ZERO;
            this.pFamily[n] = fi;
            n++;
          } else {
            this.ensurePoints(n + len);
            for (let c = 0; c < len; c++, n++) {
              this.pAttr[n] = columnAttrId(pe, fe, f.labels[i], c);
              this.pAttr2[n] = t;
              this.pValue[n] = start + c * width + word;
              this.pFamily[n] = fi;
            }
          }
        }
      }
    }
    return n;
  }

  private bodySize(p: number, kind: PointKind, attrLen: number[], u32: Uint32Array): number {
    const a = this.pAttr[p];
    const b = this.pAttr2[p];
    const n = (a >= 0 ? attrLen[a] : 0) + (b >= 0 ? attrLen[b] : 0) + fixedBodySize(kind);
    return kind === PointKind.Histogram ? n + histogramBucketsSize(finiteBuckets(u32, this.pValue[p], this.pRowLen[p])) : n;
  }

  /** Cuts the points into requests that fit maxRequestBytes (lengths counted at their widest). */
  private cut(n: number, pe: PlanEncoding | undefined, u32: Uint32Array): Segment[][] {
    const max = this.opts.maxRequestBytes;
    const attrLen = pe ? pe.attrs.len : [];
    const fixed = 1 + 5 + this.prefix.length + 1 + 5 + this.scope.length;
    const parts: Segment[][] = [];
    let segs: Segment[] = [];
    let used = fixed;
    let seg: Segment | undefined;
    for (let p = 0; p < n; p++) {
      const fi = this.pFamily[p];
      const kind = fi < 0 ? PointKind.Gauge : pe!.families[fi].kind;
      const body = this.bodySize(p, kind, attrLen, u32);
      const size = 1 + varintSize(body) + body;
      if (!seg || seg.family !== fi) {
        const header = fi < 0 ? UP_HEADER : pe!.families[fi].header;
        const overhead = 1 + 5 + header.length + 1 + 5 + trailerOf(kind).length;
        if (used + overhead + size > max && segs.length) {
          parts.push(segs);
          segs = [];
          used = fixed;
        }
        seg = { family: fi, from: p, to: p, pointBytes: 0 };
        segs.push(seg);
        used += overhead;
      } else if (used + size > max) {
        parts.push(segs);
        const header = pe!.families[fi].header;
        seg = { family: fi, from: p, to: p, pointBytes: 0 };
        segs = [seg];
        used = fixed + 1 + 5 + header.length + 1 + 5 + trailerOf(kind).length;
      }
      seg.to = p + 1;
      seg.pointBytes += size;
      used += size;
    }
    if (segs.length) parts.push(segs);
    return parts;
  }

  /** Writes one request into the buffer; returns its length. */
  private write(segs: Segment[], pe: PlanEncoding | undefined, u32: Uint32Array, times: PointTimes): number {
    const { timeLo, timeHi, startLo, startHi } = times;
    const buf = this.buf;
    const dv = this.dv;
    const arena = pe ? pe.attrs.arena : new Uint8Array(0);
    const attrOff = pe ? pe.attrs.off : [];
    const attrLen = pe ? pe.attrs.len : [];
    // Lengths, innermost first.
    const metricLens: number[] = [];
    let scopeMetricsLen = this.scope.length;
    for (const s of segs) {
      const kind = s.family < 0 ? PointKind.Gauge : pe!.families[s.family].kind;
      const header = s.family < 0 ? UP_HEADER : pe!.families[s.family].header;
      const dataLen = s.pointBytes + trailerOf(kind).length;
      const metricLen = header.length + 1 + varintSize(dataLen) + dataLen;
      metricLens.push(metricLen);
      scopeMetricsLen += 1 + varintSize(metricLen) + metricLen;
    }
    const resourceMetricsLen = this.prefix.length + 1 + varintSize(scopeMetricsLen) + scopeMetricsLen;

    let at = 0;
    const varint = (v: number): void => {
      while (v >= 0x80) {
        buf[at++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      buf[at++] = v;
    };
    const bytes = (b: Uint8Array): void => {
      buf.set(b, at);
      at += b.length;
    };
    buf[at++] = T_RESOURCE_METRICS;
    varint(resourceMetricsLen);
    bytes(this.prefix);
    buf[at++] = T_SCOPE_METRICS;
    varint(scopeMetricsLen);
    bytes(this.scope);
    segs.forEach((s, si) => {
      const kind = s.family < 0 ? PointKind.Gauge : pe!.families[s.family].kind;
      const trailer = trailerOf(kind);
      buf[at++] = T_METRIC;
      varint(metricLens[si]);
      bytes(s.family < 0 ? UP_HEADER : pe!.families[s.family].header);
      buf[at++] = metricTagOf(kind);
      varint(s.pointBytes + trailer.length);
      if (kind === PointKind.Histogram) {
        at = this.writeHistogramPoints(s, pe!, u32, at, times);
        bytes(trailer);
        return;
      }
      const sum = kind === PointKind.Sum;
      const fixed = fixedBodySize(kind);
      for (let p = s.from; p < s.to; p++) {
        const a = this.pAttr[p];
        const b = this.pAttr2[p];
        const v = this.pValue[p];
        buf[at++] = T_DATA_POINT;
        varint((a >= 0 ? attrLen[a] : 0) + (b >= 0 ? attrLen[b] : 0) + fixed);
        // Attribute fields are a few tens of bytes: a plain loop beats a native copy call.
        if (a >= 0) {
          for (let j = attrOff[a], end = j + attrLen[a]; j < end; j++) buf[at++] = arena[j];
        }
        if (b >= 0) {
          for (let j = attrOff[b], end = j + attrLen[b]; j < end; j++) buf[at++] = arena[j];
        }
        if (sum) {
          buf[at] = T_START_TIME;
          dv.setUint32(at + 1, startLo, true);
          dv.setUint32(at + 5, startHi, true);
          at += 9;
        }
        buf[at] = T_TIME;
        dv.setUint32(at + 1, timeLo, true);
        dv.setUint32(at + 5, timeHi, true);
        let lo: number;
        let hi: number;
        if (v >= 0) {
          lo = u32[v * 2];
          hi = u32[v * 2 + 1];
        } else {
          lo = v === CONST_ONE ? 1 : 0;
          hi = 0;
        }
        if (hi < 0x80000000) {
          buf[at + 9] = T_AS_INT;
          dv.setUint32(at + 10, lo, true);
          dv.setUint32(at + 14, hi, true);
        } else {
          // Past sfixed64's range: the nearest double.
          buf[at + 9] = T_AS_DOUBLE;
          dv.setFloat64(at + 10, hi * 4294967296 + lo, true);
        }
        at += 18;
      }
      bytes(trailer);
    });
    return at;
  }
  /**
   * Writes a segment of histogram points at `at`; returns the new end. Counts add up modulo
   * 2^64, as u64 words do (the exposition renderers sum them the same way).
   */
  private writeHistogramPoints(s: Segment, pe: PlanEncoding, u32: Uint32Array, at: number, times: PointTimes): number {
    const { timeLo, timeHi, startLo, startHi } = times;
    const buf = this.buf;
    const dv = this.dv;
    const { arena, off, len: attrLen } = pe.attrs;
    const varint = (v: number): void => {
      while (v >= 0x80) {
        buf[at++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      buf[at++] = v;
    };
    const copy = (id: number): void => {
      if (id >= 0) for (let j = off[id], end = j + attrLen[id]; j < end; j++) buf[at++] = arena[j];
    };
    const fixed64 = (lo: number, hi: number): void => {
      dv.setUint32(at, lo, true);
      dv.setUint32(at + 4, hi, true);
      at += 8;
    };
    for (let p = s.from; p < s.to; p++) {
      const start = this.pValue[p];
      const len = this.pRowLen[p];
      const finite = finiteBuckets(u32, start, len);
      const minExp = len > 0 ? minExpAt(u32, start) : 0;
      buf[at++] = T_DATA_POINT;
      varint(this.bodySize(p, PointKind.Histogram, attrLen, u32));
      copy(this.pAttr[p]);
      copy(this.pAttr2[p]);
      buf[at++] = T_START_TIME;
      fixed64(startLo, startHi);
      buf[at++] = T_TIME;
      fixed64(timeLo, timeHi);
      // count: every bin, summed with carries (lo stays below 2^32, hi wraps).
      let totalLo = 0;
      let totalHi = 0;
      for (let w = start + 1; w < start + len; w++) {
        totalLo += u32[w * 2];
        const carry = totalLo >= 4294967296 ? 1 : 0;
        totalLo -= carry * 4294967296;
        totalHi = (totalHi + u32[w * 2 + 1] + carry) >>> 0;
      }
      buf[at++] = T_COUNT;
      fixed64(totalLo, totalHi);
      buf[at++] = T_BUCKET_COUNTS;
      varint(8 * (finite + 1));
      let restLo = totalLo;
      let restHi = totalHi;
      for (let j = 0; j < finite; j++) {
        const w = start + 1 + j;
        const lo = u32[w * 2];
        const hi = u32[w * 2 + 1];
        fixed64(lo, hi);
        // rest = total - finite bins so far, modulo 2^64
        const borrow = restLo < lo ? 1 : 0;
        restLo = restLo - lo + borrow * 4294967296;
        restHi = (restHi - hi - borrow) >>> 0;
      }
      fixed64(restLo, restHi);
      if (finite > 0) {
        buf[at++] = T_EXPLICIT_BOUNDS;
        varint(8 * finite);
        for (let j = 0; j < finite; j++) {
          dv.setFloat64(at, HISTOGRAM_BOUND[minExp + j + 1], true);
          at += 8;
        }
      }
    }
    return at;
  }
}
