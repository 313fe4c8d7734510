// The link-event engine (src/events/link-events.ts) on an in-process VPP stand-in (and, for
// sub-interfaces, the simulator through the real client) and a real spool: subscribe, dump, emit differences; the true state read back after each event; transient
// flaps; creation and deletion; resync after a reconnect and after our own restart; sequence
// numbers that keep increasing; a full spool followed by a resync; every value against its schema.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import client from 'prom-client';
import path from 'node:path';
import { LinkEvents, LinkStateStore, transitions, uuidv7, waitForUpEvent, UUID_V7_PATTERN, createConfigActionRecorder, type LinkEventData } from '../../src/events/index.js';
import { startEventPipeline, type EventPipeline, type OutboundMessage } from '../../src/sink/index.js';
import { createVppClient } from '../../src/binapi/index.js';
import { startStatsSimulator } from '../../src/sim/index.js';
import { tmpDir } from '../helpers/paths.js';
import { CollectingTransport } from './collect.js';
import { FakeVpp } from './fake-vpp.js';
import { assertValid, schemaForStream } from './json-schema.js';

const INSTANCE = 'vpp-a';

interface Rig {
  vpp: FakeVpp;
  pipeline: EventPipeline;
  transport: CollectingTransport;
  le: LinkEvents;
  dir: string;
  events(): LinkEventData[];
  settle(): Promise<void>;
  stop(): Promise<void>;
}

async function rig(
  o: { vpp?: FakeVpp; dir?: string; transport?: CollectingTransport; maxBytes?: number; fullDumpThreshold?: number; deferMs?: number; registry?: client.Registry } = {},
): Promise<Rig> {
  const dir = o.dir ?? tmpDir();
  const vpp = o.vpp ?? new FakeVpp(4);
  const transport = o.transport ?? new CollectingTransport();
  const pipeline = await startEventPipeline({
    spoolDir: path.join(dir, 'spool'),
    transport,
    spool: o.maxBytes !== undefined ? { maxBytes: o.maxBytes } : undefined,
    publisher: { backoffInitialMs: 10, backoffMaxMs: 50 },
    registers: o.registry !== undefined ? [o.registry] : undefined,
  });
  const le = await LinkEvents.start({
    vpp,
    sink: pipeline,
    instance: INSTANCE,
    stateDir: path.join(dir, 'link-state'),
    retryMs: 20,
    deferMs: o.deferMs ?? 100,
    fullDumpThreshold: o.fullDumpThreshold,
  });
  const r: Rig = {
    vpp,
    pipeline,
    transport,
    le,
    dir,
    events: () => transport.of('link-events').map((m) => JSON.parse(m.value!) as LinkEventData),
    async settle() {
      // Until the engine is idle and everything accepted reached the transport, twice in a row.
      let quiet = 0;
      const deadline = Date.now() + 20_000;
      while (quiet < 2) {
        if (Date.now() > deadline) throw new Error('did not settle');
        await le.idle();
        await new Promise((res) => setTimeout(res, 5));
        const s = pipeline.spool.stats;
        quiet = s.depth === 0 && pipeline.spool.unread === 0 ? quiet + 1 : 0;
      }
    },
    async stop() {
      await le.stop();
      await pipeline.close();
    },
  };
  return r;
}

/** The state each interface has after the events (in order), as the consumer of link-events sees it. */
function lastStates(events: LinkEventData[]): Map<number, { name: string; adminUp: boolean; linkUp: boolean }> {
  const m = new Map<number, { name: string; adminUp: boolean; linkUp: boolean }>();
  for (const e of events) {
    if (e.deleted) m.delete(e.sw_if_index);
    else m.set(e.sw_if_index, { name: e.interface, adminUp: e.admin_up, linkUp: e.link_up });
  }
  return m;
}

function checkAllValid(messages: readonly OutboundMessage[]): void {
  for (const m of messages) {
    assert.equal(m.headers.ce_specversion, '1.0');
    assert.ok(m.headers.ce_id && m.headers.ce_source && m.headers.ce_type && m.headers.ce_time);
    if (m.value === null) {
      assert.equal(m.stream, 'interface-state', 'only interface-state has tombstones');
      continue;
    }
    assert.equal(m.headers['content-type'], 'application/json');
    const v = JSON.parse(m.value) as { event_id: string; time: string };
    assertValid(schemaForStream(m.stream), v);
    assert.equal(m.headers.ce_id, v.event_id);
    assert.equal(m.headers.ce_time, v.time);
  }
}

function checkSeqIncreasing(events: LinkEventData[]): void {
  for (let i = 1; i < events.length; i++) assert.ok(events[i].seq > events[i - 1].seq, `seq ${events[i - 1].seq} then ${events[i].seq}`);
}

test('first start: every interface is announced as created (resync), with keys, headers and the compacted state', async () => {
  const r = await rig();
  await r.settle();
  const evs = r.events();
  assert.deepEqual(
    evs.map((e) => [e.sw_if_index, e.interface, e.change, e.reason, e.previous, e.deleted]),
    [
      [0, 'local0', 'created', 'resync', null, false],
      [1, 'loop0', 'created', 'resync', null, false],
      [2, 'loop1', 'created', 'resync', null, false],
      [3, 'loop2', 'created', 'resync', null, false],
      [4, 'loop3', 'created', 'resync', null, false],
    ],
  );
  assert.deepEqual(
    evs.map((e) => e.seq),
    [1, 2, 3, 4, 5],
  );
  const le = r.transport.of('link-events');
  assert.deepEqual(
    le.map((m) => m.key),
    [0, 1, 2, 3, 4].map((i) => `${INSTANCE}/${i}`),
  );
  assert.equal(le[1].headers.ce_type, 'io.fd.vpp.link-event.v1');
  assert.equal(le[1].headers.ce_source, '/vpp-exporter/vpp-a');
  assert.equal(le[1].headers.ce_subject, '1');
  const st = r.transport.of('interface-state');
  assert.equal(st.length, 5);
  assert.equal(st[1].headers.ce_type, 'io.fd.vpp.interface-state.v1');
  assert.deepEqual(JSON.parse(st[1].value!), {
    event_id: evs[1].event_id,
    instance: INSTANCE,
    sw_if_index: 1,
    interface: 'loop0',
    admin_up: true,
    link_up: true,
    seq: 2,
    time: evs[1].time,
  });
  checkAllValid(r.transport.messages);
  assert.equal(r.vpp.wants, 1, 'subscribed once');
  await r.stop();
});

test('an event is a hint: the state emitted is the one read back (admin down with the link still up)', async () => {
  const r = await rig();
  await r.settle();
  const before = r.events().length;
  // VPP's flags for an admin down are 0 whatever the link does; the dump says the link is up.
  r.vpp.setFlags(1, { adminUp: false });
  await r.settle();
  const [e] = r.events().slice(before);
  assert.equal(e.change, 'changed');
  assert.equal(e.reason, 'event');
  assert.equal(e.transient, false);
  assert.deepEqual([e.admin_up, e.link_up], [false, true]);
  assert.deepEqual(e.previous, { interface: 'loop0', admin_up: true, link_up: true });
  assert.ok(Math.abs(Date.parse(e.time) - Date.now()) < 5000);
  assert.match(e.event_id, UUID_V7_PATTERN);
  assert.ok(r.vpp.dumps > r.vpp.fullDumps, 'read back with a per-interface dump');
  // The state read back, not the flags: a link flap of this admin-down interface shows the link.
  r.vpp.setFlags(1, { linkUp: false });
  await r.settle();
  const [l] = r.events().slice(before + 1);
  assert.deepEqual([l.admin_up, l.link_up, l.transient], [false, false, false]);
  await r.settle();
  assert.equal(r.events().length, before + 2);
  await r.stop();
});

test('a flap faster than the read-back is still delivered: the transient state, then the return', async () => {
  const r = await rig();
  await r.settle();
  const before = r.events().length;
  r.vpp.setFlags(2, { linkUp: false });
  r.vpp.setFlags(2, { linkUp: true });
  await r.settle();
  const evs = r.events().slice(before);
  assert.deepEqual(
    evs.map((e) => [e.sw_if_index, e.admin_up, e.link_up, e.transient, e.reason]),
    [
      [2, true, false, true, 'event'],
      [2, true, true, false, 'event'],
    ],
  );
  assert.deepEqual(evs[1].previous, { interface: 'loop1', admin_up: true, link_up: false });
  checkSeqIncreasing(evs);
  await r.stop();
});

test('a down whose up event is still on its way: the engine waits for it to tell which side flapped', async () => {
  const r = await rig({ deferMs: 300 });
  await r.settle();
  const before = r.events().length;
  // The link went down and up again before the read-back; VPP's down event (0) arrived, its
  // link-up event (2) not yet: 0 alone would mean "admin or link".
  r.vpp.emitRaw(1, 0);
  await new Promise((res) => setTimeout(res, 60));
  assert.equal(r.events().length, before, 'nothing decided yet');
  assert.equal(r.le.busy, true);
  r.vpp.emitRaw(1, 2);
  await r.settle();
  assert.deepEqual(
    r.events().slice(before).map((e) => [e.sw_if_index, e.admin_up, e.link_up, e.transient]),
    [
      [1, true, false, true],
      [1, true, true, false],
    ],
  );
  // The up event arrives while the down's read-back is still under way: both are decided together.
  const mid0 = r.events().length;
  r.vpp.emitRaw(3, 0);
  await new Promise((res) => setImmediate(res)); // the engine has taken the down and dumps now
  r.vpp.emitRaw(3, 2);
  await r.settle();
  assert.deepEqual(
    r.events().slice(mid0).map((e) => [e.sw_if_index, e.admin_up, e.link_up, e.transient]),
    [
      [3, true, false, true],
      [3, true, true, false],
    ],
  );
  // No up event at all: after deferMs the down is reported as VPP said it (both sides).
  const mid = r.events().length;
  r.vpp.emitRaw(2, 0);
  await r.settle();
  assert.deepEqual(
    r.events().slice(mid).map((e) => [e.sw_if_index, e.admin_up, e.link_up, e.transient]),
    [
      [2, false, false, true],
      [2, true, true, false],
    ],
  );
  await r.stop();
});

test('latency metrics: every spool commit is timed; a link event from VPP is timed from its arrival, a resync is not', async () => {
  const registry = new client.Registry();
  const r = await rig({ deferMs: 250, registry });
  await r.settle();
  /** One sample of the registry's text output, e.g. sample('vpp_exporter_spool_commit_seconds_count'). */
  const sample = async (name: string, le?: string): Promise<number> => {
    const body = await registry.metrics();
    const line = body.split('\n').find((l) => l.startsWith(le === undefined ? `${name} ` : `${name}{le="${le}"} `));
    assert.ok(line !== undefined, `no ${name} ${le ?? ''} in\n${body}`);
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  };
  const value = (suffix: string, le?: string): Promise<number> => sample(`vpp_exporter_link_event_accept_seconds_${suffix}`, le);
  const commits = (): number => r.pipeline.spool.stats.commits;
  const commitCount = (): Promise<number> => sample('vpp_exporter_spool_commit_seconds_count');
  // The first resync: committed and timed, but no VPP event to time it from.
  assert.ok(commits() >= 1);
  assert.equal(await commitCount(), commits());
  assert.equal(await value('count'), 0);
  r.vpp.setFlags(1, { adminUp: false });
  await r.settle();
  assert.equal(await value('count'), 1);
  const first = await value('sum');
  assert.ok(first > 0 && first < 0.25, `accept took ${first} s`);
  // A bare down waits for its up event (deferMs) before it is decided: that wait is in the time.
  r.vpp.emitRaw(2, 0);
  await r.settle();
  assert.equal(await value('count'), 3, 'the transient down and the return are both timed');
  const waited = (await value('sum')) - first;
  assert.ok(waited >= 2 * 0.25, `two events that waited 250 ms sum to ${waited} s`);
  assert.equal(await value('bucket', '0.1'), 1, 'only the first took less than 100 ms');
  assert.equal(await commitCount(), commits());
  await r.stop();
});

test('creation and deletion are events; the interface-state topic gets a tombstone; a reused index is a new interface', async () => {
  const r = await rig();
  await r.settle();
  const before = r.events().length;
  const sw = r.vpp.create('memif0/0');
  await r.settle();
  r.vpp.setFlags(sw, { adminUp: true, linkUp: true });
  await r.settle();
  r.vpp.delete(3);
  await r.settle();
  // Deleted and made again at the same index with the same name: both are announced.
  r.vpp.delete(4);
  r.vpp.create('loop3', 4);
  await r.settle();
  const evs = r.events().slice(before);
  assert.deepEqual(
    evs.map((e) => [e.sw_if_index, e.interface, e.change, e.deleted, e.admin_up, e.link_up]),
    [
      [sw, 'memif0/0', 'created', false, false, false],
      [sw, 'memif0/0', 'changed', false, true, true],
      [3, 'loop2', 'deleted', true, false, false],
      [4, 'loop3', 'deleted', true, false, false],
      [4, 'loop3', 'created', false, false, false],
    ],
  );
  assert.deepEqual(evs[2].previous, { interface: 'loop2', admin_up: true, link_up: true });
  const tomb = r.transport.of('interface-state').filter((m) => m.value === null);
  assert.deepEqual(
    tomb.map((m) => m.key),
    [`${INSTANCE}/3`, `${INSTANCE}/4`],
  );
  assert.equal(tomb[0].headers['content-type'], undefined);
  checkAllValid(r.transport.messages);
  await r.stop();
});

test('after a reconnect: re-subscribed first, then a dump; what changed meanwhile arrives as resync', async () => {
  const r = await rig();
  await r.settle();
  const before = r.events().length;
  r.vpp.disconnect();
  r.vpp.setSilently(1, { linkUp: false });
  r.vpp.setSilently(2, { adminUp: false, linkUp: false });
  r.vpp.interfaces.delete(4);
  r.vpp.setSilently(7, { name: 'tap0', adminUp: true, linkUp: true });
  const fullBefore = r.vpp.fullDumps;
  r.vpp.reconnect();
  await r.settle();
  assert.equal(r.vpp.fullDumps, fullBefore + 1);
  const evs = r.events().slice(before);
  assert.deepEqual(
    evs.map((e) => [e.sw_if_index, e.change, e.reason, e.admin_up, e.link_up]),
    [
      [1, 'changed', 'resync', true, false],
      [2, 'changed', 'resync', false, false],
      [4, 'deleted', 'resync', false, false],
      [7, 'created', 'resync', true, true],
    ],
  );
  assert.deepEqual(lastStates(r.events()), r.vpp.truth());
  await r.stop();
});

test('our own restart: nothing is emitted again, changes made meanwhile arrive as resync, seq keeps increasing', async () => {
  const dir = tmpDir();
  const vpp = new FakeVpp(3);
  const transport = new CollectingTransport();
  let r = await rig({ vpp, dir, transport });
  await r.settle();
  vpp.setFlags(1, { linkUp: false });
  await r.settle();
  const lastSeq = Math.max(...r.events().map((e) => e.seq));
  await r.stop();
  const count = r.events().length;

  vpp.setSilently(2, { adminUp: false });
  r = await rig({ vpp, dir, transport });
  await r.settle();
  const evs = r.events().slice(count);
  assert.deepEqual(
    evs.map((e) => [e.sw_if_index, e.change, e.reason, e.admin_up]),
    [[2, 'changed', 'resync', false]],
  );
  assert.ok(evs[0].seq > lastSeq, `seq ${evs[0].seq} after ${lastSeq}`);
  vpp.setFlags(3, { adminUp: false });
  await r.settle();
  checkSeqIncreasing(r.events());
  assert.deepEqual(lastStates(r.events()), vpp.truth());
  await r.stop();
});

test('sequence numbers never repeat, even when the last state never reached the disk', async () => {
  const dir = tmpDir();
  const a = await LinkStateStore.open({ dir, instance: 'x', seqBlock: 100 });
  assert.equal(await a.nextSeqs(5), 1);
  assert.equal(await a.nextSeqs(1), 6);
  // "Crash": no flush, no close; whatever was handed out came from the reservation on disk.
  const b = await LinkStateStore.open({ dir, instance: 'x', seqBlock: 100 });
  const next = await b.nextSeqs(1);
  assert.ok(next > 6, `restart hands out ${next}`);
  await b.close();
  await a.close();
});

test('link state store: snapshot when the journal grows, a torn last line is cut, another instance name starts empty', async () => {
  const dir = tmpDir();
  const a = await LinkStateStore.open({ dir, instance: 'x', journalLimit: 2000 });
  for (let i = 0; i < 200; i++) {
    await a.nextSeqs(1);
    a.commit(new Map([[i % 20, { swIfIndex: i % 20, name: `if${i % 20}`, adminUp: i % 2 === 0, linkUp: true }]]));
  }
  a.commit(new Map([[5, undefined]]));
  await a.close();
  assert.ok(fs.existsSync(path.join(dir, 'snapshot.json')), 'a snapshot was written');
  // The journal started over at the snapshot (it holds at most what came after, plus one group).
  assert.ok(fs.statSync(path.join(dir, 'journal.jsonl')).size < 200 * 60);
  fs.appendFileSync(path.join(dir, 'journal.jsonl'), '{"q":999,"i":[[1,"torn"');
  const b = await LinkStateStore.open({ dir, instance: 'x' });
  assert.equal(b.state.size, 19);
  assert.equal(b.state.has(5), false);
  assert.deepEqual(b.state.get(19), { swIfIndex: 19, name: 'if19', adminUp: false, linkUp: true });
  assert.ok(b.lastSeq >= 200);
  await b.close();
  assert.ok(!fs.readFileSync(path.join(dir, 'journal.jsonl'), 'utf8').includes('torn'));
  const c = await LinkStateStore.open({ dir, instance: 'y' });
  assert.equal(c.state.size, 0);
  assert.ok((await c.nextSeqs(1)) > 200, 'seq still increases');
  await c.close();
});

test('a failing dump is retried; nothing is lost', async () => {
  const r = await rig();
  await r.settle();
  const before = r.events().length;
  r.vpp.failDumps = 2;
  r.vpp.setFlags(1, { adminUp: false, linkUp: false });
  await r.settle();
  r.vpp.invalidIndexIsError = true;
  r.vpp.delete(2);
  await r.settle();
  const evs = r.events().slice(before);
  assert.deepEqual(
    evs.map((e) => [e.sw_if_index, e.change, e.admin_up]),
    [
      [1, 'changed', false],
      [2, 'deleted', false],
    ],
  );
  assert.ok(r.le.stats.dumpFailures >= 2);
  await r.stop();
});

test('storm: 3000 interfaces flapping: full dumps, every final state right, seq increasing per key', { timeout: 60_000 }, async () => {
  const vpp = new FakeVpp(3000);
  const r = await rig({ vpp });
  await r.settle();
  const before = r.events().length;
  for (let round = 0; round < 4; round++) {
    for (let sw = 1; sw <= 3000; sw++) vpp.setFlags(sw, { linkUp: round % 2 === 1 });
    await new Promise((res) => setImmediate(res));
  }
  await r.settle();
  const evs = r.events().slice(before);
  assert.ok(r.le.stats.fullDumps > 1, 'storm read with full dumps');
  assert.deepEqual(lastStates(r.events()), vpp.truth());
  const perKey = new Map<number, number>();
  for (const e of evs) {
    const prev = perKey.get(e.sw_if_index);
    if (prev !== undefined) assert.ok(e.seq > prev);
    perKey.set(e.sw_if_index, e.seq);
  }
  checkAllValid(r.transport.messages.slice(0, 200));
  await r.stop();
});

test('spool full: events are refused and counted, then a resync delivers the net changes', { timeout: 60_000 }, async () => {
  const transport = new CollectingTransport();
  transport.down = true;
  const vpp = new FakeVpp(200);
  const r = await rig({ vpp, transport, maxBytes: 64 * 1024 });
  // Keep flapping until the spool refuses.
  for (let round = 0; r.pipeline.spool.stats.overflowDropped === 0; round++) {
    assert.ok(round < 200, 'the spool never filled');
    for (let sw = 1; sw <= 200; sw++) vpp.setFlags(sw, { adminUp: round % 2 === 0 });
    await r.le.idle();
    await new Promise((res) => setTimeout(res, 5));
  }
  assert.ok(r.le.stats.refused > 0);
  // More changes while full.
  for (let sw = 1; sw <= 200; sw += 3) vpp.setFlags(sw, { linkUp: false });
  transport.down = false;
  await transport.until(() => r.pipeline.spool.stats.depth === 0 && r.le.stats.resyncs >= 2, 30_000, 'drain and resync');
  await r.settle();
  const evs = r.events();
  assert.ok(evs.some((e) => e.reason === 'resync' && e.seq > 201), 'a resync after the overflow');
  assert.deepEqual(lastStates(evs), vpp.truth());
  checkSeqIncreasing(evs);
  await r.stop();
});

test('transitions(): the changes between two states given what the events said', () => {
  const s = (name: string, adminUp: boolean, linkUp: boolean) => ({ swIfIndex: 5, name, adminUp, linkUp });
  const hint = (flags: number[], deleted = false) => ({ flags, last: flags.at(-1) ?? 0, deleted, at: 1, perfAt: 1 });
  const kinds = (c: ReturnType<typeof transitions>) => c.map((x) => [x.kind, x.transient, x.reason, x.next?.adminUp, x.next?.linkUp]);
  assert.deepEqual(kinds(transitions(5, s('a', true, true), s('a', true, true), undefined, 0, 0)), []);
  assert.deepEqual(kinds(transitions(5, s('a', true, true), s('a', true, false), undefined, 0, 0)), [['changed', false, 'resync', true, false]]);
  assert.deepEqual(kinds(transitions(5, undefined, s('a', true, true), hint([0]), 0, 0)), [['created', false, 'event', true, true]]);
  assert.deepEqual(kinds(transitions(5, s('a', true, true), undefined, hint([0], true), 0, 0)), [['deleted', false, 'event', undefined, undefined]]);
  assert.deepEqual(kinds(transitions(5, s('a', true, true), s('b', false, false), undefined, 0, 0)), [
    ['deleted', false, 'resync', undefined, undefined],
    ['created', false, 'resync', false, false],
  ]);
  // Flags 0 then 3 with the state back where it was: one transient, then the return.
  assert.deepEqual(kinds(transitions(5, s('a', true, true), s('a', true, true), hint([0, 3]), 0, 0)), [
    ['changed', true, 'event', false, false],
    ['changed', false, 'event', true, true],
  ]);
  // VPP's flags: a link flap of an admin-up interface is 0 (a down) then 2 (link up, no admin
  // up event): the admin side never went down.
  assert.deepEqual(kinds(transitions(5, s('a', true, true), s('a', true, true), hint([0, 2]), 0, 0)), [
    ['changed', true, 'event', true, false],
    ['changed', false, 'event', true, true],
  ]);
  // VPP's flags after a link up (2): admin was not raised, it did not go down either.
  assert.deepEqual(kinds(transitions(5, s('a', true, false), s('a', true, false), hint([2]), 0, 0)), [
    ['changed', true, 'event', true, true],
    ['changed', false, 'event', true, false],
  ]);
  // An up flap of a down interface.
  assert.deepEqual(kinds(transitions(5, s('a', false, false), s('a', false, false), hint([3, 0]), 0, 0)), [
    ['changed', true, 'event', true, true],
    ['changed', false, 'event', false, false],
  ]);
  // An admin-up event (3) while it was and is up: VPP sends none for a no-op, so it went down and up
  // within one batch (admin down takes the link with it).
  assert.deepEqual(kinds(transitions(5, s('a', true, true), s('a', true, true), hint([3]), 0, 0)), [
    ['changed', true, 'event', false, false],
    ['changed', false, 'event', true, true],
  ]);
  // A late link-up event (2) after the state read back was already up again: the link flapped.
  assert.deepEqual(kinds(transitions(5, s('a', true, true), s('a', true, true), hint([2]), 0, 0)), [
    ['changed', true, 'event', true, false],
    ['changed', false, 'event', true, true],
  ]);
  assert.deepEqual(kinds(transitions(5, undefined, undefined, hint([0], true), 0, 0)), []);
});

test('config actions: key = request id, CloudEvents headers, schema; malformed records are refused', async () => {
  const transport = new CollectingTransport();
  const pipeline = await startEventPipeline({ spoolDir: tmpDir(), transport });
  const record = createConfigActionRecorder({ sink: pipeline, instance: INSTANCE });
  const r = await record({
    action: 'interface.set',
    params: { name: 'loop0', admin_up: true, addresses: ['10.0.0.1/24'] },
    principal: 'ops-token',
    retval: 0,
    error: null,
    durationMs: 1.234567,
    requestId: 'req-1',
  });
  assert.equal(r.accepted, true);
  const f = await record({ action: 'route.add', params: { prefix: '10.9.0.0/16' }, principal: null, retval: -3, error: 'No such FIB', durationMs: 0, requestId: 'req-2' });
  assert.equal(f.accepted, true);
  await transport.until(() => transport.messages.length === 2);
  const [m1, m2] = transport.of('config-actions');
  assert.equal(m1.key, 'req-1');
  assert.equal(m2.key, 'req-2');
  assert.equal(m1.headers.ce_type, 'io.fd.vpp.config-action.v1');
  assert.equal(m1.headers.ce_subject, 'interface.set');
  assert.deepEqual(JSON.parse(m1.value!), { ...r.data, duration_ms: 1.235 });
  assert.equal((JSON.parse(m2.value!) as { retval: number }).retval, -3);
  checkAllValid(transport.messages);
  assert.equal((await pipeline.metrics.configActions.get()).values[0].value, 2);
  await assert.rejects(record({ action: '', params: {}, principal: null, retval: 0, error: null, durationMs: 1, requestId: 'x' }), TypeError);
  await assert.rejects(record({ action: 'a', params: { n: 1n }, principal: null, retval: 0, error: null, durationMs: 1, requestId: 'x' }), TypeError);
  await assert.rejects(record({ action: 'a', params: {}, principal: null, retval: 0.5, error: null, durationMs: 1, requestId: 'x' }), TypeError);
  await pipeline.close();
});

test('waitForUpEvent(): only a down with nothing after it waits', () => {
  const st = { swIfIndex: 1, name: 'a', adminUp: true, linkUp: true };
  const h = (flags: number[], final = false) => ({ flags, last: flags.at(-1) ?? 0, deleted: false, at: 0, perfAt: 0, final });
  assert.equal(waitForUpEvent(st, st, h([0])), true);
  assert.equal(waitForUpEvent(st, st, h([0], true)), false, 'given up waiting');
  assert.equal(waitForUpEvent(st, st, h([0, 2])), false, 'the up event came');
  assert.equal(waitForUpEvent(st, { ...st, linkUp: false }, h([0])), false, 'the state changed: no flap to place');
  const down = { ...st, linkUp: false };
  assert.equal(waitForUpEvent(down, down, h([2])), false, 'an up flap owes nothing');
});

test('uuidv7: version 7, RFC 9562 variant, strictly increasing within a process', () => {
  const ids = Array.from({ length: 20_000 }, () => uuidv7());
  for (const id of ids) assert.match(id, UUID_V7_PATTERN);
  for (let i = 1; i < ids.length; i++) assert.ok(ids[i] > ids[i - 1], `${ids[i - 1]} then ${ids[i]}`);
  assert.equal(new Set(ids).size, ids.length);
  const t = Date.now();
  assert.ok(Math.abs(parseInt(uuidv7(t).replace(/-/g, '').slice(0, 12), 16) - t) <= 1);
});

test('a sub-interface follows its parent: VPP sends the event for the hardware interface only, the engine reads the subs back too', async () => {
  const dir = tmpDir();
  const sim = await startStatsSimulator({ interfaces: 6, workers: 0, rate: 0, seed: 5, apiSocketPath: path.join(dir, 'api.sock') });
  const vpp = createVppClient({ socketPath: path.join(dir, 'api.sock'), clientName: 'link-events-test' });
  const transport = new CollectingTransport();
  const pipeline = await startEventPipeline({ spoolDir: path.join(dir, 'spool'), transport });
  try {
    await vpp.waitConnected(5000);
    const le = await LinkEvents.start({ vpp, sink: pipeline, instance: INSTANCE, stateDir: path.join(dir, 'link-state') });
    const events = (): LinkEventData[] => transport.of('link-events').map((m) => JSON.parse(m.value!) as LinkEventData);
    const settle = async (n: number): Promise<void> => {
      const end = Date.now() + 10_000;
      while (events().length < n && Date.now() < end) {
        await le.idle();
        await new Promise((res) => setTimeout(res, 20));
      }
    };
    const sub = sim.model.list().find((i) => i.supSwIfIndex !== i.swIfIndex);
    assert.ok(sub, 'the topology has a sub-interface');
    await settle(sim.model.list().length);
    const before = events().length;
    assert.equal(before, sim.model.list().length, 'every interface announced once');
    sim.model.setFlags(sub.supSwIfIndex, { linkUp: false });
    await settle(before + 2);
    const after = events().slice(before);
    assert.deepEqual(
      after.map((e) => [e.sw_if_index, e.link_up, e.reason]).sort((a, b) => Number(a[0]) - Number(b[0])),
      [
        [sub.supSwIfIndex, false, 'event'],
        [sub.swIfIndex, false, 'event'],
      ],
    );
    assert.equal(sim.model.get(sub.swIfIndex)?.linkUp, false, "the model agrees: a sub's link is its parent's");
    assert.equal(le.state.get(sub.swIfIndex)?.linkUp, false);
    await le.stop();
  } finally {
    await pipeline.close();
    await vpp.close();
    await sim.stop();
  }
});
