/** docs/metrics.md is generated from the catalog; it must be current. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { REPO_ROOT } from '../helpers/paths.js';

test('docs/metrics.md is current (node scripts/gen-metrics-doc.mjs regenerates it)', () => {
  const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'gen-metrics-doc.mjs'), '--check'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});
