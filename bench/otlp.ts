/**
 * OTLP export benchmark (PERFORMANCE.md: "OTLP export <= 1.5 us per data point; requests split
 * to <= 4 MB", peer "@opentelemetry/sdk-metrics default path"), on one in-process simulator:
 *
 * - ours: snapshot + direct protobuf encoding into requests of <= 4 MiB (src/exporters/
 *   otlp-encoder.ts), then separately the send of those requests to a local receiver over
 *   http/protobuf and grpc (src/exporters/otlp-transport.ts);
 * - the SDK as an ordinary user drives it: one observable instrument per family (counters
 *   without _total) with its own callback, one attribute object per series made once and reused,
 *   the cardinality limit raised past the series count, collected by a MetricReader and
 *   serialized by @opentelemetry/otlp-transformer's ProtobufMetricsSerializer; and its full
 *   export through OTLPMetricExporter (http/protobuf; one unsplit request);
 * - the SDK the way this exporter used it before the direct encoder (one batch callback over
 *   visitSamples), for the record.
 *
 * The receiver (bench/otlp-sink.ts) is a child process that drains requests and answers empty
 * responses, so its work is not counted. CPU is this process' (process.cpuUsage: all threads).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Attributes, BatchObservableResult, Observable, ObservableResult } from '@opentelemetry/api';
import { MeterProvider, MetricReader, PeriodicExportingMetricReader, AggregationTemporality } from '@opentelemetry/sdk-metrics';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { OTLPMetricExporter as ProtoExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { createStatsSimulator } from '../src/sim/index.js';
import { StatsClient } from '../src/stats/index.js';
import { StatsSource, type Collected } from '../src/exporters/stats-source.js';
import { visitSamples } from '../src/exporters/exposition.js';
import { parseLabelBody } from '../src/exporters/names.js';
import type { Family } from '../src/exporters/catalog.js';
import { OtlpRequestEncoder, otlpMetricName } from '../src/exporters/otlp-encoder.js';
import { GrpcTransport, HttpTransport, type OtlpTransport } from '../src/exporters/otlp-transport.js';
import { MAX_REQUEST_BYTES } from '../src/exporters/otlp.js';
import { EXPORTER_SKIPPED_SYMLINKS } from '../src/commands/run.js';
import { median, REPO } from './util.js';

/** Median wall and CPU of one pass, in ms. */
interface Cost {
  ms: number;
  cpuMs: number;
}

export interface OtlpRow {
  interfaces: number;
  threads: number;
  perThread: boolean;
  points: number;
  requests: number;
  maxRequestBytes: number;
  totalBytes: number;
  /** Ours: snapshot + encode of every request. */
  encode: Cost;
  /** Ours: sending the requests (one at a time), http/protobuf and grpc. */
  sendHttp: Cost;
  sendGrpc: Cost;
  /** The SDK, per-instrument callbacks: snapshot + collect + ProtobufMetricsSerializer. */
  sdk: Cost;
  sdkBytes: number;
  /** The SDK's full export through OTLPMetricExporter (http/protobuf). */
  sdkExport: Cost;
  /** The SDK with one batch callback (this exporter's previous path): snapshot + collect + serialize. */
  sdkBatch: Cost;
}

async function measure(reps: number, once: () => Promise<Cost | void>): Promise<Cost> {
  await once(); // warm-up: plans, instruments, connections
  const ms: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < reps; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const inner = await once();
    const wall = performance.now() - t0;
    const c = process.cpuUsage(c0);
    ms.push(inner ? inner.ms : wall);
    cpu.push(inner ? inner.cpuMs : (c.user + c.system) / 1000);
  }
  return { ms: median(ms), cpuMs: median(cpu) };
}

async function startSink(): Promise<{ child: ChildProcess; http: number; grpc: number }> {
  const child = spawn(process.execPath, [path.join(REPO, 'dist/bench/otlp-sink.js')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', () => reject(new Error('the OTLP sink exited')));
  });
  const ports = JSON.parse(line) as { http: number; grpc: number };
  return { child, ...ports };
}

async function collect(source: StatsSource): Promise<Collected> {
  const c = await source.collect();
  if (!c) throw new Error('no snapshot');
  return c;
}

const resource = resourceFromAttributes({ 'service.name': 'vpp-exporter', 'host.name': os.hostname(), 'vpp.instance': 'bench' });
const LIMIT = 10_000_000;

/** A reader that only collects (the SDK's collection without an exporter). */
class CollectOnlyReader extends MetricReader {
  constructor() {
    super({ cardinalitySelector: () => LIMIT });
  }
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * The SDK as an ordinary user drives it: per family an observable instrument whose callback
 * observes each series with its attribute object (made once); the values come from the snapshot
 * taken for this collection.
 */
function sdkPerInstrument(first: Collected, perThread: boolean, provider: MeterProvider): { take: (c: Collected) => void } {
  const meter = provider.getMeter('vpp-exporter-bench');
  const points = new Map<Family, { attrs: Attributes[]; values: Float64Array }>();
  // One pass over a first snapshot fixes each family's series and their attribute objects.
  visitSamples(first.plan, first.view, { perThread, threads: first.threads }, (f, i, column, thread) => {
    let p = points.get(f);
    if (!p) points.set(f, (p = { attrs: [], values: new Float64Array(0) }));
    const a: Attributes = f.col[i] >= 0 ? parseLabelBody(f.labels[i]) : {};
    if (column >= 0) a[f.labels[i]] = String(column);
    if (thread >= 0) a.thread = String(thread);
    p.attrs.push(a);
  });
  for (const [f, p] of points) {
    p.values = new Float64Array(p.attrs.length);
    const name = otlpMetricName(f);
    const observe = (r: ObservableResult): void => {
      for (let j = 0; j < p.attrs.length; j++) r.observe(p.values[j], p.attrs[j]);
    };
    if (f.type === 'counter') meter.createObservableCounter(name, { description: f.help }).addCallback(observe);
    else meter.createObservableGauge(name, { description: f.help }).addCallback(observe);
  }
  return {
    take(c: Collected): void {
      let last: Family | undefined;
      let j = 0;
      let values: Float64Array = new Float64Array(0);
      visitSamples(c.plan, c.view, { perThread, threads: c.threads }, (f, _i, _column, _thread, value) => {
        if (f !== last) {
          last = f;
          j = 0;
          values = points.get(f)?.values ?? new Float64Array(0);
        }
        if (j < values.length) values[j++] = value;
      });
    },
  };
}

/** The previous OtlpPusher: one batch callback over visitSamples, attribute objects per series. */
function sdkBatchCallback(first: Collected, perThread: boolean, provider: MeterProvider, current: () => Collected): void {
  const meter = provider.getMeter('vpp-exporter-bench');
  const instruments = new Map<string, Observable>();
  for (const f of first.plan.families) {
    const name = otlpMetricName(f);
    if (!instruments.has(name)) instruments.set(name, f.type === 'counter' ? meter.createObservableCounter(name, { description: f.help }) : meter.createObservableGauge(name, { description: f.help }));
  }
  const attrs = new WeakMap<Family, Attributes[]>();
  meter.addBatchObservableCallback((result: BatchObservableResult) => {
    const c = current();
    visitSamples(c.plan, c.view, { perThread, threads: c.threads }, (f, i, column, thread, value) => {
      const inst = instruments.get(otlpMetricName(f));
      if (!inst) return;
      let fa = attrs.get(f);
      if (!fa) attrs.set(f, (fa = f.labels.map((b, s) => (f.col[s] < 0 ? {} : parseLabelBody(b)))));
      let a = fa[i];
      if (column >= 0 || thread >= 0) {
        a = { ...a };
        if (column >= 0) a[f.labels[i]] = String(column);
        if (thread >= 0) a.thread = String(thread);
      }
      result.observe(inst, value, a);
    });
  }, [...instruments.values()]);
}

export async function benchOtlp(interfaces: number, threads: number, perThread: boolean, reps: number): Promise<OtlpRow> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-otlp-'));
  const socketPath = path.join(dir, 'stats.sock');
  const sim = createStatsSimulator({ interfaces, workers: threads - 1, rate: 0, seed: 1, socketPath });
  const stats = new StatsClient({ socketPath, skipSymlinkPrefixes: EXPORTER_SKIPPED_SYMLINKS });
  const source = new StatsSource(stats, { perThread });
  const sink = await startSink();
  const transports: OtlpTransport[] = [];
  const providers: MeterProvider[] = [];
  try {
    const encoder = new OtlpRequestEncoder({
      resourceAttributes: { 'service.name': 'vpp-exporter', 'host.name': os.hostname(), 'vpp.instance': 'bench' },
      scopeName: 'vpp-exporter',
      scopeVersion: '0',
      maxRequestBytes: MAX_REQUEST_BYTES,
      perThread,
    });
    let points = 0;
    let requests = 0;
    let totalBytes = 0;
    const encode = await measure(reps, async () => {
      const c = await collect(source);
      points = requests = totalBytes = 0;
      for (const r of encoder.requests(c, BigInt(Date.now()) * 1_000_000n)) {
        points += r.points;
        requests++;
        totalBytes += r.body.length;
      }
      c.release();
    });
    const sendOver = async (t: OtlpTransport): Promise<Cost> => {
      transports.push(t);
      const signal = new AbortController().signal;
      return measure(reps, async () => {
        const c = await collect(source);
        let ms = 0;
        let cpuMs = 0;
        for (const r of encoder.requests(c, BigInt(Date.now()) * 1_000_000n)) {
          const c0 = process.cpuUsage();
          const t0 = performance.now();
          const out = await t.send(r.body, 30_000, signal);
          ms += performance.now() - t0;
          const cu = process.cpuUsage(c0);
          cpuMs += (cu.user + cu.system) / 1000;
          if (!out.ok) throw new Error(`send failed: ${out.error}`);
        }
        c.release();
        return { ms, cpuMs };
      });
    };
    const sendHttp = await sendOver(new HttpTransport(`http://127.0.0.1:${sink.http}/v1/metrics`, {}));
    const sendGrpc = await sendOver(new GrpcTransport(`http://127.0.0.1:${sink.grpc}`, {}));

    // The SDK, per-instrument callbacks.
    const first = await collect(source);
    const reader = new CollectOnlyReader();
    const provider = new MeterProvider({ resource, readers: [reader] });
    providers.push(provider);
    const user = sdkPerInstrument(first, perThread, provider);
    first.release();
    let sdkBytes = 0;
    const sdk = await measure(reps, async () => {
      const c = await collect(source);
      user.take(c);
      const { resourceMetrics } = await reader.collect();
      sdkBytes = ProtobufMetricsSerializer.serializeRequest(resourceMetrics)?.byteLength ?? 0;
      c.release();
    });

    // The SDK's own full export (collect + serialize + send) of the same instruments.
    const first2 = await collect(source);
    const exporter = new ProtoExporter({ url: `http://127.0.0.1:${sink.http}/v1/metrics`, temporalityPreference: AggregationTemporality.CUMULATIVE });
    const periodic = new PeriodicExportingMetricReader({
      exporter,
      exportIntervalMillis: 3_600_000,
      exportTimeoutMillis: 60_000,
      cardinalityLimits: { default: LIMIT, observableCounter: LIMIT, observableGauge: LIMIT },
    });
    const exportProvider = new MeterProvider({ resource, readers: [periodic] });
    providers.push(exportProvider);
    const user2 = sdkPerInstrument(first2, perThread, exportProvider);
    first2.release();
    const sdkExport = await measure(reps, async () => {
      const c = await collect(source);
      user2.take(c);
      await periodic.forceFlush();
      c.release();
    });

    // The SDK with one batch callback (the previous OtlpPusher).
    const first3 = await collect(source);
    const reader3 = new CollectOnlyReader();
    const provider3 = new MeterProvider({ resource, readers: [reader3] });
    providers.push(provider3);
    let cur: Collected = first3;
    sdkBatchCallback(first3, perThread, provider3, () => cur);
    first3.release();
    const sdkBatch = await measure(reps, async () => {
      cur = await collect(source);
      const { resourceMetrics } = await reader3.collect();
      ProtobufMetricsSerializer.serializeRequest(resourceMetrics);
      cur.release();
    });

    return { interfaces, threads, perThread, points, requests, maxRequestBytes: MAX_REQUEST_BYTES, totalBytes, encode, sendHttp, sendGrpc, sdk, sdkBytes, sdkExport, sdkBatch };
  } finally {
    for (const t of transports) t.close();
    for (const p of providers) await p.shutdown().catch(() => undefined);
    sink.child.stdin?.end();
    sink.child.kill('SIGKILL');
    stats.close();
    await sim.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export function otlpTable(rows: OtlpRow[]): string {
  const us = (ms: number, n: number): string => `${((ms * 1000) / n).toFixed(2)}`;
  const cost = (c: Cost, n: number): string => `${us(c.ms, n)} / ${us(c.cpuMs, n)}`;
  let s =
    'Per data point, wall / CPU in us (medians):\n\n' +
    '| interfaces x threads | mode | points | ours: requests (<= 4 MiB) | ours: snapshot + encode | send http/protobuf | send grpc | ours total (http) | SDK per-instrument: snapshot + collect + serialize | SDK / ours (encode, wall) | SDK full export (http, 1 request) | SDK export / ours total | SDK batch callback (previous path) |\n' +
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|\n';
  for (const r of rows) {
    const n = r.points;
    const oursTotal = { ms: r.encode.ms + r.sendHttp.ms, cpuMs: r.encode.cpuMs + r.sendHttp.cpuMs };
    s +=
      `| ${r.interfaces} x ${r.threads} | ${r.perThread ? 'per thread' : 'summed'} | ${n} | ${r.requests} (${(r.totalBytes / 1048576).toFixed(1)} MiB) | ` +
      `${cost(r.encode, n)} | ${cost(r.sendHttp, n)} | ${cost(r.sendGrpc, n)} | ${cost(oursTotal, n)} | ` +
      `${cost(r.sdk, n)} (${(r.sdkBytes / 1048576).toFixed(1)} MiB) | ${(r.sdk.ms / r.encode.ms).toFixed(1)}x | ${cost(r.sdkExport, n)} | ${(r.sdkExport.ms / oursTotal.ms).toFixed(1)}x | ${cost(r.sdkBatch, n)} |\n`;
  }
  return s;
}
