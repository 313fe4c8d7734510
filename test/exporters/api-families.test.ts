/**
 * vpp_version_info and vpp_interface_admin_up / vpp_interface_link_up: read over the binary API
 * from the simulator (show_version, and the link-event engine's state), served on /metrics beside
 * the stats families, following changes, gone while the API is down and back after it returns.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { loadConfig } from '../../src/config.js';
import { startApiSide, startExporter } from '../../src/commands/run.js';
import { ApiFamilies } from '../../src/exporters/api-families.js';
import { startApiServer, startStatsSimulator } from '../../src/sim/index.js';
import { stableLines } from '../helpers/exporter.js';
import { tmpDir } from '../helpers/paths.js';
import { promtool } from '../helpers/prometheus.js';
import { startOtlpReceiver } from '../helpers/otlp-receiver.js';

/** value by series ("name{labels}") of the families named. */
function series(body: string, names: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of body.split('\n')) {
    const m = /^([a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (m && names.includes(m[1])) out.set(`${m[1]}${m[2] ?? ''}`, m[3]);
  }
  return out;
}

const FAMILIES = ['vpp_version_info', 'vpp_interface_admin_up', 'vpp_interface_link_up'];

async function until<T>(what: string, f: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await f();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs} ms${last instanceof Error ? ` (${last.message})` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('version and interface admin/link state from the binary API on /metrics', { timeout: 120_000 }, async () => {
  const dir = tmpDir();
  const socketPath = path.join(dir, 'stats.sock');
  const apiSocketPath = path.join(dir, 'api.sock');
  const sim = await startStatsSimulator({ interfaces: 6, workers: 1, rate: 100, seed: 3, socketPath, apiSocketPath });
  const receiver = await startOtlpReceiver();
  const config = loadConfig(
    {
      'web.listen-address': '127.0.0.1:0',
      'api-socket': apiSocketPath,
      'spool.dir': path.join(dir, 'spool'),
      'events.file': path.join(dir, 'events.jsonl'),
      'otlp.endpoint': receiver.otlpHttpUrl,
      'otlp.interval': '3600s',
    },
    {},
  );
  const exporter = await startExporter(config, { socketPath });
  const api = await startApiSide(config, exporter, { control: false, events: true });
  let apiServer = sim.api!;
  let version = '26.10-sim'; // the simulator's show_version default
  try {
    const expected = (): Map<string, string> => {
      const want = new Map<string, string>();
      for (const i of sim.model.list()) {
        want.set(`vpp_interface_admin_up{interface="${i.name}",sw_if_index="${i.swIfIndex}"}`, i.adminUp ? '1' : '0');
        want.set(`vpp_interface_link_up{interface="${i.name}",sw_if_index="${i.swIfIndex}"}`, i.linkUp ? '1' : '0');
      }
      return want;
    };
    const scrape = async (): Promise<string> => (await fetch(exporter.url)).text();
    const matches = async (): Promise<string | undefined> => {
      const body = await scrape();
      const got = series(body, FAMILIES);
      const want = expected();
      const versions = [...got].filter(([k]) => k.startsWith('vpp_version_info{'));
      const versionOk = versions.length === 1 && versions[0][1] === '1' && new RegExp(`^vpp_version_info\\{version="${version.replace(/\./g, '\\.')}",build_date="\\d{4}-\\d\\d-\\d\\dT[\\d:]+"\\}$`).test(versions[0][0]);
      return versionOk && got.size === want.size + 1 && [...want].every(([k, v]) => got.get(k) === v) ? body : undefined;
    };

    const body = await until('every interface and the version on /metrics', matches);
    for (const name of FAMILIES) assert.match(body, new RegExp(`^# TYPE ${name} gauge$`, 'm'));
    // prom-client's nodejs_active_*_total gauges are its own naming (promtool lints them).
    const check = await promtool(['check', 'metrics'], { input: stableLines(body) });
    assert.equal(check.code, 0, check.stdout + check.stderr);

    // The same series over OTLP (pushed with the snapshot's families, into Prometheus 3).
    await exporter.otlp!.flush();
    assert.equal(exporter.otlp!.counters.failedExports, 0);
    const pushed = await receiver.waitForSeries('vpp_interface_link_up', 30_000);
    assert.deepEqual(
      new Map(pushed.map((p) => [`${p.metric.interface}/${p.metric.sw_if_index}`, p.value[1]])),
      new Map(sim.model.list().map((i) => [`${i.name}/${i.swIfIndex}`, i.linkUp ? '1' : '0'])),
    );
    const pushedVersion = await receiver.waitForSeries('vpp_version_info', 30_000);
    assert.equal(pushedVersion[0]?.metric.version, version);

    // The event pipeline's counters keep _total in text after an OpenMetrics scrape (each format
    // has its own prom-client objects: prom-client renames a counter it renders as OpenMetrics).
    const om = await (await fetch(exporter.url, { headers: { accept: 'application/openmetrics-text; version=1.0.0' } })).text();
    assert.match(om, /^# TYPE vpp_exporter_link_events counter$/m);
    assert.match(om, /^# EOF$/m);
    const text = await scrape();
    assert.match(text, /^# TYPE vpp_exporter_link_events_total counter$/m);
    assert.match(text, /^vpp_exporter_link_events_total\{reason="resync"\} \d+$/m);

    // Admin up, link down on one interface (the VppInterfaceLinkDown case); admin down on another.
    const ifs = sim.model.list().filter((i) => i.name !== 'local0');
    sim.model.setFlags(ifs[0].swIfIndex, { adminUp: true, linkUp: false });
    sim.model.setFlags(ifs[1].swIfIndex, { adminUp: false });
    await until('the changed states on /metrics', matches);
    const after = series(await scrape(), FAMILIES);
    assert.equal(after.get(`vpp_interface_admin_up{interface="${ifs[0].name}",sw_if_index="${ifs[0].swIfIndex}"}`), '1');
    assert.equal(after.get(`vpp_interface_link_up{interface="${ifs[0].name}",sw_if_index="${ifs[0].swIfIndex}"}`), '0');
    assert.equal(after.get(`vpp_interface_admin_up{interface="${ifs[1].name}",sw_if_index="${ifs[1].swIfIndex}"}`), '0');

    // A new interface appears; the API going away takes every series with it (not left stale).
    sim.model.create({ kind: 'loopback', adminUp: true });
    await until('the new loopback on /metrics', matches);
    await apiServer.stop();
    await until('no API series while the API is down', async () => (series(await scrape(), FAMILIES).size === 0 ? true : undefined));
    assert.match(await scrape(), /^vpp_up 1$/m, 'the stats side is not affected');

    // Back with another version: the new one replaces the old, states come back.
    version = '26.10-sim-upgraded';
    apiServer = await startApiServer({ socketPath: apiSocketPath, model: sim.model, stats: sim.stats, version });
    await until('the API series back, with the new version, after the API returns', matches, 30_000);
  } finally {
    await api.stop();
    await exporter.stop();
    await receiver.stop();
    await apiServer.stop().catch(() => undefined);
    await sim.stop();
  }
});

test('ApiFamilies: label values escaped, rebuilt only when the state moves', async () => {
  const state = new Map([[2, { name: 'we"ird\\name\nx', adminUp: true, linkUp: false }]]);
  const source = { state, stateVersion: 1 };
  const connected = { value: true };
  const f = new ApiFamilies();
  const listeners = new Map<string, () => void>();
  f.attachVpp({
    get connected() {
      return connected.value;
    },
    showVersion: () => Promise.resolve({ version: 'v"1', build_date: 'd' }),
    on: (e: string, l: () => void) => listeners.set(e, l),
    off: (e: string) => listeners.delete(e),
  });
  f.attachInterfaces(source);
  await new Promise((r) => setImmediate(r)); // the show_version reply
  const first = f.render();
  assert.match(first, /^vpp_version_info\{version="v\\"1",build_date="d"\} 1$/m);
  assert.match(first, /^vpp_interface_admin_up\{interface="we\\"ird\\\\name\\nx",sw_if_index="2"\} 1$/m);
  assert.match(first, /^vpp_interface_link_up\{interface="we\\"ird\\\\name\\nx",sw_if_index="2"\} 0$/m);
  state.set(3, { name: 'b', adminUp: false, linkUp: false });
  assert.equal(f.render(), first, 'same stateVersion: the cached text');
  source.stateVersion = 2;
  assert.match(f.render(), /sw_if_index="3"/);
  connected.value = false;
  assert.equal(f.render(), '', 'nothing while disconnected');
});
