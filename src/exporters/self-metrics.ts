/**
 * The exporter's own metrics (prom-client), merged into every /metrics answer after the VPP
 * families: vpp_up, vpp_stats_epoch, scrape and collector durations, retries, reconnects, build
 * info, and the Node.js process metrics.
 */
import client from 'prom-client';
import type { StatsClient } from '../stats/index.js';

export const VERSION = '0.1.0';

export class SelfMetrics {
  /** Prometheus text 0.0.4 and OpenMetrics: one registry per format, the same metrics in both. */
  readonly text = new client.Registry();
  readonly openMetrics = new client.Registry<'application/openmetrics-text; version=1.0.0; charset=utf-8'>();

  readonly up: client.Gauge;
  readonly epoch: client.Gauge;
  readonly scrapeDuration: client.Gauge;
  readonly collectorSuccess: client.Gauge<'collector'>;
  readonly collectorDuration: client.Gauge<'collector'>;
  readonly unexported: client.Gauge;
  readonly scrapesRejected: client.Counter;

  constructor(stats: StatsClient, socketLabel: string) {
    this.openMetrics.setContentType(client.Registry.OPENMETRICS_CONTENT_TYPE);
    const registers = [this.text, this.openMetrics];
    this.up = new client.Gauge({ name: 'vpp_up', help: "1 when VPP's stats segment was read in this scrape, else 0.", registers });
    this.epoch = new client.Gauge({ name: 'vpp_stats_epoch', help: "Epoch of VPP's stats directory (moves on every structural change).", registers });
    this.scrapeDuration = new client.Gauge({
      name: 'vpp_exporter_scrape_duration_seconds',
      help: 'Time to read and format the VPP stats of this scrape.',
      registers,
    });
    this.collectorSuccess = new client.Gauge({
      name: 'vpp_exporter_collector_success',
      help: 'Whether a collector succeeded in this scrape.',
      labelNames: ['collector'],
      registers,
    });
    this.collectorDuration = new client.Gauge({
      name: 'vpp_exporter_collector_duration_seconds',
      help: 'Time a collector took in this scrape.',
      labelNames: ['collector'],
      registers,
    });
    this.unexported = new client.Gauge({
      name: 'vpp_exporter_stats_unexported',
      help: 'Stat paths not exported as metrics (name vectors, ring buffers, excluded or colliding names); see the log.',
      registers,
    });
    this.scrapesRejected = new client.Counter({
      name: 'vpp_exporter_scrapes_rejected_total',
      help: 'Scrapes answered 503 because too many were in flight.',
      registers,
    });
    new client.Counter({
      name: 'vpp_exporter_stats_retries_total',
      help: 'Stats segment reads retried because VPP changed it during the read.',
      registers,
      collect() {
        this.reset();
        this.inc(stats.counters.retries);
      },
    });
    new client.Counter({
      name: 'vpp_exporter_reconnects_total',
      help: "Reconnections to a VPP socket after it went away or VPP restarted.",
      labelNames: ['socket'],
      registers,
      collect() {
        this.reset();
        this.inc({ socket: socketLabel }, stats.counters.reconnects);
      },
    });
    new client.Counter({
      name: 'vpp_exporter_stats_reindexes_total',
      help: 'Rebuilds of the stats directory index after VPP changed its directory.',
      registers,
      collect() {
        this.reset();
        this.inc(stats.counters.reindexes);
      },
    });
    const info = new client.Gauge({
      name: 'vpp_exporter_build_info',
      help: 'Build information of vpp-exporter; the value is 1.',
      labelNames: ['version', 'nodejs'],
      registers,
    });
    info.set({ version: VERSION, nodejs: process.version }, 1);
    client.collectDefaultMetrics({ register: this.text });
    client.collectDefaultMetrics({ register: this.openMetrics });
  }
}
