/** startStatsSimulator's options: bad values are RangeErrors that say what is wrong. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveStatsSimulatorOptions, startStatsSimulator, type StatsSimulatorOptions } from '../../src/sim/index.js';
import { SegmentFullError } from '../../src/sim/heap.js';

const ok: StatsSimulatorOptions = { interfaces: 4, workers: 1, rate: 0, seed: 1 };

test('defaults are filled in', () => {
  assert.deepEqual(resolveStatsSimulatorOptions(ok), {
    ...ok,
    heartbeatMs: 1000,
    tickMs: 200,
    tortureHz: 0,
    perNodeCounters: true,
    socketPath: undefined,
    segmentSize: undefined,
  });
});

test('bad values are RangeErrors naming the option', () => {
  const bad: [Partial<StatsSimulatorOptions> & Record<string, unknown>, RegExp][] = [
    [{ interfaces: -1 }, /interfaces must be an integer from 0/],
    [{ interfaces: 1.5 }, /interfaces/],
    [{ workers: 1000 }, /workers must be an integer from 0 to 256/],
    [{ rate: -1 }, /rate must be a number/],
    [{ rate: Number.NaN }, /rate/],
    [{ seed: 2 ** 32 }, /seed/],
    [{ heartbeatMs: 0 }, /heartbeatMs/],
    [{ tickMs: 0 }, /tickMs/],
    [{ tortureHz: 1e6 }, /tortureHz/],
    [{ segmentSize: 5000 }, /segmentSize/],
    [{ segmentSize: 40 * 4096 + 1 }, /segmentSize/],
    [{ socketPath: '' }, /socketPath/],
    [{ socketPath: '/tmp/' + 'x'.repeat(120) }, /longer than 107 bytes/],
    [{ perNodeCounters: 'yes' as unknown as boolean }, /perNodeCounters/],
    [{ interface: 4 }, /unknown simulator option "interface"/],
  ];
  for (const [patch, message] of bad) {
    assert.throws(() => resolveStatsSimulatorOptions({ ...ok, ...patch }), (e: unknown) => e instanceof RangeError && message.test(e.message), JSON.stringify(patch));
  }
});

test('a segment too small for the topology fails the start with SegmentFullError', async () => {
  await assert.rejects(startStatsSimulator({ ...ok, segmentSize: 64 * 4096 }), (e: unknown) => e instanceof SegmentFullError);
});

test('stop() is idempotent and the handle reports its segment', async () => {
  const sim = await startStatsSimulator({ ...ok, tortureHz: 100, rate: 100, tickMs: 5, heartbeatMs: 10 });
  assert.ok(sim.segmentSize >= 32 * 1024 * 1024);
  const e0 = sim.stats.epoch;
  await new Promise((r) => setTimeout(r, 100));
  assert.ok(sim.stats.epoch > e0, 'torture steps move the epoch');
  await sim.stop();
  await sim.stop();
});
