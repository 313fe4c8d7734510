/**
 * The event pipeline's metrics (prom-client), registered on the registries the caller passes (the
 * exporter's text and OpenMetrics registries). Counters are counted where things happen; the
 * spool gauges and the Kafka connection are read at scrape time.
 *
 *   vpp_exporter_link_events_total{reason}         link events accepted into the spool (event | resync)
 *   vpp_exporter_config_actions_total              config-action records accepted into the spool
 *   vpp_exporter_events_published_total{topic}     messages the destination acknowledged, per topic
 *   vpp_exporter_kafka_publish_failures_total      sends that failed (each is retried)
 *   vpp_exporter_spool_events                      records in the spool not yet acknowledged
 *   vpp_exporter_spool_bytes                       bytes of the spool's segment files
 *   vpp_exporter_spool_oldest_age_seconds          age of the oldest unacknowledged record (0 when none)
 *   vpp_exporter_spool_overflow_dropped_total      events refused because the spool was full
 *   vpp_exporter_spool_corrupt_records_total       damaged records skipped when reading the spool
 *   vpp_exporter_kafka_connected                   1 when the last Kafka request worked (only with Kafka)
 *   vpp_exporter_spool_commit_seconds              histogram: write + sync to disk of each spool commit
 *   vpp_exporter_link_event_accept_seconds         histogram: VPP's event received -> link event durable in the spool
 */
import client from 'prom-client';
import { PerRegistryCounter, PerRegistryHistogram, type Registries } from '../exporters/registries.js';
import type { Spool, SpoolCommit } from './spool.js';
import type { EventTransport } from './transport.js';

export type { Registries } from '../exporters/registries.js';

export class EventMetrics {
  readonly linkEvents: PerRegistryCounter<'reason'>;
  readonly configActions: PerRegistryCounter;
  readonly published: PerRegistryCounter<'topic'>;
  readonly publishFailures: PerRegistryCounter;
  /** Observed by the link-event engine for every event it emits because VPP reported a change. */
  readonly linkEventAcceptSeconds: PerRegistryHistogram;
  private readonly spoolCommitSeconds: PerRegistryHistogram;
  private spool: Spool | null = null;
  private transport: EventTransport | null = null;
  private readonly now: () => number;

  /** `registers`: where to register (none: a private registry, e.g. in tests). */
  constructor(registers: Registries = [new client.Registry()], opts: { kafka?: boolean; now?: () => number } = {}) {
    const regs = [...registers];
    this.now = opts.now ?? Date.now;
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- collect() callbacks get the metric as `this`
    const self = this;
    this.linkEvents = new PerRegistryCounter(regs, {
      name: 'vpp_exporter_link_events_total',
      help: 'Link events (interface state changes, creations, deletions) accepted into the event spool, by reason (event or resync).',
      labelNames: ['reason'],
    });
    this.configActions = new PerRegistryCounter(regs, {
      name: 'vpp_exporter_config_actions_total',
      help: 'Config-action audit records accepted into the event spool.',
    });
    this.published = new PerRegistryCounter(regs, {
      name: 'vpp_exporter_events_published_total',
      help: 'Event messages the destination acknowledged (Kafka: acks=all), by topic.',
      labelNames: ['topic'],
    });
    this.publishFailures = new PerRegistryCounter(regs, {
      name: 'vpp_exporter_kafka_publish_failures_total',
      help: 'Event batches whose send failed; each is sent again after a backoff.',
    });
    // Disk flushes take 0.1-1 ms on a healthy SSD and tens of ms on a busy or network disk: every
    // accepted event waits for one, so this is where a slow disk shows.
    this.spoolCommitSeconds = new PerRegistryHistogram(regs, {
      name: 'vpp_exporter_spool_commit_seconds',
      help: 'Time each spool commit (a group of events) took to be written and synced to disk.',
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    });
    // From the sw_interface_event to durable: the read-back of the state from VPP, the spool's
    // write and sync, and the wait (up to 1 s) for VPP's up event after a bare down one.
    this.linkEventAcceptSeconds = new PerRegistryHistogram(regs, {
      name: 'vpp_exporter_link_event_accept_seconds',
      help: "Time from VPP's interface event arriving to the link event being accepted (synced) in the spool; events found by a resync are not included.",
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    });
    // Read at scrape time; one object per registry (see registries.ts).
    for (const r of regs) {
      new client.Gauge({
        name: 'vpp_exporter_spool_events',
        help: 'Events in the durable spool not yet acknowledged by the destination.',
        registers: [r],
        collect() {
          this.set(self.spool?.stats.depth ?? 0);
        },
      });
      new client.Gauge({
        name: 'vpp_exporter_spool_bytes',
        help: "Bytes of the durable spool's segment files on disk.",
        registers: [r],
        collect() {
          this.set(self.spool?.stats.bytes ?? 0);
        },
      });
      new client.Gauge({
        name: 'vpp_exporter_spool_oldest_age_seconds',
        help: 'Age of the oldest event in the spool not yet acknowledged (0 when the spool is drained).',
        registers: [r],
        collect() {
          const t = self.spool?.stats.oldestTime;
          this.set(t === undefined ? 0 : Math.max(0, (self.now() - t) / 1000));
        },
      });
      new client.Counter({
        name: 'vpp_exporter_spool_overflow_dropped_total',
        help: 'Events refused because the spool had reached its size limit (link events are re-derived by a resync later).',
        registers: [r],
        collect() {
          this.reset();
          this.inc(self.spool?.stats.overflowDropped ?? 0);
        },
      });
      new client.Counter({
        name: 'vpp_exporter_spool_corrupt_records_total',
        help: 'Damaged spool records skipped (torn writes are cut off at start-up and not counted here).',
        registers: [r],
        collect() {
          this.reset();
          this.inc(self.spool?.stats.corruptRecords ?? 0);
        },
      });
      if (opts.kafka !== false) {
        new client.Gauge({
          name: 'vpp_exporter_kafka_connected',
          help: 'Whether the last request to Kafka worked (1) or not (0).',
          registers: [r],
          collect() {
            this.set(self.transport?.kind === 'kafka' && self.transport.connected ? 1 : 0);
          },
        });
      }
    }
  }

  /** Where the scrape-time values come from. */
  attach(spool: Spool, transport: EventTransport): void {
    this.spool?.off('commit', this.onCommit);
    this.spool = spool;
    this.transport = transport;
    spool.on('commit', this.onCommit);
  }

  private readonly onCommit = (c: SpoolCommit | null): void => {
    if (c !== null) this.spoolCommitSeconds.observe(c.seconds);
  };
}
