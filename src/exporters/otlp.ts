/**
 * OTLP push of the same values /metrics serves, from one consistent snapshot per export, with
 * @opentelemetry/sdk-metrics: one observable instrument per family (names without _total),
 * observed in a single batch callback. The SDK's OTLP exporters retry only 429/502/503/504 and
 * honour Retry-After; a failed export is dropped (values are cumulative, the next one carries
 * them), so memory stays bounded while the collector is down. Requests are split so that none
 * exceeds maxRequestBytes.
 */
import os from 'node:os';
import { metrics as apiMetrics, type Attributes, type BatchObservableResult, type Observable } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { MeterProvider, PeriodicExportingMetricReader, AggregationTemporality, type PushMetricExporter, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { OTLPMetricExporter as ProtoExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPMetricExporter as GrpcExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import type { Logger } from '../log.js';
import type { Family, Plan } from './catalog.js';
import { visitSamples } from './exposition.js';
import type { StatsSource } from './stats-source.js';
import { VERSION } from './self-metrics.js';

export interface OtlpOptions {
  endpoint: string;
  protocol: 'http/protobuf' | 'grpc';
  intervalMs: number;
  headers?: Record<string, string>;
  /** Extra resource attributes (service.name, host.name and vpp.instance are set already). */
  resourceAttributes?: Record<string, string>;
  /** Names this VPP (resource attribute vpp.instance). */
  instance: string;
  perThread: boolean;
  maxRequestBytes?: number;
}

export interface OtlpCounters {
  exports: number;
  failedExports: number;
  requests: number;
  dataPoints: number;
}

const MAX_REQUEST_BYTES = 4 * 1024 * 1024;

/** Undoes the label escaping of names.ts: `a="x\"y",b="z"` -> {a: 'x"y', b: 'z'}. */
export function parseLabelBody(body: string): Attributes {
  const out: Attributes = {};
  const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
  for (let m = re.exec(body); m; m = re.exec(body)) {
    out[m[1]] = m[2].replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
  }
  return out;
}

function countPoints(rm: ResourceMetrics): number {
  let n = 0;
  for (const sm of rm.scopeMetrics) for (const m of sm.metrics) n += m.dataPoints.length;
  return n;
}

/** Splits a ResourceMetrics into halves by data points (used until each part fits). */
function halve(rm: ResourceMetrics): [ResourceMetrics, ResourceMetrics] {
  const total = countPoints(rm);
  let budget = Math.ceil(total / 2);
  const first: ResourceMetrics = { resource: rm.resource, scopeMetrics: [] };
  const second: ResourceMetrics = { resource: rm.resource, scopeMetrics: [] };
  for (const sm of rm.scopeMetrics) {
    const a = { scope: sm.scope, metrics: [] as typeof sm.metrics };
    const b = { scope: sm.scope, metrics: [] as typeof sm.metrics };
    for (const m of sm.metrics) {
      const take = Math.min(budget, m.dataPoints.length);
      budget -= take;
      if (take > 0) a.metrics.push({ ...m, dataPoints: m.dataPoints.slice(0, take) } as typeof m);
      if (take < m.dataPoints.length) b.metrics.push({ ...m, dataPoints: m.dataPoints.slice(take) } as typeof m);
    }
    if (a.metrics.length) first.scopeMetrics.push(a);
    if (b.metrics.length) second.scopeMetrics.push(b);
  }
  return [first, second];
}

/** Wraps the SDK's exporter: splits over-large requests and counts what happened. */
class SplittingExporter implements PushMetricExporter {
  constructor(
    private readonly inner: PushMetricExporter,
    private readonly maxBytes: number,
    private readonly counters: OtlpCounters,
    private readonly log: Logger,
  ) {}

  private parts(rm: ResourceMetrics): ResourceMetrics[] {
    const bytes = ProtobufMetricsSerializer.serializeRequest(rm)?.byteLength ?? 0;
    if (bytes <= this.maxBytes || countPoints(rm) <= 1) return [rm];
    return halve(rm).flatMap((p) => this.parts(p));
  }

  export(rm: ResourceMetrics, done: (result: ExportResult) => void): void {
    const parts = this.parts(rm);
    this.counters.exports++;
    this.counters.dataPoints += countPoints(rm);
    // One request at a time: the SDK's transport caps concurrent exports, and a collector that
    // is struggling should not get the whole backlog at once.
    const next = (i: number): void => {
      if (i === parts.length) {
        done({ code: ExportResultCode.SUCCESS });
        return;
      }
      this.counters.requests++;
      this.inner.export(parts[i], (r) => {
        // The SDK and @opentelemetry/core may be different copies of the enum: compare values.
        if (Number(r.code) === Number(ExportResultCode.SUCCESS)) {
          next(i + 1);
          return;
        }
        this.counters.failedExports++;
        this.log.warn({ err: r.error?.message, part: i + 1, parts: parts.length }, 'OTLP export failed; the next one carries the values');
        done(r);
      });
    };
    next(0);
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  selectAggregationTemporality(): AggregationTemporality {
    return AggregationTemporality.CUMULATIVE;
  }
}

export class OtlpPusher {
  readonly counters: OtlpCounters = { exports: 0, failedExports: 0, requests: 0, dataPoints: 0 };
  private readonly provider: MeterProvider;
  private readonly instruments = new Map<string, Observable>();
  private readonly attrs = new WeakMap<Family, Attributes[]>();

  constructor(
    private readonly source: StatsSource,
    private readonly opts: OtlpOptions,
    log: Logger,
  ) {
    const headers = opts.headers ?? {};
    const inner =
      opts.protocol === 'grpc'
        ? new GrpcExporter({ url: opts.endpoint, metadata: undefined, headers, temporalityPreference: AggregationTemporality.CUMULATIVE })
        : new ProtoExporter({ url: opts.endpoint, headers, temporalityPreference: AggregationTemporality.CUMULATIVE });
    const limit = 10_000_000; // the SDK's default of 2000 series per instrument is far too low for VPP
    const reader = new PeriodicExportingMetricReader({
      exporter: new SplittingExporter(inner, opts.maxRequestBytes ?? MAX_REQUEST_BYTES, this.counters, log),
      exportIntervalMillis: opts.intervalMs,
      exportTimeoutMillis: Math.max(1000, Math.min(opts.intervalMs, 30_000)),
      cardinalityLimits: { default: limit, observableCounter: limit, observableGauge: limit },
    });
    this.provider = new MeterProvider({
      resource: resourceFromAttributes({
        'service.name': 'vpp-exporter',
        'service.version': VERSION,
        'host.name': os.hostname(),
        'vpp.instance': opts.instance,
        ...opts.resourceAttributes,
      }),
      readers: [reader],
    });
    this.instruments.set('vpp_up', this.meter().createObservableGauge('vpp_up', { description: "1 when VPP's stats segment could be read for this export." }));
  }

  private meter() {
    return this.provider.getMeter('vpp-exporter', VERSION);
  }

  /** Instruments for every family of the plan; new families (a new epoch) get theirs on the fly. */
  private ensureInstruments(plan: Plan): boolean {
    let added = false;
    for (const f of plan.families) {
      const name = f.type === 'counter' ? f.name.replace(/_total$/, '') : f.name;
      if (this.instruments.has(name)) continue;
      const m = this.meter();
      this.instruments.set(name, f.type === 'counter' ? m.createObservableCounter(name, { description: f.help }) : m.createObservableGauge(name, { description: f.help }));
      added = true;
    }
    return added;
  }

  private registered: Observable[] = [];

  /** (Re-)registers the batch callback for every instrument known now. */
  private register(): void {
    const m = this.meter();
    if (this.registered.length) m.removeBatchObservableCallback(this.observe, this.registered);
    this.registered = [...this.instruments.values()];
    m.addBatchObservableCallback(this.observe, this.registered);
  }

  /**
   * Starts pushing. The SDK drops observations of instruments a batch callback was not
   * registered with, so the instruments are made from a first snapshot before the callback is
   * registered; families that appear later (a new epoch) are exported from the next push on.
   */
  async start(): Promise<void> {
    const collected = await this.source.collect();
    if (collected) {
      this.ensureInstruments(collected.plan);
      collected.release();
    }
    this.register();
  }

  private readonly observe = async (result: BatchObservableResult): Promise<void> => {
    const collected = await this.source.collect();
    result.observe(this.instruments.get('vpp_up')!, collected ? 1 : 0);
    if (!collected) return;
    try {
      visitSamples(collected.plan, collected.view, { perThread: this.opts.perThread, threads: collected.threads }, (f, i, column, thread, value) => {
        const inst = this.instruments.get(f.type === 'counter' ? f.name.replace(/_total$/, '') : f.name);
        if (!inst) return;
        let a = this.seriesAttributes(f)[i];
        if (column >= 0 || thread >= 0) {
          a = { ...a };
          if (column >= 0) a[f.labels[i]] = String(column);
          if (thread >= 0) a.thread = String(thread);
        }
        result.observe(inst, value, a);
      });
      if (this.ensureInstruments(collected.plan)) this.register();
    } finally {
      collected.release();
    }
  };

  private seriesAttributes(f: Family): Attributes[] {
    let a = this.attrs.get(f);
    if (!a) {
      a = f.labels.map((body, i) => (f.col[i] < 0 ? {} : parseLabelBody(body)));
      this.attrs.set(f, a);
    }
    return a;
  }

  /** Collect and push now (tests, shutdown). */
  async flush(): Promise<void> {
    await this.provider.forceFlush();
  }

  /**
   * Pushes a last time and stops. A collector that is down would hold the shutdown through the
   * SDK's retries (seconds); the exporter's own shutdown does not wait longer than timeoutMs.
   */
  async stop(timeoutMs = 2000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.provider.shutdown().catch(() => undefined),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
    apiMetrics.disable();
  }
}
