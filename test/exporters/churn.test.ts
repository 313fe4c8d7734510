/**
 * Interface churn while scraping (RELIABILITY.md B.10): 1000 interfaces created and deleted
 * between and during scrapes. Every scrape parses without duplicates, carries no deleted names,
 * and every (interface, sw_if_index) pair it shows existed in the model; after the churn the
 * series are exactly the model's interfaces, so a reused sw_if_index carries only its new name.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createStatsSimulator } from '../../src/sim/index.js';
import { tmpDir } from '../helpers/paths.js';
import { exporterOn } from '../helpers/exporter.js';
import { parseExposition } from '../helpers/exposition.js';

function interfaceSeries(body: string): Map<string, string> {
  const bySw = new Map<string, string>();
  for (const series of parseExposition(body).keys()) {
    const m = /^vpp_interface_rx_packets_total\{interface="((?:[^"\\]|\\.)*)",sw_if_index="(\d+)"\}$/.exec(series);
    if (m) bySw.set(m[2], m[1]);
  }
  return bySw;
}

test('1000 interfaces created and deleted while scraping: no stale, duplicate or shifted series', { timeout: 120_000 }, async () => {
  const socketPath = path.join(tmpDir(), 'stats.sock');
  const sim = createStatsSimulator({ interfaces: 20, workers: 1, rate: 1000, seed: 4, socketPath, tickMs: 20 });
  const exporter = await exporterOn({ socketPath });
  const everSeen = new Set<string>(sim.model.list().map((i) => `${i.swIfIndex}=${i.name}`));
  let scrapes = 0;
  let stop = false;
  const scraper = (async () => {
    while (!stop) {
      const body = await (await fetch(exporter.url)).text();
      assert.match(body, /^vpp_up 1$/m);
      for (const [sw, name] of interfaceSeries(body)) {
        assert.notEqual(name, 'deleted');
        assert.ok(everSeen.has(`${sw}=${name}`), `series pairs sw_if_index ${sw} with ${name}, which never existed`);
      }
      scrapes++;
    }
  })();
  try {
    const live: number[] = [];
    for (let i = 0; i < 1000; i++) {
      const iface = sim.model.create({ kind: 'loopback' });
      everSeen.add(`${iface.swIfIndex}=${iface.name}`);
      live.push(iface.swIfIndex);
      // Delete in a different order than created so sw_if_index values get reused out of order.
      if (live.length > 25) sim.model.delete(live.splice((i * 7) % live.length, 1)[0]);
      if (i % 5 === 0) await sleep(3);
    }
    while (live.length) sim.model.delete(live.pop()!);
    stop = true;
    await scraper;
    const final = interfaceSeries(await (await fetch(exporter.url)).text());
    const model = new Map(sim.model.list().map((i) => [String(i.swIfIndex), i.name]));
    assert.deepEqual(final, model);
    assert.ok(scrapes >= 5, `only ${scrapes} scrapes during the churn`);
  } finally {
    stop = true;
    await scraper.catch(() => undefined);
    await exporter.stop();
    await sim.stop();
  }
});
