/**
 * A consumer of vpp-exporter's link events (docs/events.md), with kafkajs:
 *
 * 1. reads the compacted interface-state topic from the beginning up to its current end, to learn
 *    every interface's state without replaying history (a tombstone means: deleted);
 * 2. then follows the link-events topic in a consumer group and reacts to each change, keeping
 *    the table up to date. Deliveries are at least once: an event already seen (same event_id),
 *    or not newer than what this consumer has for that interface (seq; the state table counts
 *    too unless --from-beginning asks to replay the history), is skipped.
 *
 *   npm run build:ts
 *   node dist/examples/link-event-consumer.js --brokers 127.0.0.1:9092 [--group link-watch]
 *     [--link-events vpp.link-events] [--interface-state vpp.interface-state] [--from-beginning]
 */
import { Kafka, logLevel, type IHeaders } from 'kafkajs';

interface LinkEvent {
  event_id: string;
  instance: string;
  sw_if_index: number;
  interface: string;
  admin_up: boolean;
  link_up: boolean;
  deleted: boolean;
  change: 'created' | 'deleted' | 'changed';
  previous: { interface: string; admin_up: boolean; link_up: boolean } | null;
  seq: number;
  time: string;
  reason: 'event' | 'resync';
  transient: boolean;
}

interface InterfaceState {
  instance: string;
  sw_if_index: number;
  interface: string;
  admin_up: boolean;
  link_up: boolean;
  seq: number;
  time: string;
}

function arg(name: string, dflt?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
}

function header(h: IHeaders | undefined, name: string): string | undefined {
  const v = h?.[name];
  if (v === undefined) return undefined;
  return Buffer.isBuffer(v) ? v.toString() : Array.isArray(v) ? String(v[0]) : String(v);
}

const brokers = (arg('brokers') ?? '127.0.0.1:9092').split(',');
const linkTopic = arg('link-events', 'vpp.link-events')!;
const stateTopic = arg('interface-state', 'vpp.interface-state')!;
const groupId = arg('group', 'link-event-consumer')!;
/** Replay the link-events history too (else: what the state table already covers is skipped). */
const fromBeginning = process.argv.includes('--from-beginning');

const kafka = new Kafka({ clientId: 'link-event-consumer', brokers, logLevel: logLevel.WARN });

/** key `<instance>/<sw_if_index>` -> state. */
const table = new Map<string, InterfaceState>();
/** The last seq applied per key, and a bounded memory of event ids already handled. */
const lastSeq = new Map<string, number>();
const seen = new Set<string>();
const SEEN_MAX = 100_000;

function remember(id: string): void {
  seen.add(id);
  if (seen.size > SEEN_MAX) seen.delete(seen.values().next().value!);
}

const state = (s: { admin_up: boolean; link_up: boolean }): string => `${s.admin_up ? 'up' : 'down'}/${s.link_up ? 'up' : 'down'}`;

/** Step 1: the compacted topic from the beginning to its end as of now. */
async function loadStates(): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map<number, number>();
  try {
    for (const p of await admin.fetchTopicOffsets(stateTopic)) if (Number(p.high) > Number(p.low)) ends.set(p.partition, Number(p.high) - 1);
  } finally {
    await admin.disconnect();
  }
  if (ends.size === 0) return;
  // A throw-away group: only to read the topic once from the start.
  const consumer = kafka.consumer({ groupId: `${groupId}-state-${process.pid}-${Date.now()}` });
  await consumer.connect();
  await consumer.subscribe({ topic: stateTopic, fromBeginning: true });
  const done = new Promise<void>((resolve, reject) => {
    consumer
      .run({
        eachMessage: ({ partition, message }) => {
          const key = message.key?.toString();
          if (key !== undefined) {
            if (message.value === null) table.delete(key); // tombstone: the interface was deleted
            else {
              const s = JSON.parse(message.value.toString()) as InterfaceState;
              table.set(key, s);
              // Link events up to this seq are already reflected in the table.
              if (!fromBeginning) lastSeq.set(key, Math.max(lastSeq.get(key) ?? 0, s.seq));
            }
          }
          if (Number(message.offset) >= (ends.get(partition) ?? -1)) ends.delete(partition);
          if (ends.size === 0) resolve();
          return Promise.resolve();
        },
      })
      .catch(reject);
  });
  await done;
  await consumer.disconnect();
}

/** Step 2: react to each link event. */
function onLinkEvent(key: string, e: LinkEvent, type: string | undefined): void {
  if (type !== 'io.fd.vpp.link-event.v1') return; // another kind of event on this topic
  if (seen.has(e.event_id) || e.seq <= (lastSeq.get(key) ?? 0)) return; // a redelivery
  remember(e.event_id);
  lastSeq.set(key, e.seq);
  const what = e.transient ? ' (transient: a flap faster than the exporter read the state back)' : '';
  if (e.change === 'deleted') {
    table.delete(key);
    console.log(`${e.time} ${e.instance} ${e.interface} [${e.sw_if_index}] deleted (${e.reason})`);
    return;
  }
  table.set(key, { instance: e.instance, sw_if_index: e.sw_if_index, interface: e.interface, admin_up: e.admin_up, link_up: e.link_up, seq: e.seq, time: e.time });
  if (e.change === 'created') {
    console.log(`${e.time} ${e.instance} ${e.interface} [${e.sw_if_index}] created ${state(e)} (${e.reason})`);
  } else if (e.previous?.link_up === true && !e.link_up && e.admin_up) {
    // The case worth waking someone up for: an admin-up interface lost its link.
    console.log(`${e.time} ALERT ${e.instance} ${e.interface} [${e.sw_if_index}] link DOWN${what} (${e.reason})`);
  } else {
    console.log(`${e.time} ${e.instance} ${e.interface} [${e.sw_if_index}] ${e.previous ? state(e.previous) : '?'} -> ${state(e)}${what} (${e.reason})`);
  }
}

async function main(): Promise<void> {
  await loadStates();
  console.log(`${table.size} interfaces known from ${stateTopic}:`);
  for (const [key, s] of [...table].sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))) {
    console.log(`  ${key.padEnd(24)} ${s.interface.padEnd(28)} ${state(s)}`);
  }
  const consumer = kafka.consumer({ groupId });
  await consumer.connect();
  await consumer.subscribe({ topic: linkTopic, fromBeginning });
  const stop = (): void => {
    consumer.disconnect().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await consumer.run({
    eachMessage: ({ message }) => {
      const key = message.key?.toString();
      if (key !== undefined && message.value !== null) onLinkEvent(key, JSON.parse(message.value.toString()) as LinkEvent, header(message.headers, 'ce_type'));
      return Promise.resolve();
    },
  });
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
