/**
 * The committed artifacts as users get them (dashboards/*.json, the rules file, its unit tests),
 * read back for the tests: every query of every panel, every rule, every unit-test series; and
 * Grafana's variables substituted so that Prometheus can run the queries.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from '../helpers/paths.js';

export const DASHBOARD_DIR = path.join(REPO_ROOT, 'dashboards');
export const RULES_PATH = path.join(REPO_ROOT, 'alerts', 'vpp-exporter.rules.yml');
export const RULE_TESTS_PATH = path.join(REPO_ROOT, 'alerts', 'tests', 'vpp-exporter.test.yml');
export const SCENARIO_DIR = path.join(REPO_ROOT, 'alerts', 'scenarios');

/** Prometheus makes these for every target; dashboards may use them. */
export const SYNTHETIC_METRICS = new Set(['up', 'scrape_duration_seconds', 'scrape_samples_scraped', 'scrape_samples_post_metric_relabeling', 'scrape_series_added']);

export interface JsonObject {
  [k: string]: unknown;
}

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export interface DashboardFile {
  file: string;
  json: JsonObject;
}

export function readDashboards(): DashboardFile[] {
  return fs
    .readdirSync(DASHBOARD_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ file, json: JSON.parse(fs.readFileSync(path.join(DASHBOARD_DIR, file), 'utf8')) as JsonObject }));
}

/** Every panel, rows' nested panels included (rows themselves not). */
export function panelsOf(d: JsonObject): JsonObject[] {
  const out: JsonObject[] = [];
  const walk = (list: unknown): void => {
    if (!Array.isArray(list)) return;
    for (const p of list) {
      if (!isObject(p)) continue;
      if (p.type === 'row') walk(p.panels);
      else out.push(p);
    }
  };
  walk(d.panels);
  return out;
}

export interface PanelQuery {
  /** "<dashboard title>: <panel title>" */
  where: string;
  panel: JsonObject;
  expr: string;
  instant: boolean;
}

export function panelQueries(dashboards: DashboardFile[]): PanelQuery[] {
  const out: PanelQuery[] = [];
  for (const d of dashboards) {
    for (const p of panelsOf(d.json)) {
      const targets = Array.isArray(p.targets) ? p.targets : [];
      for (const t of targets) {
        if (!isObject(t) || typeof t.expr !== 'string') continue;
        out.push({ where: `${String(d.json.title)}: ${String(p.title)}`, panel: p, expr: t.expr, instant: t.instant === true });
      }
    }
  }
  return out;
}

export interface Rule {
  group: string;
  alert: string;
  expr: string;
  for: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export function readRules(text = fs.readFileSync(RULES_PATH, 'utf8')): Rule[] {
  const doc = parse(text) as { groups: { name: string; rules: Omit<Rule, 'group'>[] }[] };
  return doc.groups.flatMap((g) => g.rules.map((r) => ({ ...r, group: g.name })));
}

export interface RuleTests {
  rule_files: string[];
  tests: {
    name: string;
    input_series: { series: string; values: string }[];
    alert_rule_test?: { eval_time: string; alertname: string; exp_alerts: unknown[] }[];
  }[];
}

export function readRuleTests(): RuleTests {
  return parse(fs.readFileSync(RULE_TESTS_PATH, 'utf8')) as RuleTests;
}

/** `name{a="x", b="y"}` -> name and label names. */
export function parseSeries(series: string): { name: string; labels: string[] } {
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{(.*)\})?$/s.exec(series.trim());
  if (!m) throw new Error(`bad series ${series}`);
  return { name: m[1], labels: [...(m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"(?:[^"\\]|\\.)*"/g)].map((x) => x[1]) };
}

/**
 * Grafana's variables as a Prometheus query can take them: $__rate_interval as given, every other
 * variable (instance, node, pool, interface: all used in =~ matchers) as "match anything".
 */
export function substituteVariables(expr: string, rateInterval: string): string {
  return expr
    .replaceAll('$__rate_interval', rateInterval)
    .replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_, v: string) => {
      if (v.startsWith('__')) throw new Error(`unhandled Grafana variable $${v} in ${expr}`);
      return '.+';
    });
}

/** Metric names and label names per family, from a Prometheus text exposition. */
export function exposedFamilies(body: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const line of body.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const { name, labels } = parseSeries(line.replace(/\s+[^\s}]+(\s+\d+)?$/, ''));
    let set = out.get(name);
    if (!set) out.set(name, (set = new Set()));
    for (const l of labels) set.add(l);
  }
  return out;
}
