/** Exporter: the exporter's own health, and the events pipeline. */
import type { DashboardSpec } from './grafana.js';
import { rate, sel } from './promql.js';

const byInstance = (expr: string): string => `sum by (instance) (${expr})`;

export const exporter: DashboardSpec = {
  uid: 'vpp-exporter',
  file: 'vpp-exporter.json',
  title: 'VPP / Exporter',
  description: "vpp-exporter's own health: scrape and collector durations, stats read retries, reconnects, the process; and the events pipeline (spool, Kafka, link events).",
  tags: ['exporter'],
  rows: [
    {
      title: 'Scrapes',
      panels: [
        {
          title: 'Scrape duration',
          description:
            "Time the exporter took to read VPP's stats and write the answer (vpp_exporter_scrape_duration_seconds), and the whole scrape as Prometheus saw it (scrape_duration_seconds). VppExporterScrapeSlow fires when the first averages above 2 s.",
          kind: 'timeseries',
          queries: [
            { expr: sel('vpp_exporter_scrape_duration_seconds'), legend: '{{instance}} exporter' },
            { expr: sel('scrape_duration_seconds'), legend: '{{instance}} Prometheus scrape' },
          ],
          unit: 's',
          thresholds: { base: 'transparent', steps: [{ color: 'red', value: 2 }] },
          thresholdsStyle: 'dashed',
        },
        {
          title: 'Collector duration',
          description: 'Time each collector (part of a scrape) took (vpp_exporter_collector_duration_seconds).',
          kind: 'timeseries',
          queries: [{ expr: sel('vpp_exporter_collector_duration_seconds'), legend: '{{instance}} {{collector}}' }],
          unit: 's',
        },
        {
          title: 'Collector success',
          description: 'Whether each collector succeeded in the last scrape (vpp_exporter_collector_success); a failing collector leaves the rest of the scrape intact.',
          kind: 'stat',
          queries: [{ expr: sel('vpp_exporter_collector_success'), legend: '{{instance}} {{collector}}' }],
          mappings: { '0': { text: 'FAILING', color: 'red' }, '1': { text: 'OK', color: 'green' } },
          thresholds: { base: 'red', steps: [{ color: 'green', value: 1 }] },
          w: 8,
        },
        {
          title: 'Unexported stat paths',
          description: 'Stat paths not exported as metrics (name vectors, ring buffers, excluded or colliding names); the log says which.',
          kind: 'stat',
          queries: [{ expr: sel('vpp_exporter_stats_unexported'), legend: '{{instance}}' }],
          w: 8,
        },
        {
          title: 'Scrapes rejected',
          description: 'Scrapes answered 503 in the last hour because too many were in flight.',
          kind: 'stat',
          queries: [{ expr: byInstance(`increase(${sel('vpp_exporter_scrapes_rejected_total')}[1h])`), legend: '{{instance}}' }],
          thresholds: { base: 'green', steps: [{ color: 'orange', value: 1 }] },
          decimals: 0,
          w: 8,
        },
      ],
    },
    {
      title: 'Stats segment',
      panels: [
        {
          title: 'Stats read retries',
          description: 'Stats segment reads retried per second because VPP changed the segment during the read (vpp_exporter_stats_retries_total). A steady rate means VPP is restructuring the segment all the time.',
          kind: 'timeseries',
          queries: [{ expr: byInstance(rate('vpp_exporter_stats_retries_total')), legend: '{{instance}}' }],
          unit: 'ops',
          w: 8,
        },
        {
          title: 'Reconnects',
          description: 'Reconnections to a VPP socket per interval (vpp_exporter_reconnects_total, by socket): VPP restarted or its socket went away.',
          kind: 'timeseries',
          queries: [{ expr: `increase(${sel('vpp_exporter_reconnects_total')}[$__rate_interval])`, legend: '{{instance}} {{socket}}' }],
          unit: 'short',
          w: 8,
        },
        {
          title: 'Directory changes',
          description: "Rebuilds of the exporter's index of the stats directory (vpp_exporter_stats_reindexes_total) and VPP's directory epoch (vpp_stats_epoch): interfaces or nodes added or removed.",
          kind: 'timeseries',
          queries: [
            { expr: byInstance(`increase(${sel('vpp_exporter_stats_reindexes_total')}[$__rate_interval])`), legend: '{{instance}} reindexes' },
            { expr: `changes(${sel('vpp_stats_epoch')}[$__rate_interval])`, legend: '{{instance}} epoch changes' },
          ],
          unit: 'short',
          w: 8,
        },
      ],
    },
    {
      title: 'Process',
      panels: [
        {
          title: 'CPU',
          description: 'CPU seconds per second used by the exporter process.',
          kind: 'timeseries',
          queries: [{ expr: rate('process_cpu_seconds_total'), legend: '{{instance}}' }],
          unit: 'percentunit',
          w: 8,
        },
        {
          title: 'Memory',
          description: 'Resident memory and V8 heap in use.',
          kind: 'timeseries',
          queries: [
            { expr: sel('process_resident_memory_bytes'), legend: '{{instance}} resident' },
            { expr: sel('nodejs_heap_size_used_bytes'), legend: '{{instance}} heap used' },
          ],
          unit: 'bytes',
          w: 8,
        },
        {
          title: 'Event loop lag (p99)',
          description: "The 99th percentile of Node.js event loop delay: high values delay scrapes and events alike.",
          kind: 'timeseries',
          queries: [{ expr: sel('nodejs_eventloop_lag_p99_seconds'), legend: '{{instance}}' }],
          unit: 's',
          w: 8,
        },
      ],
    },
    {
      title: 'Events pipeline',
      panels: [
        {
          title: 'Spool depth',
          description: 'Events waiting in the durable spool for Kafka. It grows while Kafka is unreachable and drains after; VppExporterSpoolGrowing fires when it keeps growing.',
          kind: 'timeseries',
          queries: [{ expr: byInstance(sel('vpp_exporter_spool_events')), legend: '{{instance}}' }],
          unit: 'short',
          w: 8,
        },
        {
          title: 'Kafka publish failures',
          description: 'Failed Kafka publish attempts per second (events stay in the spool and are retried).',
          kind: 'timeseries',
          queries: [{ expr: byInstance(rate('vpp_exporter_kafka_publish_failures_total')), legend: '{{instance}}' }],
          unit: 'ops',
          w: 8,
        },
        {
          title: 'Link events',
          description:
            'Link events emitted per second, by reason: event (VPP reported a change) or resync (found after a reconnect or a restart). A steady event rate means a link is flapping; the link-events topic names it.',
          kind: 'timeseries',
          queries: [{ expr: `sum by (instance, reason) (${rate('vpp_exporter_link_events_total')})`, legend: '{{instance}} {{reason}}' }],
          unit: 'ops',
          w: 8,
        },
        {
          title: 'Event latency (p99)',
          description:
            "99th percentiles: VPP's interface event arriving -> the link event synced in the spool, and one spool commit's write and disk sync (every accepted event waits for one). A rising commit time is a slow or busy disk.",
          kind: 'timeseries',
          queries: [
            { expr: `histogram_quantile(0.99, sum by (instance, le) (${rate('vpp_exporter_link_event_accept_seconds_bucket')}))`, legend: '{{instance}} link event accepted' },
            { expr: `histogram_quantile(0.99, sum by (instance, le) (${rate('vpp_exporter_spool_commit_seconds_bucket')}))`, legend: '{{instance}} spool commit' },
          ],
          unit: 's',
          w: 8,
        },
      ],
    },
  ],
};
