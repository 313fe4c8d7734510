/**
 * The destination without Kafka (the demo): one JSON line per message on stdout or appended to a
 * file, with the topic, key and headers a Kafka consumer would see and the value parsed:
 *
 *   {"topic":"vpp.link-events","key":"host1/3","headers":{"ce_id":"...",...},"value":{...}}
 *
 * A tombstone has "value": null.
 */
import fs from 'node:fs';
import type { Writable } from 'node:stream';
import { DEFAULT_TOPICS, type OutboundMessage, type StreamName } from './message.js';
import type { EventTransport } from './transport.js';

export interface JsonLinesOptions {
  /** A file to append to; stdout when absent or '-'. */
  readonly file?: string;
  readonly topics?: Partial<Record<StreamName, string>>;
  /** Any other stream (tests). */
  readonly stream?: Writable;
}

export class JsonLinesTransport implements EventTransport {
  readonly kind = 'jsonl';
  readonly topics: Readonly<Record<StreamName, string>>;
  private readonly out: Writable;
  private readonly owned: boolean;
  private ok = true;

  constructor(o: JsonLinesOptions = {}) {
    this.topics = { ...DEFAULT_TOPICS, ...o.topics };
    if (o.stream !== undefined) {
      this.out = o.stream;
      this.owned = false;
    } else if (o.file !== undefined && o.file !== '-') {
      this.out = fs.createWriteStream(o.file, { flags: 'a' });
      this.owned = true;
    } else {
      this.out = process.stdout;
      this.owned = false;
    }
    // Errors come back through the write callbacks; this keeps an 'error' event from being unhandled.
    this.out.on('error', () => {
      this.ok = false;
    });
  }

  get connected(): boolean {
    return this.ok;
  }

  send(messages: readonly OutboundMessage[]): Promise<void> {
    let text = '';
    for (const m of messages) {
      text += `{"topic":${JSON.stringify(this.topics[m.stream])},"key":${JSON.stringify(m.key)},"headers":${JSON.stringify(m.headers)},"value":${m.value ?? 'null'}}\n`;
    }
    return new Promise<void>((resolve, reject) => {
      this.out.write(text, (err) => {
        this.ok = !err;
        if (err) reject(err);
        else resolve();
      });
    });
  }

  close(): Promise<void> {
    if (!this.owned) return Promise.resolve();
    return new Promise<void>((resolve) => this.out.end(() => resolve()));
  }
}
