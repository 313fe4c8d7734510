/**
 * /metrics from the real VPP 26.10 image equals the checked-in golden file (volatile lines
 * filtered). Regenerate on purpose with UPDATE_GOLDEN=1 and review the diff.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, fixtureImage } from '../helpers/paths.js';
import { exporterOn, stableLines } from '../helpers/exporter.js';

const GOLDEN = path.join(REPO_ROOT, 'test', 'exporters', 'golden');

for (const [name, flags] of [
  ['statseg', {}],
  ['statseg-churn', {}],
  ['statseg-per-thread', { 'per-thread': true }],
] as const) {
  test(`golden /metrics: ${name}`, async () => {
    const image = fixtureImage(name.startsWith('statseg-churn') ? 'statseg-churn' : 'statseg');
    const exporter = await exporterOn({ filePath: image }, flags);
    try {
      const res = await fetch(exporter.url);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      const body = stableLines(await res.text());
      const file = path.join(GOLDEN, `${name}.prom`);
      if (process.env.UPDATE_GOLDEN === '1') fs.writeFileSync(file, body);
      assert.equal(body, fs.readFileSync(file, 'utf8'));
    } finally {
      await exporter.stop();
    }
  });
}
