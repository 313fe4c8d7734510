/**
 * Audit records end to end (RELIABILITY.md E.24): the control API on the simulator, its audit sink
 * the config-actions recorder of src/events on the durable spool, and a real Kafka broker. Every
 * mutating call (successes, VPP errors, validation failures) gives exactly one record on the
 * config-actions topic, keyed by the request id the answer carried, valid against
 * schemas/config-action.schema.json; reads and unauthenticated calls give none.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { configActionAuditSink } from '../../src/control/index.js';
import { createConfigActionRecorder, type ConfigActionData } from '../../src/events/index.js';
import { startEventPipeline, type EventPipeline } from '../../src/sink/index.js';
import { startKafka, type KafkaBroker } from '../helpers/kafka.js';
import { tmpDir } from '../helpers/paths.js';
import { consume } from '../sink/kafka-read.js';
import { assertValid } from '../events/json-schema.js';
import { startControlEnv, type ControlEnv } from './env.js';

const TOPIC = 'control-test.config-actions';

describe('audit records on Kafka', () => {
  let broker: KafkaBroker;
  let pipeline: EventPipeline;
  let env: ControlEnv;
  before(async () => {
    broker = await startKafka();
    pipeline = await startEventPipeline({
      spoolDir: path.join(tmpDir(), 'spool'),
      kafka: {
        brokers: [broker.brokers],
        clientId: 'control-audit-test',
        topics: { 'link-events': 'control-test.link-events', 'config-actions': TOPIC, 'interface-state': 'control-test.interface-state' },
        compression: 'none',
        createTopics: true,
        partitions: 3,
        replicationFactor: -1,
      },
    });
    const recorder = createConfigActionRecorder({ sink: pipeline, instance: 'control-test' });
    env = await startControlEnv({ interfaces: 4, audit: configActionAuditSink(recorder) });
  });
  after(async () => {
    await env?.stop();
    await pipeline?.close();
    await broker?.stop();
  });

  it('exactly one record per mutating call, keyed by its request id', async () => {
    const calls: [string, string, unknown, number][] = [
      ['POST', '/routes', { prefix: '10.70.0.0/16', paths: [{ via: '10.0.0.2', interface: 'loop0' }] }, 200],
      ['POST', '/routes', { routes: Array.from({ length: 150 }, (_, i) => ({ prefix: `10.71.${i}.0/24`, paths: [{ via: '10.0.0.2' }] })) }, 200],
      ['POST', '/routes', { prefix: '10.72.0.0/16', table: 99, paths: [{ via: '10.0.0.2' }] }, 422],
      ['POST', '/routes', { prefix: '10.72.0.1/16', paths: [{ via: '10.0.0.2' }] }, 400],
      ['PUT', '/interfaces/loop0', { admin_up: true, addresses: ['10.73.0.1/24'] }, 200],
      ['PUT', '/interfaces/nope0', { admin_up: true }, 404],
      ['DELETE', '/routes/10.70.0.0%2F16', undefined, 200],
      ['DELETE', '/routes/10.72.0.0%2F16?table=99', undefined, 422],
    ];
    const expected = new Map<string, { method: string; status: number }>();
    for (const [method, p, body, status] of calls) {
      const a = await env.call(method, p, { body });
      assert.equal(a.status, status, `${method} ${p}: ${a.text}`);
      expected.set(String(a.headers.get('x-request-id')), { method, status });
    }
    // None of these may add a record.
    await env.call('GET', '/interfaces');
    await env.call('GET', '/routes');
    await env.call('POST', '/routes', { body: calls[0][2], token: null });
    await env.call('DELETE', '/routes/10.70.0.0%2F16', { token: 'wrong-wrong-wrong-wrong' });

    // Everything accepted is in the spool; wait until the publisher has handed it all to Kafka.
    const deadline = Date.now() + 60_000;
    while (pipeline.spool.stats.depth > 0 || pipeline.spool.unread > 0) {
      if (Date.now() > deadline) throw new Error(`spool not drained: ${JSON.stringify(pipeline.spool.stats)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const got = await consume(broker.brokers, [TOPIC], (all) => all.length >= calls.length, 60_000);
    // Give a stray extra record the chance to show up before counting.
    await new Promise((r) => setTimeout(r, 1000));
    const all = await consume(broker.brokers, [TOPIC], (xs) => xs.length >= got.length, 30_000);
    assert.equal(all.length, calls.length, 'one record per mutating call, no more');
    const byKey = new Map(all.map((m) => [m.key, m]));
    assert.equal(byKey.size, calls.length);
    for (const [requestId, c] of expected) {
      const m = byKey.get(requestId);
      assert.ok(m, `record for ${c.method} ${requestId}`);
      const data = JSON.parse(m.value ?? 'null') as ConfigActionData;
      assertValid('config-action', data);
      assert.equal(data.request_id, requestId);
      assert.equal(data.instance, 'control-test');
      assert.match(data.principal ?? '', /^token:[0-9a-f]{8}$/);
      assert.equal(m.headers.ce_id, data.event_id);
      if (c.status === 200) {
        assert.equal(data.retval, 0);
        assert.equal(data.error, null);
      } else if (c.status === 422) {
        assert.equal(data.retval, -3);
        assert.match(data.error ?? '', /NO_SUCH_FIB/);
      } else {
        assert.equal(data.retval, null);
        assert.ok(data.error);
      }
    }
    const batch = [...byKey.values()].map((m) => JSON.parse(m.value ?? 'null') as ConfigActionData).find((d) => (d.params as { count?: number }).count === 150);
    assert.ok(batch, 'the batch record');
    assert.equal((batch.params as { truncated: boolean }).truncated, true);
  });
});
