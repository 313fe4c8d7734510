/**
 * /metrics from the real VPP 26.10 image, and from a fixed simulator topology with log2
 * histograms, equals the checked-in golden file (volatile lines filtered). Regenerate on purpose
 * with UPDATE_GOLDEN=1 and review the diff.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, fixtureImage, tmpDir } from '../helpers/paths.js';
import { exporterOn, stableLines } from '../helpers/exporter.js';
import { promtool } from '../helpers/prometheus.js';
import { createStatsSimulator, DEFAULT_HISTOGRAMS } from '../../src/sim/index.js';

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

function golden(name: string, body: string): void {
  const file = path.join(GOLDEN, name);
  if (process.env.UPDATE_GOLDEN === '1') fs.writeFileSync(file, body);
  assert.equal(body, fs.readFileSync(file, 'utf8'));
}

test('golden /metrics: a frozen simulator with log2 histograms, text summed and OpenMetrics per thread; promtool is clean', async () => {
  const socketPath = path.join(tmpDir(), 'stats.sock');
  const sim = createStatsSimulator({
    interfaces: 4,
    workers: 2,
    rate: 0,
    seed: 11,
    socketPath,
    // Packet sizes from min_exp 6 and vector sizes from 0, both counted by two workers, and one
    // whose threads disagree on min_exp.
    histograms: [...DEFAULT_HISTOGRAMS, { name: '/sim/skew', source: 'rx-packet-bytes', minExp: [3, 6, 4], bins: 8 }],
  });
  const summed = await exporterOn({ socketPath });
  const perThread = await exporterOn({ socketPath }, { 'per-thread': true });
  try {
    const text = await (await fetch(summed.url)).text();
    // promtool parses and lints everything but prom-client's default Node.js metrics, which have
    // a lint finding of their own (nodejs_active_handles_total is a gauge named _total).
    const ours = text.split('\n').filter((l) => !/^(# (HELP|TYPE) )?(nodejs_|process_)/.test(l)).join('\n');
    const lint = await promtool(['check', 'metrics'], { input: ours });
    assert.equal(lint.code, 0, lint.stdout + lint.stderr);
    assert.equal(lint.stdout + lint.stderr, '', 'no lint findings');
    // /sys/boottime is the wall clock at the simulator's start.
    golden('sim-histograms.prom', stableLines(text).split('\n').filter((l) => !l.includes('vpp_boot_time_seconds')).join('\n'));
    const om = await (await fetch(perThread.url, { headers: { accept: 'application/openmetrics-text; version=1.0.0' } })).text();
    assert.ok(om.endsWith('# EOF\n'));
    golden('sim-histograms-per-thread.om', om.split('\n').filter((l) => /^(# (HELP|TYPE) )?vpp_sim_/.test(l)).join('\n') + '\n');
  } finally {
    await perThread.stop();
    await summed.stop();
    await sim.stop();
  }
});
