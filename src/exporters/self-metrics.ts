/**
 * The exporter's own metrics (prom-client), merged into every /metrics answer after the VPP
 * families: vpp_up, vpp_stats_epoch, scrape and collector durations, retries, reconnects, build
 * info, the OTLP push's counters when it runs, and the Node.js process metrics.
 */
import client from 'prom-client';
import type { StatsClient } from '../stats/index.js';
import type { OtlpCounters } from './otlp.js';
import { PerRegistryCounter, PerRegistryGauge } from './registries.js';

export const VERSION = '0.1.0';

export class SelfMetrics {
  /** Prometheus text 0.0.4 and OpenMetrics: one registry per format, each with its own metrics. */
  readonly text = new client.Registry();
  readonly openMetrics = new client.Registry<'application/openmetrics-text; version=1.0.0; charset=utf-8'>();

  readonly up: PerRegistryGauge;
  readonly epoch: PerRegistryGauge;
  readonly scrapeDuration: PerRegistryGauge;
  readonly collectorSuccess: PerRegistryGauge<'collector'>;
  readonly collectorDuration: PerRegistryGauge<'collector'>;
  readonly unexported: PerRegistryGauge;
  readonly scrapesRejected: PerRegistryCounter;

  private readonly registries: client.Registry[];

  constructor(stats: StatsClient, socketLabel: string) {
    this.openMetrics.setContentType(client.Registry.OPENMETRICS_CONTENT_TYPE);
    const registries: client.Registry[] = [this.text, this.openMetrics as unknown as client.Registry];
    this.registries = registries;
    const gauge = <T extends string>(config: Omit<client.GaugeConfiguration<T>, 'registers'>): PerRegistryGauge<T> => new PerRegistryGauge(registries, config);
    this.up = gauge({ name: 'vpp_up', help: "1 when VPP's stats segment was read in this scrape, else 0." });
    this.epoch = gauge({ name: 'vpp_stats_epoch', help: "Epoch of VPP's stats directory (moves on every structural change)." });
    this.scrapeDuration = gauge({ name: 'vpp_exporter_scrape_duration_seconds', help: 'Time to read and format the VPP stats of this scrape.' });
    this.collectorSuccess = gauge({ name: 'vpp_exporter_collector_success', help: 'Whether a collector succeeded in this scrape.', labelNames: ['collector'] });
    this.collectorDuration = gauge({ name: 'vpp_exporter_collector_duration_seconds', help: 'Time a collector took in this scrape.', labelNames: ['collector'] });
    this.unexported = gauge({
      name: 'vpp_exporter_stats_unexported',
      help: 'Stat paths not exported as metrics (name vectors, ring buffers, excluded or colliding names); see the log.',
    });
    this.scrapesRejected = new PerRegistryCounter(registries, { name: 'vpp_exporter_scrapes_rejected_total', help: 'Scrapes answered 503 because too many were in flight.' });
    for (const r of registries) {
      new client.Counter({
        name: 'vpp_exporter_stats_retries_total',
        help: 'Stats segment reads retried because VPP changed it during the read.',
        registers: [r],
        collect() {
          this.reset();
          this.inc(stats.counters.retries);
        },
      });
      new client.Counter({
        name: 'vpp_exporter_reconnects_total',
        help: 'Reconnections to a VPP socket after it went away or VPP restarted.',
        labelNames: ['socket'],
        registers: [r],
        collect() {
          this.reset();
          this.inc({ socket: socketLabel }, stats.counters.reconnects);
        },
      });
      new client.Counter({
        name: 'vpp_exporter_stats_reindexes_total',
        help: 'Rebuilds of the stats directory index after VPP changed its directory.',
        registers: [r],
        collect() {
          this.reset();
          this.inc(stats.counters.reindexes);
        },
      });
      new client.Gauge({
        name: 'vpp_exporter_build_info',
        help: 'Build information of vpp-exporter; the value is 1.',
        labelNames: ['version', 'nodejs'],
        registers: [r],
      }).set({ version: VERSION, nodejs: process.version }, 1);
      client.collectDefaultMetrics({ register: r });
    }
  }

  /** Serves the OTLP pusher's counters (read at each scrape) as vpp_exporter_otlp_* counters. */
  observeOtlp(counters: Readonly<OtlpCounters>): void {
    for (const [key, name, help] of OTLP_COUNTERS) {
      for (const r of this.registries) {
        new client.Counter({
          name,
          help,
          registers: [r],
          collect() {
            this.reset();
            this.inc(counters[key]);
          },
        });
      }
    }
  }
}

const OTLP_COUNTERS: readonly (readonly [keyof OtlpCounters, string, string])[] = [
  ['exports', 'vpp_exporter_otlp_exports_total', 'OTLP exports started (one per interval, unless the previous one still runs).'],
  ['failedExports', 'vpp_exporter_otlp_failed_exports_total', 'OTLP exports that did not deliver every request (dropped: the next export carries the values).'],
  ['requests', 'vpp_exporter_otlp_requests_total', 'OTLP requests sent, retries not counted.'],
  ['retries', 'vpp_exporter_otlp_retries_total', 'OTLP requests sent again after a transient failure (429, 502, 503, 504, UNAVAILABLE, no connection).'],
  ['dataPoints', 'vpp_exporter_otlp_data_points_total', 'Data points the OTLP receiver accepted.'],
  ['rejectedDataPoints', 'vpp_exporter_otlp_rejected_data_points_total', 'Data points the OTLP receiver said it rejected (partial success).'],
  ['skippedExports', 'vpp_exporter_otlp_skipped_exports_total', 'OTLP intervals skipped because the previous export was still running.'],
];
