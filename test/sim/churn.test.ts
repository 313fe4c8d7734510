/**
 * Interface churn as the captured VPP did it (statseg-churn.*): deleted interfaces leave EMPTY
 * slots that the next entries reuse last-freed-first, /if/names says "deleted", a re-created
 * interface gets its sw_if_index and nodes back, and the reader agrees with truth() throughout.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { native, type NativeStatSegment } from '../../src/native/index.js';
import { InterfaceModel } from '../../src/sim/model.js';
import { SegmentFullError, startStatsSimulator, StatsSim, type StatsSimulatorHandle } from '../../src/sim/index.js';
import { StatType } from '../../src/stats/types.js';
import { tmpDir } from '../helpers/paths.js';
import { assertSameValues, readSegment } from './read-segment.js';

function slotOf(sim: StatsSimulatorHandle | StatsSim, name: string): number {
  const stats = sim instanceof StatsSim ? sim : sim.stats;
  const e = stats.expectedDirectory().find((x) => x.name === name);
  if (e === undefined) throw new Error(`no entry ${name}`);
  return e.index;
}

function names(stats: StatsSim): Set<string> {
  return new Set(stats.expectedDirectory().map((e) => e.name));
}

function assertConsistent(seg: NativeStatSegment, stats: StatsSim, what: string): void {
  const read = readSegment(seg, true);
  assertSameValues(read.values, stats.truth(), what);
  assert.deepEqual(read.directory, stats.expectedDirectory(), `${what}: directory`);
}

test('delete and re-create a loopback like the churn capture: EMPTY slots, "deleted", LIFO reuse', async () => {
  const socketPath = path.join(tmpDir(), 'stats.sock');
  const sim = await startStatsSimulator({ interfaces: 8, workers: 1, rate: 0, seed: 3, socketPath });
  const seg = native().StatSegment.openSocket(socketPath);
  try {
    const { model, stats } = sim;
    const loop0 = model.byName('loop0')!;
    const hw = loop0.hwIfIndex!;
    const errSlots = ['interface is down', 'interface is deleted', 'no tx queue available'].map((e) => slotOf(sim, `/err/loop0-output/${e}`));
    const ifSlots = ['drops', 'punt', 'ip4', 'ip6'].map((c) => slotOf(sim, `/interfaces/loop0/${c}`));
    const lastIfSlot = slotOf(sim, '/interfaces/loop0/tx-broadcast');
    const dirLength = stats.writer.directory.length;
    const e0 = stats.epoch;

    model.delete(loop0.swIfIndex);
    assert.equal(stats.epoch, e0 + 1, 'one structural change, one epoch');
    assert.equal(stats.writer.directory.emptySlots, 17 + 3, '17 interface and 3 error symlinks are EMPTY');
    assert.equal(stats.writer.directory.length, dirLength, 'the directory does not shrink');
    const t1 = sim.truth();
    assert.equal((t1.get('/if/names') as string[])[loop0.swIfIndex], 'deleted');
    const nodeNames = t1.get('/sys/node/names') as string[];
    assert.ok(nodeNames.includes(`interface-${hw}-tx-deleted`) && nodeNames.includes(`interface-${hw}-output-deleted`));
    assert.ok(!nodeNames.includes('loop0-tx'));
    const n1 = names(stats);
    assert.ok(!n1.has('/interfaces/loop0/rx') && !n1.has('/err/loop0-output/interface is down') && !n1.has('/nodes/loop0-tx/clocks'));
    assert.ok(n1.has(`/nodes/interface-${hw}-tx-deleted/clocks`));
    const read = readSegment(seg, true);
    assert.equal(read.directory.filter((e) => e.type === StatType.EMPTY).length, 20, 'the reader sees the EMPTY slots');
    assertConsistent(seg, stats, 'after delete');

    // Re-create: same sw_if_index (most recently freed), lowest free loop instance, nodes reused.
    const again = model.create({ kind: 'loopback', adminUp: true });
    assert.equal(again.swIfIndex, loop0.swIfIndex);
    assert.equal(again.name, 'loop0');
    assert.equal(again.hwIfIndex, hw);
    assert.equal(stats.epoch, e0 + 2);
    // Last freed first: the error slots (freed last) go to the first symlinks, then the interface slots backwards.
    assert.deepEqual(
      ['drops', 'punt', 'ip4', 'ip6'].map((c) => slotOf(sim, `/interfaces/loop0/${c}`)),
      [errSlots[2], errSlots[1], errSlots[0], lastIfSlot],
    );
    const n2 = names(stats);
    assert.ok(n2.has('/nodes/loop0-tx/clocks') && !n2.has(`/nodes/interface-${hw}-tx-deleted/clocks`));
    assert.ok(!n2.has('/err/loop0-output/interface is down'), 'reused nodes register no errors (as in the capture)');
    assert.equal(stats.writer.directory.emptySlots, 3);
    // A new interface's counters start at zero, though the index had traffic before.
    const rx = sim.truth().get('/if/rx') as bigint[][][];
    assert.ok(rx.every((row) => row[again.swIfIndex].every((x) => x === 0n)));
    assertConsistent(seg, stats, 'after re-create');

    // Another loopback: new index, new nodes, its errors take the freed columns and the last EMPTY slots.
    const columnsBefore = (sim.truth().get('/node/errors') as bigint[][])[0].length;
    const loop2 = model.create({ kind: 'loopback' });
    assert.equal(loop2.name, 'loop2');
    assert.equal(loop2.swIfIndex, 9);
    assert.equal(stats.writer.directory.emptySlots, 0);
    assert.deepEqual(
      ['interface is down', 'interface is deleted', 'no tx queue available'].map((e) => slotOf(sim, `/err/loop2-output/${e}`)),
      [ifSlots[2], ifSlots[1], ifSlots[0]],
    );
    assert.ok(slotOf(sim, '/interfaces/loop2/drops') >= dirLength, 'then new slots at the end');
    assert.equal((sim.truth().get('/node/errors') as bigint[][])[0].length, columnsBefore, 'freed error columns reused');
    assertConsistent(seg, stats, 'after a new loopback');
  } finally {
    seg.close();
    await sim.stop();
  }
});

test('deleting a port deletes its sub-interfaces first; flags change no structure', async () => {
  const sim = await startStatsSimulator({ interfaces: 12, workers: 2, rate: 0, seed: 4 });
  try {
    const { model, stats } = sim;
    const port = model.byName('GigabitEthernet0/8/0')!;
    const sub = model.byName('GigabitEthernet0/8/0.100')!;
    const order: string[] = [];
    model.on('deleted', (i) => order.push(i.name));
    const e0 = stats.epoch;
    model.setFlags(port.swIfIndex, { adminUp: false });
    assert.equal(stats.epoch, e0);
    const gone = model.delete(port.swIfIndex).map((i) => i.name);
    assert.deepEqual(gone, ['GigabitEthernet0/8/0.100', 'GigabitEthernet0/8/0']);
    assert.deepEqual(order, gone);
    assert.equal(stats.epoch, e0 + 2);
    const ifNames = sim.truth().get('/if/names') as string[];
    assert.equal(ifNames[port.swIfIndex], 'deleted');
    assert.equal(ifNames[sub.swIfIndex], 'deleted');
    // The next creation takes the most recently freed index: the port's.
    assert.equal(model.create({ kind: 'memif', name: 'memif3/0' }).swIfIndex, port.swIfIndex);
    assert.equal(model.create({ kind: 'loopback' }).swIfIndex, sub.swIfIndex);
  } finally {
    await sim.stop();
  }
});

test('a plugin node with error counters appears in /sys/node/names, /nodes and /err', async () => {
  const socketPath = path.join(tmpDir(), 'stats.sock');
  const sim = await startStatsSimulator({ interfaces: 4, workers: 1, rate: 0, seed: 2, socketPath });
  const seg = native().StatSegment.openSocket(socketPath);
  try {
    const e0 = sim.stats.epoch;
    const i = sim.stats.addNode('sim-plugin-node', ['no error', 'packets with bad checksum']);
    assert.equal(sim.stats.epoch, e0 + 1);
    const t = sim.truth();
    assert.equal((t.get('/sys/node/names') as string[])[i], 'sim-plugin-node');
    assert.ok(t.has('/nodes/sim-plugin-node/suspends'));
    assert.ok(t.has('/err/sim-plugin-node/packets with bad checksum'));
    assert.throws(() => sim.stats.addNode('sim-plugin-node'), RangeError);
    assertConsistent(seg, sim.stats, 'after addNode');
  } finally {
    seg.close();
    await sim.stop();
  }
});

test('a full segment: creation fails with SegmentFullError, the model rolls back, the segment stays consistent', () => {
  // Size a segment that holds the base layout and little more.
  const probe = new StatsSim(new ArrayBuffer(32 * 1024 * 1024), new InterfaceModel(), { workers: 1, seed: 1 });
  const used = probe.writer.mem.heap.stats().used;
  const size = Math.ceil((used + 0x1400 + 24 * 1024) / 4096) * 4096;
  const model = new InterfaceModel();
  const stats = new StatsSim(new ArrayBuffer(size), model, { workers: 1, seed: 1 });
  const path0 = path.join(tmpDir(), 'full.bin');
  let created = 0;
  let failure: unknown;
  for (let i = 0; i < 10_000 && failure === undefined; i++) {
    try {
      model.create({ kind: 'af-packet', name: `host-eth${i}`, adminUp: true, linkUp: true });
      created++;
    } catch (e) {
      failure = e;
    }
  }
  assert.ok(failure instanceof SegmentFullError, `expected SegmentFullError, got ${String(failure)}`);
  assert.match((failure as Error).message, /stats segment full/);
  assert.ok(created > 0);
  assert.equal(model.count, created + 1, 'the failed interface is not in the model');
  assert.equal(stats.writer.inProgress, false);
  // The segment is still a valid one, equal to truth.
  fs.writeFileSync(path0, Buffer.from(stats.writer.mem.buffer));
  const seg = native().StatSegment.openFile(path0);
  try {
    assertConsistent(seg, stats, 'after running out of space');
  } finally {
    seg.close();
  }
});
