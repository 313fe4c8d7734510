/**
 * Drains the spool into the transport: read a batch (in offset order), send it with one await,
 * acknowledge it in the spool, repeat. A failed send is counted and the same batch is sent again
 * after a capped exponential backoff, for ever: the spool holds everything meanwhile, and nothing
 * after the failed batch is sent before it, so order per key holds. Nothing here throws out of the
 * loop: a Kafka outage is a metric and a few log lines, never an exit or an unhandled rejection.
 */
import type { Logger } from '../log.js';
import { decodeSpooledEvent, type OutboundMessage, type SpooledEvent } from './message.js';
import type { EventMetrics } from './metrics.js';
import type { Spool, SpoolEntry } from './spool.js';
import type { EventTransport } from './transport.js';

export interface PublisherOptions {
  /** Spool records per batch (default 5000). */
  readonly maxBatchRecords?: number;
  /**
   * Payload bytes per batch, about (default 4 MiB). Spread over the topics' partitions; a
   * partition's share over the broker's message.max.bytes makes the Kafka transport split it.
   */
  readonly maxBatchBytes?: number;
  /** Backoff after a failed send: initial, doubled per failure, capped (default 100 ms .. 5 s). */
  readonly backoffInitialMs?: number;
  readonly backoffMaxMs?: number;
  /** While an outage lasts, one summary log line this often (default 30 s). */
  readonly logEveryMs?: number;
  /** Called after each acknowledged batch (benchmarks and tests). */
  readonly onPublished?: (batch: PublishedBatch) => void;
}

export interface PublishedBatch {
  readonly entries: readonly SpoolEntry[];
  readonly events: readonly SpooledEvent[];
  /** When the successful send started and when it was acknowledged (performance.now()). */
  readonly sentAt: number;
  readonly ackedAt: number;
}

export interface PublisherStats {
  readonly batches: number;
  readonly messages: number;
  readonly failures: number;
  readonly undecodable: number;
  readonly lastError: Error | null;
}

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise<void>((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

export class Publisher {
  private readonly maxBatchRecords: number;
  private readonly maxBatchBytes: number;
  private readonly backoffInitialMs: number;
  private readonly backoffMaxMs: number;
  private readonly logEveryMs: number;
  private readonly abort = new AbortController();
  private loop: Promise<void> | null = null;
  private counters = { batches: 0, messages: 0, failures: 0, undecodable: 0 };
  private lastErrorValue: Error | null = null;

  constructor(
    private readonly spool: Spool,
    private readonly transport: EventTransport,
    private readonly metrics: EventMetrics | undefined,
    private readonly log: Logger | undefined,
    private readonly options: PublisherOptions = {},
  ) {
    this.maxBatchRecords = options.maxBatchRecords ?? 5000;
    this.maxBatchBytes = options.maxBatchBytes ?? 4 * 1024 * 1024;
    this.backoffInitialMs = options.backoffInitialMs ?? 100;
    this.backoffMaxMs = options.backoffMaxMs ?? 5000;
    this.logEveryMs = options.logEveryMs ?? 30_000;
  }

  get stats(): PublisherStats {
    return { ...this.counters, lastError: this.lastErrorValue };
  }

  start(): void {
    this.loop ??= this.run().catch((e: unknown) => {
      // Only a bug gets here; keep the process up and say so.
      this.log?.error({ err: e }, 'event publisher stopped unexpectedly');
    });
  }

  /**
   * Stops after the send under way (waiting at most `waitMs` for it); what was not acknowledged
   * stays in the spool for the next start.
   */
  async stop(waitMs = 5000): Promise<void> {
    this.abort.abort(new Error('publisher stopped'));
    if (this.loop === null) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.loop, new Promise<void>((r) => (timer = setTimeout(r, waitMs)))]);
    clearTimeout(timer);
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      let entries: SpoolEntry[];
      try {
        entries = await this.spool.read(this.maxBatchRecords, this.maxBatchBytes, signal);
      } catch (e) {
        if (signal.aborted) return;
        this.log?.error({ err: e }, 'reading the event spool failed');
        await sleep(this.backoffMaxMs, signal);
        continue;
      }
      const events: SpooledEvent[] = [];
      const messages: OutboundMessage[] = [];
      for (const entry of entries) {
        try {
          // The event as submitted when the record comes from memory, else decoded from disk.
          const ev = (entry.memo as SpooledEvent | undefined) ?? decodeSpooledEvent(entry.payload);
          events.push(ev);
          for (const m of ev.messages) messages.push(m);
        } catch (e) {
          this.counters.undecodable++;
          this.log?.error({ err: e, offset: entry.offset }, 'undecodable spool record skipped');
        }
      }
      const sentAt = await this.sendUntilDone(messages, signal);
      if (sentAt === undefined) return; // stopped before it went through: stays in the spool
      const ackedAt = performance.now();
      this.spool.ack(entries[entries.length - 1].offset);
      this.counters.batches++;
      this.counters.messages += messages.length;
      if (this.metrics !== undefined) {
        const perTopic = new Map<string, number>();
        for (const m of messages) {
          const t = this.transport.topics[m.stream];
          perTopic.set(t, (perTopic.get(t) ?? 0) + 1);
        }
        for (const [topic, n] of perTopic) this.metrics.published.inc({ topic }, n);
      }
      this.options.onPublished?.({ entries, events, sentAt, ackedAt });
    }
  }

  /** Sends until it works; returns when the successful send started, undefined when stopped. */
  private async sendUntilDone(messages: readonly OutboundMessage[], signal: AbortSignal): Promise<number | undefined> {
    let failures = 0;
    let outageStart = 0;
    let lastLog = 0;
    for (;;) {
      const sentAt = performance.now();
      try {
        await this.transport.send(messages);
        if (failures > 0) {
          this.log?.info(
            { failures, outageMs: Math.round(performance.now() - outageStart), depth: this.spool.stats.depth },
            `${this.transport.kind} publishing resumed`,
          );
        }
        return sentAt;
      } catch (e) {
        const err = e instanceof Error ? e : new Error(String(e));
        this.lastErrorValue = err;
        this.counters.failures++;
        this.metrics?.publishFailures.inc();
        const now = performance.now();
        if (failures === 0) {
          outageStart = now;
          lastLog = now;
          this.log?.error({ err, depth: this.spool.stats.depth }, `${this.transport.kind} publish failed; events stay in the spool and are sent again`);
        } else if (now - lastLog >= this.logEveryMs) {
          lastLog = now;
          this.log?.warn(
            { error: err.message, failures, outageMs: Math.round(now - outageStart), depth: this.spool.stats.depth, bytes: this.spool.stats.bytes },
            `${this.transport.kind} still unavailable`,
          );
        }
        failures++;
        if (signal.aborted) return undefined;
        const delay = Math.min(this.backoffMaxMs, this.backoffInitialMs * 2 ** Math.min(failures - 1, 30));
        // Jitter (+-20%) so that many exporters do not retry in step.
        await sleep(delay * (0.8 + 0.4 * Math.random()), signal);
        if (signal.aborted) return undefined;
      }
    }
  }
}
