// The event pipeline in a process of its own, for the test that kills it with SIGKILL:
//   node pipeline-child.js '{"brokers":"127.0.0.1:9092","dir":"/tmp/x","prefix":"crash","mode":"storm"}'
// It runs the link-event engine on an in-process VPP stand-in whose interfaces flap at random, and
// records config actions, into a Kafka pipeline whose spool lives in `dir` (kept across runs).
// Every event is printed once accepted (fsynced in the spool):
//   L <event_id> <key> <seq>      a link event
//   C <event_id> <request_id>     a config action
// stdout is a pipe, which Node writes synchronously on Linux: a printed line is out of the process.
// mode "storm" runs until killed; mode "drain" only starts (its resync may emit), waits until the
// spool is empty, prints "drained" and exits. Mode "outage" (the long-outage test) flaps and
// records at a steady pace (`intervalMs`), with Kafka's and the publisher's retries compressed
// (`compressed`), prints "M <publish failures> <kafka connected 0|1> <spool depth>" every 250 ms,
// and on "stop" (a line on stdin) stops flapping, drains, prints "drained" and exits.
import path from 'node:path';
import { createConfigActionRecorder, LinkEvents } from '../../src/events/index.js';
import { startEventPipeline } from '../../src/sink/index.js';
import { FakeVpp } from '../events/fake-vpp.js';

interface Args {
  brokers: string;
  dir: string;
  prefix: string;
  mode: 'storm' | 'drain' | 'outage';
  interfaces?: number;
  /** outage: pause between rounds of ten flaps and one config action. */
  intervalMs?: number;
  /** Retries of kafkajs and of the publisher in milliseconds instead of seconds (a long outage in a short test). */
  compressed?: boolean;
  /** The spool's in-memory tail (default: the spool's). */
  tailCacheBytes?: number;
}

const args = JSON.parse(process.argv[2]) as Args;
const instance = 'crash-vpp';
process.on('unhandledRejection', (e) => {
  process.stdout.write(`UNHANDLED ${String(e)}\n`);
});
const pipeline = await startEventPipeline({
  spoolDir: path.join(args.dir, 'spool'),
  kafka: {
    brokers: [args.brokers],
    clientId: 'crash-child',
    topics: { 'link-events': `${args.prefix}.link-events`, 'config-actions': `${args.prefix}.config-actions`, 'interface-state': `${args.prefix}.interface-state` },
    compression: 'none',
    createTopics: true,
    partitions: 3,
    replicationFactor: -1,
    ...(args.compressed === true ? { retries: 1, retryInitialMs: 10, retryMaxMs: 20, connectionTimeoutMs: 500, requestTimeoutMs: 2000 } : {}),
  },
  publisher: args.compressed === true ? { backoffInitialMs: 10, backoffMaxMs: 40 } : { backoffInitialMs: 50, backoffMaxMs: 500 },
  spool: args.tailCacheBytes !== undefined ? { tailCacheBytes: args.tailCacheBytes } : undefined,
});
const vpp = new FakeVpp(args.interfaces ?? 100);
const le = await LinkEvents.start({
  vpp,
  sink: pipeline,
  instance,
  stateDir: path.join(args.dir, 'link-state'),
  onAccepted: (evs) => {
    let out = '';
    for (const e of evs) out += `L ${e.event_id} ${instance}/${e.sw_if_index} ${e.seq}\n`;
    process.stdout.write(out);
  },
});
const record = createConfigActionRecorder({ sink: pipeline, instance });
process.stdout.write('ready\n');

async function drain(): Promise<never> {
  for (;;) {
    await le.idle();
    const s = pipeline.spool.stats;
    if (s.depth === 0 && pipeline.spool.unread === 0 && !le.busy) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  await le.stop();
  await pipeline.close();
  process.stdout.write('drained\n');
  process.exit(0);
}

if (args.mode === 'drain') await drain();

let stopping = false;
if (args.mode === 'outage') {
  setInterval(() => {
    const failures = pipeline.publisher.stats.failures;
    const connected = pipeline.transport.kind === 'kafka' && pipeline.transport.connected ? 1 : 0;
    process.stdout.write(`M ${failures} ${connected} ${pipeline.spool.stats.depth}\n`);
  }, 250);
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (d: string) => {
    if (d.includes('stop')) stopping = true;
  });
}

let n = 0;
while (!stopping) {
  for (let k = 0; k < 10; k++) {
    const sw = 1 + Math.floor(Math.random() * (vpp.interfaces.size - 1));
    const i = vpp.interfaces.get(sw);
    if (i !== undefined) vpp.setFlags(sw, Math.random() < 0.5 ? { linkUp: !i.linkUp } : { adminUp: !i.adminUp });
  }
  const requestId = `${process.pid}-${n++}`;
  const r = await record({ action: 'interface.set', params: { n }, principal: 'crash-test', retval: 0, error: null, durationMs: 0.1, requestId });
  if (r.accepted) process.stdout.write(`C ${r.eventId} ${requestId}\n`);
  await new Promise((res) => setTimeout(res, args.intervalMs ?? 2));
}
await drain();
