/**
 * The real VPP 26.10 segment images decode EXACTLY to the listings vpp-papi and an independent
 * reader agree on: every entry, every value, every thread.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { CLI, FIXTURES, fixtureImage } from '../helpers/paths.js';
import { StatsClient, selectAll, dumpValue, pythonJson, StatType, type DumpValue, type EntryView } from '../../src/stats/index.js';

for (const name of ['statseg', 'statseg-churn'] as const) {
  const expectedText = fs.readFileSync(path.join(FIXTURES, `${name}.expected.json`), 'utf8');

  test(`${name}: stats dump --json prints exactly ${name}.expected.json`, () => {
    const image = fixtureImage(name);
    const out = execFileSync(process.execPath, [CLI, 'stats', 'dump', '--stats-file', image, '--json'], {
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
    assert.equal(out.length, expectedText.length);
    assert.ok(out === expectedText, 'output differs from the expected listing');
  });

  test(`${name}: every entry in-process equals the expected value`, async () => {
    const expected = JSON.parse(expectedText) as Record<string, unknown>;
    const meta = JSON.parse(fs.readFileSync(path.join(FIXTURES, `${name}.meta.json`), 'utf8')) as {
      epoch: number;
      directory_entries: number;
      entries_by_type: Record<string, number>;
    };
    const client = new StatsClient({ filePath: fixtureImage(name) });
    const snap = await client.snapshot(selectAll, { perThread: true });
    client.close();
    assert.ok(snap, 'snapshot failed');
    assert.equal(snap.view.epoch, meta.epoch);
    assert.equal(snap.index.length, meta.directory_entries);
    assert.equal(snap.index.entries.length, meta.directory_entries - (meta.entries_by_type.EMPTY ?? 0));
    const toPlain = (v: DumpValue): unknown =>
      typeof v === 'bigint' ? Number(v) : Array.isArray(v) ? v.map(toPlain) : v;
    let compared = 0;
    snap.index.entries.forEach((e, k) => {
      assert.equal(snap.view.status(k), 0, `${e.name}: ${snap.view.statusName(k)}`);
      assert.deepEqual(toPlain(dumpValue(snap.view, k, e.type)), expected[e.name], e.name);
      compared++;
    });
    assert.equal(compared, Object.keys(expected).length);
  });

  test(`${name}: summed snapshot equals the per-thread sum`, async () => {
    const client = new StatsClient({ filePath: fixtureImage(name) });
    const pick = (index: { entries: { index: number; type: number }[] }): number[] =>
      index.entries.filter((e) => e.type === StatType.COUNTER_VECTOR_COMBINED || e.type === StatType.COUNTER_VECTOR_SIMPLE || e.type === StatType.SYMLINK).map((e) => e.index);
    const per = await client.snapshot(pick, { perThread: true });
    const sum = await client.snapshot(pick, { perThread: false });
    client.close();
    assert.ok(per && sum);
    for (let k = 0; k < per.view.length; k++) {
      const a: EntryView = per.view.entry(k);
      const b: EntryView = sum.view.entry(k);
      assert.equal(b.rows, 1);
      const width = a.width;
      const maxLen = Math.max(0, ...a.rowLengths);
      assert.equal(b.rowLengths[0], maxLen);
      for (let i = 0; i < maxLen * width; i++) {
        let total = 0n;
        a.rowStarts.forEach((s, r) => {
          if (i < a.rowLengths[r] * width) total += per.view.values[s + i];
        });
        assert.equal(sum.view.values[b.rowStarts[0] + i], total);
      }
    }
  });
}

test('pythonJson matches json.dumps escaping and key order', () => {
  const v: DumpValue = { b: 1n, a: ['x"\\\n\u0001é😀', null], '\u00e9': 2n };
  assert.equal(pythonJson(v), '{"a": ["x\\"\\\\\\n\\u0001\\u00e9\\ud83d\\ude00", null], "b": 1, "\\u00e9": 2}');
});
