/**
 * Reading topics back from the real broker, as a consumer would: a fresh consumer group from the
 * beginning, until a condition on everything read so far holds.
 */
import { Kafka, logLevel } from 'kafkajs';

export interface Consumed {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly key: string | null;
  readonly value: string | null;
  readonly headers: Readonly<Record<string, string>>;
}

let group = 0;

export async function consume(brokers: string, topics: readonly string[], until: (all: readonly Consumed[]) => boolean, timeoutMs = 60_000): Promise<Consumed[]> {
  const kafka = new Kafka({ clientId: 'vpp-exporter-test-consumer', brokers: [brokers], logLevel: logLevel.NOTHING, retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 1000 } });
  const consumer = kafka.consumer({ groupId: `test-${process.pid}-${Date.now()}-${group++}`, sessionTimeout: 10_000, heartbeatInterval: 1000, maxWaitTimeInMs: 100 });
  const got: Consumed[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [...topics], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`consumed ${got.length} messages from ${topics.join(',')} in ${timeoutMs} ms without the condition holding`)), timeoutMs);
      const check = (): void => {
        if (until(got)) {
          clearTimeout(timer);
          resolve();
        }
      };
      consumer
        .run({
          eachBatch: ({ batch }) => {
            for (const m of batch.messages) {
              const headers: Record<string, string> = {};
              for (const [k, v] of Object.entries(m.headers ?? {})) if (v !== undefined) headers[k] = Buffer.isBuffer(v) ? v.toString() : String(v);
              got.push({
                topic: batch.topic,
                partition: batch.partition,
                offset: Number(m.offset),
                key: m.key === null ? null : m.key.toString(),
                value: m.value === null ? null : m.value.toString(),
                headers,
              });
            }
            check();
            return Promise.resolve();
          },
        })
        .catch(reject);
      check();
    });
  } finally {
    await consumer.disconnect();
  }
  return got;
}

/** Everything in `topics` up to their ends as of now (high watermarks read first). */
export async function consumeAll(brokers: string, topics: readonly string[], timeoutMs = 60_000): Promise<Consumed[]> {
  const admin = new Kafka({ clientId: 'vpp-exporter-test-admin', brokers: [brokers], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  const ends = new Map<string, number>();
  try {
    for (const t of topics) for (const p of await admin.fetchTopicOffsets(t)) if (Number(p.high) > Number(p.low)) ends.set(`${t}/${p.partition}`, Number(p.high) - 1);
  } finally {
    await admin.disconnect();
  }
  return consume(
    brokers,
    topics,
    (all) => {
      const last = new Map<string, number>();
      for (const m of all) last.set(`${m.topic}/${m.partition}`, Math.max(last.get(`${m.topic}/${m.partition}`) ?? -1, m.offset));
      return [...ends].every(([tp, end]) => (last.get(tp) ?? -1) >= end);
    },
    timeoutMs,
  );
}

/** The last value per key, in partition order (what a compacted topic converges to). */
export function latestByKey(messages: readonly Consumed[]): Map<string, string | null> {
  const m = new Map<string, string | null>();
  const ordered = [...messages].sort((a, b) => a.partition - b.partition || a.offset - b.offset);
  for (const x of ordered) if (x.key !== null) m.set(x.key, x.value);
  return m;
}

/**
 * Per key, the link-event seq never goes backwards for a consumer, except for an exact duplicate
 * of an event it already had (a batch sent again): returns the number of such duplicates, and
 * throws on anything else.
 */
export function checkPerKeyOrder(messages: readonly Consumed[]): { duplicates: number; keys: number } {
  const seen = new Set<string>();
  const maxSeq = new Map<string, number>();
  let duplicates = 0;
  const ordered = [...messages].sort((a, b) => a.partition - b.partition || a.offset - b.offset);
  for (const m of ordered) {
    const v = JSON.parse(m.value!) as { seq: number; event_id: string };
    const key = m.key!;
    const max = maxSeq.get(key) ?? 0;
    if (seen.has(v.event_id)) {
      duplicates++;
      continue;
    }
    seen.add(v.event_id);
    if (v.seq <= max) throw new Error(`key ${key}: seq ${v.seq} after ${max} (event ${v.event_id}, offset ${m.partition}/${m.offset})`);
    maxSeq.set(key, v.seq);
  }
  return { duplicates, keys: maxSeq.size };
}
