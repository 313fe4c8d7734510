/**
 * Our native reader, over the stats socket and over an image file, decodes every entry of the
 * simulated segment exactly as the simulator says it wrote it (truth()), per thread and summed,
 * for several topologies; the directory is laid out slot by slot as expected.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { native } from '../../src/native/index.js';
import { createDefaultTopology, DEFAULT_HISTOGRAMS, InterfaceModel, startStatsSimulator, StatsSim, type StatsSimulatorHandle } from '../../src/sim/index.js';
import { StatType } from '../../src/stats/types.js';
import { tmpDir } from '../helpers/paths.js';
import { assertSameValues, readSegment } from './read-segment.js';

async function withSim(
  opts: { interfaces: number; workers: number; seed?: number },
  fn: (sim: StatsSimulatorHandle, socketPath: string) => void,
): Promise<void> {
  const socketPath = path.join(tmpDir(), 'stats.sock');
  const sim = await startStatsSimulator({ ...opts, seed: opts.seed ?? 1, rate: 0, socketPath });
  try {
    fn(sim, socketPath);
  } finally {
    await sim.stop();
  }
}

function compareAll(sim: StatsSimulatorHandle, openSegment: () => ReturnType<ReturnType<typeof native>['StatSegment']['openFile']>, what: string): void {
  const seg = openSegment();
  try {
    for (const perThread of [true, false]) {
      const read = readSegment(seg, perThread);
      assertSameValues(read.values, sim.truth({ perThread }), `${what}, ${perThread ? 'per thread' : 'summed'}`);
    }
    assert.deepEqual(readSegment(seg, true).directory, sim.stats.expectedDirectory(), `${what}: directory slots`);
  } finally {
    seg.close();
  }
}

for (const [interfaces, workers] of [[8, 0], [8, 1], [40, 8], [0, 2]] as const) {
  test(`${interfaces} interfaces, ${workers} workers: socket and image read equal to truth()`, async () => {
    await withSim({ interfaces, workers }, (sim, socketPath) => {
      compareAll(sim, () => native().StatSegment.openSocket(socketPath), 'socket');
      const file = path.join(tmpDir(), 'image.bin');
      fs.writeFileSync(file, sim.image());
      compareAll(sim, () => native().StatSegment.openFile(file), 'image');

      // Shapes VPP has: rows per thread, one extra row for node counters, one row of per-thread rates.
      const t = sim.truth();
      const threads = workers + 1;
      const rows = (name: string): number => (t.get(name) as unknown[]).length;
      assert.equal(rows('/if/rx'), threads);
      assert.equal(rows('/node/errors'), threads);
      assert.equal(rows('/sys/node/clocks'), threads + 1);
      assert.equal(rows('/sys/vector_rate_per_worker'), 1);
      assert.equal(((t.get('/sys/vector_rate_per_worker') as unknown[][])[0]).length, threads);
      assert.deepEqual(t.get('/mem/main heap/total'), [(t.get('/mem/main heap') as bigint[][])[0][0]]);
      assert.equal((t.get('/if/names') as string[]).length, interfaces + 1);
      assert.equal((t.get('/if/names') as string[])[0], 'local0');
      assert.equal(t.get('/sys/num_worker_threads'), BigInt(workers));
      const last = (t.get('/sys/node/clocks') as bigint[][])[threads];
      assert.ok(last.every((x) => x === 0n), 'the extra node-counter row stays zero');
    });
  });
}

test('a segment written into a plain ArrayBuffer, saved as an image file, reads equal to truth()', () => {
  const model = new InterfaceModel({ seed: 8 });
  const stats = new StatsSim(new ArrayBuffer(32 * 1024 * 1024), model, { workers: 3, seed: 8 });
  createDefaultTopology(model, 20);
  stats.warmUp();
  stats.advance(2, 5000);
  stats.collect(2);
  const file = path.join(tmpDir(), 'plain.bin');
  fs.writeFileSync(file, new Uint8Array(stats.writer.mem.buffer));
  const seg = native().StatSegment.openFile(file);
  try {
    for (const perThread of [true, false]) assertSameValues(readSegment(seg, perThread).values, stats.truth({ perThread }), `plain buffer, perThread ${perThread}`);
    assert.deepEqual(readSegment(seg, true).directory, stats.expectedDirectory());
  } finally {
    seg.close();
  }
});

test('log2 histograms: socket and image read equal to truth(), per thread and summed by exponent', async () => {
  const socketPath = path.join(tmpDir(), 'stats.sock');
  const sim = await startStatsSimulator({
    interfaces: 12,
    workers: 2,
    seed: 3,
    rate: 0,
    socketPath,
    histograms: [
      ...DEFAULT_HISTOGRAMS,
      // Threads that disagree on min_exp, one of them past the last finite bound.
      { name: '/sim/skew', source: 'rx-packet-bytes', minExp: [5, 0, 70], bins: 12 },
      { name: '/sim/edge', source: 'rx-packet-bytes', minExp: [62, 9, 63], bins: 5 },
      { name: '/sim/no-bins', source: 'rx-vector-size', minExp: 4, bins: 0 },
    ],
  });
  try {
    sim.stats.advance(3, 20_000);
    sim.stats.collect(3);
    compareAll(sim, () => native().StatSegment.openSocket(socketPath), 'socket');
    const file = path.join(tmpDir(), 'image.bin');
    fs.writeFileSync(file, sim.image());
    compareAll(sim, () => native().StatSegment.openFile(file), 'image');
    const t = sim.truth({ perThread: true });
    const rows = t.get('/sim/rx-packet-bytes') as bigint[][];
    assert.equal(rows.length, 3, 'one row per thread');
    assert.ok(rows.every((r) => r.length === 12 && r[0] === 6n), 'each row: min_exp, then 11 bins');
    assert.ok(rows[1].slice(1).some((c) => c > 0n) && rows[2].slice(1).some((c) => c > 0n), 'both workers counted packets');
    assert.deepEqual(t.get('/sim/no-bins'), [[4n], [4n], [4n]]);
    assert.deepEqual(sim.truth({ perThread: false }).get('/sim/no-bins'), [[]]);
    assert.equal(sim.stats.expectedDirectory().filter((e) => e.type === StatType.HISTOGRAM_LOG2).length, 5);
  } finally {
    await sim.stop();
  }
});

test('histogram rows that are NULL, empty or min_exp only read as they are per thread and add nothing summed', () => {
  const model = new InterfaceModel({ seed: 2 });
  const hist = { name: '/sim/h', source: 'rx-packet-bytes' as const, minExp: [1, 2, 3, 4], bins: 3 };
  const stats = new StatsSim(new ArrayBuffer(32 * 1024 * 1024), model, { workers: 3, seed: 2, histograms: [hist] });
  createDefaultTopology(model, 4);
  stats.warmUp();
  const mem = stats.writer.mem;
  const slot = stats.expectedDirectory().find((e) => e.name === '/sim/h')!.index;
  const outer = mem.offset(stats.writer.directory.value(slot)) / 8;
  const row = (r: number): number => mem.offset(mem.u64[outer + r]);
  mem.u64.set([7n, 0n, 0n], row(3) / 8 + 1); // thread 3: bins 7, 0, 0
  mem.u32[(row(1) - 8) / 4] = 0; // thread 1: an empty vector
  mem.u32[(row(2) - 8) / 4] = 1; // thread 2: min_exp only
  mem.u64[outer] = 0n; // thread 0: a NULL row pointer
  const file = path.join(tmpDir(), 'rows.bin');
  fs.writeFileSync(file, new Uint8Array(mem.buffer));
  const seg = native().StatSegment.openFile(file);
  try {
    assert.deepEqual(readSegment(seg, true).values.get('/sim/h'), [[], [], [3n], [4n, 7n, 0n, 0n]]);
    // Only thread 3 has bins: the sum is its row.
    assert.deepEqual(readSegment(seg, false).values.get('/sim/h'), [[4n, 7n, 0n, 0n]]);
    mem.u64[row(3) / 8] = 3n; // thread 3 back to min_exp only: no bins anywhere
    mem.u32[(row(3) - 8) / 4] = 1;
    fs.writeFileSync(file, new Uint8Array(mem.buffer));
  } finally {
    seg.close();
  }
  const again = native().StatSegment.openFile(file);
  try {
    assert.deepEqual(readSegment(again, false).values.get('/sim/h'), [[]]);
  } finally {
    again.close();
  }
});

test('fixed indices and the capture-like order: 0..2 are heartbeat, last_stats_clear, boottime', async () => {
  await withSim({ interfaces: 8, workers: 1 }, (sim) => {
    const dir = sim.stats.expectedDirectory();
    assert.deepEqual(dir.slice(0, 3).map((e) => [e.name, e.type]), [
      ['/sys/heartbeat', StatType.SCALAR_INDEX],
      ['/sys/last_stats_clear', StatType.SCALAR_INDEX],
      ['/sys/boottime', StatType.SCALAR_INDEX],
    ]);
    // The capture's indices for the base layout (statseg.bin.gz, 1 worker).
    const at = (name: string): number => dir.findIndex((e) => e.name === name);
    assert.deepEqual(
      ['/mem/stat segment', '/sys/vector_rate', '/node/errors', '/sys/last_update', '/if/drops', '/if/names', '/sys/node/names'].map(at),
      [3, 7, 14, 3113, 3118, 3150, 3177],
    );
    // Interface symlinks put '_' for '/', error counters keep the node name as it is.
    const names = new Set(dir.map((e) => e.name));
    assert.ok(names.has('/interfaces/memif1_0/rx'));
    assert.ok(names.has('/err/memif1/0-output/interface is down'));
    assert.ok(names.has('/nodes/memif1_0-tx/clocks'));
    assert.ok(names.has('/err/null-node/blackholed packets'));
  });
});

test('moving counters: after traffic and a collector run the reader still equals truth, and values moved', async () => {
  await withSim({ interfaces: 12, workers: 2, seed: 9 }, (sim, socketPath) => {
    const before = sim.truth({ perThread: false });
    sim.stats.advance(5, 10_000);
    sim.stats.collect(5);
    const after = sim.truth({ perThread: false });
    const sum = (v: unknown): bigint => (v as bigint[][][])[0].reduce((a, p) => a + p[0], 0n);
    assert.ok(sum(after.get('/if/rx')) > sum(before.get('/if/rx')));
    assert.equal(after.get('/sys/heartbeat'), (before.get('/sys/heartbeat') as bigint) + 1n);
    compareAll(sim, () => native().StatSegment.openSocket(socketPath), 'after traffic');
    // Consistency: total interface drops equal the drop error counters' increments.
    const drops = (m: Map<string, unknown>): bigint => (m.get('/if/drops') as bigint[][])[0].reduce((a, b) => a + b, 0n);
    const errs = (m: Map<string, unknown>): bigint =>
      ['/err/ip4-udp-lookup/no_listener', '/err/ip4-icmp-error/drop', '/err/ip6-input/dst_lookup_miss', '/err/ip4-input/ip4 ttl <= 1']
        .map((n) => (m.get(n) as bigint[] | undefined)?.[0] ?? 0n)
        .reduce((a, b) => a + b, 0n);
    assert.equal(drops(after) - drops(before), errs(after) - errs(before));
  });
});

test('same seed, same segment; another seed, another base address', async () => {
  const image = async (seed: number): Promise<{ base: bigint; truth: Map<string, unknown> }> => {
    const sim = await startStatsSimulator({ interfaces: 6, workers: 1, rate: 0, seed });
    try {
      const t = sim.truth();
      t.delete('/sys/boottime'); // wall clock
      return { base: sim.stats.writer.base, truth: t };
    } finally {
      await sim.stop();
    }
  };
  const a = await image(5);
  const b = await image(5);
  const c = await image(6);
  assert.equal(a.base, b.base);
  assert.deepEqual(a.truth, b.truth);
  assert.notEqual(a.base, c.base);
  assert.equal(a.base % 4096n, 0n);
  assert.equal(a.base >> 40n, 0x7fn, 'a user-space mapping address like 0x7fXXXXXXX000');
});
