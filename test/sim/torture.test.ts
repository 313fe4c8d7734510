/**
 * Torn reads: the simulator runs in a child process, moving /sim/torture to new memory ~10,000
 * times a second and poisoning the old memory before each epoch change, while this process reads
 * over the stats socket. Every read the reader accepts must show the invariant of torture.ts: all
 * counters equal the read's epoch. Then the writer "dies" with in_progress = 1 and reads fail BUSY.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { isStatsError, native, type NativeStatSegment } from '../../src/native/index.js';
import { TORTURE_COUNTERS, TORTURE_ENTRY } from '../../src/sim/index.js';
import { SnapshotView } from '../../src/stats/snapshot.js';
import { REPO_ROOT, tmpDir } from '../helpers/paths.js';

const RUN_CHILD = path.join(REPO_ROOT, 'dist', 'src', 'sim', 'run-child.js');
const READ_MS = 2000;
const WORKERS = 2;

interface ChildMessage {
  type: string;
  epoch?: number;
  socketPath?: string;
}

async function next(child: ChildProcess, type: string): Promise<ChildMessage> {
  for (;;) {
    const [m] = (await once(child, 'message')) as [ChildMessage];
    if (m.type === type) return m;
  }
}

function checkTorture(view: SnapshotView, k: number, epoch: number): number {
  const e = view.entry(k);
  assert.equal(view.statusName(k), 'OK');
  assert.equal(e.rows, WORKERS + 1);
  let mixed = 0;
  for (let r = 0; r < e.rows; r++) {
    assert.equal(e.rowLengths[r], TORTURE_COUNTERS);
    for (let i = 0; i < TORTURE_COUNTERS; i++) if (view.values[e.rowStarts[r] + i] !== BigInt(epoch)) mixed++;
  }
  return mixed;
}

test('torture at ~10 kHz in a child process: no accepted read is torn; a stuck writer reads BUSY', async () => {
  const socketPath = path.join(tmpDir(), 'stats.sock');
  const options = { interfaces: 6, workers: WORKERS, rate: 5000, seed: 11, socketPath, tortureHz: 10_000, tickMs: 5, heartbeatMs: 50 };
  const child = fork(RUN_CHILD, [JSON.stringify(options)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let seg: NativeStatSegment | undefined;
  try {
    await next(child, 'ready');
    seg = native().StatSegment.openSocket(socketPath);
    // The directory read itself can straddle relocations at 10 kHz: it reports BUSY, which is
    // retriable (the stats client retries on its next read); retry a bounded number of times.
    let dir: ReturnType<NativeStatSegment['directory']> | undefined;
    for (let attempt = 0; !dir; attempt++) {
      try {
        dir = seg.directory();
      } catch (e) {
        if (!isStatsError(e, 'BUSY') || attempt >= 50) throw e;
      }
    }
    const k = dir.names.indexOf(TORTURE_ENTRY);
    assert.ok(k >= 0, 'the torture vector is in the directory');
    const slot = Uint32Array.of(dir.index[k]);
    const all = Uint32Array.from(dir.index);

    const firstEpoch = seg.header().epoch;
    let accepted = 0;
    let retried = 0;
    let busy = 0;
    let mixed = 0;
    let fullAccepted = 0;
    let fullBusy = 0;
    const epochs = new Set<number>();
    const start = performance.now();
    for (let i = 0; performance.now() - start < READ_MS; i++) {
      // Now and then the whole segment: too slow to finish between epochs often, so mostly BUSY.
      const full = i % 200 === 0;
      try {
        const snap = seg.snapshot(full ? all : slot, { perThread: true });
        const view = new SnapshotView(snap);
        mixed += checkTorture(view, full ? k : 0, snap.epoch);
        accepted++;
        if (full) fullAccepted++;
        if (snap.attempts > 1) retried++;
        epochs.add(snap.epoch);
      } catch (e) {
        if (!isStatsError(e, 'BUSY')) throw e;
        busy++;
        if (full) fullBusy++;
      }
    }
    const elapsed = (performance.now() - start) / 1000;
    const lastEpoch = seg.header().epoch;
    const rate = (lastEpoch - firstEpoch) / elapsed;
    console.log(
      `torture: ${Math.round(rate)} epochs/s, ${accepted} reads accepted (${retried} after retries, ${epochs.size} distinct epochs), ` +
        `${busy} BUSY; full-segment reads: ${fullAccepted} accepted, ${fullBusy} BUSY`,
    );
    assert.equal(mixed, 0, 'an accepted read showed counters from another epoch');
    assert.ok(accepted > 100, 'reads got through between relocations');
    assert.ok(lastEpoch - firstEpoch > 100, 'the writer was relocating while we read');
    assert.ok(epochs.size > 10, 'reads saw many epochs');
    assert.ok(retried + busy > 0, 'some reads overlapped a relocation and were detected');

    // The writer dies holding the lock: reads wait up to their budget and fail BUSY, never return data.
    child.send({ type: 'stick' });
    await next(child, 'stuck');
    assert.equal(seg.header().inProgress, 1);
    assert.throws(() => seg!.snapshot(slot, { busyTimeoutMs: 50 }), (e: unknown) => isStatsError(e, 'BUSY'));
  } finally {
    seg?.close();
    if (child.exitCode === null) {
      child.send({ type: 'stop' });
      await once(child, 'exit');
    }
  }
});
