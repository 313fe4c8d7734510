/**
 * The native renderer (renderNative, native/exposition.cc) writes exactly the bytes of the
 * JavaScript reference (renderPlan, UTF-8 encoded): on simulator topologies summed and per thread,
 * in text and OpenMetrics, log2 histograms included (threads that disagree on min_exp, rows without
 * bins, bounds past 2^64), with values across the whole u64 range, for hostile label text, and
 * whatever the slice size. A plan that does not match the snapshot (another epoch, another layout,
 * rows past the values, a detached buffer) fails with STALE before reading out of bounds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { createStatsSimulator, DEFAULT_HISTOGRAMS } from '../../src/sim/index.js';
import { buildPlan, type Plan } from '../../src/exporters/catalog.js';
import { compileNativePlan, renderNative, renderNativeBuffers, renderPlan, type RenderOptions } from '../../src/exporters/exposition.js';
import { LE_TEXT } from '../../src/exporters/log2-histogram.js';
import { StatsSource } from '../../src/exporters/stats-source.js';
import { DirectoryIndex, SnapshotView, StatsClient, StatType, type StatEntry } from '../../src/stats/index.js';
import { isStatsError, native, type NativeSnapshot } from '../../src/native/index.js';
import { EXPORTER_SKIPPED_SYMLINKS } from '../../src/commands/run.js';
import { tmpDir } from '../helpers/paths.js';

function jsBytes(plan: Plan, view: SnapshotView, opts: RenderOptions): Buffer {
  let text = '';
  for (const c of renderPlan(plan, view, opts)) text += c;
  return Buffer.from(text, 'utf8');
}

function nativeBytes(plan: Plan, view: SnapshotView, opts: RenderOptions, slice?: number): Buffer {
  return Buffer.concat([...renderNativeBuffers(plan, view, opts, slice)]);
}

/** Where two outputs first differ, for a readable failure. */
function assertSameBytes(got: Buffer, want: Buffer, what: string): void {
  if (got.equals(want)) return;
  let i = 0;
  while (i < got.length && i < want.length && got[i] === want[i]) i++;
  const at = (b: Buffer): string => JSON.stringify(b.subarray(Math.max(0, i - 120), i + 80).toString('utf8'));
  assert.fail(`${what}: native output differs at byte ${i} (lengths ${got.length} vs ${want.length})\n native: ${at(got)}\n js:     ${at(want)}`);
}

/** A small deterministic PRNG (xorshift32) for values and topologies. */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

/** A u64 from every magnitude: small, 32-bit, around 2^53 (where doubles start to round), up to 2^64 - 1. */
function randomU64(next: () => number): bigint {
  const hi = BigInt(next());
  const lo = BigInt(next());
  switch (next() % 8) {
    case 0:
      return BigInt(next() % 1000);
    case 1:
      return lo;
    case 2:
      return (1n << 53n) + BigInt(next() % 64) - 32n;
    case 3:
      return (1n << 64n) - 1n - BigInt(next() % 64);
    case 4:
      return 10n ** BigInt(15 + (next() % 5)) + BigInt(next() % 1000) - 500n;
    case 5:
      return ((hi & 0x1fffffn) << 32n) | lo; // below 2^53
    default:
      return (hi << 32n) | lo;
  }
}

/** Overwrites every counter word of the view (not the row lengths) with values of every magnitude. */
function scramble(view: SnapshotView, next: () => number): void {
  for (let k = 0; k < view.length; k++) {
    if (view.status(k) !== 0) continue;
    const e = view.entry(k);
    for (let r = 0; r < e.rows; r++) {
      for (let w = 0; w < e.rowLengths[r] * e.width; w++) view.values[e.rowStarts[r] + w] = randomU64(next);
    }
  }
}

test('simulator topologies: native output equals renderPlan, summed and per thread, text and OpenMetrics', { timeout: 120_000 }, async () => {
  const next = prng(20261126);
  const dir = tmpDir();
  for (let t = 0; t < 6; t++) {
    const interfaces = t === 0 ? 0 : 1 + (next() % 60);
    const workers = next() % 5;
    const sim = createStatsSimulator({
      interfaces,
      workers,
      rate: 1 + (next() % 100_000),
      seed: 1 + (next() % 1000),
      // Log2 histograms: the default two, one whose threads disagree on min_exp, one without bins.
      histograms: [
        ...DEFAULT_HISTOGRAMS,
        { name: '/sim/skew', source: 'rx-packet-bytes', minExp: Array.from({ length: workers + 1 }, (_, i) => (i * 5) % 9), bins: 7 },
        { name: '/sim/no-bins', source: 'rx-vector-size', minExp: 3, bins: 0 },
      ],
    });
    const file = path.join(dir, `t${t}.bin`);
    try {
      fs.writeFileSync(file, sim.image());
    } finally {
      await sim.stop();
    }
    for (const perThread of [false, true]) {
      const client = new StatsClient({ filePath: file, skipSymlinkPrefixes: EXPORTER_SKIPPED_SYMLINKS });
      try {
        const c = await new StatsSource(client, { perThread }).collect();
        assert.ok(c, 'collected');
        const what = `${interfaces} interfaces x ${workers + 1} threads, ${perThread ? 'per thread' : 'summed'}`;
        for (const openMetrics of [false, true]) {
          const opts = { perThread, openMetrics, threads: c.threads };
          const want = jsBytes(c.plan, c.view, opts);
          assert.ok(want.length > 1000, `${what}: a real exposition`);
          assertSameBytes(nativeBytes(c.plan, c.view, opts), want, `${what}, ${opts.openMetrics ? 'OpenMetrics' : 'text'}`);
        }
        // The same plan over values of every magnitude, and in slices of every size.
        scramble(c.view, next);
        for (const openMetrics of [false, true]) {
          const opts = { perThread, openMetrics, threads: c.threads };
          const want = jsBytes(c.plan, c.view, opts);
          for (const slice of openMetrics ? [13, 4096] : [100, 1 << 20]) {
            assertSameBytes(nativeBytes(c.plan, c.view, opts, slice), want, `${what}, scrambled values, slices of ${slice}`);
          }
        }
        c.release();
      } finally {
        client.close();
      }
    }
  }
});

/** min_exp words of synthetic histogram rows: small, at the 2^64 edge, past it, garbage. */
const MIN_EXPS = [0n, 1n, 3n, 6n, 40n, 55n, 62n, 63n, 64n, 65n, 2n ** 32n, 2n ** 64n - 1n];

interface Synthetic {
  plan: Plan;
  view: SnapshotView;
}

/**
 * A directory with every family shape the catalog makes: interfaces (combined, two words),
 * node counters (extra row), errors named by /err symlinks, a memory heap (7 columns, no thread
 * label), a per-worker vector (one series per column, no thread label), a buffer pool and system
 * scalars, a generic counter vector (one series per column, with a thread label) and two log2
 * histograms (rows of 0 to 13 words: none, min_exp only, bins; min_exp from 0 to past 2^64's
 * exponent and u64 garbage). Values come from `value`; `rows` rows per vector (node vectors one
 * more, like VPP).
 */
function synthetic(ifNames: (string | null)[], nodeNames: (string | null)[], errors: [number, string][], rows: number, value: () => bigint): Synthetic {
  const index = new DirectoryIndex(7, 0, []);
  const add = (e: StatEntry): void => {
    index.entries.push(e);
    index.byName.set(e.name, e);
  };
  const types: Record<number, number> = {};
  const entry = (slot: number, name: string, type: number): void => {
    add({ index: slot, name, type });
    types[slot] = type;
  };
  entry(0, '/if/names', StatType.NAME_VECTOR);
  entry(1, '/if/rx', StatType.COUNTER_VECTOR_COMBINED);
  entry(2, '/sys/node/names', StatType.NAME_VECTOR);
  entry(3, '/sys/node/calls', StatType.COUNTER_VECTOR_SIMPLE);
  entry(4, '/node/errors', StatType.COUNTER_VECTOR_SIMPLE);
  entry(5, '/mem/main heap', StatType.COUNTER_VECTOR_SIMPLE);
  entry(6, '/sys/vector_rate_per_worker', StatType.COUNTER_VECTOR_SIMPLE);
  entry(7, '/buffer-pools/default-numa-0/cached', StatType.SCALAR_INDEX);
  entry(8, '/sys/heartbeat', StatType.SCALAR_INDEX);
  entry(9, '/acl/"odd"\\path', StatType.COUNTER_VECTOR_COMBINED);
  entry(10, '/sys/boottime', StatType.GAUGE);
  entry(11, '/acl/lookup-depth', StatType.HISTOGRAM_LOG2);
  entry(12, '/acl/"odd" histogram', StatType.HISTOGRAM_LOG2);
  const nodes = nodeNames.filter((n): n is string => n !== null && n.length > 0 && !n.includes('/'));
  if (nodes.length > 0) {
    errors.forEach(([node, error], i) => {
      const name = `/err/${nodes[node % nodes.length]}/${error}`;
      if (!index.byName.has(name)) add({ index: 100 + i, name, type: StatType.SYMLINK, target: 4, column: i });
    });
  }
  const plan = buildPlan({ index, names: new Map([['/if/names', ifNames], ['/sys/node/names', nodeNames]]) });
  const cols: Record<number, number> = { 1: ifNames.length, 3: nodeNames.length, 4: errors.length, 5: 7, 6: rows, 9: 3 };
  const words: bigint[] = [];
  const layout: number[] = [];
  for (const slot of plan.slots) {
    const type = types[slot];
    if (type === StatType.HISTOGRAM_LOG2) {
      layout.push(0, type, words.length, rows, 1);
      const lens = Array.from({ length: rows }, () => Number(value() % 14n));
      for (const len of lens) words.push(BigInt(len));
      for (const len of lens) {
        if (len === 0) continue;
        words.push(MIN_EXPS[Number(value() % BigInt(MIN_EXPS.length))]);
        for (let i = 1; i < len; i++) words.push(value());
      }
      continue;
    }
    const scalar = type === StatType.SCALAR_INDEX || type === StatType.GAUGE;
    const width = type === StatType.COUNTER_VECTOR_COMBINED ? 2 : 1;
    const n = scalar ? 1 : slot === 3 ? rows + 1 : rows;
    layout.push(0, type, words.length, n, width);
    const len = scalar ? 1 : cols[slot];
    for (let r = 0; r < n; r++) words.push(BigInt(len));
    for (let r = 0; r < n; r++) for (let i = 0; i < len * width; i++) words.push(value());
  }
  const snap: NativeSnapshot = { epoch: 7, attempts: 1, values: BigUint64Array.from(words), layout: Uint32Array.from(layout), names: [] };
  return { plan, view: new SnapshotView(snap) };
}

const nameArb = fc.oneof(
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: 'binary' }),
  fc.constantFrom('', '"', '\\', '\n', 'a"b\\c\nd', '\uD800', '\uDC00x\uD800', 'ünïcødé', '🦀', 'loop0', 'deleted'),
);

test('hostile label text and every value magnitude: native equals renderPlan in every mode', () => {
  fc.assert(
    fc.property(
      fc.array(fc.option(nameArb, { nil: null }), { maxLength: 10 }),
      fc.array(fc.option(nameArb, { nil: null }), { minLength: 1, maxLength: 6 }),
      fc.array(fc.tuple(fc.nat(10), nameArb), { maxLength: 8 }),
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 0, max: 5 }),
      fc.integer({ min: 1, max: 300 }),
      fc.integer(),
      (ifNames, nodeNames, errors, rows, threads, slice, seed) => {
        const next = prng(seed);
        const s = synthetic(ifNames, nodeNames, errors, rows, () => randomU64(next));
        for (const perThread of [false, true]) {
          for (const openMetrics of [false, true]) {
            const opts = { perThread, openMetrics, threads };
            const want = jsBytes(s.plan, s.view, opts);
            assertSameBytes(nativeBytes(s.plan, s.view, opts), want, `perThread ${perThread}, OpenMetrics ${openMetrics}`);
            assertSameBytes(nativeBytes(s.plan, s.view, opts, slice), want, `slices of ${slice}`);
          }
        }
      },
    ),
    { numRuns: 300 },
  );
});

test('u64 values print as JavaScript prints the nearest double', () => {
  const edges = [0n, 1n, 9n, 10n, 99n, 100n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 53n + 3n, 2n ** 63n, 2n ** 64n - 1n, 10n ** 16n, 10n ** 19n, 12345678901234567890n];
  const next = prng(53);
  const values = [...edges, ...Array.from({ length: 20_000 }, () => randomU64(next))];
  let i = 0;
  const s = synthetic(['eth0'], ['n'], [], 1, () => values[i++ % values.length]);
  // /if/rx has 2 words per interface: one series each; render many snapshots of the same plan.
  for (let round = 0; round < values.length / 16; round++) {
    for (let k = 0; k < s.view.length; k++) {
      const e = s.view.entry(k);
      for (let w = 0; w < e.rowLengths[0] * e.width; w++) s.view.values[e.rowStarts[0] + w] = values[i++ % values.length]!;
    }
    const opts = { perThread: false, openMetrics: false, threads: 1 };
    assertSameBytes(nativeBytes(s.plan, s.view, opts), jsBytes(s.plan, s.view, opts), `round ${round}`);
  }
});

test('per thread: node vectors keep only the real threads, even none', () => {
  const s = synthetic(['eth0', 'eth1'], ['ip4-input', 'ip4-lookup'], [[0, 'drops']], 3, () => 5n);
  for (const threads of [0, 1, 2, 3, 7]) {
    const opts = { perThread: true, openMetrics: false, threads };
    const got = nativeBytes(s.plan, s.view, opts);
    assertSameBytes(got, jsBytes(s.plan, s.view, opts), `threads ${threads}`);
    const calls = got.toString().split('\n').filter((l) => l.startsWith('vpp_node_calls_total{')).length;
    assert.equal(calls, 2 * Math.min(threads, 4));
  }
});

function assertStale(fn: () => unknown, what: string): void {
  assert.throws(fn, (e: unknown) => isStatsError(e, 'STALE'), what);
}

/** The view's layout in the native form, via SnapshotView's public API. */
function layoutOf(view: SnapshotView): Uint32Array {
  const out = new Uint32Array(view.length * 5);
  for (let k = 0; k < view.length; k++) {
    out[k * 5] = view.status(k);
    out[k * 5 + 1] = view.type(k);
    if (view.status(k) !== 0) continue;
    const e = view.entry(k);
    out.set([view.firstValueIndex(k) - e.rows, e.rows, e.width], k * 5 + 2);
  }
  return out;
}

function viewOf(epoch: number, values: BigUint64Array, layout: Uint32Array): SnapshotView {
  return new SnapshotView({ epoch, attempts: 1, values, layout, names: [] });
}

test('a plan that does not match the snapshot fails with STALE, before any byte', () => {
  const a = synthetic(['eth0', 'eth1'], ['n1', 'n2'], [[0, 'e']], 1, () => 1n);
  const opts = { perThread: false, openMetrics: false, threads: 1 };
  const values = a.view.values;
  const layout = layoutOf(a.view);

  // Another epoch.
  assertStale(() => renderNative(a.plan, viewOf(8, values, layout), opts), 'epoch');

  // Another directory: fewer or more entries than the plan reads.
  const b = synthetic(['x'], ['n1'], [], 1, () => 2n);
  assertStale(() => renderNative(a.plan, viewOf(7, b.view.values, layoutOf(b.view).subarray(0, layout.length - 5)), opts), 'fewer entries');
  const longer = new Uint32Array(layout.length + 5);
  longer.set(layout);
  assertStale(() => renderNative(a.plan, viewOf(7, values, longer), opts), 'more entries');

  // The same number of entries, but a combined counter became a simple one (the plan reads word 1).
  const rx = a.plan.slots.indexOf(1);
  const narrow = layout.slice();
  narrow[rx * 5 + 4] = 1;
  assertStale(() => compileNativePlan(a.plan).render(values, narrow, opts), 'width');

  // Rows that run past the values: a huge row length, an offset past the end, too many rows.
  const huge = values.slice();
  huge[layout[rx * 5 + 2]] = 1n << 62n;
  assertStale(() => compileNativePlan(a.plan).render(huge, layout, opts), 'row length');
  const far = layout.slice();
  far[rx * 5 + 2] = values.length;
  assertStale(() => compileNativePlan(a.plan).render(values, far, opts), 'offset');
  const many = layout.slice();
  many[rx * 5 + 3] = 0xffffffff;
  assertStale(() => compileNativePlan(a.plan).render(values, many, opts), 'rows');
  assertStale(() => compileNativePlan(a.plan).render(values.subarray(0, values.length - 1), layout, opts), 'truncated values');

  // A failed entry renders nothing, like renderPlan.
  const failed = layout.slice();
  failed[rx * 5] = 6;
  const view = viewOf(7, values, failed);
  assertSameBytes(nativeBytes(a.plan, view, opts), jsBytes(a.plan, view, opts), 'failed entry');
});

test('values detached or shrunk while rendering: STALE on the next slice', () => {
  const s = synthetic(['eth0', 'eth1', 'eth2'], ['n1'], [], 2, () => 123456789n);
  const values = s.view.values.slice();
  const r = compileNativePlan(s.plan).render(values, layoutOf(s.view), { perThread: true, openMetrics: false, threads: 2 });
  const buf = Buffer.alloc(64);
  assert.ok(r.fill(buf) > 0);
  structuredClone(values.buffer, { transfer: [values.buffer] });
  assertStale(() => r.fill(buf), 'detached');

  const rab = new ArrayBuffer(s.view.values.byteLength, { maxByteLength: s.view.values.byteLength });
  const tracking = new BigUint64Array(rab);
  tracking.set(s.view.values);
  const r2 = compileNativePlan(s.plan).render(tracking, layoutOf(s.view), { perThread: false, openMetrics: false, threads: 1 });
  assert.ok(r2.fill(buf) > 0);
  rab.resize(8);
  assertStale(() => r2.fill(buf), 'shrunk');
});

test('random layouts and values never read out of bounds: output or STALE', () => {
  const s = synthetic(['eth0', 'eth1'], ['n1', 'n2'], [[0, 'e'], [1, 'f']], 2, () => 9n);
  const rp = compileNativePlan(s.plan);
  fc.assert(
    fc.property(
      fc.uint32Array({ minLength: rp.slots * 5, maxLength: rp.slots * 5 }),
      fc.bigUint64Array({ maxLength: 64 }),
      fc.boolean(),
      (layout, values, perThread) => {
        // Small numbers make it past the checks more often.
        const small = layout.map((x, i) => (i % 5 === 0 ? (x % 4 === 0 ? 0 : x) : x % 70));
        for (const l of [layout, small]) {
          let r;
          try {
            r = rp.render(values, l, { perThread, openMetrics: false, threads: 3 });
          } catch (e) {
            assert.ok(isStatsError(e, 'STALE'), String(e));
            continue;
          }
          const buf = Buffer.alloc(4096);
          let total = 0;
          for (let n = r.fill(buf); n > 0; n = r.fill(buf)) total += n;
          assert.equal(total, r.bytes);
        }
      },
    ),
    { numRuns: 2000 },
  );
});

test('a render plan is compiled once per plan; one with offsets out of range is refused', () => {
  const s = synthetic(['eth0'], ['n1'], [], 1, () => 1n);
  const rp = compileNativePlan(s.plan);
  assert.equal(compileNativePlan(s.plan), rp, 'compiled once per plan');
  assert.ok(rp.series > 0 && rp.families > 0 && rp.arenaBytes > 0);
  const { RenderPlan } = native();
  const arena = Buffer.from('vpp_x# HELP vpp_x x\n# TYPE vpp_x gauge\n');
  const family = (over: Partial<Record<number, number>> = {}): Uint32Array => {
    const f = Uint32Array.from([0, 1, 0, 5, 5, 34, 5, 34, 0]);
    for (const [i, v] of Object.entries(over)) f[Number(i)] = v!;
    return f;
  };
  const series = (over: Partial<Record<number, number>> = {}): Uint32Array => {
    const w = Uint32Array.from([0, 0, 0, 0, 0]);
    for (const [i, v] of Object.entries(over)) w[Number(i)] = v!;
    return w;
  };
  assert.equal(new RenderPlan(arena, family(), series(), 1).series, 1);
  const invalid = (f: () => unknown, what: string): void => assert.throws(f, (e: unknown) => isStatsError(e, 'INVALID_ARG'), what);
  invalid(() => new RenderPlan(arena, family({ 3: 1000 }), series(), 1), 'name past the arena');
  invalid(() => new RenderPlan(arena, family({ 6: 0xffffffff }), series(), 1), 'header offset wraps');
  invalid(() => new RenderPlan(arena, family({ 1: 2 }), series(), 1), 'family past the series');
  invalid(() => new RenderPlan(arena, family({ 8: 4 }), series(), 1), 'unknown flag');
  invalid(() => new RenderPlan(arena, family(), series({ 0: 30, 1: 30 }), 1), 'label past the arena');
  invalid(() => new RenderPlan(arena, family(), series({ 2: 1 }), 1), 'k past the entries');
  invalid(() => new RenderPlan(arena, family(), series().subarray(0, 4), 1), 'partial series record');
  // Histogram families need the le table: 2 words per exponent 1..64, every text in the arena.
  const le = new Uint32Array(128).fill(1);
  for (let e = 0; e < 64; e++) le[2 * e] = 0;
  assert.equal(new RenderPlan(arena, family({ 8: 4 }), series(), 1, le).series, 1);
  invalid(() => new RenderPlan(arena, family({ 8: 4 }), series(), 1), 'histogram without le table');
  invalid(() => new RenderPlan(arena, family({ 8: 4 }), series(), 1, le.subarray(0, 126)), 'short le table');
  invalid(() => new RenderPlan(arena, family({ 8: 4 }), series(), 1, le.map((x, i) => (i === 7 ? 1000 : x))), 'le text past the arena');
  invalid(() => new RenderPlan(arena, family({ 8: 4 }), series({ 3: 1 }), 1, le), 'histogram series on column 1');
  invalid(() => new RenderPlan(arena, family({ 8: 8 }), series(), 1, le), 'unknown flag');
});

test('histogram lines: cumulative buckets, +Inf and (text only) _count, the same from both renderers', () => {
  // Every word 5: rows of 5 words with min_exp MIN_EXPS[5] = 55, so bins 5, 5, 5, 5 of which the
  // first three are finite (bounds 2^56 - 1 .. 2^58 - 1) and the last is open.
  const s = synthetic(['eth0'], ['n1'], [], 2, () => 5n);
  const row = (thread: string): string[] => [
    `vpp_acl_lookup_depth_bucket{${thread}le="${LE_TEXT[56]}"} 5`,
    `vpp_acl_lookup_depth_bucket{${thread}le="${LE_TEXT[57]}"} 10`,
    `vpp_acl_lookup_depth_bucket{${thread}le="${LE_TEXT[58]}"} 15`,
    `vpp_acl_lookup_depth_bucket{${thread}le="+Inf"} 20`,
  ];
  for (const openMetrics of [false, true]) {
    for (const perThread of [false, true]) {
      const opts = { perThread, openMetrics, threads: 2 };
      const text = nativeBytes(s.plan, s.view, opts).toString();
      assertSameBytes(Buffer.from(text), jsBytes(s.plan, s.view, opts), `perThread ${perThread}, OpenMetrics ${openMetrics}`);
      const want = [0, 1].flatMap((t) => {
        const thread = perThread ? `thread="${t}",` : '';
        const count = openMetrics ? [] : [perThread ? `vpp_acl_lookup_depth_count{thread="${t}"} 20` : 'vpp_acl_lookup_depth_count 20'];
        return [...row(thread), ...count];
      });
      assert.deepEqual(text.split('\n').filter((l) => l.startsWith('vpp_acl_lookup_depth')), want, `perThread ${perThread}, OpenMetrics ${openMetrics}`);
      assert.match(text, /^# TYPE vpp_acl_lookup_depth histogram$/m);
      assert.match(text, /^# TYPE vpp_acl_odd_histogram histogram$/m);
    }
  }
});
