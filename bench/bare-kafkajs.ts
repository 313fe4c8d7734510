/**
 * The storm's peer: the same batches sent by a bare kafkajs producer (idempotent, acks=all, one
 * request in flight), in a process of its own that loads nothing of ours, so that it runs stock
 * kafkajs (the exporter's process patches kafkajs' encoder and idle timer: src/sink/kafkajs-*-fix.ts).
 *
 *   node dist/bench/bare-kafkajs.js <job.json>   prints {"ms": <time to send every batch>}
 *
 * job.json: { brokers, compression: 'none' | 'gzip', topics: [names], batches: [[{ topic, key, value, headers }]] }
 */
import fs from 'node:fs';
import { CompressionTypes, Kafka, Partitioners, logLevel } from 'kafkajs';

interface Job {
  brokers: string;
  compression: 'none' | 'gzip';
  topics: string[];
  batches: { topic: string; key: string; value: string | null; headers: Record<string, string> }[][];
}

const job = JSON.parse(fs.readFileSync(process.argv[2], 'utf8')) as Job;
const kafka = new Kafka({ clientId: 'bench-bare', brokers: [job.brokers], logLevel: logLevel.NOTHING });
const admin = kafka.admin();
await admin.connect();
await admin.createTopics({ waitForLeaders: true, topics: job.topics.map((topic) => ({ topic, numPartitions: 6 })) });
await admin.disconnect();
const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
await producer.connect();
let ms: number;
try {
  const t0 = performance.now();
  for (const b of job.batches) {
    // Grouped by topic as the caller of a producer would; part of the time, as it is of ours.
    const byTopic = new Map<string, { key: string; value: string | null; headers: Record<string, string> }[]>();
    for (const m of b) {
      let list = byTopic.get(m.topic);
      if (list === undefined) byTopic.set(m.topic, (list = []));
      list.push({ key: m.key, value: m.value, headers: m.headers });
    }
    await producer.sendBatch({
      acks: -1,
      compression: job.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None,
      topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
    });
  }
  ms = performance.now() - t0;
} finally {
  await producer.disconnect();
}
process.stdout.write(JSON.stringify({ ms }) + '\n');
