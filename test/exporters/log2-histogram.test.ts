/**
 * VPP log2 histograms: the `le` text (OpenMetrics canonical numbers), a row decoded into explicit
 * buckets (the OTLP shape), the summed row's alignment by exponent, and the catalog's mapping with
 * its name rules.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { buildPlan } from '../../src/exporters/catalog.js';
import { renderPlan } from '../../src/exporters/exposition.js';
import { canonicalFloat, HISTOGRAM_MAX_EXP, histogramPoint, LE_TEXT, visitHistograms, type HistogramPoint } from '../../src/exporters/log2-histogram.js';
import { StatsSource } from '../../src/exporters/stats-source.js';
import { EXPORTER_SKIPPED_SYMLINKS } from '../../src/commands/run.js';
import { createStatsSimulator, summedHistogram } from '../../src/sim/index.js';
import { DirectoryIndex, SnapshotView, StatsClient, StatType, type StatEntry } from '../../src/stats/index.js';
import { tmpDir } from '../helpers/paths.js';

test('le text: the canonical numbers of the OpenMetrics 1.0 spec, and 2^e - 1 for every exponent', () => {
  // The spec's examples ("Considerations: Canonical Numbers" and the histogram example).
  const spec: [number, string][] = [
    [0, '0.0'], [0.001, '0.001'], [0.002, '0.002'], [0.01, '0.01'], [0.1, '0.1'], [0.9, '0.9'], [0.95, '0.95'], [0.99, '0.99'],
    [0.999, '0.999'], [1, '1.0'], [1.7, '1.7'], [10, '10.0'], [1e-10, '1e-10'], [1e-9, '1e-09'], [1e-5, '1e-05'], [0.0001, '0.0001'],
    [100000, '100000.0'], [1e6, '1e+06'], [1e10, '1e+10'], [1e23, '1e+23'], [1.1e23, '1.1e+23'], [Infinity, '+Inf'],
  ];
  for (const [x, want] of spec) assert.equal(canonicalFloat(x), want, String(x));
  assert.equal(LE_TEXT.length, HISTOGRAM_MAX_EXP + 1);
  assert.deepEqual(LE_TEXT.slice(1, 6), ['1.0', '3.0', '7.0', '15.0', '31.0']);
  assert.equal(LE_TEXT[19], '524287.0');
  assert.equal(LE_TEXT[20], '1.048575e+06');
  assert.equal(LE_TEXT[64], '1.8446744073709552e+19');
  for (let e = 1; e <= HISTOGRAM_MAX_EXP; e++) {
    assert.equal(Number(LE_TEXT[e]), 2 ** e - 1, `exponent ${e}`);
    if (e > 1) assert.ok(Number(LE_TEXT[e]) > Number(LE_TEXT[e - 1]), 'increasing');
  }
});

function row(...words: bigint[]): [BigUint64Array, number, number] {
  return [BigUint64Array.from([99n, ...words, 99n]), 1, words.length];
}

test('a row as an explicit-bucket point: finite bounds 2^e - 1, counts per bucket, the last bin open', () => {
  const point = (...w: bigint[]): HistogramPoint => histogramPoint(...row(...w));
  // min_exp 2: bin 0 holds values < 8, bin 1 8..15, bin 2 16..31, bin 3 (last) 32 and up.
  assert.deepEqual(point(2n, 5n, 0n, 7n, 1n), { bounds: [7, 15, 31], counts: [5, 0, 7, 1], count: 13 });
  // No bins, only min_exp, one bin (open at both ends).
  assert.deepEqual(point(), { bounds: [], counts: [0], count: 0 });
  assert.deepEqual(point(3n), { bounds: [], counts: [0], count: 0 });
  assert.deepEqual(point(3n, 4n), { bounds: [], counts: [4], count: 4 });
  // Bounds stop at 2^64: min_exp 62 has two finite buckets, the rest is in +Inf.
  assert.deepEqual(point(62n, 1n, 2n, 3n, 4n, 5n), { bounds: [2 ** 63 - 1, 2 ** 64 - 1], counts: [1, 2, 12], count: 15 });
  // A min_exp at or past 64 (or anything a corrupt segment holds) leaves only +Inf.
  assert.deepEqual(point(64n, 1n, 2n, 3n), { bounds: [], counts: [6], count: 6 });
  assert.deepEqual(point(2n ** 63n, 1n, 2n), { bounds: [], counts: [3], count: 3 });
});

test('summed rows are aligned by exponent; rows without bins add nothing', () => {
  // Worked by hand: finite bins 6, 2 and 5 from min_exp 3, 7 and 5; the sum starts at 3 and has
  // max(0 + 6, 4 + 2, 2 + 5) = 7 finite bins. Row 0's bins 0..5 land at 0..5, row 1's 0..1 at 4..5,
  // row 2's 0..4 at 2..6; every row's last bin (7, 30, 600) at the sum's last, 7.
  assert.deepEqual(
    summedHistogram([
      [3n, 1n, 2n, 3n, 4n, 5n, 6n, 7n],
      [7n, 10n, 20n, 30n],
      [5n, 100n, 200n, 300n, 400n, 500n, 600n],
      [],
      [9n],
    ]),
    [3n, 1n, 2n, 103n, 204n, 315n, 426n, 500n, 637n],
  );
  assert.deepEqual(summedHistogram([[], [4n]]), []);
  // Only rows without finite bins: one open bin at the smallest min_exp.
  assert.deepEqual(summedHistogram([[70n, 5n, 6n], [66n, 1n]]), [66n, 12n]);
  // The grid starts at a row with finite bins, not at a smaller min_exp with none.
  assert.deepEqual(summedHistogram([[0n, 5n], [4n, 1n, 2n, 3n]]), [4n, 1n, 2n, 8n]);
  // u64 sums wrap like the reader's.
  assert.deepEqual(summedHistogram([[0n, 2n ** 64n - 1n, 0n], [0n, 2n, 0n]]), [0n, 1n, 0n]);
});

function directory(entries: [string, number][]): DirectoryIndex {
  const index = new DirectoryIndex(3, 0, []);
  entries.forEach(([name, type], i) => {
    const e: StatEntry = { index: i, name, type };
    index.entries.push(e);
    index.byName.set(name, e);
  });
  return index;
}

test('catalog: a histogram family per entry under the generic name; clashing names leave the histogram out', () => {
  const plan = buildPlan({
    index: directory([
      ['/acl/lookup-depth', StatType.HISTOGRAM_LOG2],
      ['/a', StatType.HISTOGRAM_LOG2],
      ['/a/bucket', StatType.SCALAR_INDEX],
      ['/b/count', StatType.COUNTER_VECTOR_SIMPLE],
      ['/b', StatType.HISTOGRAM_LOG2],
      ['/c', StatType.GAUGE],
      ['/c', StatType.HISTOGRAM_LOG2],
    ]),
    names: new Map(),
  });
  const h = plan.families.filter((f) => f.type === 'histogram');
  assert.deepEqual(h.map((f) => [f.name, f.source, f.labelNames, f.k.length, f.col[0], f.word[0]]), [['vpp_acl_lookup_depth', '/acl/lookup-depth', [], 1, 0, 0]]);
  assert.ok(!h[0].noThreadLabel, 'histograms get a thread label with --per-thread');
  assert.deepEqual(
    plan.unexported.map((u) => u.path).sort(),
    ['/a', '/b', '/c'],
    // /a clashes with vpp_a_bucket (a scalar), /b with vpp_b_count (OpenMetrics name of vpp_b_count_total), /c with the gauge vpp_c.
  );
  assert.ok(plan.families.some((f) => f.name === 'vpp_a_bucket') && plan.families.some((f) => f.name === 'vpp_b_count_total'));
});

test('visitHistograms: points of a simulator topology equal its truth, per thread and summed', async () => {
  const sim = createStatsSimulator({
    interfaces: 6,
    workers: 2,
    rate: 0,
    seed: 4,
    histograms: [
      { name: '/sim/rx-packet-bytes', source: 'rx-packet-bytes', minExp: 6, bins: 11 },
      { name: '/sim/skew', source: 'rx-packet-bytes', minExp: [2, 8, 5], bins: 7 },
      { name: '/sim/none', source: 'rx-vector-size', minExp: 0, bins: 0 },
    ],
  });
  const file = path.join(tmpDir(), 'h.bin');
  fs.writeFileSync(file, sim.image());
  const truth = { perThread: sim.truth({ perThread: true }), summed: sim.truth({ perThread: false }) };
  await sim.stop();
  /** The point of a truth row, computed without the code under test. */
  const expected = (r: bigint[]): HistogramPoint => {
    if (r.length < 2) return { bounds: [], counts: [0], count: 0 };
    const e = Number(r[0]);
    const bins = r.slice(1).map(Number);
    const finite = Math.max(0, Math.min(bins.length - 1, 64 - e));
    const counts = [...bins.slice(0, finite), bins.slice(finite).reduce((a, b) => a + b, 0)];
    return { bounds: bins.slice(0, finite).map((_, j) => 2 ** (e + j + 1) - 1), counts, count: bins.reduce((a, b) => a + b, 0) };
  };
  for (const perThread of [false, true]) {
    const client = new StatsClient({ filePath: file, skipSymlinkPrefixes: EXPORTER_SKIPPED_SYMLINKS });
    try {
      const c = await new StatsSource(client, { perThread }).collect();
      assert.ok(c);
      const got = new Map<string, HistogramPoint>();
      visitHistograms(c.plan, c.view, { perThread }, (f, series, thread, point) => {
        assert.equal(series, 0);
        got.set(`${f.source} ${thread}`, point);
      });
      const want = new Map<string, HistogramPoint>();
      for (const name of ['/sim/rx-packet-bytes', '/sim/skew', '/sim/none']) {
        const rows = (perThread ? truth.perThread : truth.summed).get(name) as bigint[][];
        rows.forEach((r, t) => want.set(`${name} ${perThread ? t : -1}`, expected(r)));
      }
      assert.deepEqual(got, want);
      const total = [...got.values()].reduce((a, p) => a + p.count, 0);
      assert.ok(total > 0, 'the topology has observations');
      // The per-bucket counts add up to the count, and the text format's buckets to the same.
      let text = '';
      for (const chunk of renderPlan(c.plan, c.view, { perThread, openMetrics: false, threads: c.threads })) text += chunk;
      for (const p of got.values()) assert.equal(p.counts.reduce((a, b) => a + b, 0), p.count);
      assert.match(text, new RegExp(`^vpp_sim_skew_count${perThread ? '\\{thread="1"\\}' : ''} ${got.get(`/sim/skew ${perThread ? 1 : -1}`)!.count}$`, 'm'));
      c.release();
    } finally {
      client.close();
    }
  }
});

test('a snapshot entry that failed renders and visits nothing', () => {
  const index = directory([['/h', StatType.HISTOGRAM_LOG2]]);
  const plan = buildPlan({ index, names: new Map() });
  const view = new SnapshotView({ epoch: 3, attempts: 1, values: new BigUint64Array(0), layout: Uint32Array.from([6, StatType.HISTOGRAM_LOG2, 0, 0, 0]), names: [] });
  let text = '';
  for (const chunk of renderPlan(plan, view, { perThread: false, openMetrics: false, threads: 1 })) text += chunk;
  assert.equal(text, '');
  let visits = 0;
  visitHistograms(plan, view, { perThread: false }, () => visits++);
  assert.equal(visits, 0);
});
