/**
 * Simulator scenarios (src/sim/scenario.ts): the JSON format is checked with messages that say
 * where, names are checked against the running simulator before anything changes, each knob moves
 * what it should in the segment (truth()), and stop() puts everything back. Every file in
 * alerts/scenarios/ parses and applies.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createStatsSimulator, type StatsSimulatorHandle } from '../../src/sim/index.js';
import { applyScenario, loadScenario, parseScenario } from '../../src/sim/scenario.js';
import { SCENARIO_DIR } from '../dashboards/artifacts.js';

function frozenSim(): StatsSimulatorHandle {
  // rate 0: no timers; the test moves traffic and the collector by hand.
  return createStatsSimulator({ interfaces: 16, workers: 2, rate: 0, seed: 3 });
}

const num = (v: unknown): number => Number(v);
/** Summed value of a scalar, or of column `col` of a vector or symlink, from truth(). */
function value(sim: StatsSimulatorHandle, name: string, col = 0): number {
  const v = sim.truth({ perThread: false }).get(name);
  if (typeof v === 'bigint') return Number(v);
  if (Array.isArray(v)) {
    const row = v[0];
    return Array.isArray(row) ? num(row[col]) : num(row);
  }
  throw new Error(`no value for ${name}`);
}

function nodeColumn(sim: StatsSimulatorHandle, node: string): number {
  const names = sim.truth().get('/sys/node/names') as (string | null)[];
  const i = names.indexOf(node);
  assert.ok(i >= 0, node);
  return i;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

test('parseScenario checks the format and says where it is wrong', () => {
  const bad: [unknown, RegExp][] = [
    [[], /must be an object/],
    [{}, /name: must be a non-empty string/],
    [{ name: 'x', bogus: 1 }, /unknown key "bogus"/],
    [{ name: 'x', bufferPools: { p: { freePercent: 120 } } }, /bufferPools\["p"\]\.freePercent: must be a number from 0 to 100/],
    [{ name: 'x', bufferPools: { p: { freePercent: 10, available: 5 } } }, /freePercent goes without available\/used/],
    [{ name: 'x', errors: [{ node: 'n', error: 'e' }] }, /errors\[0\]\.perSecond/],
    [{ name: 'x', vectorsPerCall: { n: 300 } }, /vectorsPerCall\["n"\]: must be a number from 1 to 256/],
    [{ name: 'x', interfaces: { i: { dropsPerSecond: -1 } } }, /dropsPerSecond/],
    [{ name: 'x', links: { i: {} } }, /needs state or flapPeriodMs/],
    [{ name: 'x', links: { i: { state: 'down', flapPeriodMs: 100 } } }, /exclude each other/],
    [{ name: 'x', links: { i: { flapPeriodMs: 100, downMs: 100 } } }, /shorter than flapPeriodMs/],
    [{ name: 'x', collector: 'stopped' }, /collector: must be "running" or "paused"/],
    [{ name: 'x', steps: [{ vectorsPerCall: {} }] }, /steps\[0\]\.atMs/],
    [{ name: 'x', steps: [{ atMs: 5, nope: 1 }] }, /steps\[0\]: unknown key "nope"/],
  ];
  for (const [json, re] of bad) assert.throws(() => parseScenario(json), (e: unknown) => e instanceof RangeError && re.test(e.message), JSON.stringify(json));
  const ok = parseScenario({ name: 'ok', vectorsPerCall: { a: null }, steps: [{ atMs: 0, collector: 'running' }] });
  assert.deepEqual(ok, { name: 'ok', vectorsPerCall: { a: null }, steps: [{ atMs: 0, collector: 'running' }] });
});

test('applyScenario checks every name against the simulator before changing anything', async () => {
  const sim = frozenSim();
  try {
    const before = sim.truth({ perThread: false });
    const cases: [unknown, RegExp][] = [
      [{ name: 'x', bufferPools: { nope: { freePercent: 1 } } }, /no buffer pool "nope"/],
      [{ name: 'x', errors: [{ node: 'ip4-input', error: 'no such error', perSecond: 1 }] }, /no error counter \/err\/ip4-input\/no such error/],
      [{ name: 'x', vectorsPerCall: { 'no-such-node': 2 } }, /no node "no-such-node"/],
      [{ name: 'x', interfaces: { eth9: { dropsPerSecond: 1 } } }, /no interface "eth9"/],
      [{ name: 'x', links: { local0: { state: 'down' } } }, /local0 has no link/],
      // A bad name in a later step fails the whole scenario up front; the first knobs are not applied.
      [{ name: 'x', bufferPools: { '*': { freePercent: 1 } }, steps: [{ atMs: 10, links: { eth9: { state: 'up' } } }] }, /steps\[0\]\.links: no interface "eth9"/],
    ];
    for (const [s, re] of cases) assert.throws(() => applyScenario(sim.stats, s), (e: unknown) => e instanceof RangeError && re.test(e.message), JSON.stringify(s));
    assert.deepEqual(sim.truth({ perThread: false }), before);
  } finally {
    await sim.stop();
  }
});

test('buffer pools: freePercent keeps the pool size; the collector publishes around it; stop() restores', async () => {
  const sim = frozenSim();
  try {
    const pool = '/buffer-pools/default-numa-0';
    const total = value(sim, `${pool}/available`) + value(sim, `${pool}/used`) + value(sim, `${pool}/cached`);
    const base = sim.stats.bufferPool('default-numa-0');
    const h = applyScenario(sim.stats, loadScenario(path.join(SCENARIO_DIR, 'low-buffers.json')));
    const free = (): number => value(sim, `${pool}/available`) / (value(sim, `${pool}/available`) + value(sim, `${pool}/used`) + value(sim, `${pool}/cached`));
    assert.ok(Math.abs(free() - 0.2) < 0.001, `free ${free()}`);
    assert.equal(value(sim, `${pool}/available`) + value(sim, `${pool}/used`) + value(sim, `${pool}/cached`), total);
    for (let i = 0; i < 5; i++) {
      sim.stats.collect(1);
      assert.ok(free() > 0.18 && free() < 0.22, `after a collector run: free ${free()}`);
    }
    h.stop();
    assert.deepEqual(sim.stats.bufferPool('default-numa-0'), base);
    const exhausted = applyScenario(sim.stats, loadScenario(path.join(SCENARIO_DIR, 'buffers-exhausted.json')));
    sim.stats.collect(1);
    assert.ok(free() < 0.05, `free ${free()}`);
    exhausted.stop();
  } finally {
    await sim.stop();
  }
});

test('an error burst moves the named error counter at the given rate', async () => {
  const sim = frozenSim();
  try {
    const name = '/err/ip4-input/time_expired';
    const before = value(sim, name);
    const began = performance.now();
    const h = applyScenario(sim.stats, loadScenario(path.join(SCENARIO_DIR, 'error-burst.json')), { tickMs: 20 });
    await sleep(400);
    h.stop();
    const seconds = (performance.now() - began) / 1000;
    const moved = value(sim, name) - before;
    assert.ok(moved >= 5000 * 0.2 && moved <= 5000 * (seconds + 0.05), `moved ${moved} in ${seconds} s`);
    await sleep(100);
    assert.equal(value(sim, name) - before, moved, 'stopped');
  } finally {
    await sim.stop();
  }
});

test('vectors per call: a forced input node shows it in its node counters; a step takes it down; stop() restores', async () => {
  const sim = frozenSim();
  try {
    const col = nodeColumn(sim, 'af-packet-input');
    const read = (): [number, number] => [value(sim, '/sys/node/vectors', col), value(sim, '/sys/node/calls', col)];
    const run = (): [number, number] => {
      const [v0, c0] = read();
      for (let i = 0; i < 10; i++) {
        sim.stats.advance(0.2, 2000);
        sim.stats.collect(0.2);
      }
      const [v1, c1] = read();
      return [v1 - v0, c1 - c0];
    };
    const [v, c] = run();
    assert.ok(v > 0 && v / c < 1, `before: ${v} vectors in ${c} calls (polling calls every loop)`);
    const h = applyScenario(sim.stats, {
      name: 'sat-then-collapse',
      vectorsPerCall: { 'af-packet-input': 250 },
      steps: [{ atMs: 150, vectorsPerCall: { 'af-packet-input': 1 } }],
    });
    const [sv, sc] = run();
    assert.ok(Math.abs(sv / sc - 250) < 250 * 0.02 + 1, `saturated: ${sv} vectors in ${sc} calls`);
    await sleep(300);
    const [cv, cc] = run();
    assert.ok(Math.abs(cv / cc - 1) < 0.01, `collapsed: ${cv} vectors in ${cc} calls`);
    h.stop();
    const [av, ac] = run();
    assert.ok(av / ac < 1, `restored: ${av} vectors in ${ac} calls`);
  } finally {
    await sim.stop();
  }
});

test('interface knobs: drops (with their error counter), rx-miss and rx-no-buf move on the named interfaces only', async () => {
  const sim = frozenSim();
  try {
    const gig8 = sim.model.byName('GigabitEthernet0/8/0')!.swIfIndex;
    const gig9 = sim.model.byName('GigabitEthernet0/9/0')!.swIfIndex;
    const snapshot = (): Record<string, number> => ({
      drops8: value(sim, '/if/drops', gig8),
      drops9: value(sim, '/if/drops', gig9),
      miss9: value(sim, '/if/rx-miss', gig9),
      miss8: value(sim, '/if/rx-miss', gig8),
      nobuf8: value(sim, '/if/rx-no-buf', gig8),
      ttl: value(sim, '/err/ip4-input/time_expired'),
    });
    const a = snapshot();
    const hs = ['interface-drops.json', 'rx-miss.json', 'rx-no-buf.json'].map((f) => applyScenario(sim.stats, loadScenario(path.join(SCENARIO_DIR, f)), { tickMs: 20 }));
    await sleep(300);
    for (const h of hs) h.stop();
    const b = snapshot();
    assert.ok(b.drops8 - a.drops8 >= 50, `drops on Gig0/8/0: ${b.drops8 - a.drops8}`);
    assert.equal(b.ttl - a.ttl, b.drops8 - a.drops8, 'each drop counted at ip4-input');
    assert.equal(b.drops9, a.drops9, 'no drops on Gig0/9/0');
    assert.ok(b.miss9 - a.miss9 >= 5 && b.miss8 === a.miss8, `rx-miss ${b.miss9 - a.miss9}`);
    assert.ok(b.nobuf8 - a.nobuf8 >= 2, `rx-no-buf on every up interface: ${b.nobuf8 - a.nobuf8}`);
  } finally {
    await sim.stop();
  }
});

test('a paused collector freezes the heartbeat; links go down and flap; stop() restores both', async () => {
  const sim = frozenSim();
  try {
    const beat = value(sim, '/sys/heartbeat');
    const stale = applyScenario(sim.stats, loadScenario(path.join(SCENARIO_DIR, 'stats-stale.json')));
    sim.stats.collect(1);
    assert.equal(value(sim, '/sys/heartbeat'), beat);
    stale.stop();
    sim.stats.collect(1);
    assert.equal(value(sim, '/sys/heartbeat'), beat + 1);

    const memif = sim.model.byName('memif1/0')!.swIfIndex;
    const gigA = sim.model.byName('GigabitEthernet0/a/0')!.swIfIndex;
    const changes: string[] = [];
    sim.model.on('changed', (i, prev) => {
      if (i.linkUp !== prev.linkUp) changes.push(`${i.name} ${i.linkUp ? 'up' : 'down'}`);
    });
    const flap = applyScenario(sim.stats, { name: 'flap', links: { 'memif1/0': { state: 'down' }, 'GigabitEthernet0/a/0': { flapPeriodMs: 100, downMs: 40 } } });
    assert.equal(sim.model.get(memif)!.linkUp, false);
    await sleep(330);
    flap.stop();
    assert.equal(sim.model.get(memif)!.linkUp, true);
    assert.equal(sim.model.get(gigA)!.linkUp, true);
    const gigAChanges = changes.filter((c) => c.startsWith('GigabitEthernet0/a/0 '));
    assert.ok(gigAChanges.filter((c) => c.endsWith("down")).length >= 2, gigAChanges.join(", "));
  } finally {
    await sim.stop();
  }
});

test('every scenario in alerts/scenarios parses and applies to the default simulator', async () => {
  const sim = frozenSim();
  try {
    const files = fs.readdirSync(SCENARIO_DIR).filter((f) => f.endsWith('.json')).sort();
    assert.ok(files.length >= 10, files.join(', '));
    for (const f of files) {
      const s = loadScenario(path.join(SCENARIO_DIR, f));
      assert.equal(`${s.name}.json`, f, 'file named after the scenario');
      assert.ok((s.description ?? '').length > 20, `${f}: description`);
      applyScenario(sim.stats, s).stop();
    }
  } finally {
    await sim.stop();
  }
});
