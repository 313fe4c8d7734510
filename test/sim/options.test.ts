/** startStatsSimulator's options: bad values are RangeErrors that say what is wrong. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_HISTOGRAMS, resolveStatsSimulatorOptions, startStatsSimulator, type StatsSimulatorOptions } from '../../src/sim/index.js';
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
    histograms: [],
  });
});

test('histograms: true is the default set, min_exp given per thread', () => {
  const r = resolveStatsSimulatorOptions({ ...ok, workers: 2, histograms: true });
  assert.deepEqual(
    r.histograms,
    DEFAULT_HISTOGRAMS.map((h) => ({ ...h, minExp: [h.minExp, h.minExp, h.minExp] })),
  );
  const own = resolveStatsSimulatorOptions({ ...ok, histograms: [{ name: '/x/h', source: 'rx-vector-size', minExp: [0, 4], bins: 0 }] });
  assert.deepEqual(own.histograms, [{ name: '/x/h', source: 'rx-vector-size', minExp: [0, 4], bins: 0 }]);
  assert.deepEqual(resolveStatsSimulatorOptions({ ...ok, histograms: false }).histograms, []);
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
    [{ histograms: 'yes' as unknown as boolean }, /histograms must be true, false or a list/],
    [{ histograms: [{ name: 'h', source: 'rx-packet-bytes', minExp: 0, bins: 4 }] }, /histograms\[0\]\.name must be a stat path/],
    [{ histograms: [{ name: '/h', source: 'tx' as 'rx-packet-bytes', minExp: 0, bins: 4 }] }, /histograms\[0\]\.source must be one of/],
    [{ histograms: [{ name: '/h', source: 'rx-packet-bytes', minExp: [1, 2, 3], bins: 4 }] }, /minExp must be one number or one per thread \(2\), got 3/],
    [{ histograms: [{ name: '/h', source: 'rx-packet-bytes', minExp: -1, bins: 4 }] }, /histograms\[0\]\.minExp\[0\]/],
    [{ histograms: [{ name: '/h', source: 'rx-packet-bytes', minExp: 0, bins: 256 }] }, /histograms\[0\]\.bins must be an integer from 0 to 255/],
    [{ histograms: [{ name: '/h', source: 'rx-packet-bytes', minExp: 0, bins: 1, extra: 1 } as never] }, /unknown key "extra" in histograms\[0\]/],
    [
      {
        histograms: [
          { name: '/h', source: 'rx-packet-bytes', minExp: 0, bins: 1 },
          { name: '/h', source: 'rx-vector-size', minExp: 0, bins: 1 },
        ],
      },
      /histograms\[1\]\.name \/h is used twice/,
    ],
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
