/**
 * OTLP push of the same values /metrics serves, from one consistent snapshot per export: every
 * interval the snapshot is encoded straight to protobuf (otlp-encoder.ts: per-epoch cached
 * attribute encodings, requests of at most maxRequestBytes cut on data point boundaries) and the
 * requests go out one at a time over http/protobuf or grpc (otlp-transport.ts, with the
 * OpenTelemetry exporters' retry policy). A failed export is dropped, not queued: values are
 * cumulative and the next export carries them, so memory stays bounded (one request buffer, one
 * snapshot) however long the collector is down. An export that is still running when the next
 * interval comes makes that interval skip. Cumulative values start at VPP's boot time
 * (Collected.startTimeNs), so a VPP restart shows as a reset with a new start time.
 */
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../log.js';
import type { Collected, StatsSource } from './stats-source.js';
import { VERSION } from './self-metrics.js';
import { OtlpRequestEncoder, type GaugeFamily } from './otlp-encoder.js';
import { GrpcTransport, HttpTransport, sendWithRetry, type OtlpTransport } from './otlp-transport.js';

export { parseLabelBody } from './names.js';

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
  /** Families not read from the stats segment (api-families.ts), pushed in the same export. */
  gaugeFamilies?: () => readonly GaugeFamily[];
}

export interface OtlpCounters {
  /** Exports started (one per interval, flush or stop). */
  exports: number;
  /** Exports that did not deliver every request. */
  failedExports: number;
  /** Requests sent (retries not counted). */
  requests: number;
  /** Retries of requests after a transient failure. */
  retries: number;
  /** Data points in requests the receiver accepted. */
  dataPoints: number;
  /** Data points the receiver said it rejected (partial success). */
  rejectedDataPoints: number;
  /** Intervals skipped because the previous export was still running. */
  skippedExports: number;
}

export const MAX_REQUEST_BYTES = 4 * 1024 * 1024;

export class OtlpPusher {
  readonly counters: OtlpCounters = { exports: 0, failedExports: 0, requests: 0, retries: 0, dataPoints: 0, rejectedDataPoints: 0, skippedExports: 0 };
  private readonly encoder: OtlpRequestEncoder;
  private readonly transport: OtlpTransport;
  private readonly intervalMs: number;
  /** Budget of one export, retries included: the interval, at most 30 s. */
  private readonly timeoutMs: number;
  private readonly abort = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  /** The export running or queued last (exports never overlap). */
  private last: Promise<void> = Promise.resolve();
  private busy = false;
  private readonly gaugeFamilies: (() => readonly GaugeFamily[]) | undefined;

  constructor(
    private readonly source: StatsSource,
    opts: OtlpOptions,
    private readonly log: Logger,
  ) {
    const headers = opts.headers ?? {};
    this.transport = opts.protocol === 'grpc' ? new GrpcTransport(opts.endpoint, headers) : new HttpTransport(opts.endpoint, headers);
    this.encoder = new OtlpRequestEncoder({
      resourceAttributes: {
        'service.name': 'vpp-exporter',
        'service.version': VERSION,
        'host.name': os.hostname(),
        'vpp.instance': opts.instance,
        ...opts.resourceAttributes,
      },
      scopeName: 'vpp-exporter',
      scopeVersion: VERSION,
      maxRequestBytes: opts.maxRequestBytes ?? MAX_REQUEST_BYTES,
      perThread: opts.perThread,
    });
    this.gaugeFamilies = opts.gaugeFamilies;
    this.timeoutMs = Math.min(opts.intervalMs, 30_000);
    this.intervalMs = opts.intervalMs;
  }

  /** Starts pushing every interval. */
  start(): Promise<void> {
    this.timer = setInterval(() => {
      if (this.busy) {
        this.counters.skippedExports++;
        return;
      }
      void this.flush();
    }, this.intervalMs);
    this.timer.unref();
    return Promise.resolve();
  }

  /** Collects and pushes now, after any export in progress (tests, shutdown). */
  flush(): Promise<void> {
    this.last = this.last.then(() => this.exportOnce());
    return this.last;
  }

  private async exportOnce(): Promise<void> {
    if (this.abort.signal.aborted) return;
    this.busy = true;
    const deadline = Date.now() + this.timeoutMs;
    this.counters.exports++;
    let collected: Collected | undefined;
    try {
      collected = await this.source.collect();
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'OTLP export: VPP stats could not be read; pushing vpp_up 0');
    }
    let part = 0;
    const timeNs = BigInt(Date.now()) * 1_000_000n;
    const gauges = this.gaugeFamilies?.() ?? [];
    const requests = function* (encoder: OtlpRequestEncoder): Generator<{ body: Uint8Array; points: number }> {
      yield* encoder.requests(collected, timeNs);
      if (gauges.length) yield* encoder.gaugeRequests(gauges, timeNs);
    };
    try {
      for (const req of requests(this.encoder)) {
        part++;
        this.counters.requests++;
        const { outcome, retries } = await sendWithRetry(this.transport, req.body, deadline, this.abort.signal);
        this.counters.retries += retries;
        if (!outcome.ok) {
          this.counters.failedExports++;
          this.log.warn({ err: outcome.error, part, retries }, 'OTLP export failed; the next one carries the values');
          return;
        }
        this.counters.dataPoints += req.points - outcome.rejectedDataPoints;
        if (outcome.rejectedDataPoints > 0 || outcome.message) {
          this.counters.rejectedDataPoints += outcome.rejectedDataPoints;
          this.log.warn({ rejected: outcome.rejectedDataPoints, message: outcome.message, part }, 'OTLP receiver rejected part of a request');
        }
      }
    } catch (err) {
      this.counters.failedExports++;
      this.log.warn({ err: (err as Error).message, part }, 'OTLP export failed');
    } finally {
      collected?.release();
      this.busy = false;
    }
  }

  /**
   * Pushes a last time and stops, within timeoutMs: a collector that is down would hold the
   * shutdown through the retries (seconds), so after timeoutMs the export in flight is aborted
   * (retry waits end, the request is cancelled) and not waited for more than a moment.
   */
  async stop(timeoutMs = 2000): Promise<void> {
    clearInterval(this.timer);
    const last = this.flush();
    const timedOut = await Promise.race([last.then(() => false), sleep(timeoutMs, true, { ref: false })]);
    this.abort.abort();
    if (timedOut) await Promise.race([last, sleep(200, undefined, { ref: false })]);
    this.transport.close();
  }
}
