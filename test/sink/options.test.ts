// Kafka options from the configuration (kafkaOptionsFromConfig), the topic specs the exporter
// creates, and the JSON-lines destination of the demo (no Kafka) through the same spool.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import client from 'prom-client';
import { ConfigError } from '../../src/config.js';
import { createConfigActionRecorder } from '../../src/events/index.js';
import { DEFAULT_TOPICS, kafkaOptionsFromConfig, startEventPipeline, topicSpecs } from '../../src/sink/index.js';
import { tmpDir } from '../helpers/paths.js';
import { assertValid } from '../events/json-schema.js';

test('kafkaOptionsFromConfig: defaults, lists, files, and every bad value is a ConfigError', () => {
  assert.equal(kafkaOptionsFromConfig({}), undefined, 'no brokers: no Kafka');
  const o = kafkaOptionsFromConfig({ 'kafka.brokers': 'k1:9092, k2:9093,[::1]:9094' })!;
  assert.deepEqual(o.brokers, ['k1:9092', 'k2:9093', '[::1]:9094']);
  assert.deepEqual(o.topics, DEFAULT_TOPICS);
  assert.equal(o.clientId, 'vpp-exporter');
  assert.equal(o.compression, 'none');
  assert.equal(o.createTopics, true);
  assert.equal(o.partitions, 6);
  assert.equal(o.replicationFactor, -1);
  assert.equal(o.tls, undefined);
  assert.equal(o.sasl, undefined);

  const dir = tmpDir();
  const file = (name: string, text: string): string => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, text);
    return p;
  };
  const full = kafkaOptionsFromConfig({
    'kafka.brokers': 'k1:9093',
    'kafka.client-id': 'edge-7',
    'kafka.topic.link-events': 'a.link',
    'kafka.topic.config-actions': 'a.actions',
    'kafka.topic.interface-state': 'a.state',
    'kafka.tls.ca-file': file('ca.pem', 'CA PEM'),
    'kafka.tls.cert-file': file('c.pem', 'CERT PEM'),
    'kafka.tls.key-file': file('k.pem', 'KEY PEM'),
    'kafka.sasl.mechanism': 'scram-sha-512',
    'kafka.sasl.username': 'u',
    'kafka.sasl.password-file': file('pw', 's3cret\n'),
    'kafka.compression': 'gzip',
    'kafka.create-topics': false,
    'kafka.partitions': 12,
    'kafka.replication-factor': 3,
  })!;
  assert.deepEqual(full.tls, { ca: 'CA PEM', cert: 'CERT PEM', key: 'KEY PEM', rejectUnauthorized: true });
  assert.deepEqual(full.sasl, { mechanism: 'scram-sha-512', username: 'u', password: 's3cret' });
  assert.deepEqual([full.clientId, full.compression, full.createTopics, full.partitions, full.replicationFactor], ['edge-7', 'gzip', false, 12, 3]);
  assert.deepEqual(full.topics, { 'link-events': 'a.link', 'config-actions': 'a.actions', 'interface-state': 'a.state' });
  assert.deepEqual(kafkaOptionsFromConfig({ 'kafka.brokers': 'k:1', 'kafka.tls': true })!.tls, { rejectUnauthorized: true });
  assert.deepEqual(kafkaOptionsFromConfig({ 'kafka.brokers': 'k:1', 'kafka.tls.insecure-skip-verify': true })!.tls, { rejectUnauthorized: false });

  const bad: [Record<string, unknown>, RegExp][] = [
    [{ 'kafka.brokers': ' , ' }, /no broker/],
    [{ 'kafka.brokers': 'nohost' }, /not host:port/],
    [{ 'kafka.brokers': 'k:1', 'kafka.topic.link-events': 'bad topic' }, /not a valid Kafka topic/],
    [{ 'kafka.brokers': 'k:1', 'kafka.topic.link-events': 'same', 'kafka.topic.config-actions': 'same' }, /must differ/],
    [{ 'kafka.brokers': 'k:1', 'kafka.tls.cert-file': path.join(dir, 'c.pem') }, /go together/],
    [{ 'kafka.brokers': 'k:1', 'kafka.tls.ca-file': path.join(dir, 'missing.pem') }, /cannot read/],
    [{ 'kafka.brokers': 'k:1', 'kafka.sasl.mechanism': 'plain' }, /needs --kafka.sasl.username/],
    [{ 'kafka.brokers': 'k:1', 'kafka.sasl.mechanism': 'gssapi', 'kafka.sasl.username': 'u', 'kafka.sasl.password-file': 'x' }, /not one of/],
    [{ 'kafka.brokers': 'k:1', 'kafka.compression': 'zstd' }, /not one of none, gzip/],
    [{ 'kafka.brokers': 'k:1', 'kafka.partitions': 0 }, /at least 1/],
    [{ 'kafka.brokers': 'k:1', 'kafka.replication-factor': 0 }, /-1/],
    [{ 'kafka.brokers': 7 }, /expected a string/],
  ];
  for (const [cfg, re] of bad) assert.throws(() => kafkaOptionsFromConfig(cfg), (e: unknown) => e instanceof ConfigError && re.test(e.message), JSON.stringify(cfg));
});

test('topicSpecs: the documented partitions and configs; interface-state is compacted', () => {
  const specs = topicSpecs({ topics: DEFAULT_TOPICS, partitions: 6, replicationFactor: -1, topicConfig: { 'link-events': { 'retention.ms': '1000' } } });
  assert.deepEqual(
    specs.map((s) => [s.name, s.partitions, s.replicationFactor, s.config['cleanup.policy']]),
    [
      ['vpp.link-events', 6, -1, 'delete'],
      ['vpp.config-actions', 3, -1, 'delete'],
      ['vpp.interface-state', 6, -1, 'compact'],
    ],
  );
  assert.equal(specs[0].config['retention.ms'], '1000', 'overrides merged');
  assert.equal(specs[1].config['retention.ms'], String(30 * 86_400_000));
});

test('without Kafka: JSON lines in a file through the same spool, replayed after a restart', async () => {
  const dir = tmpDir();
  const out = path.join(dir, 'events.jsonl');
  const spoolDir = path.join(dir, 'spool');
  const registry = new client.Registry();
  let pipeline = await startEventPipeline({ spoolDir, jsonl: { file: out }, registers: [registry] });
  assert.equal(pipeline.transport.kind, 'jsonl');
  assert.equal(registry.getSingleMetric('vpp_exporter_kafka_connected'), undefined, 'no Kafka gauge without Kafka');
  const record = createConfigActionRecorder({ sink: pipeline, instance: 'demo' });
  await record({ action: 'interface.set', params: { name: 'loop0' }, principal: null, retval: 0, error: null, durationMs: 2, requestId: 'r1' });
  const deadline = Date.now() + 5000;
  while (pipeline.spool.stats.depth > 0) {
    assert.ok(Date.now() < deadline);
    await new Promise((r) => setTimeout(r, 10));
  }
  await pipeline.close();
  const lines = fs.readFileSync(out, 'utf8').trim().split('\n');
  assert.equal(lines.length, 1);
  const line = JSON.parse(lines[0]) as { topic: string; key: string; headers: Record<string, string>; value: { request_id: string } };
  assert.equal(line.topic, 'vpp.config-actions');
  assert.equal(line.key, 'r1');
  assert.equal(line.headers.ce_type, 'io.fd.vpp.config-action.v1');
  assertValid('config-action', line.value);

  // Written to the spool while the output is not being drained (the pipeline is closed right
  // away), it comes out after the restart.
  pipeline = await startEventPipeline({ spoolDir, jsonl: { file: out }, publisher: { maxBatchRecords: 1 } });
  await pipeline.publisher.stop();
  const rec2 = createConfigActionRecorder({ sink: pipeline, instance: 'demo' });
  await rec2({ action: 'route.add', params: {}, principal: null, retval: 0, error: null, durationMs: 1, requestId: 'r2' });
  await pipeline.close();
  pipeline = await startEventPipeline({ spoolDir, jsonl: { file: out } });
  const d2 = Date.now() + 5000;
  while (pipeline.spool.stats.depth > 0) {
    assert.ok(Date.now() < d2);
    await new Promise((r) => setTimeout(r, 10));
  }
  await pipeline.close();
  const keys = fs
    .readFileSync(out, 'utf8')
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { key: string }).key);
  assert.deepEqual(keys, ['r1', 'r2']);
});
