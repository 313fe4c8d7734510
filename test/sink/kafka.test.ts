// The Kafka sink on a real broker (Kafka 4.1 KRaft, test/helpers/kafka.ts), RELIABILITY.md D:
// headers, keys and order per key; topics created with their configs; the broker killed -9 during
// a storm and back BROKER_DOWN_MS later with every accepted event consumed; a full spool while
// Kafka is down (overflow counted, nothing accepted lost, a resync afterwards); the compacted
// interface-state topic holding the latest state and tombstones after the log cleaner ran.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHook } from 'node:async_hooks';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import client from 'prom-client';
import { createConfigActionRecorder, LinkEvents, type LinkEventData } from '../../src/events/index.js';
import { KAFKA_DEFAULTS, KafkaTransport, kafkaOptionsFromConfig, startEventPipeline, type EventPipeline, type KafkaSinkOptions, type StreamName } from '../../src/sink/index.js';
// After our sink: it patches kafkajs before kafkajs loads (src/sink/kafkajs-batch-fix.ts).
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { kafkaInstall, startKafka, type KafkaBroker } from '../helpers/kafka.js';
import { freePort } from '../helpers/prometheus.js';
import { tmpDir } from '../helpers/paths.js';
import { FakeVpp } from '../events/fake-vpp.js';
import { assertValid, schemaForStream } from '../events/json-schema.js';
import { checkPerKeyOrder, consumeAll, latestByKey, type Consumed } from './kafka-read.js';

/** How long the broker stays dead in the kill test (the issue asks for 30 s). */
export const BROKER_DOWN_MS = 30_000;
const INSTANCE = 'edge-1';

let broker: KafkaBroker;
let admin: Admin;
const unhandled: unknown[] = [];
const onUnhandled = (e: unknown): void => {
  unhandled.push(e);
};

/** SASL_PLAINTEXT and SASL_SSL listeners (user alice), beside the PLAINTEXT one the helper makes. */
const auth = { saslPort: 0, sslPort: 0, certFile: '', passwordFile: '', user: 'alice', password: 'alice-secret' };

before(async () => {
  process.on('unhandledRejection', onUnhandled);
  const port = await freePort();
  const controllerPort = await freePort();
  auth.saslPort = await freePort();
  auth.sslPort = await freePort();
  // A self-signed certificate for 127.0.0.1; the broker reads key and chain from one PEM file.
  const certDir = tmpDir();
  auth.certFile = path.join(certDir, 'cert.pem');
  const keyFile = path.join(certDir, 'key.pem');
  const gen = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', auth.certFile, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { encoding: 'utf8' });
  assert.equal(gen.status, 0, `openssl: ${gen.stderr}`);
  const serverPem = path.join(certDir, 'server.pem');
  fs.writeFileSync(serverPem, fs.readFileSync(keyFile, 'utf8') + fs.readFileSync(auth.certFile, 'utf8'));
  auth.passwordFile = path.join(certDir, 'password');
  fs.writeFileSync(auth.passwordFile, `${auth.password}\n`);
  const plain = `org.apache.kafka.common.security.plain.PlainLoginModule required user_${auth.user}="${auth.password}";`;
  const scram = 'org.apache.kafka.common.security.scram.ScramLoginModule required;';
  const jaas: Record<string, string> = {};
  for (const l of ['sasl_plaintext', 'sasl_ssl']) {
    jaas[`listener.name.${l}.plain.sasl.jaas.config`] = plain;
    jaas[`listener.name.${l}.scram-sha-256.sasl.jaas.config`] = scram;
    jaas[`listener.name.${l}.scram-sha-512.sasl.jaas.config`] = scram;
  }
  broker = await startKafka({
    port,
    controllerPort,
    properties: {
      // The log cleaner looks for work every 200 ms instead of 15 s (the compaction test).
      'log.cleaner.backoff.ms': '200',
      'auto.create.topics.enable': 'false',
      listeners: `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort},SASL_PLAINTEXT://127.0.0.1:${auth.saslPort},SASL_SSL://127.0.0.1:${auth.sslPort}`,
      'advertised.listeners': `PLAINTEXT://127.0.0.1:${port},SASL_PLAINTEXT://127.0.0.1:${auth.saslPort},SASL_SSL://127.0.0.1:${auth.sslPort}`,
      'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL',
      'sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-256,SCRAM-SHA-512',
      'ssl.keystore.type': 'PEM',
      'ssl.keystore.location': serverPem,
      ...jaas,
    },
  });
  // SCRAM credentials live in the cluster metadata: add them with Kafka's own tool.
  const inst = kafkaInstall();
  for (const mech of ['SCRAM-SHA-256', 'SCRAM-SHA-512']) {
    // One mechanism per request (the broker refuses two changes of one user in a request).
    const scramUser = spawnSync(
      'java',
      ['-Xmx128m', `-Dlog4j2.configurationFile=${inst.log4j}`, '-cp', `${inst.libs}/*`, 'kafka.admin.ConfigCommand', '--bootstrap-server', broker.brokers, '--alter',
        '--add-config', `${mech}=[password=${auth.password}]`, '--entity-type', 'users', '--entity-name', auth.user],
      { encoding: 'utf8', timeout: 60_000 },
    );
    assert.equal(scramUser.status, 0, `ConfigCommand: ${scramUser.stderr}${scramUser.stdout}`);
  }
  admin = new Kafka({ clientId: 'test-admin', brokers: [broker.brokers], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
});

after(async () => {
  await admin?.disconnect();
  await broker?.stop();
  process.off('unhandledRejection', onUnhandled);
});

function topicsFor(prefix: string): Record<StreamName, string> {
  return { 'link-events': `${prefix}.link-events`, 'config-actions': `${prefix}.config-actions`, 'interface-state': `${prefix}.interface-state` };
}

function kafkaOptions(prefix: string, extra: Partial<KafkaSinkOptions> = {}): KafkaSinkOptions {
  return {
    brokers: [broker.brokers],
    clientId: 'vpp-exporter-test',
    topics: topicsFor(prefix),
    compression: 'gzip',
    createTopics: true,
    partitions: KAFKA_DEFAULTS.partitions,
    replicationFactor: -1,
    retries: 2,
    retryInitialMs: 100,
    retryMaxMs: 500,
    connectionTimeoutMs: 1000,
    requestTimeoutMs: 5000,
    ...extra,
  };
}

interface Rig {
  vpp: FakeVpp;
  pipeline: EventPipeline;
  le: LinkEvents;
  registry: client.Registry;
  /** Every link event accepted into the spool, in order. */
  linkEvents: LinkEventData[];
  record: ReturnType<typeof createConfigActionRecorder>;
  /** Every config-action id accepted. */
  actions: Map<string, string>;
  stop(): Promise<void>;
}

async function rig(prefix: string, vpp: FakeVpp, extra: { maxBytes?: number; kafka?: Partial<KafkaSinkOptions> } = {}): Promise<Rig> {
  const dir = tmpDir();
  const registry = new client.Registry();
  const pipeline = await startEventPipeline({
    spoolDir: path.join(dir, 'spool'),
    spool: extra.maxBytes !== undefined ? { maxBytes: extra.maxBytes } : undefined,
    kafka: kafkaOptions(prefix, extra.kafka),
    registers: [registry],
    publisher: { backoffInitialMs: 50, backoffMaxMs: 1000 },
  });
  const linkEvents: LinkEventData[] = [];
  const le = await LinkEvents.start({
    vpp,
    sink: pipeline,
    instance: INSTANCE,
    stateDir: path.join(dir, 'link-state'),
    onAccepted: (evs) => linkEvents.push(...evs),
  });
  const record = createConfigActionRecorder({ sink: pipeline, instance: INSTANCE });
  const actions = new Map<string, string>();
  return {
    vpp,
    pipeline,
    le,
    registry,
    linkEvents,
    record,
    actions,
    async stop() {
      await le.stop();
      await pipeline.close();
    },
  };
}

async function action(r: Rig, n: number): Promise<void> {
  const requestId = `req-${n}`;
  const res = await r.record({ action: n % 2 ? 'route.add' : 'interface.set', params: { n }, principal: 'test', retval: 0, error: null, durationMs: n % 7, requestId });
  if (res.accepted) r.actions.set(res.eventId, requestId);
}

async function drained(r: Rig, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await r.le.idle();
    const s = r.pipeline.spool.stats;
    if (s.depth === 0 && !s.full && r.pipeline.spool.unread === 0 && !r.le.busy) return;
    if (Date.now() > deadline) throw new Error(`spool not drained in ${timeoutMs} ms: ${JSON.stringify(r.pipeline.spool.stats)}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

async function metric(registry: client.Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = await registry.getSingleMetric(name)?.get();
  const v = m?.values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
  return v?.value ?? 0;
}

/** Every consumed value validates; headers are the CloudEvents binary-mode attributes; keys are right. */
function checkMessages(msgs: readonly Consumed[], topics: Record<StreamName, string>): void {
  const streamOf = new Map(Object.entries(topics).map(([s, t]) => [t, s]));
  for (const m of msgs) {
    const stream = streamOf.get(m.topic)!;
    assert.equal(m.headers.ce_specversion, '1.0');
    assert.match(m.headers.ce_source, /^\/vpp-exporter\/edge-1$/);
    assert.ok(m.headers.ce_id && m.headers.ce_type && m.headers.ce_time, JSON.stringify(m.headers));
    if (m.value === null) {
      assert.equal(stream, 'interface-state');
      continue;
    }
    assert.equal(m.headers['content-type'], 'application/json');
    const v = JSON.parse(m.value) as { event_id: string; sw_if_index?: number; request_id?: string; time: string };
    assertValid(schemaForStream(stream), v);
    assert.equal(m.headers.ce_id, v.event_id);
    assert.equal(m.headers.ce_time, v.time);
    if (stream === 'config-actions') assert.equal(m.key, v.request_id);
    else assert.equal(m.key, `${INSTANCE}/${v.sw_if_index}`);
  }
}

function truthByKey(vpp: FakeVpp): Map<string, { interface: string; admin_up: boolean; link_up: boolean }> {
  return new Map([...vpp.truth()].map(([sw, i]) => [`${INSTANCE}/${sw}`, { interface: i.name, admin_up: i.adminUp, link_up: i.linkUp }]));
}

function stateOnKafka(msgs: readonly Consumed[]): Map<string, { interface: string; admin_up: boolean; link_up: boolean }> {
  const out = new Map<string, { interface: string; admin_up: boolean; link_up: boolean }>();
  for (const [k, v] of latestByKey(msgs)) {
    if (v === null) continue;
    const s = JSON.parse(v) as { interface: string; admin_up: boolean; link_up: boolean };
    out.set(k, { interface: s.interface, admin_up: s.admin_up, link_up: s.link_up });
  }
  return out;
}

test('topics are created with their partitions and configs; events arrive with CloudEvents headers and keys, in order per key', { timeout: 120_000 }, async () => {
  const topics = topicsFor('t1');
  const vpp = new FakeVpp(40);
  const r = await rig('t1', vpp);
  for (let round = 0; round < 6; round++) {
    for (let sw = 1; sw <= 40; sw++) if ((sw + round) % 3 === 0) vpp.setFlags(sw, round % 2 ? { adminUp: true, linkUp: true } : { linkUp: false });
    await action(r, round);
    await new Promise((res) => setTimeout(res, 20));
  }
  const gone = vpp.create('tap0');
  vpp.setFlags(gone, { adminUp: true, linkUp: true });
  await new Promise((res) => setTimeout(res, 20));
  vpp.delete(gone);
  await drained(r, 30_000);

  const meta = await admin.fetchTopicMetadata({ topics: Object.values(topics) });
  const parts = new Map(meta.topics.map((t) => [t.name, t.partitions.length]));
  assert.deepEqual([parts.get(topics['link-events']), parts.get(topics['config-actions']), parts.get(topics['interface-state'])], [6, 3, 6]);
  const cfg = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name: topics['interface-state'], configNames: ['cleanup.policy'] }] });
  assert.equal(cfg.resources[0].configEntries[0].configValue, 'compact');

  const msgs = await consumeAll(broker.brokers, Object.values(topics));
  checkMessages(msgs, topics);
  const links = msgs.filter((m) => m.topic === topics['link-events']);
  const order = checkPerKeyOrder(links);
  assert.equal(order.duplicates, 0);
  assert.equal(links.length, r.linkEvents.length);
  // The consumer sees each key's events in the order they were accepted.
  for (const key of new Set(links.map((m) => m.key!))) {
    const consumed = links.filter((m) => m.key === key).map((m) => (JSON.parse(m.value!) as LinkEventData).event_id);
    const accepted = r.linkEvents.filter((e) => `${INSTANCE}/${e.sw_if_index}` === key).map((e) => e.event_id);
    assert.deepEqual(consumed, accepted, key);
  }
  assert.ok(links.some((m) => (JSON.parse(m.value!) as LinkEventData).change === 'deleted'));
  const actions = msgs.filter((m) => m.topic === topics['config-actions']);
  assert.deepEqual(new Set(actions.map((m) => m.key)), new Set(r.actions.values()));
  // interface-state: the latest state per interface equals VPP's; the deleted one is a tombstone.
  const state = msgs.filter((m) => m.topic === topics['interface-state']);
  assert.deepEqual(stateOnKafka(state), truthByKey(vpp));
  assert.equal(latestByKey(state).get(`${INSTANCE}/${gone}`), null);

  assert.equal(await metric(r.registry, 'vpp_exporter_events_published_total', { topic: topics['link-events'] }), r.linkEvents.length);
  assert.equal(await metric(r.registry, 'vpp_exporter_events_published_total', { topic: topics['config-actions'] }), r.actions.size);
  assert.equal(await metric(r.registry, 'vpp_exporter_link_events_total', { reason: 'event' }) + (await metric(r.registry, 'vpp_exporter_link_events_total', { reason: 'resync' })), r.linkEvents.length);
  assert.equal(await metric(r.registry, 'vpp_exporter_kafka_connected'), 1);
  assert.equal(await metric(r.registry, 'vpp_exporter_spool_events'), 0);
  await r.stop();
  assert.deepEqual(unhandled, []);
});

test(`broker killed -9 during a storm and back ${BROKER_DOWN_MS / 1000} s later: every accepted event consumed, per-key seq never backwards`, { timeout: 180_000 }, async (t) => {
  const topics = topicsFor('t2');
  const vpp = new FakeVpp(300);
  const r = await rig('t2', vpp);
  let running = true;
  let n = 0;
  const storm = (async () => {
    while (running) {
      for (let k = 0; k < 20; k++) {
        const sw = 1 + Math.floor(Math.random() * 300);
        const i = vpp.interfaces.get(sw)!;
        vpp.setFlags(sw, Math.random() < 0.5 ? { linkUp: !i.linkUp } : { adminUp: !i.adminUp });
      }
      await action(r, n++);
      await new Promise((res) => setTimeout(res, 10));
    }
  })();
  await new Promise((res) => setTimeout(res, 1500));
  await broker.kill9();
  const killedAt = Date.now();
  await new Promise((res) => setTimeout(res, 1000));
  const depthWhileDown = r.pipeline.spool.stats.depth;
  assert.equal(await metric(r.registry, 'vpp_exporter_kafka_connected'), 0);
  await new Promise((res) => setTimeout(res, Math.max(0, BROKER_DOWN_MS - (Date.now() - killedAt))));
  assert.ok(r.pipeline.spool.stats.depth > depthWhileDown, 'events kept being accepted while Kafka was down');
  const oldest = await metric(r.registry, 'vpp_exporter_spool_oldest_age_seconds');
  assert.ok(oldest >= BROKER_DOWN_MS / 1000 - 2, `oldest age ${oldest}`);
  await broker.restart();
  await new Promise((res) => setTimeout(res, 1000));
  running = false;
  await storm;
  await drained(r, 90_000);
  const failures = await metric(r.registry, 'vpp_exporter_kafka_publish_failures_total');
  assert.ok(failures > 0);
  assert.equal(await metric(r.registry, 'vpp_exporter_kafka_connected'), 1);

  const wantLinks = new Set(r.linkEvents.map((e) => e.event_id));
  const wantActions = new Set(r.actions.keys());
  const msgs = await consumeAll(broker.brokers, [topics['link-events'], topics['config-actions']]);
  const gotIds = new Set(msgs.map((m) => (JSON.parse(m.value!) as { event_id: string }).event_id));
  const missing = [...wantLinks, ...wantActions].filter((id) => !gotIds.has(id));
  assert.deepEqual(missing, [], `${missing.length} accepted events not consumed`);
  const links = msgs.filter((m) => m.topic === topics['link-events']);
  const order = checkPerKeyOrder(links);
  t.diagnostic(
    `accepted ${wantLinks.size} link events + ${wantActions.size} config actions; consumed ${msgs.length}; ` +
      `duplicates ${order.duplicates}; publish failures ${failures}; spool depth at kill+1s ${depthWhileDown}`,
  );
  checkMessages(msgs.slice(0, 500), topics);
  await r.stop();
  assert.deepEqual(unhandled, []);
});

test('spool full while Kafka is down: overflow counted, nothing accepted lost, process keeps running, then a resync', { timeout: 120_000 }, async () => {
  const topics = topicsFor('t3');
  const vpp = new FakeVpp(50);
  const r = await rig('t3', vpp, { maxBytes: 128 * 1024 });
  await drained(r, 30_000);
  await broker.kill9();
  let n = 0;
  for (let round = 0; (await metric(r.registry, 'vpp_exporter_spool_overflow_dropped_total')) === 0 || round < 10; round++) {
    assert.ok(round < 2000, 'the spool never filled');
    for (let sw = 1; sw <= 50; sw++) vpp.setFlags(sw, { linkUp: round % 2 === 1, adminUp: true });
    await action(r, n++);
    await r.le.idle();
  }
  const dropped = await metric(r.registry, 'vpp_exporter_spool_overflow_dropped_total');
  assert.ok(dropped > 0);
  assert.ok(r.pipeline.spool.stats.bytes <= 128 * 1024);
  // Changes made while full still reach Kafka, as the resync's net difference.
  vpp.setFlags(7, { adminUp: false });
  await broker.restart();
  await drained(r, 90_000);
  assert.ok(r.le.stats.resyncs >= 2, 'a resync after the spool had room again');
  const wantIds = new Set([...r.linkEvents.map((e) => e.event_id), ...r.actions.keys()]);
  const msgs = await consumeAll(broker.brokers, Object.values(topics));
  const gotIds = new Set(msgs.filter((m) => m.value !== null).map((m) => (JSON.parse(m.value!) as { event_id: string }).event_id));
  assert.deepEqual([...wantIds].filter((id) => !gotIds.has(id)), [], 'accepted events not consumed');
  checkPerKeyOrder(msgs.filter((m) => m.topic === topics['link-events']));
  assert.deepEqual(stateOnKafka(msgs.filter((m) => m.topic === topics['interface-state'])), truthByKey(vpp));
  await r.stop();
  assert.deepEqual(unhandled, []);
});

test('the compacted interface-state topic holds the latest state per interface and tombstones after the log cleaner ran', { timeout: 120_000 }, async () => {
  const topics = topicsFor('t4');
  const vpp = new FakeVpp(20);
  const r = await rig('t4', vpp, {
    kafka: { partitions: 1, topicConfig: { 'interface-state': { 'segment.ms': '300', 'min.cleanable.dirty.ratio': '0.01', 'min.compaction.lag.ms': '0' } } },
  });
  for (let round = 0; round < 30; round++) {
    for (let sw = 1; sw <= 20; sw++) vpp.setFlags(sw, { linkUp: round % 2 === 1 });
    await r.le.idle();
    await new Promise((res) => setTimeout(res, 20));
  }
  for (const sw of [3, 9, 15]) vpp.delete(sw);
  await drained(r, 30_000);
  const produced = r.linkEvents.length;
  // Roll the active segment (segment.ms) with a few more states so the cleaner may compact.
  const deadline = Date.now() + 60_000;
  let msgs: Consumed[] = [];
  for (let i = 0; ; i++) {
    await new Promise((res) => setTimeout(res, 500));
    vpp.setFlags(1, { adminUp: i % 2 === 0 });
    await drained(r, 10_000);
    msgs = await consumeAll(broker.brokers, [topics['interface-state']], 30_000);
    if (msgs.length < produced / 2) break;
    assert.ok(Date.now() < deadline, `not compacted: ${msgs.length} records for ${produced} states`);
  }
  const latest = latestByKey(msgs);
  assert.deepEqual(stateOnKafka(msgs), truthByKey(vpp));
  for (const sw of [3, 9, 15]) assert.equal(latest.get(`${INSTANCE}/${sw}`), null, `tombstone for ${sw}`);
  // Compaction kept one record per key (plus what is still in the active segment).
  assert.ok(msgs.length < produced / 2, `${msgs.length} records left of ${produced + 1}`);
  await r.stop();
  assert.deepEqual(unhandled, []);
});

test('SASL PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512, and SCRAM over TLS, from the configuration keys; a wrong password is a failure metric, not a crash', { timeout: 120_000 }, async () => {
  const cases: { name: string; port: number; mechanism: string; tls: boolean; password?: string }[] = [
    { name: 'plain', port: auth.saslPort, mechanism: 'plain', tls: false },
    { name: 'scram256', port: auth.saslPort, mechanism: 'scram-sha-256', tls: false },
    { name: 'scram512', port: auth.saslPort, mechanism: 'scram-sha-512', tls: false },
    { name: 'tls512', port: auth.sslPort, mechanism: 'scram-sha-512', tls: true },
  ];
  for (const c of cases) {
    // As config.ts hands them over (see docs/events.md for the OPTIONS entries).
    const config: Record<string, unknown> = {
      'kafka.brokers': `127.0.0.1:${c.port}`,
      'kafka.topic.link-events': `auth-${c.name}.link-events`,
      'kafka.topic.config-actions': `auth-${c.name}.config-actions`,
      'kafka.topic.interface-state': `auth-${c.name}.interface-state`,
      'kafka.client-id': `auth-${c.name}`,
      'kafka.sasl.mechanism': c.mechanism,
      'kafka.sasl.username': auth.user,
      'kafka.sasl.password-file': auth.passwordFile,
      'kafka.compression': 'gzip',
      ...(c.tls ? { 'kafka.tls': true, 'kafka.tls.ca-file': auth.certFile } : {}),
    };
    const opts = kafkaOptionsFromConfig(config)!;
    assert.equal(opts.sasl?.password, auth.password, 'password file read, newline dropped');
    const registry = new client.Registry();
    const pipeline = await startEventPipeline({ spoolDir: tmpDir(), kafka: opts, registers: [registry], publisher: { backoffInitialMs: 50, backoffMaxMs: 500 } });
    const record = createConfigActionRecorder({ sink: pipeline, instance: INSTANCE });
    const r = await record({ action: 'auth.test', params: { c: c.name }, principal: null, retval: 0, error: null, durationMs: 0, requestId: `auth-${c.name}` });
    assert.equal(r.accepted, true);
    const deadline = Date.now() + 30_000;
    while (pipeline.spool.stats.depth > 0) {
      assert.ok(Date.now() < deadline, `${c.name}: not published: ${pipeline.publisher.stats.lastError?.message}`);
      await new Promise((res) => setTimeout(res, 50));
    }
    assert.equal(await metric(registry, 'vpp_exporter_kafka_connected'), 1);
    await pipeline.close();
    const msgs = await consumeAll(broker.brokers, [`auth-${c.name}.config-actions`]);
    assert.deepEqual(
      msgs.map((m) => m.key),
      [`auth-${c.name}`],
    );
  }
  // A wrong password: refused by the broker, counted, retried, nothing thrown.
  const badFile = path.join(tmpDir(), 'bad');
  fs.writeFileSync(badFile, 'wrong');
  const registry = new client.Registry();
  const pipeline = await startEventPipeline({
    spoolDir: tmpDir(),
    kafka: kafkaOptionsFromConfig({ 'kafka.brokers': `127.0.0.1:${auth.saslPort}`, 'kafka.sasl.mechanism': 'scram-sha-256', 'kafka.sasl.username': auth.user, 'kafka.sasl.password-file': badFile })!,
    registers: [registry],
    publisher: { backoffInitialMs: 50, backoffMaxMs: 200 },
  });
  const record = createConfigActionRecorder({ sink: pipeline, instance: INSTANCE });
  assert.equal((await record({ action: 'auth.bad', params: {}, principal: null, retval: 0, error: null, durationMs: 0, requestId: 'bad' })).accepted, true);
  const until = Date.now() + 20_000;
  while ((await metric(registry, 'vpp_exporter_kafka_publish_failures_total')) < 2) {
    assert.ok(Date.now() < until, 'no failures counted');
    await new Promise((res) => setTimeout(res, 50));
  }
  assert.equal(await metric(registry, 'vpp_exporter_kafka_connected'), 0);
  assert.equal(pipeline.spool.stats.depth, 1, 'kept in the spool');
  assert.match(pipeline.publisher.stats.lastError?.message ?? '', /SASL|auth/i);
  await pipeline.close();
  assert.deepEqual(unhandled, []);
});

test('a batch over the topic\'s max.message.bytes is sent in parts, in order', { timeout: 60_000 }, async () => {
  const topics = topicsFor('t5');
  const small = { 'max.message.bytes': '16384' };
  // No compression: the limit applies to what the broker stores.
  const options = kafkaOptions('t5', { partitions: 1, compression: 'none', topicConfig: { 'config-actions': small } });
  const spoolDir = tmpDir();
  // The spool collects one large batch first (publisher stopped at once), then a new pipeline sends it.
  const pipeline = await startEventPipeline({ spoolDir, kafka: options, registers: [new client.Registry()] });
  await pipeline.publisher.stop();
  const record = createConfigActionRecorder({ sink: pipeline, instance: INSTANCE });
  for (let i = 0; i < 300; i++) await record({ action: 'big', params: { i, pad: 'x'.repeat(300) }, principal: null, retval: 0, error: null, durationMs: 0, requestId: `big-${i}` });
  await pipeline.close();
  const again = await startEventPipeline({ spoolDir, kafka: options, registers: [new client.Registry()] });
  const deadline = Date.now() + 30_000;
  while (again.spool.stats.depth > 0) {
    assert.ok(Date.now() < deadline, `not published: ${again.publisher.stats.lastError?.message}`);
    await new Promise((res) => setTimeout(res, 50));
  }
  assert.equal(again.publisher.stats.failures, 0, 'split, not failed');
  assert.ok((again.transport as KafkaTransport).splits > 0, 'the batch was split');
  await again.close();
  const cfg = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name: topics['config-actions'], configNames: ['max.message.bytes'] }] });
  assert.equal(cfg.resources[0].configEntries[0].configValue, '16384');
  const msgs = await consumeAll(broker.brokers, [topics['config-actions']]);
  assert.deepEqual(
    msgs.map((m) => m.key),
    Array.from({ length: 300 }, (_, i) => `big-${i}`),
  );
});

test('an idle connected producer schedules no timer every millisecond (kafkajs 2.2.4 request-queue fix)', { timeout: 60_000 }, async () => {
  const transport = new KafkaTransport(kafkaOptions('t6', { partitions: 1 }));
  await transport.connect();
  await transport.send([{ stream: 'config-actions', key: 'idle', value: '{}', headers: {} }]);
  const warnings: string[] = [];
  const onWarning = (w: Error): void => {
    warnings.push(w.name);
  };
  process.on('warning', onWarning);
  // Timers created in one idle second: without the fix each connection (this producer, the admin
  // client of this file) makes about 1000, with a TimeoutNegativeWarning; a few are kafkajs' own
  // request-timeout checks and the test's.
  let timers = 0;
  const hook = createHook({
    init(_id, type) {
      if (type === 'Timeout') timers++;
    },
  }).enable();
  await new Promise((res) => setTimeout(res, 1000));
  hook.disable();
  process.off('warning', onWarning);
  assert.ok(timers < 50, `${timers} timers in an idle second`);
  assert.ok(!warnings.includes('TimeoutNegativeWarning'), warnings.join(', '));
  // Still sends after the idle time: a request that comes later is not left waiting on a skipped check.
  await transport.send([{ stream: 'config-actions', key: 'after-idle', value: '{}', headers: {} }]);
  await transport.close();
  const msgs = await consumeAll(broker.brokers, [topicsFor('t6')['config-actions']]);
  assert.deepEqual(
    msgs.map((m) => m.key),
    ['idle', 'after-idle'],
  );
});
