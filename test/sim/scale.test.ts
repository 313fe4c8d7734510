/**
 * The large topology of the benchmarks: 100k interfaces x 9 threads (main + 8 workers). Prints the
 * build time and the segment size; asserts only what must hold (no timing): the segment is sized
 * from the topology, readable, and every interface is there.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { native } from '../../src/native/index.js';
import { startStatsSimulator } from '../../src/sim/index.js';
import { SnapshotView } from '../../src/stats/snapshot.js';
import { tmpDir } from '../helpers/paths.js';

const INTERFACES = 100_000;
const WORKERS = 8;

test(`${INTERFACES} interfaces x ${WORKERS + 1} threads: build time and segment size`, async () => {
  const socketPath = path.join(tmpDir(), 'stats.sock');
  const rssBefore = process.memoryUsage().rss;
  const sim = await startStatsSimulator({ interfaces: INTERFACES, workers: WORKERS, rate: 0, seed: 1, socketPath });
  try {
    const heap = sim.stats.writer.mem.heap.stats();
    const t0 = performance.now();
    sim.stats.advance(1, 1000);
    const advanceMs = performance.now() - t0;
    console.log(
      `scale: ${INTERFACES} interfaces x ${WORKERS + 1} threads built in ${Math.round(sim.buildMs)} ms; ` +
        `segment ${(sim.segmentSize / 2 ** 20).toFixed(0)} MiB (heap used ${(heap.used / 2 ** 20).toFixed(0)} MiB), ` +
        `${sim.stats.writer.directory.length} directory entries; one traffic tick ${advanceMs.toFixed(0)} ms; ` +
        `RSS +${((process.memoryUsage().rss - rssBefore) / 2 ** 20).toFixed(0)} MiB`,
    );
    assert.ok(heap.used < sim.segmentSize);
    assert.equal(sim.model.count, INTERFACES + 1);

    const seg = native().StatSegment.openSocket(socketPath);
    try {
      const dir = seg.directory({ skipSymlinkPrefixes: ['/interfaces/', '/nodes/', '/err/'] });
      const want = ['/if/names', '/if/rx'].map((n) => dir.index[dir.names.indexOf(n)]);
      const view = new SnapshotView(seg.snapshot(Uint32Array.from(want), { perThread: true }));
      assert.equal(view.strings(0)?.length, INTERFACES + 1);
      assert.equal(view.strings(0)?.[INTERFACES], sim.model.get(INTERFACES)?.name);
      const rx = view.entry(1);
      assert.equal(rx.rows, WORKERS + 1);
      assert.ok(rx.rowLengths.every((n) => n === INTERFACES + 1));
    } finally {
      seg.close();
    }
  } finally {
    await sim.stop();
  }
});
