/**
 * The rows of counter vectors of 1 MiB and more (large interface or thread counts) are given back
 * to the kernel after each read (native/statseg.cc DropPages), so VPP's pages stop counting in our
 * RSS: the reader's mapping keeps little resident, and values read again afterwards (the pages
 * mapped anew) still equal the simulator's truth. A large directory is kept mapped for a while
 * after a re-index (the next one, while interfaces come and go, needs no page faults) and then
 * given back.
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

test('a large directory is given back after a re-index at rest, kept mapped while interfaces come and go, then given back', { timeout: 120_000 }, async () => {
  // 10k interfaces: a 175k-entry directory of 144-byte entries, 25 MB, mostly symlinks.
  const socketPath = path.join(tmpDir(), 'stats.sock');
  const sim = createStatsSimulator({ interfaces: 10_000, workers: 0, rate: 0, seed: 4, socketPath });
  const keptMs = 2000;
  const client = new StatsClient({ socketPath, heartbeatTimeoutMs: 0, probeIntervalMs: 0, skipSymlinkPrefixes: ['/interfaces/', '/nodes/'], directoryPagesKeptMs: keptMs });
  try {
    assert.ok(await client.connect());
    const index = await client.directory();
    assert.ok(index !== undefined && index.length > 170_000, `directory of ${index?.length} entries`);
    const atRest = readerResidentKb();
    assert.ok(atRest < 8 * 1024, `the first re-index gives the directory back at once: ${atRest} kB`);
    // An epoch change soon after: the re-index keeps the pages mapped.
    const created = sim.model.create({ name: 'loop-during-churn', kind: 'loopback' });
    const again = await client.directory();
    assert.ok(again !== undefined && again.epoch !== index.epoch);
    const kept = readerResidentKb();
    assert.ok(kept > 20 * 1024, `directory pages kept mapped while interfaces come and go: ${kept} kB`);
    const snap = await client.snapshot((ix) => [ix.get('/if/names')!.index]);
    assert.ok(snap !== undefined);
    assert.equal((snap.view.strings(0) ?? [])[created.swIfIndex], 'loop-during-churn', 'the new epoch is read right');
    snap.release();
    // Given back once there has been no re-index for keptMs.
    const deadline = Date.now() + keptMs + 10_000;
    while (readerResidentKb() > 8 * 1024) {
      assert.ok(Date.now() < deadline, `directory pages still mapped: ${readerResidentKb()} kB`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    client.close();
    await sim.stop();
  }
});
