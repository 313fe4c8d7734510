/**
 * A transport that keeps what it is sent, for tests of the event producers without a broker
 * (the Kafka tests use the real broker). It can be made to fail, like a destination that is down.
 */
import type { EventTransport, OutboundMessage, StreamName } from '../../src/sink/index.js';
import { DEFAULT_TOPICS } from '../../src/sink/index.js';

export class CollectingTransport implements EventTransport {
  readonly kind = 'jsonl';
  readonly topics: Readonly<Record<StreamName, string>> = DEFAULT_TOPICS;
  readonly messages: OutboundMessage[] = [];
  sends = 0;
  /** While true, send() rejects. */
  down = false;
  private waiters: (() => void)[] = [];

  get connected(): boolean {
    return !this.down;
  }

  send(messages: readonly OutboundMessage[]): Promise<void> {
    this.sends++;
    if (this.down) return Promise.reject(new Error('collecting transport is down'));
    this.messages.push(...messages);
    for (const w of this.waiters.splice(0)) w();
    return Promise.resolve();
  }

  of(stream: StreamName): OutboundMessage[] {
    return this.messages.filter((m) => m.stream === stream);
  }

  /** Resolves when `pred` holds (checked after every send); rejects after timeoutMs. */
  async until(pred: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (${this.messages.length} messages)`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
