// The exporter killed -9 at random points during an event storm (RELIABILITY.md D.17): the event
// pipeline runs in a child process (pipeline-child.ts) against a real broker and is SIGKILLed
// several times, then started once more to drain. Every event it had reported accepted (fsynced)
// is consumed at least once, a re-sent event keeps its id, sequence numbers keep increasing across
// the restarts, and per key they never go backwards for a consumer.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startKafka, type KafkaBroker } from '../helpers/kafka.js';
import { tmpDir } from '../helpers/paths.js';
import { checkPerKeyOrder, consumeAll } from './kafka-read.js';

const KILLS = 5;
const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'pipeline-child.js');

let broker: KafkaBroker;
before(async () => {
  broker = await startKafka();
});
after(async () => {
  await broker?.stop();
});

interface Run {
  lines: string[];
  exit: number | null;
  signal: NodeJS.Signals | null;
}

/** Runs the child; kills it `killAfterMs` after it is ready (undefined: waits for it to exit). */
function runChild(args: object, killAfterMs: number | undefined): Promise<Run> {
  return new Promise<Run>((resolve, reject) => {
    const c = spawn(process.execPath, [CHILD, JSON.stringify(args)], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, VPP_EXPORTER_LOG_LEVEL: 'error' } });
    let out = '';
    let err = '';
    let timer: NodeJS.Timeout | undefined;
    const guard = setTimeout(() => c.kill('SIGKILL'), 120_000);
    c.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (killAfterMs !== undefined && timer === undefined && out.includes('ready\n')) timer = setTimeout(() => c.kill('SIGKILL'), killAfterMs);
    });
    c.stderr.on('data', (d: Buffer) => (err += d.toString()));
    c.on('error', reject);
    c.on('close', (exit, signal) => {
      clearTimeout(timer);
      clearTimeout(guard);
      if (killAfterMs === undefined && exit !== 0) return reject(new Error(`child exited ${exit ?? signal}: ${err.slice(-2000)}`));
      const lines = out.split('\n');
      lines.pop(); // the last one may be cut by the kill
      resolve({ lines, exit, signal });
    });
  });
}

test(`exporter killed -9 ${KILLS} times during a storm: no accepted event lost, ids kept, seq increasing`, { timeout: 180_000 }, async (t) => {
  const dir = tmpDir();
  const args = { brokers: broker.brokers, dir, prefix: 'crash', interfaces: 100 };
  const accepted = new Map<string, { kind: string; key: string; seq?: number; round: number }>();
  const seqRanges: [number, number][] = [];
  for (let round = 0; round <= KILLS; round++) {
    const last = round === KILLS;
    const run = await runChild({ ...args, mode: last ? 'drain' : 'storm' }, last ? undefined : 300 + Math.floor(Math.random() * 1500));
    assert.ok(run.lines.includes('ready'), `round ${round} started`);
    assert.deepEqual(run.lines.filter((l) => l.startsWith('UNHANDLED')), []);
    let lo = Infinity;
    let hi = -Infinity;
    for (const l of run.lines) {
      const p = l.split(' ');
      if (p[0] === 'L') {
        const seq = Number(p[3]);
        accepted.set(p[1], { kind: 'link', key: p[2], seq, round });
        lo = Math.min(lo, seq);
        hi = Math.max(hi, seq);
      } else if (p[0] === 'C') accepted.set(p[1], { kind: 'action', key: p[2], round });
    }
    if (hi >= lo) seqRanges.push([lo, hi]);
    if (last) assert.ok(run.lines.includes('drained'));
  }
  // Sequence numbers of each run start above everything the runs before handed out.
  for (let i = 1; i < seqRanges.length; i++) assert.ok(seqRanges[i][0] > seqRanges[i - 1][1], `run ${i}: ${JSON.stringify(seqRanges)}`);

  const msgs = await consumeAll(broker.brokers, ['crash.link-events', 'crash.config-actions']);
  const consumed = new Map<string, number>();
  for (const m of msgs) {
    const v = JSON.parse(m.value!) as { event_id: string; request_id?: string; sw_if_index?: number };
    consumed.set(v.event_id, (consumed.get(v.event_id) ?? 0) + 1);
    const a = accepted.get(v.event_id);
    if (a !== undefined) assert.equal(m.key, a.key, 'same key');
  }
  const missing = [...accepted.keys()].filter((id) => !consumed.has(id));
  assert.deepEqual(missing, [], `${missing.length} of ${accepted.size} accepted events not consumed`);
  const duplicates = [...consumed.values()].reduce((n, c) => n + c - 1, 0);
  const order = checkPerKeyOrder(msgs.filter((m) => m.topic === 'crash.link-events'));
  t.diagnostic(
    `${KILLS} kills; accepted ${accepted.size} events (${[...accepted.values()].filter((a) => a.kind === 'link').length} link events); ` +
      `consumed ${msgs.length}; re-sent duplicates (same id) ${duplicates}; per-key order ok over ${order.keys} keys`,
  );
});
