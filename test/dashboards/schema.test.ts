/**
 * The dashboards' shape: at compile time, what src/dashboards builds fits @grafana/schema's
 * Dashboard type; at run time, the committed JSON has a current schemaVersion, the `datasource`
 * variable (type datasource, query prometheus) and the `instance` variable, uses no data source
 * UID but `${datasource}`, and lays its panels out on the grid without overlaps.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Dashboard as GrafanaDashboard } from '@grafana/schema';
import { buildDashboard, DASHBOARDS, SCHEMA_VERSION } from '../../src/dashboards/index.js';
import { isObject, panelsOf, readDashboards, type JsonObject } from './artifacts.js';

/**
 * @grafana/schema's types with its enums as the values they stand for (a string enum as its string
 * literals, a numeric one as number): JSON has no enums, and the generator writes plain values.
 */
type Loose<T> = T extends string
  ? `${T}`
  : T extends number
    ? number
    : T extends boolean
      ? boolean
      : T extends readonly (infer U)[]
        ? Loose<U>[]
        : T extends object
          ? { [K in keyof T]: Loose<T[K]> }
          : T;

test('every generated dashboard fits the @grafana/schema Dashboard type (checked by the compiler)', () => {
  const typed: Loose<GrafanaDashboard>[] = DASHBOARDS.map((d) => buildDashboard(d));
  assert.equal(typed.length, DASHBOARDS.length);
  for (const d of typed) assert.equal(d.schemaVersion, SCHEMA_VERSION);
});

const dashboards = readDashboards();

test('schemaVersion is current, uids and titles are unique, tags mark them as VPP dashboards', () => {
  assert.equal(dashboards.length, 5);
  const uids = new Set<unknown>();
  const titles = new Set<unknown>();
  for (const { file, json } of dashboards) {
    assert.ok(typeof json.schemaVersion === 'number' && json.schemaVersion >= 39, `${file}: schemaVersion ${String(json.schemaVersion)}`);
    assert.match(String(json.uid), /^[a-zA-Z0-9_-]{8,40}$/, `${file}: uid`);
    assert.ok(typeof json.title === 'string' && json.title.length > 0, `${file}: title`);
    assert.ok(Array.isArray(json.tags) && json.tags.includes('vpp'), `${file}: tag vpp`);
    assert.equal(json.id, undefined, `${file}: no instance-specific numeric id`);
    uids.add(json.uid);
    titles.add(json.title);
  }
  assert.equal(uids.size, dashboards.length);
  assert.equal(titles.size, dashboards.length);
});

function variables(json: JsonObject): JsonObject[] {
  const t = json.templating;
  return isObject(t) && Array.isArray(t.list) ? t.list.filter(isObject) : [];
}

test('a ${datasource} variable (type datasource, query prometheus) and an instance variable in every dashboard', () => {
  for (const { file, json } of dashboards) {
    const vars = variables(json);
    const ds = vars.find((v) => v.name === 'datasource');
    assert.ok(ds, `${file}: datasource variable`);
    assert.equal(ds.type, 'datasource', `${file}: datasource variable type`);
    assert.equal(ds.query, 'prometheus', `${file}: datasource variable query`);
    const inst = vars.find((v) => v.name === 'instance');
    assert.ok(inst, `${file}: instance variable`);
    assert.equal(inst.type, 'query');
    assert.deepEqual(inst.datasource, { type: 'prometheus', uid: '${datasource}' }, `${file}: instance variable datasource`);
    assert.equal(vars.indexOf(ds), 0, `${file}: datasource first (the others query it)`);
    assert.equal(new Set(vars.map((v) => v.name)).size, vars.length, `${file}: variable names unique`);
    for (const v of vars.filter((x) => x.type === 'query')) {
      const q = isObject(v.query) ? v.query.query : v.query;
      assert.match(String(q), /^label_values\(.+, [a-z_]+\)$/, `${file}: variable ${String(v.name)} query`);
    }
  }
});

test('no data source UID but ${datasource} (and the built-in Grafana annotations) anywhere', () => {
  for (const { file, json } of dashboards) {
    const seen: string[] = [];
    const walk = (v: unknown, at: string): void => {
      if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${at}[${i}]`));
      else if (isObject(v)) {
        for (const [k, x] of Object.entries(v)) {
          if (k === 'datasource' && isObject(x)) seen.push(`${at}.${k}=${JSON.stringify(x)}`);
          if (k === 'uid' && at !== '') assert.ok(x === '${datasource}' || x === '-- Grafana --', `${file}${at}.uid is ${JSON.stringify(x)}`);
          walk(x, `${at}.${k}`);
        }
      }
    };
    walk(json, '');
    assert.ok(seen.length > 0);
    for (const s of seen) assert.ok(s.includes('"uid":"${datasource}"') || s.includes('"uid":"-- Grafana --"'), `${file}: ${s}`);
    assert.doesNotMatch(JSON.stringify(json), /"__inputs"|DS_PROMETHEUS/, `${file}: no import-time inputs`);
  }
});

test('panels: unique ids, a title and a description, queries with unique refIds, laid out on the 24-column grid without overlaps', () => {
  for (const { file, json } of dashboards) {
    const all = (json.panels as JsonObject[]).concat(panelsOf(json).filter((p) => !(json.panels as JsonObject[]).includes(p)));
    const ids = all.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, `${file}: panel ids unique`);
    const cells = new Set<string>();
    for (const p of all) {
      const g = p.gridPos as { x: number; y: number; w: number; h: number };
      assert.ok(g.x >= 0 && g.w > 0 && g.x + g.w <= 24 && g.h > 0 && g.y >= 0, `${file}: ${String(p.title)} gridPos ${JSON.stringify(g)}`);
      for (let x = g.x; x < g.x + g.w; x++) {
        for (let y = g.y; y < g.y + g.h; y++) {
          const c = `${x},${y}`;
          assert.ok(!cells.has(c), `${file}: ${String(p.title)} overlaps another panel at ${c}`);
          cells.add(c);
        }
      }
      if (p.type === 'row') continue;
      assert.ok(typeof p.title === 'string' && p.title.length > 0, `${file}: panel ${String(p.id)} title`);
      assert.ok(typeof p.description === 'string' && p.description.length > 20, `${file}: ${String(p.title)} description`);
      assert.ok(['timeseries', 'stat', 'gauge', 'table', 'bargauge'].includes(String(p.type)), `${file}: ${String(p.title)} type ${String(p.type)}`);
      const targets = p.targets as JsonObject[];
      assert.ok(Array.isArray(targets) && targets.length > 0, `${file}: ${String(p.title)} has queries`);
      const refIds = targets.map((t) => t.refId);
      assert.equal(new Set(refIds).size, refIds.length, `${file}: ${String(p.title)} refIds unique`);
      for (const t of targets) {
        assert.ok(typeof t.expr === 'string' && t.expr.length > 0, `${file}: ${String(p.title)} expr`);
        assert.deepEqual(t.datasource, { type: 'prometheus', uid: '${datasource}' });
      }
    }
  }
});

test('every variable a query uses is defined; rates use $__rate_interval', () => {
  for (const { file, json } of dashboards) {
    const defined = new Set(variables(json).map((v) => v.name));
    for (const p of panelsOf(json)) {
      for (const t of p.targets as JsonObject[]) {
        const expr = String(t.expr);
        for (const m of expr.matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g)) {
          const v = m[1];
          assert.ok(v.startsWith('__') || defined.has(v), `${file}: ${String(p.title)} uses undefined $${v}`);
        }
        assert.doesNotMatch(expr, /\$__interval\b/, `${file}: ${String(p.title)}: use $__rate_interval`);
      }
    }
  }
});
