/**
 * Where the publisher sends what it reads from the spool: Kafka (kafka.ts) or JSON lines on
 * stdout or a file (jsonl.ts, the demo without Kafka). Both behind this one small interface.
 */
import type { OutboundMessage, StreamName } from './message.js';

export interface EventTransport {
  readonly kind: 'kafka' | 'jsonl';
  /** Topic name per stream. */
  readonly topics: Readonly<Record<StreamName, string>>;
  /**
   * Sends a batch; messages with the same key keep their order. Resolves once the destination
   * has all of them (Kafka: acks=all); rejects when it could not, and the caller sends the whole
   * batch again later (duplicates stay within that batch). Never throws synchronously.
   */
  send(messages: readonly OutboundMessage[]): Promise<void>;
  /** Whether the last attempt to reach the destination worked. */
  readonly connected: boolean;
  close(): Promise<void>;
}
