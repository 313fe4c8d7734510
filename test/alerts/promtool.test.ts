/**
 * The alert rules with Debian's promtool: `check rules` lints them, `test rules` runs the unit tests
 * in alerts/tests/, which must cover every alert both firing and not firing, on series named and
 * labelled as the exporter names them (docs/metrics.md). Every alert carries a
 * severity, a summary, a description and a runbook_url whose anchor is a section of docs/alerts.md.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ALERTS, EXPORTER_JOB, metricNames, RUNBOOK_BASE_URL, runbookAnchor } from '../../src/dashboards/index.js';
import { REPO_ROOT, tmpDir } from '../helpers/paths.js';
import { promtool } from '../helpers/prometheus.js';
import { parseSeries, readRules, readRuleTests, RULE_TESTS_PATH, RULES_PATH, SYNTHETIC_METRICS } from '../dashboards/artifacts.js';

const rules = readRules();

test('promtool check rules: the rules file is valid', async () => {
  const r = await promtool(['check', 'rules', RULES_PATH]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, new RegExp(`SUCCESS: ${rules.length} rules found`));
  assert.equal(rules.length, ALERTS.length);
});

test('promtool test rules: every unit test passes', async () => {
  const r = await promtool(['test', 'rules', RULE_TESTS_PATH]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /SUCCESS/);
});

test('promtool test rules fails when an expectation is wrong (the unit tests can fail)', async () => {
  const text = fs.readFileSync(RULE_TESTS_PATH, 'utf8');
  const broken = path.join(tmpDir(), 'broken.test.yml');
  assert.ok(text.includes('  - ../vpp-exporter.rules.yml\n') && text.includes('is 24.42% free'));
  fs.writeFileSync(broken, text.replace('  - ../vpp-exporter.rules.yml\n', `  - ${RULES_PATH}\n`).replace('is 24.42% free', 'is 99% free'));
  const r = await promtool(['test', 'rules', broken]);
  assert.notEqual(r.code, 0);
  assert.match(r.stdout + r.stderr, /FAILED[\s\S]*VppBufferPoolLow/);
});

test('every alert has unit tests that see it fire and see it not fire', () => {
  const t = readRuleTests();
  const firing = new Set<string>();
  const silent = new Set<string>();
  for (const c of t.tests) {
    for (const a of c.alert_rule_test ?? []) (a.exp_alerts.length ? firing : silent).add(a.alertname);
  }
  for (const r of rules) {
    assert.ok(firing.has(r.alert), `${r.alert}: no unit test where it fires`);
    assert.ok(silent.has(r.alert), `${r.alert}: no unit test where it does not fire`);
  }
  assert.deepEqual([...firing].filter((a) => !rules.some((r) => r.alert === a)), [], 'unit tests name alerts that do not exist');
});

/** Families and their labels from docs/metrics.md (generated from the catalog, checked by its own test). */
function documentedFamilies(): Map<string, Set<string>> {
  const md = fs.readFileSync(path.join(REPO_ROOT, 'docs', 'metrics.md'), 'utf8');
  const out = new Map<string, Set<string>>();
  for (const m of md.matchAll(/^\| `([a-z_:][a-z0-9_:]*)` \| (counter|gauge) \|(?: ([^|]*) \|)?/gm)) {
    out.set(m[1], new Set((m[3] ?? '').split(',').map((s) => s.trim()).filter((s) => s.length > 0)));
  }
  return out;
}

test('unit-test series are named and labelled as the exporter names them', () => {
  const families = documentedFamilies();
  assert.ok(families.has('vpp_interface_rx_packets_total') && families.has('vpp_exporter_collector_success'));
  // The exporter's own metrics are documented without their labels.
  const selfLabels: Record<string, string[]> = { vpp_exporter_collector_success: ['collector'], vpp_exporter_reconnects_total: ['socket'] };
  const used = new Set<string>();
  for (const c of readRuleTests().tests) {
    for (const s of c.input_series) {
      const { name, labels } = parseSeries(s.series);
      used.add(name);
      const known = families.get(name) ?? (SYNTHETIC_METRICS.has(name) ? new Set<string>() : undefined);
      assert.ok(known, `${c.name}: ${name} is not emitted by the exporter (docs/metrics.md)`);
      const allowed = new Set([...known, ...(selfLabels[name] ?? []), 'instance', 'job', 'thread']);
      for (const l of labels) assert.ok(allowed.has(l), `${c.name}: ${name} has no label ${l} (has ${[...allowed].join(', ')})`);
      // `up` of other jobs appears on purpose (VppExporterDown must ignore them).
      if (name !== 'up') assert.ok(s.series.includes(`job="${EXPORTER_JOB}"`), `${c.name}: ${s.series} is not from the ${EXPORTER_JOB} job`);
    }
  }
  // Every metric a rule reads appears in some unit test.
  for (const r of rules) for (const m of metricNames(r.expr)) assert.ok(used.has(m), `${r.alert}: ${m} is in no unit test`);
});

test('every alert: severity, summary, description, runbook_url to its section of docs/alerts.md', () => {
  const doc = fs.readFileSync(path.join(REPO_ROOT, 'docs', 'alerts.md'), 'utf8');
  const anchors = new Set([...doc.matchAll(/^#{2,4} (.+)$/gm)].map((m) => m[1].trim().toLowerCase().replace(/[^a-z0-9 _-]/g, '').replace(/ /g, '-')));
  const names = new Set<string>();
  for (const r of rules) {
    assert.ok(!names.has(r.alert), `${r.alert} twice`);
    names.add(r.alert);
    assert.match(r.alert, /^Vpp[A-Z][A-Za-z]+$/);
    assert.ok(r.labels.severity === 'warning' || r.labels.severity === 'critical', `${r.alert}: severity`);
    assert.ok(r.annotations.summary?.length > 10, `${r.alert}: summary`);
    assert.ok(r.annotations.description?.length > 20, `${r.alert}: description`);
    assert.match(r.annotations.summary, /\{\{ \$labels\.instance \}\}/, `${r.alert}: summary names the instance`);
    const url = r.annotations.runbook_url;
    assert.equal(url, `${RUNBOOK_BASE_URL}#${runbookAnchor(r.alert)}`, `${r.alert}: runbook_url`);
    assert.ok(anchors.has(runbookAnchor(r.alert)), `${r.alert}: docs/alerts.md has no section #${runbookAnchor(r.alert)}`);
    assert.match(r.for, /^\d+[smh]$/, `${r.alert}: for`);
  }
  for (const a of ALERTS) assert.ok(names.has(a.alert));
});
