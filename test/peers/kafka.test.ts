// The real Kafka peer (scripts/peers/install-kafka.sh, test/helpers/kafka.ts): a KRaft broker
// starts, takes idempotent acks=-1 writes from kafkajs, serves them back to a consumer group,
// survives kill -9 and restarts on the same port and log dir with its data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { startKafka } from '../helpers/kafka.js';

const N = 100;

async function consumeN(kafka: Kafka, topic: string, groupId: string, n: number, timeoutMs = 60_000): Promise<string[]> {
  const consumer: Consumer = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 1_000 });
  const got: string[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`consumed ${got.length}/${n} from ${topic} in ${timeoutMs} ms`)), timeoutMs);
      consumer
        .run({
          eachMessage: ({ message }) => {
            got.push(message.value?.toString() ?? '');
            if (got.length >= n) {
              clearTimeout(timer);
              resolve();
            }
            return Promise.resolve();
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return got;
}

async function produceN(kafka: Kafka, topic: string, prefix: string, n: number): Promise<void> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    const messages = Array.from({ length: n }, (_, i) => ({ key: `k${i % 10}`, value: `${prefix}-${i}` }));
    // Several batches, so that the idempotent sequence numbers advance.
    for (let i = 0; i < n; i += 25) {
      await producer.send({ topic, acks: -1, messages: messages.slice(i, i + 25) });
    }
  } finally {
    await producer.disconnect();
  }
}

test('Kafka broker: create topic, idempotent produce, consume, kill -9, restart, again', { timeout: 300_000 }, async (t) => {
  const broker = await startKafka();
  t.after(() => broker.stop());
  const firstStart = broker.startupMs;
  t.diagnostic(`Kafka ${broker.version} on ${broker.brokers}: started in ${firstStart} ms`);

  const kafka = new Kafka({
    clientId: 'vpp-exporter-peer-test',
    brokers: [broker.brokers],
    logLevel: logLevel.NOTHING,
    retry: { retries: 10, initialRetryTime: 200, maxRetryTime: 2_000 },
  });
  const admin = kafka.admin();
  await admin.connect();
  assert.equal(await admin.createTopics({ topics: [{ topic: 'peer-test', numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true }), true);
  assert.ok((await admin.listTopics()).includes('peer-test'));
  await admin.disconnect();

  await produceN(kafka, 'peer-test', 'a', N);
  const first = await consumeN(kafka, 'peer-test', 'g1', N);
  assert.deepEqual(first.slice().sort(), Array.from({ length: N }, (_, i) => `a-${i}`).sort());

  const port = broker.port;
  const pid = broker.pid();
  await broker.kill9();
  assert.equal(broker.pid(), undefined);
  await broker.restart();
  assert.equal(broker.port, port);
  assert.notEqual(broker.pid(), pid);
  t.diagnostic(`restart after kill -9: ${broker.startupMs} ms`);

  await produceN(kafka, 'peer-test', 'b', N);
  // A new group reads the whole log: the 100 messages from before the crash survived it.
  const all = await consumeN(kafka, 'peer-test', 'g2', 2 * N);
  assert.equal(all.length, 2 * N);
  assert.deepEqual(
    all.slice().sort(),
    [...Array.from({ length: N }, (_, i) => `a-${i}`), ...Array.from({ length: N }, (_, i) => `b-${i}`)].sort(),
  );
  // The first group's committed offset survived too: it resumes with the new messages only.
  const resumed = await consumeN(kafka, 'peer-test', 'g1', N);
  assert.deepEqual(resumed.slice().sort(), Array.from({ length: N }, (_, i) => `b-${i}`).sort());
});
