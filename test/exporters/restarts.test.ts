/**
 * Isolation and restarts (RELIABILITY.md A.1, B.8): while the simulator is killed -9 and
 * restarted 20 times, /metrics keeps answering within 1 s with vpp_up 0 or 1, and comes back to
 * vpp_up 1 with the new VPP's values after each restart.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { tmpDir } from '../helpers/paths.js';
import { exporterOn } from '../helpers/exporter.js';
import { startSimProcess } from '../helpers/sim-process.js';

const RESTARTS = 20;

test('/metrics answers within 1 s with vpp_up 0 or 1 through 20 simulator restarts', { timeout: 300_000 }, async () => {
  const socketPath = path.join(tmpDir(), 'stats.sock');
  const exporter = await exporterOn({ socketPath });
  let stop = false;
  let scrapes = 0;
  let up0 = 0;
  let worstMs = 0;
  const scraper = (async () => {
    while (!stop) {
      const t0 = performance.now();
      const res = await fetch(exporter.url, { signal: AbortSignal.timeout(5000) });
      const body = await res.text();
      const ms = performance.now() - t0;
      worstMs = Math.max(worstMs, ms);
      assert.equal(res.status, 200);
      const up = /^vpp_up (\d)$/m.exec(body)?.[1];
      assert.ok(up === '0' || up === '1', `vpp_up is ${up}`);
      if (up === '0') up0++;
      scrapes++;
      await sleep(50);
    }
  })();
  try {
    for (let i = 0; i < RESTARTS; i++) {
      const sim = await startSimProcess(socketPath, ['--interfaces', '8', '--workers', '1', '--seed', String(100 + i)]);
      // Back to vpp_up 1 with this simulator's boot time within 5 s.
      const t0 = Date.now();
      for (;;) {
        const body = await (await fetch(exporter.url)).text();
        if (/^vpp_up 1$/m.test(body) && /^vpp_interface_rx_packets_total\{interface="local0"/m.test(body)) break;
        if (Date.now() - t0 > 5000) assert.fail(`restart ${i}: not back to vpp_up 1 within 5 s`);
        await sleep(50);
      }
      await sleep(200);
      await sim.kill('SIGKILL');
      await sleep(300);
    }
  } finally {
    stop = true;
    await scraper;
    await exporter.stop();
  }
  assert.ok(worstMs < 1000, `slowest scrape ${worstMs.toFixed(0)} ms`);
  assert.ok(up0 > 0, 'scrapes while the simulator was down said vpp_up 0');
  assert.ok(scrapes > RESTARTS * 5, `${scrapes} scrapes`);
});
