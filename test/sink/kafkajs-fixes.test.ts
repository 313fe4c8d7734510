// Our kafkajs 2.2.4 patches (src/sink/kafkajs-encoder-fix.ts, kafkajs-batch-fix.ts) change speed,
// not bytes: a produce request (plain and gzip; tombstones, unicode, values above 4 KiB, many
// headers, some of them lists or bytes, which take kafkajs' own record encoder) and the grouping
// of messages by partition, made in this process (patched, as the exporter runs) and in a child
// process running stock kafkajs, must be identical.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { KAFKAJS_BATCH_FIX, KAFKAJS_ENCODER_FIX } from '../../src/sink/kafka.js';
import { crc32c, groupMessagesPerPartition } from '../../src/sink/kafkajs-batch-fix.js';
import { REPO_ROOT } from '../helpers/paths.js';

/** CommonJS run by both processes: prints what kafkajs makes of a fixed set of messages. */
const SAMPLE = `
const Produce = require('kafkajs/src/protocol/requests/produce/v3/request.js');
const group = require('kafkajs/src/producer/groupMessagesPerPartition.js');
const { Partitioners, CompressionTypes } = require('kafkajs');
const messages = [];
for (let i = 0; i < 700; i++) {
  const headers = { ce_specversion: '1.0', ce_id: 'id-' + i, ce_source: '/vpp-exporter/edge-' + (i % 3), ce_type: 'io.fd.vpp.link-event.v1', ce_time: '2026-11-26T16:00:00.' + String(i).padStart(3, '0') + 'Z' };
  if (i % 5 !== 0) headers['content-type'] = 'application/json';
  if (i % 11 === 0) headers['x-ünïcode'] = 'vàlue-' + 'é'.repeat(i % 200);
  if (i % 13 === 0) headers['x-list'] = ['a', 'b' + i];
  if (i % 17 === 0) headers['x-bytes'] = Buffer.from([0, 255, i & 255]);
  const value = i % 5 === 0 ? null : JSON.stringify({ i, name: 'GigabitEthernet0/0/' + i, pad: 'x'.repeat(i % 97 === 0 ? 5000 + i : i % 300) });
  messages.push({ key: 'edge-' + (i % 3) + '/' + (i % 64), value, headers, timestamp: String(1795708800000 + (i % 17)) });
}
const partitioner = Partitioners.DefaultPartitioner();
const partitionMetadata = [0, 1, 2, 3, 4, 5].map((partitionId) => ({ partitionId, leader: 1 }));
const byPartition = group({ topic: 'vpp.link-events', partitionMetadata, messages, partitioner });
const grouping = Object.fromEntries(Object.entries(byPartition).map(([p, ms]) => [p, ms.map((m) => messages.indexOf(m))]));
(async () => {
  const out = { grouping, requests: [] };
  for (const compression of [CompressionTypes.None, CompressionTypes.GZIP]) {
    const topicData = [{ topic: 'vpp.link-events', partitions: Object.entries(byPartition).map(([p, ms]) => ({ partition: Number(p), firstSequence: 7, messages: ms })) }];
    const req = Produce({ acks: -1, timeout: 30000, producerId: 4242, producerEpoch: 1, compression, topicData });
    out.requests.push((await req.encode()).buffer.toString('base64'));
  }
  (typeof emit === 'function' ? emit : (text) => process.stdout.write(text))(JSON.stringify(out));
})();
`;

function stock(): { grouping: Record<string, number[]>; requests: string[] } {
  const out = execFileSync(process.execPath, ['--input-type=commonjs', '-e', SAMPLE], { cwd: REPO_ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });
  return JSON.parse(out) as { grouping: Record<string, number[]>; requests: string[] };
}

async function patched(): Promise<{ grouping: Record<string, number[]>; requests: string[] }> {
  const require = createRequire(`${REPO_ROOT}/`);
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- the same source the stock child runs, here against the patched kafkajs
  const run = new Function('require', 'emit', SAMPLE) as (r: NodeJS.Require, emit: (text: string) => void) => void;
  const text = await new Promise<string>((resolve) => run(require, resolve));
  return JSON.parse(text) as { grouping: Record<string, number[]>; requests: string[] };
}

test('both kafkajs patches are in place in the process the exporter runs (imported before kafkajs)', () => {
  assert.deepEqual(KAFKAJS_BATCH_FIX, { applied: true });
  assert.equal(KAFKAJS_ENCODER_FIX, true);
});

test('the commands load the patches too: nothing in their module graph loads kafkajs before src/sink/kafka.ts', () => {
  for (const command of ['run', 'demo']) {
    const probe = `await import(${JSON.stringify(`${REPO_ROOT}/dist/src/commands/${command}.js`)}); const k = await import(${JSON.stringify(`${REPO_ROOT}/dist/src/sink/kafka.js`)}); process.stdout.write(JSON.stringify([k.KAFKAJS_BATCH_FIX, k.KAFKAJS_ENCODER_FIX]));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', probe], { cwd: REPO_ROOT, encoding: 'utf8' });
    assert.deepEqual(JSON.parse(out), [{ applied: true }, true], command);
  }
});

test('a produce request and the partition grouping: the same bytes as stock kafkajs', async () => {
  const want = stock();
  const got = await patched();
  assert.deepEqual(got.grouping, want.grouping);
  assert.equal(Object.values(want.grouping).flat().length, 700);
  assert.equal(got.requests.length, 2);
  for (let i = 0; i < want.requests.length; i++) {
    assert.ok(Buffer.from(want.requests[i], 'base64').length > 100_000 / (i + 1) / 10, 'a request of some size');
    assert.equal(got.requests[i], want.requests[i], i === 0 ? 'uncompressed' : 'gzip');
  }
});

test('crc32c: the CRC-32C check values; grouping keeps order within a partition', () => {
  // RFC 3720 B.4 and the usual check value.
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  assert.equal(crc32c(Buffer.alloc(32, 0)), 0x8a9136aa);
  assert.equal(crc32c(Buffer.alloc(32, 0xff)), 0x62a8ab43);
  assert.equal(crc32c(Buffer.from(Array.from({ length: 32 }, (_, i) => i))), 0x46dd794e);
  assert.equal(crc32c(Buffer.alloc(0)), 0);
  const messages = [5, 3, 8, 1, 9, 2].map((n) => ({ n }));
  const g = groupMessagesPerPartition({ topic: 't', partitionMetadata: [0, 1], messages, partitioner: ({ message }) => (message as { n: number }).n % 2 });
  assert.deepEqual(g, { 0: [{ n: 8 }, { n: 2 }], 1: [{ n: 5 }, { n: 3 }, { n: 1 }, { n: 9 }] });
  assert.deepEqual(groupMessagesPerPartition({ topic: 't', partitionMetadata: [], messages, partitioner: () => 0 }), {});
});
