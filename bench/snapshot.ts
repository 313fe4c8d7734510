/**
 * Native snapshot benchmark (PERFORMANCE.md, first row): the exporter's selection of base
 * vectors (/if/*, /sys/node/*, /node/errors, scalars) read from a simulator segment, summed and
 * per thread, beside a plain C loop over the same memory (native/bench/floor.cc); and the
 * directory re-index time after an epoch change.
 */
import path from 'node:path';
import os from 'node:os';
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createStatsSimulator } from '../src/sim/index.js';
import { native } from '../src/native/index.js';
import { EXPORTER_SKIPPED_SYMLINKS } from '../src/commands/run.js';
import { StatType } from '../src/stats/index.js';
import { median, fmtMs, REPO } from './util.js';

export interface SnapshotRow {
  interfaces: number;
  threads: number;
  entries: number;
  words: number;
  summedMs: number;
  perThreadMs: number;
  floorMs: number;
  /** The next re-index while the last one's pages are still mapped (interfaces coming and going). */
  reindexMs: number;
  /** A re-index after the directory's pages were given back (the first change after a quiet spell). */
  reindexColdMs: number;
  fullDirectoryMs: number;
  directoryEntries: number;
}

export function benchSnapshot(interfaces: number, threads: number, reps: number): SnapshotRow {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-snap-'));
  const socketPath = path.join(dir, 'stats.sock');
  const sim = createStatsSimulator({ interfaces, workers: threads - 1, rate: 0, seed: 1, socketPath });
  try {
    const seg = native().StatSegment.openSocket(socketPath);
    const d = seg.directory({ skipSymlinkPrefixes: EXPORTER_SKIPPED_SYMLINKS });
    const picked: number[] = [];
    const vectorNames: string[] = [];
    for (let i = 0; i < d.names.length; i++) {
      const name = d.names[i];
      const t = d.type[i];
      const vector = t === StatType.COUNTER_VECTOR_SIMPLE || t === StatType.COUNTER_VECTOR_COMBINED;
      if ((vector && (name.startsWith('/if/') || name.startsWith('/sys/node/') || name === '/node/errors')) || t === StatType.SCALAR_INDEX || t === StatType.GAUGE) {
        picked.push(d.index[i]);
        if (vector) vectorNames.push(name);
      }
    }
    const slots = Uint32Array.from(picked);
    // As the stats client does: each snapshot fills the buffer the previous one released.
    let spare: ArrayBuffer | undefined;
    const time = (perThread: boolean): number =>
      median(
        Array.from({ length: reps }, () => {
          const t0 = performance.now();
          const s = seg.snapshot(slots, { perThread, epoch: d.epoch, ...(spare ? { into: spare } : {}) });
          const ms = performance.now() - t0;
          spare = s.values.buffer as ArrayBuffer;
          return ms;
        }),
      );
    const summedMs = time(false);
    const perThreadMs = time(true);
    const words = seg.snapshot(slots, { epoch: d.epoch }).values.length;
    const floorOut = execFileSync(path.join(REPO, 'build/native/statseg_floor'), [socketPath, String(reps), ...vectorNames], { encoding: 'utf8' });
    const floorNs = Number(/floor_ns_per_pass (\d+)/.exec(floorOut)![1]);

    // Re-index after an epoch change: create or delete an interface (a structural change under
    // the lock), then time the directory read the client does on the new epoch, as the client
    // does it (keepPages; the client gives the pages back 10 s after its last re-index): once
    // with the previous re-index's pages still mapped, once after they were given back.
    const reindex: number[] = [];
    const reindexCold: number[] = [];
    const full: number[] = [];
    let entries = 0;
    const exporterRead = { skipSymlinkPrefixes: EXPORTER_SKIPPED_SYMLINKS, keepPages: true };
    seg.directory(exporterRead);
    for (let i = 0; i < Math.min(reps, 9); i++) {
      const created = sim.model.create({ name: `bench-loop${i}`, kind: 'loopback' });
      let t0 = performance.now();
      seg.directory(exporterRead);
      reindex.push(performance.now() - t0);
      t0 = performance.now();
      entries = seg.directory({ keepPages: true }).names.length;
      full.push(performance.now() - t0);
      seg.releaseDirectoryPages();
      sim.model.delete(created.swIfIndex);
      t0 = performance.now();
      seg.directory(exporterRead);
      reindexCold.push(performance.now() - t0);
    }
    seg.close();
    return {
      interfaces,
      threads,
      entries: slots.length,
      words,
      summedMs,
      perThreadMs,
      floorMs: floorNs / 1e6,
      reindexMs: median(reindex),
      reindexColdMs: median(reindexCold),
      fullDirectoryMs: median(full),
      directoryEntries: entries,
    };
  } finally {
    void sim.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export function snapshotTable(rows: SnapshotRow[]): string {
  let s =
    '| interfaces x threads | entries read | u64 words | snapshot summed | per thread | C floor | summed / floor | re-index (exporter) | re-index, pages given back | full directory (entries) |\n' +
    '|---|---|---|---|---|---|---|---|---|---|\n';
  for (const r of rows) {
    s += `| ${r.interfaces} x ${r.threads} | ${r.entries} | ${r.words} | ${fmtMs(r.summedMs)} | ${fmtMs(r.perThreadMs)} | ${fmtMs(r.floorMs)} | ${(r.summedMs / r.floorMs).toFixed(2)}x | ${fmtMs(r.reindexMs)} | ${fmtMs(r.reindexColdMs)} | ${fmtMs(r.fullDirectoryMs)} (${r.directoryEntries}) |\n`;
  }
  return s;
}
