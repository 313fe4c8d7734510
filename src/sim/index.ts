/**
 * The simulator's stats side: a VPP-compatible stats segment for a topology, kept moving and served
 * on a socket exactly as VPP serves stats.sock (the memfd over SOCK_SEQPACKET with SCM_RIGHTS).
 * startStatsSimulator() is what the CLI (`vpp-exporter sim`, `demo`) and tests call.
 */
import { native, type NativeSharedSegment } from '../native/index.js';
import type { DumpValue } from '../stats/dump.js';
import { startApiServer, type ApiServer } from './api/index.js';
import { InterfaceModel } from './model.js';
import { resolveStatsSimulatorOptions, type ResolvedStatsSimulatorOptions, type StatsSimulatorOptions } from './options.js';
import { startPacer, type Pacer } from './pacer.js';
import { requiredSegmentSize } from './segment-size.js';
import { StatsSim } from './stats-sim.js';
import { createDefaultTopology, hardwareInterfaceCount } from './topology.js';
import type { TruthOptions } from './truth.js';

export { InterfaceModel, ModelError, type InterfaceState, type CreateInterfaceSpec, type InterfaceModelEvents } from './model.js';
export { StatsSim, baseAddressForSeed, type StatsSimOptions } from './stats-sim.js';
export { SegmentWriter } from './segment-writer.js';
export { SegmentFullError } from './heap.js';
export { WriterStuckError } from './segment-lock.js';
export { TORTURE_ENTRY, TORTURE_COUNTERS } from './torture.js';
export { requiredSegmentSize } from './segment-size.js';
export { createDefaultTopology, hardwareInterfaceCount } from './topology.js';
export type { DeviceClass } from './catalog.js';
export { resolveStatsSimulatorOptions, DEFAULT_HISTOGRAMS, type StatsSimulatorOptions, type HistogramSpec, type HistogramSource } from './options.js';
export { Log2Histogram } from './log2-histogram.js';
export { summedHistogram } from './truth.js';
export type { TruthOptions, ExpectedEntry } from './truth.js';
export { startApiServer, type ApiServer, type ApiServerOptions } from './api/index.js';

export interface StatsSimulatorHandle {
  readonly model: InterfaceModel;
  readonly stats: StatsSim;
  /** The stats socket, when one was asked for. */
  readonly socketPath: string | undefined;
  /** The binary API socket, when one was asked for (startStatsSimulator with apiSocketPath). */
  readonly apiSocketPath: string | undefined;
  /** The binary API server on the same model, when apiSocketPath was given. */
  readonly api: ApiServer | undefined;
  readonly segmentSize: number;
  /** Milliseconds the initial build took (segment, topology, warm-up). */
  readonly buildMs: number;
  /** Every entry's value as written (see truth.ts). */
  truth(opts?: TruthOptions): Map<string, DumpValue>;
  /** A copy of the segment's bytes: an image StatSegment.openFile reads like a live segment. */
  image(): Buffer;
  /** Leaves in_progress = 1 and stops every timer: a VPP that died holding the lock. */
  stickInProgress(): void;
  /** Stops timers and the socket and unmaps the segment; the handle is dead afterwards. */
  stop(): Promise<void>;
}

/**
 * Builds and starts the simulator, and its binary API server on the same model when
 * apiSocketPath is given; rejects with RangeError (bad options), SegmentFullError or the API
 * socket's listen error.
 */
export async function startStatsSimulator(options: StatsSimulatorOptions): Promise<StatsSimulatorHandle> {
  const o = resolveStatsSimulatorOptions(options);
  const sim = buildStatsSimulator(o);
  if (o.apiSocketPath === undefined) return sim;
  let api: ApiServer;
  try {
    api = await startApiServer({ socketPath: o.apiSocketPath, model: sim.model, stats: sim.stats, flapIntervalMs: o.flapIntervalMs ?? 0, seed: o.seed });
  } catch (e) {
    await sim.stop();
    throw e;
  }
  return {
    ...sim,
    api,
    apiSocketPath: o.apiSocketPath,
    stop: async () => {
      await api.stop();
      await sim.stop();
    },
  };
}

/**
 * startStatsSimulator without the promise: the build is synchronous (seconds at 100k interfaces).
 * The API socket starts asynchronously, so apiSocketPath needs startStatsSimulator.
 */
export function createStatsSimulator(options: StatsSimulatorOptions): StatsSimulatorHandle {
  const o = resolveStatsSimulatorOptions(options);
  if (o.apiSocketPath !== undefined) throw new RangeError('apiSocketPath needs startStatsSimulator (the API socket starts asynchronously)');
  return buildStatsSimulator(o);
}

function buildStatsSimulator(o: ResolvedStatsSimulatorOptions): StatsSimulatorHandle {
  const began = performance.now();
  const model = new InterfaceModel({ seed: o.seed });
  const expected = { interfaces: o.interfaces + 1, hardwareInterfaces: hardwareInterfaceCount(o.interfaces) };
  const size =
    o.segmentSize ??
    requiredSegmentSize({
      ...expected,
      threads: o.workers + 1,
      perNodeCounters: o.perNodeCounters,
      torture: o.tortureHz > 0,
      histogramBins: o.histograms.map((h) => h.bins),
    });
  const segment: NativeSharedSegment = new (native().SharedSegment)(size);
  let stats: StatsSim;
  try {
    stats = new StatsSim(segment.buffer, model, { workers: o.workers, seed: o.seed, perNodeCounters: o.perNodeCounters, expected, histograms: o.histograms });
    createDefaultTopology(model, o.interfaces);
    stats.warmUp();
    if (o.tortureHz > 0) stats.enableTorture();
    if (o.socketPath !== undefined) segment.serve(o.socketPath);
  } catch (e) {
    segment.destroy();
    throw e;
  }
  const buildMs = performance.now() - began;
  const timers = startTimers(stats, o.rate, o.tickMs, o.heartbeatMs, o.tortureHz);
  let stopped = false;

  return {
    model,
    stats,
    socketPath: o.socketPath,
    apiSocketPath: undefined,
    api: undefined,
    segmentSize: size,
    buildMs,
    truth: (opts) => stats.truth(opts),
    image: () => Buffer.from(new Uint8Array(segment.buffer)),
    stickInProgress: () => {
      timers.stop();
      stats.stickInProgress();
    },
    stop: () => {
      if (!stopped) {
        stopped = true;
        timers.stop();
        stats.detach();
        segment.destroy();
      }
      return Promise.resolve();
    },
  };
}

interface Timers {
  stop(): void;
}

/**
 * Interface counters every tickMs and a collector run every heartbeatMs, both over the time that
 * really passed; none at rate 0 (everything frozen). Torture runs on its own pacer. A long ref'd
 * interval keeps the process alive while the simulator runs, like a listening server would.
 */
function startTimers(stats: StatsSim, rate: number, tickMs: number, heartbeatMs: number, tortureHz: number): Timers {
  const handles: NodeJS.Timeout[] = [setInterval(() => undefined, 1 << 30)];
  let pacer: Pacer | undefined;
  if (rate > 0) {
    let lastTick = performance.now();
    handles.push(
      setInterval(() => {
        const now = performance.now();
        stats.advance((now - lastTick) / 1000, rate);
        lastTick = now;
      }, tickMs),
    );
    let lastCollect = performance.now();
    handles.push(
      setInterval(() => {
        const now = performance.now();
        stats.collect((now - lastCollect) / 1000);
        lastCollect = now;
      }, heartbeatMs),
    );
  }
  if (tortureHz > 0) pacer = startPacer(tortureHz, () => stats.tortureStep());
  return {
    stop(): void {
      for (const h of handles) clearInterval(h);
      pacer?.stop();
    },
  };
}
