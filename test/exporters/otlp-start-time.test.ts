/**
 * start_time_unix_nano of the OTLP push, read back from a real OpenTelemetry Collector (its debug
 * exporter prints every data point as pdata decoded it): cumulative sums and histograms start at
 * VPP's boot time (/sys/boottime of the snapshot encoded), which stays fixed from export to export
 * and moves forward when VPP restarts; a segment without a boot time falls back to the time the
 * exporter first mapped it, which a restart moves too. Gauges carry no start time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createStatsSimulator, type StatsSimulatorHandle } from '../../src/sim/index.js';
import { StatsClient } from '../../src/stats/index.js';
import { StatsSource } from '../../src/exporters/stats-source.js';
import { OtlpPusher } from '../../src/exporters/otlp.js';
import { EXPORTER_SKIPPED_SYMLINKS } from '../../src/commands/run.js';
import { logger } from '../../src/log.js';
import { tmpDir } from '../helpers/paths.js';
import { readDebugExports, startCollector, type DebugPoint } from '../helpers/otel-collector.js';

/** STAT_COUNTER_BOOTTIME: VPP's fixed directory index of /sys/boottime (vpp/STATS-SEGMENT.md §11). */
const BOOT_TIME_SLOT = 2;
const NS_PER_S = 1_000_000_000n;

// The same seed on every start: the simulator's boot time is its start minus a seeded uptime, so a
// later start has a later boot time, as a restarted VPP does.
const startSim = (socketPath: string): StatsSimulatorHandle =>
  createStatsSimulator({ interfaces: 2, workers: 0, rate: 0, seed: 8, histograms: true, socketPath });

function bootTimeNs(sim: StatsSimulatorHandle): bigint {
  return BigInt(sim.truth().get('/sys/boottime') as bigint) * NS_PER_S;
}

/** The start times of one printed request, by the kind of point. */
function startsOf(request: DebugPoint[]): { cumulative: Set<bigint>; gauge: Set<bigint>; kinds: Set<string>; up: string | undefined } {
  const cumulative = new Set<bigint>();
  const gauge = new Set<bigint>();
  const kinds = new Set<string>();
  for (const p of request) {
    kinds.add(p.dataType);
    (p.dataType === 'Gauge' ? gauge : cumulative).add(p.startTimeNs);
  }
  return { cumulative, gauge, kinds, up: request.find((p) => p.metric === 'vpp_up')?.value };
}

interface Setup {
  socketPath: string;
  client: StatsClient;
  pusher: OtlpPusher;
  exports: () => DebugPoint[][];
}

async function setUp(t: import('node:test').TestContext): Promise<Setup> {
  const collector = await startCollector({ debug: true });
  const socketPath = path.join(tmpDir(), 'stats.sock');
  const client = new StatsClient({ socketPath, skipSymlinkPrefixes: EXPORTER_SKIPPED_SYMLINKS, backoffInitialMs: 50, backoffMaxMs: 200 });
  // Only /if/rx (sums) and the simulator's histograms: a short print. /sys/boottime is left out
  // of the families, and the start time must still be VPP's boot time.
  const source = new StatsSource(client, { perThread: false, include: [/^\/if\/rx$/, /^\/sim\/rx-packet-bytes$/] });
  const pusher = new OtlpPusher(source, { endpoint: collector.grpcEndpoint, protocol: 'grpc', intervalMs: 60_000, instance: 'start-time', perThread: false }, logger('otlp'));
  // In this order (after hooks run first to last): the last push still reaches the collector.
  t.after(async () => {
    await pusher.stop();
    client.close();
    await collector.stop();
  });
  return { socketPath, client, pusher, exports: () => readDebugExports(collector.logFile) };
}

/**
 * Flushes until an export has read the restarted simulator: the client mapped a new segment and
 * the export read it (vpp_up 1). Until the client notices the restart (its probe of the socket),
 * exports read the old, frozen segment, with the old start time. Returns every request printed
 * after the restart, the last one from the new segment.
 */
async function flushUntilRestartRead({ client, pusher, exports }: Setup): Promise<DebugPoint[][]> {
  const printed = exports().length;
  const reconnects = client.counters.reconnects;
  const deadline = Date.now() + 10_000;
  for (;;) {
    await pusher.flush();
    const since = exports().slice(printed);
    if (client.counters.reconnects > reconnects && startsOf(since.at(-1)!).up === '1') return since;
    if (Date.now() > deadline) assert.fail('the restarted simulator was not read within 10 s');
    await sleep(100);
  }
}

test("OTLP cumulative points start at VPP's boot time, fixed between exports, later after a VPP restart", { timeout: 120_000 }, async (t) => {
  const setup = await setUp(t);
  const { socketPath, pusher, exports } = setup;
  let sim = startSim(socketPath);
  t.after(() => sim.stop());
  const boot1 = bootTimeNs(sim);
  await pusher.flush();
  await pusher.flush();
  assert.equal(pusher.counters.failedExports, 0);
  const before = exports();
  assert.equal(before.length, 2, 'two requests printed');
  for (const request of before) {
    const s = startsOf(request);
    assert.equal(s.up, '1');
    assert.deepEqual([...s.kinds].sort(), ['Gauge', 'Histogram', 'Sum']);
    assert.deepEqual([...s.cumulative], [boot1], 'every sum and histogram starts at the boot time');
    assert.deepEqual([...s.gauge], [0n], 'gauges carry no start time');
  }
  // The export's own time moved, the start did not.
  assert.ok(before[1][0].timeNs > before[0][0].timeNs);

  // VPP restarts a second or more later: /sys/boottime (whole seconds) is later.
  await sleep(1100);
  await sim.stop();
  sim = startSim(socketPath);
  const boot2 = bootTimeNs(sim);
  assert.ok(boot2 > boot1, `the restarted simulator's boot time ${boot2} is after ${boot1}`);
  const since = (await flushUntilRestartRead(setup)).map(startsOf);
  const after = since.at(-1)!;
  assert.deepEqual([...after.cumulative], [boot2], 'after the restart the start time is the new boot time');
  assert.deepEqual([...after.gauge], [0n]);
  // Before that: the old segment's boot time (a frozen read) or no snapshot (vpp_up 0, no sums).
  for (const s of since.slice(0, -1)) assert.ok(s.cumulative.size === 0 || (s.cumulative.size === 1 && s.cumulative.has(boot1)), [...s.cumulative].join());
});

test('without a boot time in the segment, cumulative points start when the exporter first mapped it; a restart moves that', { timeout: 120_000 }, async (t) => {
  const setup = await setUp(t);
  const { socketPath, pusher, exports } = setup;
  // A VPP whose collector has not set /sys/boottime yet (0).
  const startWithoutBootTime = (): StatsSimulatorHandle => {
    const s = startSim(socketPath);
    s.stats.writer.setScalar(BOOT_TIME_SLOT, 0n);
    return s;
  };
  let sim = startWithoutBootTime();
  t.after(() => sim.stop());
  assert.equal(sim.truth().get('/sys/boottime'), 0n);
  const t0 = BigInt(Date.now()) * 1_000_000n;
  await pusher.flush();
  const t1 = BigInt(Date.now()) * 1_000_000n;
  await sleep(50);
  await pusher.flush();
  const [first, second] = exports().map(startsOf);
  assert.equal(first.up, '1');
  assert.equal(first.cumulative.size, 1);
  const [seen] = first.cumulative;
  assert.ok(seen >= t0 && seen <= t1, `start ${seen} is when the segment was first mapped, within [${t0}, ${t1}]`);
  assert.deepEqual([...second.cumulative], [seen], 'fixed from export to export');

  await sim.stop();
  const restartedAt = BigInt(Date.now()) * 1_000_000n;
  sim = startWithoutBootTime();
  const after = startsOf((await flushUntilRestartRead(setup)).at(-1)!);
  assert.equal(after.cumulative.size, 1);
  const [seenAgain] = after.cumulative;
  assert.ok(seenAgain >= restartedAt, `after the restart the start ${seenAgain} is the new segment's first mapping (>= ${restartedAt})`);
  assert.deepEqual([...after.gauge], [0n]);
});
