/**
 * The Kafka producer, behind our own small interface (EventTransport): kafkajs is no longer
 * maintained, so nothing else in the project touches it.
 *
 * - Idempotent producer, acks=all, one request in flight (maxInFlightRequests 1): a batch that is
 *   sent again after an error is de-duplicated by the broker and order per partition holds.
 * - One await per batch: the publisher hands over everything it read from the spool at once
 *   (sendBatch over every topic).
 * - Reconnects: kafkajs retries a few times inside a send; when that gives up the send rejects,
 *   the publisher counts a failure, backs off (capped exponential) and sends the same batch again
 *   through the same producer (same producer id, so the broker still de-duplicates). Only when the
 *   broker refuses the producer id itself (fenced, unknown, out-of-order sequence) is it replaced.
 * - kafkajs log lines go to pino (component "kafka") at debug: the publisher logs an outage
 *   itself, once, with a summary every 30 s and when it ends.
 * - Topics are created when missing (admin API), with the partitions and configs in
 *   `topicSpecs()` (see docs/events.md); the compacted interface-state topic is checked for
 *   cleanup.policy=compact.
 * - kafkajs-idle-fix.ts stops kafkajs 2.2.4 from running a 1 ms timer per broker connection;
 *   kafkajs-encoder-fix.ts and kafkajs-batch-fix.ts make its produce path cheaper (same bytes).
 */
// First: it replaces kafkajs modules, which only works before kafkajs is loaded.
import { KAFKAJS_BATCH_FIX } from './kafkajs-batch-fix.js';
import fs from 'node:fs';
import type tls from 'node:tls';
import kafkajs, {
  CompressionTypes,
  Kafka,
  Partitioners,
  logLevel,
  type Admin,
  type KafkaConfig,
  type LogEntry,
  type Message,
  type Producer,
  type SASLOptions,
  type TopicMessages,
} from 'kafkajs';
import { ConfigError } from '../config.js';
import type { Logger } from '../log.js';
// Not among the named exports Node finds in kafkajs' CommonJS module.
const { ConfigResourceTypes } = kafkajs;
import { DEFAULT_TOPICS, STREAMS, type OutboundMessage, type StreamName } from './message.js';
import type { EventTransport } from './transport.js';
import { applyKafkajsEncoderFix } from './kafkajs-encoder-fix.js';
import { applyKafkajsIdleFix } from './kafkajs-idle-fix.js';

/** Every kafkajs connection in this process stops polling its empty request queue each millisecond. */
const KAFKAJS_IDLE_FIX = applyKafkajsIdleFix();
/** kafkajs in this process encodes records without a zero-filled buffer of its own per record and header. */
export const KAFKAJS_ENCODER_FIX = applyKafkajsEncoderFix();
export { KAFKAJS_BATCH_FIX };

export type SaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';
export type KafkaCompression = 'none' | 'gzip';

export interface KafkaTlsOptions {
  /** PEM CA bundle; the system CAs when absent. */
  readonly ca?: string;
  /** PEM client certificate and key (mutual TLS). */
  readonly cert?: string;
  readonly key?: string;
  /** false: do not verify the broker certificates (testing only). Default true. */
  readonly rejectUnauthorized?: boolean;
}

export interface KafkaSaslOptions {
  readonly mechanism: SaslMechanism;
  readonly username: string;
  readonly password: string;
}

export interface KafkaTopicSpec {
  readonly name: string;
  readonly partitions: number;
  /** -1: the broker's default.replication.factor. */
  readonly replicationFactor: number;
  readonly config: Readonly<Record<string, string>>;
}

export interface KafkaSinkOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly topics: Readonly<Record<StreamName, string>>;
  readonly tls?: KafkaTlsOptions;
  readonly sasl?: KafkaSaslOptions;
  readonly compression: KafkaCompression;
  /** Create missing topics (default true). */
  readonly createTopics: boolean;
  /** Partitions of the topics we create (default 6). */
  readonly partitions: number;
  /** Replication factor of the topics we create (default -1: the broker's default). */
  readonly replicationFactor: number;
  /** Extra or different topic configs per stream, merged over the defaults of topicSpecs(). */
  readonly topicConfig?: Partial<Record<StreamName, Readonly<Record<string, string>>>>;
  /** Per request (default 30 s). */
  readonly requestTimeoutMs?: number;
  /** TCP + TLS + SASL per connection attempt (default 5 s). */
  readonly connectionTimeoutMs?: number;
  /** kafkajs' own retries inside one send, before the send rejects (default 5, 100 ms .. 2 s). */
  readonly retries?: number;
  readonly retryInitialMs?: number;
  readonly retryMaxMs?: number;
}

export const KAFKA_DEFAULTS = {
  clientId: 'vpp-exporter',
  compression: 'none',
  createTopics: true,
  partitions: 6,
  replicationFactor: -1,
  requestTimeoutMs: 30_000,
  connectionTimeoutMs: 5_000,
  retries: 5,
  retryInitialMs: 100,
  retryMaxMs: 2_000,
} as const;

const DAY_MS = 86_400_000;

/** The topics the exporter creates when they are missing, with their configs (docs/events.md). */
export function topicSpecs(o: Pick<KafkaSinkOptions, 'topics' | 'partitions' | 'replicationFactor' | 'topicConfig'>): KafkaTopicSpec[] {
  const base: Record<StreamName, { partitions: number; config: Record<string, string> }> = {
    'link-events': { partitions: o.partitions, config: { 'cleanup.policy': 'delete', 'retention.ms': String(7 * DAY_MS) } },
    // An audit trail: kept longer; keys are request ids, so few partitions do.
    'config-actions': { partitions: Math.min(o.partitions, 3), config: { 'cleanup.policy': 'delete', 'retention.ms': String(30 * DAY_MS) } },
    // The latest state per interface: compacted; tombstones kept a day so that consumers see deletions.
    'interface-state': {
      partitions: o.partitions,
      config: { 'cleanup.policy': 'compact', 'delete.retention.ms': String(DAY_MS), 'min.cleanable.dirty.ratio': '0.1', 'segment.ms': String(DAY_MS) },
    },
  };
  return STREAMS.map((s) => ({
    name: o.topics[s],
    partitions: base[s].partitions,
    replicationFactor: o.replicationFactor,
    config: { ...base[s].config, ...o.topicConfig?.[s] },
  }));
}

// ---- options from the configuration --------------------------------------------------------

function readSecretFile(file: string, flag: string): string {
  try {
    return fs.readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (e) {
    throw new ConfigError(`--${flag}: cannot read ${file}: ${(e as Error).message}`);
  }
}

/**
 * The Kafka options from the configuration (config.ts keys kafka.*; see docs/events.md), or
 * undefined when kafka.brokers is not set. Files named by the options (CA, certificate, key,
 * SASL password) are read here: a missing or unreadable one is a ConfigError (exit code 2).
 */
export function kafkaOptionsFromConfig(config: Readonly<Record<string, unknown>>): KafkaSinkOptions | undefined {
  const str = (k: string): string | undefined => {
    const v = config[k];
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw new ConfigError(`--${k}: expected a string`);
    return v;
  };
  const bool = (k: string, dflt: boolean): boolean => {
    const v = config[k];
    if (v === undefined) return dflt;
    if (typeof v !== 'boolean') throw new ConfigError(`--${k}: expected true or false`);
    return v;
  };
  const int = (k: string, dflt: number): number => {
    const v = config[k];
    if (v === undefined) return dflt;
    if (typeof v !== 'number' || !Number.isInteger(v)) throw new ConfigError(`--${k}: expected an integer`);
    return v;
  };
  const brokersText = str('kafka.brokers');
  if (brokersText === undefined) return undefined;
  const brokers = brokersText
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b !== '');
  if (brokers.length === 0) throw new ConfigError('--kafka.brokers: no broker given');
  for (const b of brokers) {
    if (!/^(?:\[[0-9a-fA-F:.]+\]|[^:[\]\s]+):\d{1,5}$/.test(b)) throw new ConfigError(`--kafka.brokers: '${b}' is not host:port`);
  }
  const topics: Record<StreamName, string> = {
    'link-events': str('kafka.topic.link-events') ?? DEFAULT_TOPICS['link-events'],
    'config-actions': str('kafka.topic.config-actions') ?? DEFAULT_TOPICS['config-actions'],
    'interface-state': str('kafka.topic.interface-state') ?? DEFAULT_TOPICS['interface-state'],
  };
  for (const [s, t] of Object.entries(topics)) {
    if (!/^[a-zA-Z0-9._-]{1,249}$/.test(t) || t === '.' || t === '..') throw new ConfigError(`--kafka.topic.${s}: '${t}' is not a valid Kafka topic name`);
  }
  if (new Set(Object.values(topics)).size !== STREAMS.length) throw new ConfigError('--kafka.topic.*: the three topics must differ');

  let tlsOpts: KafkaTlsOptions | undefined;
  const caFile = str('kafka.tls.ca-file');
  const certFile = str('kafka.tls.cert-file');
  const keyFile = str('kafka.tls.key-file');
  const insecure = bool('kafka.tls.insecure-skip-verify', false);
  if (bool('kafka.tls', false) || caFile !== undefined || certFile !== undefined || keyFile !== undefined || insecure) {
    if ((certFile === undefined) !== (keyFile === undefined)) throw new ConfigError('--kafka.tls.cert-file and --kafka.tls.key-file go together');
    tlsOpts = {
      ...(caFile !== undefined ? { ca: readSecretFile(caFile, 'kafka.tls.ca-file') } : {}),
      ...(certFile !== undefined ? { cert: readSecretFile(certFile, 'kafka.tls.cert-file') } : {}),
      ...(keyFile !== undefined ? { key: readSecretFile(keyFile, 'kafka.tls.key-file') } : {}),
      rejectUnauthorized: !insecure,
    };
  }

  let sasl: KafkaSaslOptions | undefined;
  const mechanism = str('kafka.sasl.mechanism');
  if (mechanism !== undefined) {
    if (mechanism !== 'plain' && mechanism !== 'scram-sha-256' && mechanism !== 'scram-sha-512') {
      throw new ConfigError(`--kafka.sasl.mechanism: '${mechanism}' is not one of plain, scram-sha-256, scram-sha-512`);
    }
    const username = str('kafka.sasl.username');
    const passwordFile = str('kafka.sasl.password-file');
    if (username === undefined || passwordFile === undefined) {
      throw new ConfigError('--kafka.sasl.mechanism needs --kafka.sasl.username and --kafka.sasl.password-file');
    }
    sasl = { mechanism, username, password: readSecretFile(passwordFile, 'kafka.sasl.password-file') };
  }

  const compression = str('kafka.compression') ?? KAFKA_DEFAULTS.compression;
  if (compression !== 'none' && compression !== 'gzip') throw new ConfigError(`--kafka.compression: '${compression}' is not one of none, gzip`);
  const partitions = int('kafka.partitions', KAFKA_DEFAULTS.partitions);
  if (partitions < 1) throw new ConfigError('--kafka.partitions: at least 1');
  const replicationFactor = int('kafka.replication-factor', KAFKA_DEFAULTS.replicationFactor);
  if (replicationFactor === 0 || replicationFactor < -1) throw new ConfigError('--kafka.replication-factor: -1 (the broker default) or at least 1');
  return {
    brokers,
    clientId: str('kafka.client-id') ?? KAFKA_DEFAULTS.clientId,
    topics,
    ...(tlsOpts !== undefined ? { tls: tlsOpts } : {}),
    ...(sasl !== undefined ? { sasl } : {}),
    compression,
    createTopics: bool('kafka.create-topics', KAFKA_DEFAULTS.createTopics),
    partitions,
    replicationFactor,
  };
}

// ---- the transport ---------------------------------------------------------------------------

/**
 * kafkajs' log lines into pino at debug (trace for its debug): every failure that matters comes
 * back as a rejected send, which the publisher reports once per outage with a summary when it
 * ends; kafkajs itself would log each connection attempt as an error.
 */
function logCreator(log: Logger | undefined): KafkaConfig['logCreator'] {
  return () =>
    (entry: LogEntry): void => {
      if (log === undefined) return;
      const { message, timestamp: _t, logger: _l, ...extra } = entry.log as { message: string; timestamp: string; logger?: unknown } & Record<string, unknown>;
      if (entry.level <= logLevel.INFO) log.debug({ kafkajs: entry.namespace, ...extra }, message);
      else log.trace({ kafkajs: entry.namespace, ...extra }, message);
    };
}

function toKafkaConfig(o: KafkaSinkOptions, log: Logger | undefined): KafkaConfig {
  let ssl: tls.ConnectionOptions | boolean | undefined;
  if (o.tls !== undefined) {
    ssl = {
      ...(o.tls.ca !== undefined ? { ca: o.tls.ca } : {}),
      ...(o.tls.cert !== undefined ? { cert: o.tls.cert } : {}),
      ...(o.tls.key !== undefined ? { key: o.tls.key } : {}),
      rejectUnauthorized: o.tls.rejectUnauthorized ?? true,
      minVersion: 'TLSv1.2',
    };
  }
  let sasl: SASLOptions | undefined;
  if (o.sasl !== undefined) {
    const { username, password } = o.sasl;
    sasl =
      o.sasl.mechanism === 'plain'
        ? { mechanism: 'plain', username, password }
        : o.sasl.mechanism === 'scram-sha-256'
          ? { mechanism: 'scram-sha-256', username, password }
          : { mechanism: 'scram-sha-512', username, password };
  }
  return {
    clientId: o.clientId,
    brokers: [...o.brokers],
    ...(ssl !== undefined ? { ssl } : {}),
    ...(sasl !== undefined ? { sasl } : {}),
    connectionTimeout: o.connectionTimeoutMs ?? KAFKA_DEFAULTS.connectionTimeoutMs,
    requestTimeout: o.requestTimeoutMs ?? KAFKA_DEFAULTS.requestTimeoutMs,
    retry: {
      retries: o.retries ?? KAFKA_DEFAULTS.retries,
      initialRetryTime: o.retryInitialMs ?? KAFKA_DEFAULTS.retryInitialMs,
      maxRetryTime: o.retryMaxMs ?? KAFKA_DEFAULTS.retryMaxMs,
    },
    logLevel: logLevel.INFO,
    logCreator: logCreator(log),
  };
}

/**
 * Broker answers after which this producer id cannot go on (its sequence numbers or epoch are
 * not accepted any more): the producer is replaced, which may duplicate the batch under way.
 */
const FATAL_PRODUCER_ERRORS = new Set([
  'OUT_OF_ORDER_SEQUENCE_NUMBER',
  'INVALID_PRODUCER_EPOCH',
  'UNKNOWN_PRODUCER_ID',
  'PRODUCER_FENCED',
  'INVALID_PRODUCER_ID_MAPPING',
  'INVALID_TXN_STATE',
]);

/** The broker error types in an error and its causes (kafkajs wraps them when retries run out). */
function errorTypes(e: unknown): string[] {
  const out: string[] = [];
  for (let x: unknown = e, depth = 0; x instanceof Error && depth < 10; x = (x as { cause?: unknown }).cause, depth++) {
    const type = (x as { type?: unknown }).type;
    if (typeof type === 'string') out.push(type);
  }
  return out;
}

/** A partition's share of a request is over the broker's (or topic's) size limit. */
const TOO_LARGE = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE']);

function producerUnusable(e: unknown): boolean {
  return errorTypes(e).some((t) => FATAL_PRODUCER_ERRORS.has(t));
}

export class KafkaTransport implements EventTransport {
  readonly kind = 'kafka';
  readonly topics: Readonly<Record<StreamName, string>>;
  readonly options: KafkaSinkOptions;
  private readonly kafka: Kafka;
  private readonly log: Logger | undefined;
  private producer: Producer | null = null;
  private producerConnected = false;
  private topicsReady: boolean;
  private ok = false;
  private closed = false;
  private readonly compression: CompressionTypes;
  /** Producers made so far (1 unless one had to be replaced). */
  producersCreated = 0;
  /** Batches sent again in halves because a partition's share was over the broker's size limit. */
  splits = 0;

  constructor(options: KafkaSinkOptions, log?: Logger) {
    this.options = options;
    this.topics = options.topics;
    this.log = log;
    if (!KAFKAJS_IDLE_FIX) log?.debug('kafkajs is not the 2.x this fix knows: its request queues poll every millisecond while idle');
    if (!KAFKAJS_BATCH_FIX.applied) log?.debug({ reason: KAFKAJS_BATCH_FIX.reason }, 'kafkajs batch fixes not applied: its produce path copies arrays per message and checksums a byte at a time');
    if (!KAFKAJS_ENCODER_FIX) log?.debug('kafkajs is not the 2.x this fix knows: its encoder allocates a zero-filled buffer per record and header');
    this.kafka = new Kafka(toKafkaConfig(options, log));
    this.topicsReady = !options.createTopics;
    this.compression = options.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
  }

  get connected(): boolean {
    return this.ok;
  }

  /** Connects (and creates topics) now instead of at the first send; rejects when that fails. */
  async connect(): Promise<void> {
    await this.ensureProducer();
    if (!this.topicsReady) await this.ensureTopics();
  }

  async send(messages: readonly OutboundMessage[]): Promise<void> {
    if (this.closed) throw new Error('the Kafka transport is closed');
    try {
      const producer = await this.ensureProducer();
      if (!this.topicsReady) await this.ensureTopics();
      if (messages.length > 0) await this.sendSplitting(producer, messages);
      this.ok = true;
    } catch (e) {
      this.ok = false;
      if (producerUnusable(e)) await this.dropProducer(e);
      throw e instanceof Error ? e : new Error(String(e));
    }
  }

  /**
   * One sendBatch for everything; when the broker finds a partition's share larger than its
   * message.max.bytes, the batch goes again in two halves, in order (and so on down to one message).
   */
  private async sendSplitting(producer: Producer, messages: readonly OutboundMessage[]): Promise<void> {
    try {
      await producer.sendBatch({ topicMessages: this.topicMessages(messages), acks: -1, compression: this.compression });
    } catch (e) {
      if (messages.length < 2 || !errorTypes(e).some((t) => TOO_LARGE.has(t))) throw e;
      this.splits++;
      this.log?.debug({ messages: messages.length }, 'Kafka batch too large for a partition: sent in halves');
      const half = Math.ceil(messages.length / 2);
      await this.sendSplitting(producer, messages.slice(0, half));
      await this.sendSplitting(producer, messages.slice(half));
    }
  }

  private topicMessages(messages: readonly OutboundMessage[]): TopicMessages[] {
    const byTopic = new Map<string, Message[]>();
    for (const m of messages) {
      const topic = this.topics[m.stream];
      let list = byTopic.get(topic);
      if (list === undefined) {
        list = [];
        byTopic.set(topic, list);
      }
      list.push({ key: m.key, value: m.value, headers: { ...m.headers } });
    }
    return [...byTopic].map(([topic, msgs]) => ({ topic, messages: msgs }));
  }

  private async ensureProducer(): Promise<Producer> {
    if (this.producer === null) {
      this.producer = this.kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
        retry: {
          retries: this.options.retries ?? KAFKA_DEFAULTS.retries,
          initialRetryTime: this.options.retryInitialMs ?? KAFKA_DEFAULTS.retryInitialMs,
          maxRetryTime: this.options.retryMaxMs ?? KAFKA_DEFAULTS.retryMaxMs,
        },
      });
      this.producerConnected = false;
      this.producersCreated++;
    }
    if (!this.producerConnected) {
      await this.producer.connect();
      this.producerConnected = true;
      this.log?.info({ brokers: this.options.brokers, clientId: this.options.clientId }, 'Kafka producer connected (idempotent, acks=all)');
    }
    return this.producer;
  }

  private async dropProducer(cause: unknown): Promise<void> {
    const p = this.producer;
    this.producer = null;
    this.producerConnected = false;
    this.log?.warn({ err: cause, types: errorTypes(cause) }, 'Kafka producer replaced: the broker no longer accepts its producer id');
    if (p !== null) await p.disconnect().catch(() => undefined);
  }

  /** Creates missing topics; checks that the interface-state topic is compacted. */
  private async ensureTopics(): Promise<void> {
    const admin: Admin = this.kafka.admin();
    await admin.connect();
    try {
      const specs = topicSpecs(this.options);
      const existing = new Set(await admin.listTopics());
      const missing = specs.filter((s) => !existing.has(s.name));
      if (missing.length > 0) {
        // false (no error) when another exporter made them meanwhile.
        const created = await admin.createTopics({
          waitForLeaders: true,
          topics: missing.map((s) => ({
            topic: s.name,
            numPartitions: s.partitions,
            replicationFactor: s.replicationFactor,
            configEntries: Object.entries(s.config).map(([name, value]) => ({ name, value })),
          })),
        });
        if (created) this.log?.info({ topics: missing.map((s) => ({ topic: s.name, partitions: s.partitions, config: s.config })) }, 'Kafka topics created');
      }
      const stateTopic = this.topics['interface-state'];
      try {
        const described = await admin.describeConfigs({
          includeSynonyms: false,
          resources: [{ type: ConfigResourceTypes.TOPIC, name: stateTopic, configNames: ['cleanup.policy'] }],
        });
        const policy = described.resources[0]?.configEntries.find((c) => c.configName === 'cleanup.policy')?.configValue;
        if (policy !== undefined && !policy.split(',').includes('compact')) {
          this.log?.warn({ topic: stateTopic, policy }, 'the interface-state topic is not compacted (cleanup.policy=compact): it will grow and lose old states');
        }
      } catch (e) {
        this.log?.debug({ err: e }, 'could not read the interface-state topic config');
      }
      this.topicsReady = true;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const p = this.producer;
    this.producer = null;
    this.ok = false;
    if (p !== null) await p.disconnect().catch(() => undefined);
  }
}
