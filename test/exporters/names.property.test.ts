/**
 * Property tests: whatever the interface, node and error names (quotes, backslashes, newlines,
 * lone surrogates, empty, duplicates), the exposition parses line by line and has no duplicate
 * series; a sample is also checked by promtool.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { buildPlan } from '../../src/exporters/catalog.js';
import { renderPlan } from '../../src/exporters/exposition.js';
import { DirectoryIndex, SnapshotView, StatType, type StatEntry } from '../../src/stats/index.js';
import type { NativeSnapshot } from '../../src/native/index.js';

/** A directory with /if/names, /if/rx (combined), /sys/node/names, /sys/node/calls, /node/errors and /err symlinks. */
function synthetic(ifNames: (string | null)[], nodeNames: string[], errors: [number, string][]): { index: DirectoryIndex; view: SnapshotView; names: Map<string, (string | null)[]> } {
  const index = new DirectoryIndex(7, 0, []);
  const add = (e: StatEntry): void => {
    index.entries.push(e);
    index.byName.set(e.name, e);
  };
  add({ index: 0, name: '/if/names', type: StatType.NAME_VECTOR });
  add({ index: 1, name: '/if/rx', type: StatType.COUNTER_VECTOR_COMBINED });
  add({ index: 2, name: '/sys/node/names', type: StatType.NAME_VECTOR });
  add({ index: 3, name: '/sys/node/calls', type: StatType.COUNTER_VECTOR_SIMPLE });
  add({ index: 4, name: '/node/errors', type: StatType.COUNTER_VECTOR_SIMPLE });
  errors.forEach(([node, error], i) => {
    const name = `/err/${nodeNames[node % nodeNames.length]}/${error}`;
    if (!index.byName.has(name)) add({ index: 5 + i, name, type: StatType.SYMLINK, target: 4, column: i });
  });
  const names = new Map<string, (string | null)[]>([['/if/names', ifNames], ['/sys/node/names', nodeNames]]);
  const plan = buildPlan({ index, names });
  // One summed row per entry in plan.slots order: rx has 2 words per interface.
  const words: bigint[] = [];
  const layout: number[] = [];
  for (const slot of plan.slots) {
    const width = slot === 1 ? 2 : 1;
    const cols = slot === 1 ? ifNames.length : slot === 3 ? nodeNames.length : errors.length;
    layout.push(0, slot === 1 ? StatType.COUNTER_VECTOR_COMBINED : StatType.COUNTER_VECTOR_SIMPLE, words.length, 1, width);
    words.push(BigInt(cols));
    for (let i = 0; i < cols * width; i++) words.push(BigInt(i));
  }
  const snap: NativeSnapshot = { epoch: 7, attempts: 1, values: BigUint64Array.from(words), layout: Uint32Array.from(layout), names: [] };
  return { index, view: new SnapshotView(snap), names };
}

const LINE = /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\["\\n])*",?)*\})? -?[0-9.e+]+$/;
const nameArb = fc.oneof(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' }), fc.constantFrom('', '"', '\\', '\n', 'a"b\\c\nd', '\uD800', 'loop0'));

function render(ifNames: (string | null)[], nodeNames: string[], errors: [number, string][]): string {
  const s = synthetic(ifNames, nodeNames, errors);
  const plan = buildPlan({ index: s.index, names: s.names });
  let text = '';
  for (const c of renderPlan(plan, s.view, { perThread: false, openMetrics: false, threads: 1 })) text += c;
  return text;
}

test('every line parses and no series is duplicated, for any names', () => {
  fc.assert(
    fc.property(
      fc.array(fc.option(nameArb, { nil: null }), { maxLength: 12 }),
      fc.uniqueArray(nameArb.filter((n) => n.length > 0 && !n.includes('/')), { minLength: 1, maxLength: 6 }),
      fc.array(fc.tuple(fc.nat(10), nameArb), { maxLength: 10 }),
      (ifNames, nodeNames, errors) => {
        const text = render(ifNames, nodeNames, errors);
        const seen = new Set<string>();
        for (const line of text.split('\n')) {
          if (line === '' || line.startsWith('# ')) continue;
          assert.match(line, LINE);
          const series = line.slice(0, line.lastIndexOf(' '));
          assert.ok(!seen.has(series), `duplicate series ${series}`);
          seen.add(series);
        }
        // Well-formed UTF-16 in, so the body encodes to valid UTF-8.
        assert.equal(text, text.toWellFormed());
      },
    ),
    { numRuns: 300 },
  );
});

test('promtool accepts a hostile sample', () => {
  const text = render(['a"b', 'back\\slash', 'new\nline', '', '', null, 'deleted', '\uD800x', 'ünïcødé'], ['n"1', 'n\\2'], [[0, 'e"1'], [1, 'e\n2']]);
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  assert.equal(r.error, undefined, 'promtool must be installed (scripts/peers/install-prometheus.sh)');
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(text, /interface="a\\"b"/);
  assert.match(text, /interface="new\\nline"/);
  assert.doesNotMatch(text, /interface="deleted"/);
});
