/**
 * The rows of counter vectors of 1 MiB and more (large interface or thread counts) are given back
 * to the kernel after each read (native/statseg.cc DropPages), so VPP's pages stop counting in our
 * RSS: the reader's mapping keeps little resident, and values read again afterwards (the pages
 * mapped anew) still equal the simulator's truth.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createStatsSimulator } from '../../src/sim/index.js';
import { StatsClient, dumpValue, type Selector } from '../../src/stats/index.js';
import { tmpDir } from '../helpers/paths.js';

/** Resident kB of this process's read-only (reader) mappings of the stats segment. */
function readerResidentKb(): number {
  let kb = 0;
  let inReader = false;
  for (const line of fs.readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ (\S{4}) /.exec(line);
    if (head) {
      // The simulator writes through its own rw-s mapping of the same memfd; ours is r--s.
      inReader = head[1] === 'r--s' && line.includes('memfd:stat segment');
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (inReader && rss) kb += Number(rss[1]);
  }
  return kb;
}

/** The /if/ vectors, as the exporter reads them (not the per-interface symlinks). */
const interfaceVectors: Selector = (index) => index.entries.filter((e) => e.name.startsWith('/if/')).map((e) => e.index);

test('counter vectors of 1 MiB and more are read, then unmapped; values read again equal the truth', { timeout: 120_000 }, async () => {
  // 70k interfaces on 2 threads: a simple counter vector holds 1.1 MB, a combined one 2.2 MB.
  const interfaces = 70_000;
  const socketPath = path.join(tmpDir(), 'stats.sock');
  const sim = createStatsSimulator({ interfaces, workers: 1, rate: 0, seed: 3, socketPath });
  const client = new StatsClient({ socketPath, heartbeatTimeoutMs: 0, probeIntervalMs: 0 });
  try {
    assert.ok(await client.connect());
    const want = (name: string, k: number, snap: NonNullable<Awaited<ReturnType<StatsClient['snapshot']>>>): unknown => dumpValue(snap.view, k, snap.index.get(name)!.type);
    for (let round = 0; round < 2; round++) {
      if (round === 1) sim.stats.advance(1, 1e6); // new values in every row
      const snap = await client.snapshot(interfaceVectors, { perThread: true });
      assert.ok(snap !== undefined, String(client.lastError));
      const truth = sim.truth({ perThread: true });
      for (const name of ['/if/rx', '/if/tx', '/if/drops', '/if/ip4']) {
        const k = Array.from(snap.slots).indexOf(snap.index.get(name)!.index);
        assert.ok(k >= 0, name);
        assert.deepEqual(want(name, k, snap), truth.get(name), `${name}, round ${round}`);
      }
      snap.release();
      // 17 interface vectors x 2 threads of 70k counters (8 or 16 bytes) were read: about 29 MB.
      // Without the drop they stay resident in our mapping; with it, only the small vectors and
      // the pages at the rows' unaligned ends do.
      const residentKb = readerResidentKb();
      assert.ok(residentKb < 8 * 1024, `reader mapping resident after round ${round}: ${residentKb} kB`);
    }
  } finally {
    client.close();
    await sim.stop();
  }
});
