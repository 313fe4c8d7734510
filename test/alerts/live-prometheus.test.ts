/**
 * The dashboards and alert rules on live data: one real Prometheus (Debian's) scrapes the exporter
 * on the simulator with traffic, errors and buffer use, and loads a copy of the rules with the
 * `for:` durations set to 1s and the range windows shortened (nothing else changed). The exporter
 * runs as `run` does by default: with its binary API side (version, link state) and the event
 * pipeline publishing to a real Kafka broker.
 *
 * - Every query of every dashboard panel (and every variable's label_values) runs and returns data;
 *   every metric a query names is in the exporter's live /metrics output.
 * - Every rule's expression runs, and each operand of its comparisons returns data; unit-test
 *   series are named and labelled as the live exporter names them.
 * - Nothing fires on the healthy simulator; driven into low buffers, an error burst, a saturated
 *   input node, drops, rx-miss and rx-no-buf (alerts/scenarios/*.json), the matching alerts fire,
 *   then a link down while admin up, Kafka stopped during a link storm, exhausted buffers, a stale
 *   heartbeat, VPP gone and the exporter gone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { comparisonOperands, EXPORTER_JOB, isLiteral, metricNames } from '../../src/dashboards/index.js';
import { loadConfig } from '../../src/config.js';
import { startApiSide, startExporter } from '../../src/commands/run.js';
import { startStatsSimulator } from '../../src/sim/index.js';
import { applyScenario, loadScenario, type ScenarioHandle } from '../../src/sim/scenario.js';
import { startKafka } from '../helpers/kafka.js';
import { tmpDir } from '../helpers/paths.js';
import { startPrometheus, type PrometheusServer } from '../helpers/prometheus.js';
import {
  exposedFamilies,
  isObject,
  panelQueries,
  parseSeries,
  readDashboards,
  readRules,
  readRuleTests,
  RULES_PATH,
  SCENARIO_DIR,
  substituteVariables,
  SYNTHETIC_METRICS,
  type JsonObject,
} from '../dashboards/artifacts.js';

/** $__rate_interval as Grafana would make it for a 1 s scrape interval, with room. */
const RATE_INTERVAL = '10s';
/** The test copy of the rules: windows shortened so that a few seconds of data decide. */
const WINDOWS: Record<string, string> = { '2m': '10s', '5m': '10s', '10m': '10s', '1h': '60s' };

function shortenedRules(text: string): string {
  let forCount = 0;
  const out = text
    .replace(/^(\s+for:) \S+$/gm, (_, key: string) => {
      forCount++;
      return `${key} 1s`;
    })
    .replace(/\[(\d+[smh])\]/g, (m, d: string) => {
      const w = WINDOWS[d];
      if (w === undefined) throw new Error(`no shortened window for ${m} in the rules: add it to WINDOWS`);
      return `[${w}]`;
    });
  assert.ok(forCount > 0);
  return out;
}

interface ActiveAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing';
  value: string;
}

async function activeAlerts(prom: PrometheusServer): Promise<ActiveAlert[]> {
  const r = (await prom.api('/api/v1/alerts')) as { data: { alerts: ActiveAlert[] } };
  return r.data.alerts;
}

const describe = (a: ActiveAlert): string => `${a.labels.alertname}{${Object.entries(a.labels).filter(([k]) => k !== 'alertname').map(([k, v]) => `${k}="${v}"`).join(',')}} ${a.state}`;

/** Waits until every wanted alert is firing (labels given must match); returns them. */
async function waitFiring(prom: PrometheusServer, wanted: { alertname: string; labels?: Record<string, string> }[], timeoutMs = 45_000): Promise<ActiveAlert[]> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const active = await activeAlerts(prom);
    const found = wanted.map((w) =>
      active.find((a) => a.state === 'firing' && a.labels.alertname === w.alertname && Object.entries(w.labels ?? {}).every(([k, v]) => a.labels[k] === v)),
    );
    if (found.every((f) => f !== undefined)) return found;
    if (Date.now() > until) {
      const missing = wanted.filter((_, i) => found[i] === undefined).map((w) => `${w.alertname}${JSON.stringify(w.labels ?? {})}`);
      throw new Error(`not firing after ${timeoutMs} ms: ${missing.join(', ')}; active: ${active.map(describe).join('; ') || 'none'}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The Accept header Prometheus 2.42 scrapes with. */
const PROMETHEUS_ACCEPT = 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

/**
 * Metric names and their label names as Prometheus scraped them from the exporter: the live
 * /metrics output. (The plain-text answer is not read here: once an OpenMetrics scrape has run,
 * prom-client writes the exporter's own counters without _total in it, because SelfMetrics shares
 * each counter object between its text and OpenMetrics registries and prom-client's OpenMetrics
 * rendering renames the object.)
 */
async function scrapedFamilies(prom: PrometheusServer): Promise<Map<string, Set<string>>> {
  const r = (await prom.api(`/api/v1/series?match[]=${encodeURIComponent(`{job="${EXPORTER_JOB}"}`)}`)) as { data: Record<string, string>[] };
  const out = new Map<string, Set<string>>();
  for (const series of r.data) {
    const name = series.__name__;
    let set = out.get(name);
    if (!set) out.set(name, (set = new Set()));
    for (const l of Object.keys(series)) if (l !== '__name__') set.add(l);
  }
  return out;
}

/** label_values(<selector>, <label>) of a dashboard variable: the values Grafana would offer. */
async function labelValues(prom: PrometheusServer, query: string): Promise<string[]> {
  const m = /^label_values\((.+), ([a-zA-Z_]+)\)$/.exec(query);
  assert.ok(m, `variable query ${query}`);
  const selector = substituteVariables(m[1], RATE_INTERVAL);
  const r = (await prom.api(`/api/v1/label/${m[2]}/values?match[]=${encodeURIComponent(selector)}`)) as { data: string[] };
  return r.data;
}

test('dashboards and alert rules on live data: a real Prometheus scraping the exporter on the simulator', { timeout: 360_000 }, async (t) => {
  const dir = tmpDir();
  const socketPath = path.join(dir, 'stats.sock');
  const apiSocketPath = path.join(dir, 'api.sock');
  const broker = await startKafka();
  const sim = await startStatsSimulator({ interfaces: 16, workers: 2, rate: 2000, seed: 11, socketPath, apiSocketPath, heartbeatMs: 200, tickMs: 100 });
  let simStopped = false;
  const config = loadConfig(
    { 'web.listen-address': '127.0.0.1:0', 'api-socket': apiSocketPath, 'spool.dir': path.join(dir, 'spool'), 'kafka.brokers': broker.brokers },
    {},
  );
  const exporter = await startExporter(config, { socketPath });
  const api = await startApiSide(config, exporter, { control: false, events: true });
  let exporterStopped = false;
  const target = new URL(exporter.url).host;
  const rulesCopy = path.join(tmpDir(), 'vpp-exporter.rules.yml');
  fs.writeFileSync(rulesCopy, shortenedRules(fs.readFileSync(RULES_PATH, 'utf8')));
  const prom = await startPrometheus({ scrapeTargets: [target], scrapeIntervalMs: 1000, evaluationIntervalMs: 500, ruleFiles: [rulesCopy], jobName: EXPORTER_JOB });
  const scenarios: ScenarioHandle[] = [];
  const scenario = (file: string): ScenarioHandle => {
    const h = applyScenario(sim.stats, loadScenario(path.join(SCENARIO_DIR, file)));
    scenarios.push(h);
    return h;
  };
  try {
    await prom.waitForSeries('vpp_up == 1', 30_000);
    // Enough samples for every rate() over RATE_INTERVAL and the shortened windows.
    await prom.waitForSeries(`count_over_time(vpp_up[${RATE_INTERVAL}]) >= 5`, 30_000);
    await prom.waitForSeries(`rate(vpp_node_calls_total{node="ethernet-input"}[${RATE_INTERVAL}]) > 0`, 30_000);
    const emitted = await scrapedFamilies(prom);
    assert.ok(emitted.has('vpp_interface_rx_packets_total') && emitted.has('vpp_exporter_stats_retries_total'));
    // The same names straight from /metrics, asked for as Prometheus asks (OpenMetrics first).
    const direct = exposedFamilies(await (await fetch(exporter.url, { headers: { accept: PROMETHEUS_ACCEPT } })).text());
    for (const name of direct.keys()) assert.ok(emitted.has(name), `${name} on /metrics but not in Prometheus`);

    /** Metric names of an expression that the live exporter does not emit. */
    const missingIn = (expr: string): string[] => metricNames(expr).filter((n) => !emitted.has(n) && !SYNTHETIC_METRICS.has(n));

    await t.test('every dashboard query runs and returns data; every metric it names is emitted', async () => {
      const failures: string[] = [];
      const queries = panelQueries(readDashboards());
      assert.ok(queries.length > 60, `${queries.length} queries`);
      for (const q of queries) {
        const unknown = missingIn(q.expr);
        if (unknown.length) failures.push(`${q.where}: ${unknown.join(', ')} is not emitted by the exporter`);
        const expr = substituteVariables(q.expr, RATE_INTERVAL);
        let rows: unknown[];
        try {
          rows = await prom.query(expr);
        } catch (e) {
          failures.push(`${q.where}: does not run: ${e instanceof Error ? e.message : String(e)}`);
          continue;
        }
        if (rows.length === 0) failures.push(`${q.where}: no data for ${expr}`);
      }
      assert.deepEqual(failures, []);
      t.diagnostic(`${queries.length} panel queries ran with data`);
    });

    await t.test('every dashboard variable offers values', async () => {
      for (const { file, json } of readDashboards()) {
        const vars = ((json.templating as JsonObject).list as JsonObject[]).filter((v) => v.type === 'query');
        for (const v of vars) {
          const q = isObject(v.query) ? String(v.query.query) : String(v.query);
          const values = await labelValues(prom, q);
          assert.ok(values.length > 0, `${file}: $${String(v.name)} (${q}) offers nothing`);
          if (v.name === 'instance') assert.deepEqual(values, [target]);
        }
      }
    });

    await t.test('every alert expression runs and each of its operands returns data', async () => {
      const failures: string[] = [];
      const rules = readRules();
      for (const r of rules) {
        const unknown = missingIn(r.expr);
        if (unknown.length) failures.push(`${r.alert}: ${unknown.join(', ')} is not emitted by the exporter`);
        try {
          await prom.query(r.expr);
        } catch (e) {
          failures.push(`${r.alert}: does not run: ${e instanceof Error ? e.message : String(e)}`);
          continue;
        }
        const operands = comparisonOperands(r.expr).filter((o) => !isLiteral(o));
        assert.ok(operands.length > 0, r.alert);
        for (const o of operands) {
          const rows = await prom.query(o);
          if (rows.length === 0) failures.push(`${r.alert}: no data for operand ${o}`);
        }
      }
      assert.deepEqual(failures, []);
      t.diagnostic(`${rules.length} rules with data in every operand`);
    });

    await t.test('the unit tests write their series as the live exporter names and labels them', () => {
      for (const c of readRuleTests().tests) {
        for (const s of c.input_series) {
          const { name, labels } = parseSeries(s.series);
          if (SYNTHETIC_METRICS.has(name)) continue;
          const live = emitted.get(name);
          assert.ok(live, `${c.name}: ${name} is not in the exporter's /metrics`);
          for (const l of labels) assert.ok(live.has(l) || ['instance', 'job', 'thread'].includes(l), `${c.name}: ${name} has no label ${l} live (${[...live].join(', ')})`);
        }
      }
    });

    await t.test('nothing fires on the healthy simulator', async () => {
      const r = (await prom.api('/api/v1/rules')) as { data: { groups: { rules: { name: string; health: string; lastError?: string }[] }[] } };
      const loaded = r.data.groups.flatMap((g) => g.rules);
      assert.equal(loaded.length, readRules().length);
      for (const x of loaded) assert.notEqual(x.health, 'err', `${x.name}: ${x.lastError ?? ''}`);
      // A few evaluations over the shortened windows.
      await new Promise((res) => setTimeout(res, 3000));
      assert.deepEqual((await activeAlerts(prom)).map(describe), []);
    });

    await t.test('low buffers, an error burst, a saturated input node, drops, rx-miss and rx-no-buf make their alerts fire', async () => {
      const low = scenario('low-buffers.json');
      for (const f of ['error-burst.json', 'saturated-input.json', 'interface-drops.json', 'rx-miss.json', 'rx-no-buf.json']) scenario(f);
      const [buffers, errors, saturated] = await waitFiring(prom, [
        { alertname: 'VppBufferPoolLow', labels: { pool: 'default-numa-0', severity: 'warning' } },
        { alertname: 'VppErrorRateHigh', labels: { node: 'ip4-input', error: 'time_expired' } },
        { alertname: 'VppInputNodeSaturated', labels: { node: 'af-packet-input' } },
        { alertname: 'VppInterfaceDropRateHigh', labels: { interface: 'GigabitEthernet0/8/0' } },
        { alertname: 'VppInterfaceRxMiss', labels: { interface: 'GigabitEthernet0/9/0' } },
        { alertname: 'VppInterfaceRxNoBuffer', labels: { interface: 'GigabitEthernet0/8/0' } },
      ]);
      assert.ok(Math.abs(Number(buffers.value) - 0.2) < 0.02, `free share ${buffers.value}`);
      assert.match(buffers.annotations.summary, new RegExp(`default-numa-0 on ${target.replace(/\./g, '\\.')} is (1[89]|2[01])(\\.\\d+)?% free`));
      assert.match(buffers.annotations.runbook_url, /docs\/alerts\.md#vppbufferpoollow$/);
      assert.ok(Number(errors.value) > 1000, `error rate ${errors.value}`);
      assert.ok(Number(saturated.value) > 200 && Number(saturated.value) <= 256, `vectors/call ${saturated.value}`);
      const active = await activeAlerts(prom);
      assert.ok(!active.some((a) => a.labels.alertname === 'VppBufferPoolExhausted'), '20 % free is low, not exhausted');
      low.stop();
    });

    await t.test('a link down while admin up fires VppInterfaceLinkDown (link state over the binary API)', async () => {
      const flap = scenario('link-flap.json');
      const [down] = await waitFiring(prom, [{ alertname: 'VppInterfaceLinkDown', labels: { interface: 'memif1/0', severity: 'warning' } }]);
      assert.equal(down.labels.sw_if_index, String(sim.model.byName('memif1/0')?.swIfIndex));
      flap.stop();
    });

    await t.test('Kafka stopped during a link storm: the spool grows and publishing fails, both alerts fire', async () => {
      await broker.stop();
      const storm = scenario('link-storm.json');
      await waitFiring(prom, [
        { alertname: 'VppExporterKafkaPublishFailing', labels: { severity: 'warning' } },
        { alertname: 'VppExporterSpoolGrowing', labels: { severity: 'warning' } },
      ], 90_000);
      storm.stop();
    });

    await t.test('exhausted buffers fire the critical alert', async () => {
      scenario('buffers-exhausted.json');
      const [a] = await waitFiring(prom, [{ alertname: 'VppBufferPoolExhausted', labels: { pool: 'default-numa-0', severity: 'critical' } }]);
      assert.ok(Number(a.value) < 0.05, a.value);
    });

    await t.test('a stale heartbeat fires VppStatsStale', async () => {
      scenario('stats-stale.json');
      await waitFiring(prom, [{ alertname: 'VppStatsStale', labels: { severity: 'critical' } }]);
    });

    await t.test('VPP gone fires VppDown (and clears VppStatsStale); the exporter gone fires VppExporterDown', async () => {
      for (const s of scenarios) s.stop();
      simStopped = true;
      await sim.stop();
      await waitFiring(prom, [{ alertname: 'VppDown', labels: { instance: target } }]);
      // A dead VPP is VppDown's business: the heartbeat rule requires a readable segment.
      const until = Date.now() + 5000;
      while ((await activeAlerts(prom)).some((a) => a.labels.alertname === 'VppStatsStale')) {
        assert.ok(Date.now() < until, 'VppStatsStale still active with VPP down');
        await new Promise((r) => setTimeout(r, 250));
      }
      exporterStopped = true;
      await api.stop();
      await exporter.stop();
      await waitFiring(prom, [{ alertname: 'VppExporterDown', labels: { instance: target, job: EXPORTER_JOB } }]);
    });
  } finally {
    for (const s of scenarios) s.stop();
    await prom.stop();
    if (!exporterStopped) {
      await api.stop();
      await exporter.stop();
    }
    if (!simStopped) await sim.stop();
    await broker.stop();
  }
});
