/**
 * Event benchmarks (PERFORMANCE.md, last two rows), on the simulator's binary API (in this
 * process), our client, the link-event engine, the fsynced spool and a real Kafka broker
 * (acks=all, loopback):
 *
 * - benchEventLatency: one interface state change at a time, at a steady rate; per event the
 *   time from the change in VPP (the simulator's model) to Kafka's ack, split into the parts
 *   inside the exporter: VPP's event received -> accepted in the spool, accepted -> handed to
 *   Kafka, Kafka send -> ack. The first is split again into what it waits for (VPP's reply to
 *   the read-back dump; the spool's write + sync, from the spool's own commit timing) and the
 *   rest, the exporter's own work. A probe in another process writes like the spool (O_DSYNC,
 *   preallocated, 700 bytes every 5 ms) into the same directory during the run: the disk's own
 *   latency at that time, with the broker and the spool writing too.
 * - benchEventStorm: N interfaces go admin down at once, then up again (about 4N link events:
 *   the admin and the link state change each way; twice as many Kafka messages with the
 *   compacted state topic): events/s from the first change to the last ack once every event is
 *   acknowledged, then every event id read back from the topic (zero loss), beside a bare
 *   kafkajs producer (stock, in a process of its own: bench/bare-kafkajs.ts) sending the same batches.
 *
 *   npm run build:ts && node --max-semi-space-size=4 dist/bench/events.js [--brokers 127.0.0.1:9092] [--quick]
 *
 * (`npm run bench -- events` runs it so, with the exporter's V8 flags: bench/util.ts EXPORTER_NODE_FLAGS.)
 *
 * Without --brokers a broker is started (scripts/peers/install-kafka.sh must have run). The
 * simulator runs in a child process, as VPP would, so that the exporter's process carries only
 * the exporter (the simulator in the same process put its own work and collections into the
 * "inside the exporter" figures: a loop delay p99 of 3 ms). The latency's change is timed by the
 * simulator where it makes it, with performance.timeOrigin + performance.now(), which the two
 * processes agree on to within about 0.03 ms (IPC round trips bracket a child's reading).
 */
import path from 'node:path';
import fs from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { execFile, fork } from 'node:child_process';
import { promisify } from 'node:util';
import { createVppClient, type VppClient } from '../src/binapi/index.js';
import { LinkEvents, type LinkEventData, type LinkEventSource } from '../src/events/index.js';
import { startEventPipeline, type EventPipeline, type KafkaCompression, type OutboundMessage, type PublishedBatch, type StreamName } from '../src/sink/index.js';
// After our sink: it patches kafkajs before kafkajs loads (src/sink/kafkajs-batch-fix.ts).
import { Kafka, logLevel } from 'kafkajs';
import { startStatsSimulator, type StatsSimulatorHandle } from '../src/sim/index.js';

export interface LatencyResult {
  events: number;
  /** The disk probe in another process during the run (O_DSYNC write of 700 bytes, preallocated, every 5 ms). */
  diskProbe: [number, number];
  /** Milliseconds: [p50, p99] */
  total: [number, number];
  received: [number, number];
  toSpool: [number, number];
  /** Parts of toSpool: waiting for VPP's read-back reply, waiting for the disk (the spool's write + sync), the rest. */
  readBack: [number, number];
  disk: [number, number];
  own: [number, number];
  toSend: [number, number];
  kafka: [number, number];
}

export interface StormResult {
  interfaces: number;
  events: number;
  messages: number;
  seconds: number;
  eventsPerSecond: number;
  lost: number;
  fullDumps: number;
  spoolCommits: number;
  /** Kafka sends (one per publisher batch) and the time spent waiting for their acks. */
  kafkaBatches: number;
  kafkaSendSeconds: number;
  /** The peer in the same run: the same batches sent by a bare kafkajs producer (idempotent, acks=all), events/s. */
  kafkajsCeiling: number;
}

/** The simulator in a child process, driven over IPC. */
interface SimSide {
  /** Sets every interface but local0 admin down (false) or up (true); resolves with how many changed. */
  wave(adminUp: boolean): Promise<number>;
  /** The sw_if_index of every port (hardware interface but local0). */
  ports(): Promise<number[]>;
  /**
   * Toggles a port's admin state; resolves with when the simulator made the change, in this
   * process's performance.now() time (the child's clock is taken through performance.timeOrigin).
   */
  flip(sw: number): Promise<number>;
  stop(): Promise<void>;
}

interface Setup {
  sim: SimSide;
  /** sw_if_index -> how long the engine's last read-back dump of it took (ms). */
  dumpMs: Map<number, number>;
  /** The last spool commit's write + sync (ms). */
  lastCommitMs(): number;
  vpp: VppClient;
  pipeline: EventPipeline;
  le: LinkEvents;
  topics: Record<StreamName, string>;
  dir: string;
  close(): Promise<void>;
}

const execFileP = promisify(execFile);

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

function portsOf(model: StatsSimulatorHandle['model']): number[] {
  return model
    .list()
    .filter((x) => x.deviceClass !== 'local' && x.hwIfIndex !== null)
    .map((x) => x.swIfIndex);
}

/** Toggles a port's admin state; returns when, in performance.timeOrigin + performance.now() ms. */
function flipOn(model: StatsSimulatorHandle['model'], sw: number): number {
  const at = performance.timeOrigin + performance.now();
  model.setFlags(sw, { adminUp: !model.get(sw)!.adminUp });
  return at;
}

function waveOn(model: StatsSimulatorHandle['model'], adminUp: boolean): number {
  let n = 0;
  for (const x of model.list()) {
    if (x.deviceClass === 'local' || x.adminUp === adminUp) continue;
    model.setFlags(x.swIfIndex, adminUp ? { adminUp: true, linkUp: true } : { adminUp: false });
    n++;
  }
  return n;
}

/** The client as the link-event engine sees it, each dump timed (sw_if_index -> ms, the last one). */
function timedDumps(vpp: VppClient, dumpMs: Map<number, number>): LinkEventSource {
  return {
    get connected() {
      return vpp.connected;
    },
    subscribe: (name, listener) => vpp.subscribe(name, listener),
    wantInterfaceEvents: (enable) => vpp.wantInterfaceEvents(enable),
    async dump(name, fields) {
      const t0 = performance.now();
      try {
        return await vpp.dump(name, fields);
      } finally {
        dumpMs.set(fields.sw_if_index ?? -1, performance.now() - t0);
      }
    },
    on: vpp.on.bind(vpp),
    off: vpp.off.bind(vpp),
  };
}

/** A process writing like the spool into `dir` (this file with --disk-probe) until stopped; resolves with [p50, p99] ms. */
function diskProbe(dir: string): { stop(): Promise<[number, number]> } {
  const child = fork(fileURLToPath(import.meta.url), ['--disk-probe', dir], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const result = new Promise<[number, number]>((resolve, reject) => {
    child.once('message', (m) => resolve(m as [number, number]));
    child.once('exit', (code) => reject(new Error(`disk probe exited (${code})`)));
  });
  result.catch(() => undefined);
  let stopped = false;
  return {
    stop() {
      // Once: a second call (the cleanup after a normal stop) must not write to a closed channel.
      if (!stopped && child.connected) child.send('stop');
      stopped = true;
      return result;
    },
  };
}

function runDiskProbe(dir: string): void {
  const file = path.join(dir, 'disk-probe');
  const size = 8 << 20;
  const fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_DSYNC);
  fs.writeSync(fd, Buffer.alloc(size), 0, size, 0);
  const rec = Buffer.alloc(700, 1);
  const t: number[] = [];
  let pos = 0;
  const timer = setInterval(() => {
    const t0 = performance.now();
    fs.writeSync(fd, rec, 0, rec.length, pos);
    t.push(performance.now() - t0);
    pos = (pos + rec.length) % (size - rec.length);
  }, 5);
  process.on('message', () => {
    clearInterval(timer);
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
    process.send!([pct(t, 50), pct(t, 99)], () => process.exit(0));
  });
  process.on('disconnect', () => process.exit(0));
}

/** The simulator in a child process (this file with --sim-child), driven over IPC: like VPP, it has a CPU of its own. */
async function childSim(interfaces: number, apiSocketPath: string): Promise<SimSide> {
  const child = fork(fileURLToPath(import.meta.url), ['--sim-child', JSON.stringify({ interfaces, apiSocketPath })], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  type Reply = { type: string; n?: number; at?: number; ports?: number[] };
  const replies: { resolve: (m: Reply) => void; reject: (e: Error) => void }[] = [];
  child.on('message', (m) => replies.shift()?.resolve(m as Reply));
  child.once('exit', (code) => {
    for (const r of replies.splice(0)) r.reject(new Error(`simulator child exited (${code})`));
  });
  const next = (): Promise<Reply> => new Promise((resolve, reject) => replies.push({ resolve, reject }));
  await next(); // ready
  return {
    async wave(adminUp) {
      const r = next();
      child.send({ type: 'wave', adminUp });
      return (await r).n ?? 0;
    },
    async ports() {
      const r = next();
      child.send({ type: 'ports' });
      return (await r).ports ?? [];
    },
    async flip(sw) {
      const r = next();
      child.send({ type: 'flip', sw });
      return (await r).at! - performance.timeOrigin;
    },
    async stop() {
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.send({ type: 'stop' });
      await gone;
    },
  };
}

async function setup(
  brokers: string,
  compression: KafkaCompression,
  interfaces: number,
  prefix: string,
  onAccepted: (events: readonly LinkEventData[], receivedAt: readonly number[]) => void,
  onPublished: (b: PublishedBatch) => void,
): Promise<Setup> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vpp-exporter-bench-events-'));
  const apiSocketPath = path.join(dir, 'api.sock');
  const sim = await childSim(interfaces, apiSocketPath);
  const vpp = createVppClient({ socketPath: apiSocketPath, clientName: 'bench-events', timeoutMs: 30_000 });
  const topics = { 'link-events': `${prefix}.link-events`, 'config-actions': `${prefix}.config-actions`, 'interface-state': `${prefix}.interface-state` };
  const pipeline = await startEventPipeline({
    spoolDir: path.join(dir, 'spool'),
    kafka: { brokers: [brokers], clientId: 'bench-events', topics, compression, createTopics: true, partitions: 6, replicationFactor: -1 },
    publisher: { onPublished },
  });
  await vpp.waitConnected(10_000);
  const dumpMs = new Map<number, number>();
  let commitMs = NaN;
  // Emitted before the commit's appends resolve: onAccepted reads the commit that accepted its events.
  pipeline.spool.on('commit', (c) => {
    if (c !== null) commitMs = c.seconds * 1000;
  });
  const le = await LinkEvents.start({ vpp: timedDumps(vpp, dumpMs), sink: pipeline, instance: 'bench', stateDir: path.join(dir, 'link-state'), onAccepted });
  return {
    sim,
    dumpMs,
    lastCommitMs: () => commitMs,
    vpp,
    pipeline,
    le,
    topics,
    dir,
    async close() {
      await le.stop();
      await vpp.close();
      await pipeline.close();
      await sim.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function until(pred: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** One change at a time (`rate` per second, default 200), `events` of them (default 2000). */
export async function benchEventLatency(
  brokers: string,
  o: { events?: number; rate?: number; interfaces?: number; compression?: KafkaCompression } = {},
): Promise<LatencyResult> {
  const events = o.events ?? 2000;
  const rate = o.rate ?? 200;
  // sw_if_index -> when the change was made (performance.now()); filled in when the simulator
  // says, which for a child can be after the event has gone through the exporter.
  const pendingEmit = new Map<number, { emit: number }>();
  type Accepted = { at: { emit: number }; received: number; accepted: number; readBack: number; disk: number };
  const byId = new Map<string, Accepted>();
  const done: (Accepted & { sent: number; acked: number })[] = [];
  let warm = true;
  const s = await setup(
    brokers,
    o.compression ?? 'none',
    o.interfaces ?? 64,
    `bench-lat-${Date.now()}`,
    (evs, receivedAt) => {
      const now = performance.now();
      evs.forEach((e, i) => {
        const at = pendingEmit.get(e.sw_if_index);
        if (at === undefined || e.reason !== 'event') return;
        pendingEmit.delete(e.sw_if_index);
        byId.set(e.event_id, { at, received: receivedAt[i], accepted: now, readBack: s.dumpMs.get(e.sw_if_index) ?? NaN, disk: s.lastCommitMs() });
      });
    },
    (b) => {
      for (const ev of b.events) {
        const x = byId.get(ev.id);
        if (x === undefined) continue;
        byId.delete(ev.id);
        if (!warm) done.push({ ...x, sent: b.sentAt, acked: b.ackedAt });
      }
    },
  );
  let probe: ReturnType<typeof diskProbe> | undefined;
  let diskProbeMs: [number, number];
  try {
    await until(() => s.le.stats.resyncs >= 1 && !s.le.busy && s.pipeline.spool.stats.depth === 0, 60_000, 'the initial resync');
    const ports = await s.sim.ports();
    const warmup = Math.min(200, Math.floor(events / 5));
    for (let i = 0; i < warmup + events; i++) {
      if (i === warmup) {
        await until(() => byId.size === 0, 30_000, 'the warm-up');
        warm = false;
        probe = diskProbe(s.dir);
      }
      const sw = ports[i % ports.length];
      await until(() => !pendingEmit.has(sw), 30_000, 'the previous change of a port');
      const at = { emit: NaN };
      pendingEmit.set(sw, at);
      at.emit = await s.sim.flip(sw);
      await new Promise((r) => setTimeout(r, 1000 / rate));
    }
    await until(() => done.length >= events, 60_000, 'every event acknowledged');
    diskProbeMs = await probe!.stop();
  } finally {
    if (probe !== undefined) await probe.stop().catch(() => undefined);
    await s.close();
  }
  const pair = (f: (x: (typeof done)[number]) => number): [number, number] => {
    const xs = done.map(f);
    return [pct(xs, 50), pct(xs, 99)];
  };
  return {
    events: done.length,
    diskProbe: diskProbeMs,
    total: pair((x) => x.acked - x.at.emit),
    received: pair((x) => x.received - x.at.emit),
    toSpool: pair((x) => x.accepted - x.received),
    readBack: pair((x) => x.readBack),
    disk: pair((x) => x.disk),
    own: pair((x) => x.accepted - x.received - x.readBack - x.disk),
    toSend: pair((x) => x.sent - x.accepted),
    kafka: pair((x) => x.acked - x.sent),
  };
}

/** `interfaces` go admin down at once, then up (default 10000): events/s to Kafka acks, zero loss checked. */
export async function benchEventStorm(brokers: string, o: { interfaces?: number; verify?: boolean; compression?: KafkaCompression } = {}): Promise<StormResult> {
  const n = o.interfaces ?? 10_000;
  const accepted = new Set<string>();
  let acked = 0;
  let messages = 0;
  let counting = false;
  let lastAck = 0;
  let batches = 0;
  let sendMs = 0;
  const sentBatches: OutboundMessage[][] = [];
  const s = await setup(
    brokers,
    o.compression ?? 'none',
    n,
    `bench-storm-${Date.now()}`,
    (evs) => {
      if (counting) for (const e of evs) accepted.add(e.event_id);
    },
    (b) => {
      if (!counting) return;
      batches++;
      sendMs += b.ackedAt - b.sentAt;
      sentBatches.push(b.events.flatMap((e) => e.messages));
      for (const ev of b.events) {
        if (accepted.has(ev.id)) {
          acked++;
          messages += ev.messages.length;
        }
      }
      lastAck = performance.now();
    },
  );
  let result: StormResult;
  try {
    await until(() => s.le.stats.resyncs >= 1 && !s.le.busy && s.pipeline.spool.stats.depth === 0, 120_000, 'the initial resync');
    const fullDumps = s.le.stats.fullDumps;
    const commits = s.pipeline.spool.stats.commits;
    counting = true;
    const t0 = performance.now();
    const down = await s.sim.wave(false);
    await until(() => accepted.size >= down, 120_000, 'the down wave accepted');
    const up = await s.sim.wave(true);
    // Over when every event VPP sent is decided, accepted and acknowledged: the engine idle (no
    // events pending, none waiting for an up event), the spool drained, and still so 500 ms later
    // (events still in the socket would make it busy again). The time is that of the last ack.
    const done = (): boolean => accepted.size >= down + up && !s.le.busy && s.pipeline.spool.stats.depth === 0 && acked >= accepted.size;
    for (let quietSince = NaN; ; await new Promise((r) => setTimeout(r, 10))) {
      if (!done()) quietSince = NaN;
      else if (Number.isNaN(quietSince)) quietSince = performance.now();
      else if (performance.now() - quietSince >= 500) break;
      if (performance.now() - t0 > 120_000) throw new Error('bench: timed out waiting for every event acknowledged');
    }
    const seconds = (lastAck - t0) / 1000;
    let lost = 0;
    if (o.verify !== false) {
      const ids = await readIds(brokers, s.topics['link-events'], accepted);
      for (const id of accepted) if (!ids.has(id)) lost++;
    }
    result = {
      interfaces: down,
      events: accepted.size,
      messages,
      seconds,
      eventsPerSecond: accepted.size / seconds,
      lost,
      fullDumps: s.le.stats.fullDumps - fullDumps,
      spoolCommits: s.pipeline.spool.stats.commits - commits,
      kafkaBatches: batches,
      kafkaSendSeconds: sendMs / 1000,
      kafkajsCeiling: (accepted.size / (await bareKafkajs(brokers, s.topics, sentBatches, o.compression ?? 'none', s.dir))) * 1000,
    };
  } finally {
    await s.close();
  }
  return result;
}

/**
 * Sends `batches` again with a bare kafkajs producer (to fresh topics) in a process of its own
 * (bench/bare-kafkajs.ts: stock kafkajs, none of our patches); returns the milliseconds.
 */
async function bareKafkajs(
  brokers: string,
  topics: Record<StreamName, string>,
  batches: readonly (readonly OutboundMessage[])[],
  compression: KafkaCompression,
  dir: string,
): Promise<number> {
  const bare = (t: string): string => `${t}.bare`;
  const job = path.join(dir, 'bare-kafkajs.json');
  fs.writeFileSync(
    job,
    JSON.stringify({
      brokers,
      compression,
      topics: Object.values(topics).map(bare),
      batches: batches.map((b) => b.map((m) => ({ topic: bare(topics[m.stream]), key: m.key, value: m.value, headers: m.headers }))),
    }),
  );
  const { stdout } = await execFileP(process.execPath, [fileURLToPath(new URL('./bare-kafkajs.js', import.meta.url)), job], { maxBuffer: 1 << 20 });
  return (JSON.parse(stdout) as { ms: number }).ms;
}

/** Reads the topic from the beginning until every id of `want` came back (or 60 s). */
async function readIds(brokers: string, topic: string, want: ReadonlySet<string>): Promise<Set<string>> {
  const kafka = new Kafka({ clientId: 'bench-verify', brokers: [brokers], logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `bench-verify-${Date.now()}`, maxWaitTimeInMs: 100 });
  const ids = new Set<string>();
  let found = 0;
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, 60_000);
      consumer
        .run({
          eachBatch: ({ batch }) => {
            for (const m of batch.messages) {
              if (m.value === null) continue;
              const id = (JSON.parse(m.value.toString()) as { event_id: string }).event_id;
              if (want.has(id) && !ids.has(id)) found++;
              ids.add(id);
            }
            if (found >= want.size) {
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
  return ids;
}

const ms = (x: number): string => (x < 1 ? `${(x * 1000).toFixed(0)} us` : `${x.toFixed(2)} ms`);

export function latencyTable(r: LatencyResult): string {
  const row = (what: string, v: [number, number]): string => `| ${what} | ${ms(v[0])} | ${ms(v[1])} |\n`;
  return (
    `| link event, ${r.events} events, one at a time | p50 | p99 |\n|---|---|---|\n` +
    row('VPP change -> Kafka ack (acks=all), goal p50 <= 5 ms, p99 <= 25 ms', r.total) +
    row('  VPP change -> sw_interface_event received', r.received) +
    row('  event received -> accepted in the spool (durable)', r.toSpool) +
    row('    waiting for VPP: the read-back dump, request -> reply', r.readBack) +
    row('    waiting for the disk: the spool commit, write + sync', r.disk) +
    row("    the exporter's own work: the rest", r.own) +
    row('  accepted -> handed to Kafka', r.toSend) +
    row('  Kafka send -> ack', r.kafka) +
    row('the disk meanwhile: a probe in another process, O_DSYNC write of 700 bytes every 5 ms', r.diskProbe)
  );
}

export function stormTable(r: StormResult): string {
  return (
    `| storm | interfaces | link events | Kafka messages | seconds | events/s (goal >= 20k) | lost | full dumps | spool commits | Kafka batches (time in sends) | bare kafkajs, same batches: events/s | ratio |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n` +
    `| all admin down, then up | ${r.interfaces} | ${r.events} | ${r.messages} | ${r.seconds.toFixed(2)} | ${Math.round(r.eventsPerSecond)} | ${r.lost} | ${r.fullDumps} | ${r.spoolCommits} | ${r.kafkaBatches} (${r.kafkaSendSeconds.toFixed(2)} s) | ${Math.round(r.kafkajsCeiling)} | ${(r.eventsPerSecond / r.kafkajsCeiling).toFixed(2)} |\n`
  );
}

if (process.argv[2] === '--disk-probe') {
  runDiskProbe(process.argv[3]);
} else if (process.argv[2] === '--sim-child') {
  const o = JSON.parse(process.argv[3]) as { interfaces: number; apiSocketPath: string };
  const h = await startStatsSimulator({ interfaces: o.interfaces, workers: 0, rate: 0, seed: 1, apiSocketPath: o.apiSocketPath, flapIntervalMs: 0 });
  process.on('message', (m) => {
    const msg = m as { type: string; adminUp?: boolean; sw?: number };
    if (msg.type === 'wave') process.send!({ type: 'waved', n: waveOn(h.model, msg.adminUp === true) });
    else if (msg.type === 'ports') process.send!({ type: 'ports', ports: portsOf(h.model) });
    else if (msg.type === 'flip') process.send!({ type: 'flipped', at: flipOn(h.model, msg.sw!) });
    else if (msg.type === 'stop') void h.stop().then(() => process.exit(0));
  });
  process.on('disconnect', () => process.exit(0));
  process.send!({ type: 'ready' });
} else if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const arg = (name: string): string | undefined => {
    const i = process.argv.indexOf(name);
    return i >= 0 ? process.argv[i + 1] : undefined;
  };
  const quick = process.argv.includes('--quick');
  let brokers = arg('--brokers');
  let stop: (() => Promise<void>) | undefined;
  if (brokers === undefined) {
    const { startKafka } = await import('../test/helpers/kafka.js');
    const broker = await startKafka();
    brokers = broker.brokers;
    stop = broker.stop;
  }
  try {
    process.stdout.write(`## Link events to Kafka (acks=all, loopback broker; node ${process.version} ${process.execArgv.join(' ')})\n\n`);
    process.stdout.write(latencyTable(await benchEventLatency(brokers, { events: quick ? 500 : 2000 })) + '\n');
    process.stdout.write(stormTable(await benchEventStorm(brokers, { interfaces: quick ? 2000 : 10_000 })) + '\n');
  } finally {
    await stop?.();
  }
  process.exit(0);
}
