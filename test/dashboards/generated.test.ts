/**
 * dashboards/*.json, alerts/vpp-exporter.rules.yml, docs/dashboards.md and docs/alerts.md are
 * generated from src/dashboards/*.ts; the committed files must be what the generator writes now.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { DASHBOARDS, generatedFiles } from '../../src/dashboards/index.js';
import { REPO_ROOT } from '../helpers/paths.js';

test('the committed dashboards, rules and docs are current (node scripts/gen-dashboards.mjs regenerates them)', () => {
  const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'gen-dashboards.mjs'), '--check'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  // The same comparison in-process, file by file, for a readable failure.
  for (const f of generatedFiles()) {
    assert.equal(fs.readFileSync(path.join(REPO_ROOT, f.path), 'utf8'), f.content, `${f.path} differs from what src/dashboards generates`);
  }
});

test('dashboards/ holds exactly the generated dashboards', () => {
  const files = fs.readdirSync(path.join(REPO_ROOT, 'dashboards')).filter((f) => f.endsWith('.json')).sort();
  assert.deepEqual(files, DASHBOARDS.map((d) => d.file).sort());
});

test('generation is deterministic', () => {
  assert.deepEqual(generatedFiles(), generatedFiles());
});
