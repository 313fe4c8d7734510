/**
 * The event pipeline: producers (link events, config actions) submit events, which are accepted
 * once they are fsynced in the spool; a publisher drains the spool into Kafka, or into JSON lines
 * on stdout or a file when no Kafka is configured (the demo).
 *
 *   const pipeline = await startEventPipeline({ spoolDir, kafka: kafkaOptionsFromConfig(config), registers });
 *   const r = await pipeline.submit([event]);   // r.accepted === 1: on disk, will reach Kafka
 *   await pipeline.close();
 */
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../log.js';
import { logger as rootLogger } from '../log.js';
import { JsonLinesTransport, type JsonLinesOptions } from './jsonl.js';
import { KafkaTransport, type KafkaSinkOptions } from './kafka.js';
import { encodeSpooledEvent, type SpooledEvent, type StreamName } from './message.js';
import { EventMetrics, type Registries } from './metrics.js';
import { Publisher, type PublisherOptions } from './publisher.js';
import { Spool, type AppendResult, type SpoolOptions } from './spool.js';
import type { EventTransport } from './transport.js';

export * from './message.js';
export { Spool, SpoolError, SPOOL_DEFAULTS, RECORD_HEADER_BYTES, type AppendResult, type SpoolCommit, type SpoolEntry, type SpoolOptions, type SpoolStats } from './spool.js';
export { Publisher, type PublishedBatch, type PublisherOptions, type PublisherStats } from './publisher.js';
export { EventMetrics, type Registries } from './metrics.js';
export {
  KafkaTransport,
  KAFKA_DEFAULTS,
  kafkaOptionsFromConfig,
  topicSpecs,
  type KafkaCompression,
  type KafkaSaslOptions,
  type KafkaSinkOptions,
  type KafkaTlsOptions,
  type KafkaTopicSpec,
  type SaslMechanism,
} from './kafka.js';
export { JsonLinesTransport, type JsonLinesOptions } from './jsonl.js';
export type { EventTransport } from './transport.js';

/** What event producers need: submit, and a signal when a full spool has room again. */
export interface EventSink {
  /** Accepted means fsynced in the spool; the rest were dropped (spool full) and counted. */
  submit(events: readonly SpooledEvent[]): Promise<AppendResult>;
  /** Called when the spool, after refusing events, has room again; returns the unsubscribe. */
  onSpace(listener: () => void): () => void;
  readonly metrics: EventMetrics;
}

export interface EventPipelineOptions {
  /** The spool directory (see defaultSpoolDir()). */
  readonly spoolDir: string;
  readonly spool?: Omit<SpoolOptions, 'dir' | 'logger'>;
  /** Kafka; when absent, events are written as JSON lines (jsonl). */
  readonly kafka?: KafkaSinkOptions;
  readonly jsonl?: Omit<JsonLinesOptions, 'topics'>;
  /** Topic names for the JSON-lines output (Kafka takes them from its options). */
  readonly topics?: Partial<Record<StreamName, string>>;
  /** Registries for the metrics (default: a private one). */
  readonly registers?: Registries;
  readonly publisher?: PublisherOptions;
  /** A transport of your own (tests, benchmarks); overrides kafka/jsonl. */
  readonly transport?: EventTransport;
  readonly logger?: Logger;
}

export interface EventPipeline extends EventSink {
  readonly spool: Spool;
  readonly publisher: Publisher;
  readonly transport: EventTransport;
  /** Stops publishing (what is not acknowledged stays in the spool), closes the spool and Kafka. */
  close(): Promise<void>;
}

/** $XDG_STATE_HOME/vpp-exporter/spool (default ~/.local/state/vpp-exporter/spool). */
export function defaultSpoolDir(): string {
  const state = process.env.XDG_STATE_HOME ?? path.join(os.homedir(), '.local', 'state');
  return path.join(state, 'vpp-exporter', 'spool');
}

export async function startEventPipeline(o: EventPipelineOptions): Promise<EventPipeline> {
  const log = o.logger ?? rootLogger('events');
  const spool = await Spool.open({ ...o.spool, dir: o.spoolDir, logger: log.child({ part: 'spool' }) });
  const transport: EventTransport =
    o.transport ?? (o.kafka !== undefined ? new KafkaTransport(o.kafka, rootLogger('kafka')) : new JsonLinesTransport({ ...o.jsonl, topics: o.topics }));
  const metrics = new EventMetrics(o.registers, { kafka: transport.kind === 'kafka' });
  metrics.attach(spool, transport);
  const publisher = new Publisher(spool, transport, metrics, log.child({ part: 'publisher' }), o.publisher);
  publisher.start();
  const depth = spool.stats.depth;
  log.info(
    { spool: o.spoolDir, destination: transport.kind, topics: transport.topics, pending: depth },
    depth > 0 ? `event pipeline up; ${depth} events from before are sent first` : 'event pipeline up',
  );
  let closing: Promise<void> | null = null;
  return {
    spool,
    publisher,
    transport,
    metrics,
    submit(events) {
      // The events themselves ride along: the publisher sends them without decoding the records.
      return spool.append(events.map(encodeSpooledEvent), events);
    },
    onSpace(listener) {
      spool.on('space', listener);
      return () => spool.off('space', listener);
    },
    close() {
      closing ??= (async () => {
        await publisher.stop();
        await spool.close();
        await transport.close();
      })();
      return closing;
    },
  };
}
