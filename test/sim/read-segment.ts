/** Reads a whole segment with our native reader into name -> value, and compares with truth(). */
import assert from 'node:assert/strict';
import { isDeepStrictEqual, inspect } from 'node:util';
import type { NativeStatSegment } from '../../src/native/index.js';
import { dumpValue, type DumpValue } from '../../src/stats/dump.js';
import { SnapshotView } from '../../src/stats/snapshot.js';
import { StatType } from '../../src/stats/types.js';
import type { ExpectedEntry } from '../../src/sim/index.js';

export interface SegmentRead {
  epoch: number;
  values: Map<string, DumpValue>;
  /** Every slot, EMPTY ones included. */
  directory: ExpectedEntry[];
}

export function readSegment(seg: NativeStatSegment, perThread: boolean): SegmentRead {
  const dir = seg.directory({ includeEmpty: true });
  const snap = seg.snapshot(Uint32Array.from(dir.index), { perThread, epoch: dir.epoch });
  const view = new SnapshotView(snap);
  const values = new Map<string, DumpValue>();
  const directory: ExpectedEntry[] = [];
  for (let k = 0; k < dir.index.length; k++) {
    directory.push({ index: dir.index[k], type: dir.type[k], name: dir.names[k] });
    if (dir.type[k] === StatType.EMPTY) continue;
    assert.equal(view.statusName(k), 'OK', `entry ${dir.names[k]} read with status ${view.statusName(k)}`);
    assert.ok(!values.has(dir.names[k]), `duplicate name ${dir.names[k]}`);
    values.set(dir.names[k], dumpValue(view, k, dir.type[k]));
  }
  return { epoch: snap.epoch, values, directory };
}

/** Asserts two name -> value maps are equal, reporting the first few differences readably. */
export function assertSameValues(actual: Map<string, DumpValue>, expected: Map<string, DumpValue>, what: string): void {
  const problems: string[] = [];
  for (const [name, v] of expected) {
    if (!actual.has(name)) problems.push(`missing ${name}`);
    else if (!isDeepStrictEqual(actual.get(name), v)) {
      problems.push(`${name}: read ${inspect(actual.get(name), { depth: 4 }).slice(0, 300)}, expected ${inspect(v, { depth: 4 }).slice(0, 300)}`);
    }
    if (problems.length >= 5) break;
  }
  for (const name of actual.keys()) if (!expected.has(name) && problems.length < 10) problems.push(`unexpected ${name}`);
  assert.equal(actual.size, expected.size, `${what}: ${actual.size} entries read, ${expected.size} expected; ${problems.join('; ')}`);
  assert.deepEqual(problems, [], `${what}: values differ`);
}
