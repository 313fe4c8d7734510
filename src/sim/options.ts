/**
 * The stats simulator's options, validated in one place: the CLI (`vpp-exporter sim`), the demo
 * and tests all pass through here, and a bad value is a RangeError that says which and why.
 */
import { MAX_HISTOGRAM_BINS } from './log2-histogram.js';
import { ENTRY_NAME_MAX_BYTES, PAGE_SIZE } from './segment-layout.js';

/** What a simulated log2 histogram observes. */
export type HistogramSource =
  /** The size in bytes of every received packet, in the row of the thread that polls it, with the traffic. */
  | 'rx-packet-bytes'
  /** Packets per dispatch of the receive path (ethernet-input's vectors per call), per worker, each collector run. */
  | 'rx-vector-size';

/** A STAT_DIR_TYPE_HISTOGRAM_LOG2 entry of the simulated VPP. */
export interface HistogramSpec {
  /** Stat path, e.g. /sim/rx-packet-bytes. */
  name: string;
  source: HistogramSource;
  /** min_exp of every thread's row, or one per thread (workers + 1): VPP uses one, readers must not rely on it. */
  minExp: number | readonly number[];
  /** Bins after min_exp (VPP's num_bins); 0 leaves rows that hold min_exp only. */
  bins: number;
}

/** The histograms `histograms: true` (and `--histograms`) adds. */
export const DEFAULT_HISTOGRAMS: readonly HistogramSpec[] = [
  // 64-byte frames and up: bins 64..127, 128..255, ... 32768..65535, then 65536 and more.
  { name: '/sim/rx-packet-bytes', source: 'rx-packet-bytes', minExp: 6, bins: 11 },
  // 1 (and 0), 2..3, 4..7, ... 128..255, then 256 (VPP's largest frame).
  { name: '/sim/rx-vector-size', source: 'rx-vector-size', minExp: 0, bins: 9 },
];

export interface StatsSimulatorOptions {
  /** Interfaces besides local0 (a realistic mix, see topology.ts). */
  interfaces: number;
  /** Worker threads; counter vectors get 1 + workers rows. */
  workers: number;
  /** Packets per second per interface; 0 freezes every value, the heartbeat included. */
  rate: number;
  /** Makes layout, addresses and counters repeatable. */
  seed: number;
  /** Where to serve the segment's descriptor like VPP's stats.sock; no socket when absent. */
  socketPath?: string;
  /** Collector interval (heartbeat, node counters, rates). Default 1000; VPP's is 10 s. */
  heartbeatMs?: number;
  /** Interface counter update interval. Default 200. */
  tickMs?: number;
  /** Torture relocations of /sim/torture per second (0 = off); see torture.ts. */
  tortureHz?: number;
  /** Segment bytes (a multiple of 4096); computed from the topology by default. */
  segmentSize?: number;
  /** /nodes/<node>/<counter> symlinks (statseg per-node-counters on). Default true. */
  perNodeCounters?: boolean;
  /** Where to answer VPP's binary API like api.sock (startStatsSimulator only); none when absent. */
  apiSocketPath?: string;
  /** A simulated link flap every this many ms on the API side (0 = none, the default). */
  flapIntervalMs?: number;
  /** Log2 histogram entries: true for DEFAULT_HISTOGRAMS, or a list. None by default (VPP 26.10 registers none). */
  histograms?: boolean | readonly HistogramSpec[];
}

export interface ResolvedStatsSimulatorOptions
  extends Required<Omit<StatsSimulatorOptions, 'socketPath' | 'segmentSize' | 'apiSocketPath' | 'flapIntervalMs' | 'histograms'>> {
  /** With every min_exp given per thread. */
  histograms: { name: string; source: HistogramSource; minExp: number[]; bins: number }[];
  socketPath: string | undefined;
  /** Present only when given (the API side is optional). */
  apiSocketPath?: string;
  flapIntervalMs?: number;
  segmentSize: number | undefined;
}

export const DEFAULT_HEARTBEAT_MS = 1000;
export const DEFAULT_TICK_MS = 200;
export const MAX_INTERFACES = 1_000_000;
export const MAX_WORKERS = 256;
/** sun_path holds 108 bytes including the NUL. */
const MAX_SOCKET_PATH_BYTES = 107;

const KNOWN = new Set<string>([
  'interfaces', 'workers', 'rate', 'seed', 'socketPath', 'heartbeatMs', 'tickMs', 'tortureHz', 'segmentSize', 'perNodeCounters',
  'apiSocketPath', 'flapIntervalMs', 'histograms',
]);
const HISTOGRAM_KEYS = new Set(['name', 'source', 'minExp', 'bins']);
const HISTOGRAM_SOURCES = new Set<string>(['rx-packet-bytes', 'rx-vector-size']);

export function resolveStatsSimulatorOptions(opts: StatsSimulatorOptions): ResolvedStatsSimulatorOptions {
  if (typeof opts !== 'object' || opts === null) throw new RangeError('simulator options must be an object');
  for (const k of Object.keys(opts)) if (!KNOWN.has(k)) throw new RangeError(`unknown simulator option "${k}"`);
  const int = (name: string, v: unknown, min: number, max: number): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${String(v)}`);
    }
    return v;
  };
  const num = (name: string, v: unknown, min: number, max: number): number => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
      throw new RangeError(`${name} must be a number from ${min} to ${max}, got ${String(v)}`);
    }
    return v;
  };
  const path = (name: string, v: unknown): string | undefined => {
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v.length === 0) throw new RangeError(`${name} must be a non-empty string`);
    if (Buffer.byteLength(v) > MAX_SOCKET_PATH_BYTES) {
      throw new RangeError(`${name} is longer than ${MAX_SOCKET_PATH_BYTES} bytes, the limit of a unix socket address`);
    }
    return v;
  };
  const socketPath = path('socketPath', opts.socketPath);
  const apiSocketPath = path('apiSocketPath', opts.apiSocketPath);
  if (apiSocketPath !== undefined && apiSocketPath === socketPath) throw new RangeError('apiSocketPath and socketPath must differ');
  let segmentSize: number | undefined;
  if (opts.segmentSize !== undefined) {
    segmentSize = int('segmentSize', opts.segmentSize, 16 * PAGE_SIZE, Number.MAX_SAFE_INTEGER);
    if (segmentSize % PAGE_SIZE !== 0) throw new RangeError(`segmentSize must be a multiple of ${PAGE_SIZE}, got ${segmentSize}`);
  }
  if (opts.perNodeCounters !== undefined && typeof opts.perNodeCounters !== 'boolean') {
    throw new RangeError('perNodeCounters must be true or false');
  }
  const workers = int('workers', opts.workers, 0, MAX_WORKERS);
  return {
    interfaces: int('interfaces', opts.interfaces, 0, MAX_INTERFACES),
    workers,
    histograms: resolveHistograms(opts.histograms, workers + 1, int),
    rate: num('rate', opts.rate, 0, 1e9),
    seed: int('seed', opts.seed, 0, 0xffff_ffff),
    heartbeatMs: int('heartbeatMs', opts.heartbeatMs ?? DEFAULT_HEARTBEAT_MS, 1, 3_600_000),
    tickMs: int('tickMs', opts.tickMs ?? DEFAULT_TICK_MS, 1, 60_000),
    tortureHz: num('tortureHz', opts.tortureHz ?? 0, 0, 100_000),
    perNodeCounters: opts.perNodeCounters ?? true,
    socketPath,
    segmentSize,
    ...(apiSocketPath !== undefined ? { apiSocketPath } : {}),
    ...(opts.flapIntervalMs !== undefined ? { flapIntervalMs: int('flapIntervalMs', opts.flapIntervalMs, 0, 86_400_000) } : {}),
  };
}

function resolveHistograms(
  given: StatsSimulatorOptions['histograms'],
  threads: number,
  int: (name: string, v: unknown, min: number, max: number) => number,
): ResolvedStatsSimulatorOptions['histograms'] {
  if (given === undefined || given === false) return [];
  const specs = given === true ? DEFAULT_HISTOGRAMS : given;
  if (!Array.isArray(specs)) throw new RangeError('histograms must be true, false or a list of histograms');
  const names = new Set<string>();
  return specs.map((h: HistogramSpec, i) => {
    const at = `histograms[${i}]`;
    if (typeof h !== 'object' || h === null) throw new RangeError(`${at} must be an object`);
    for (const k of Object.keys(h)) if (!HISTOGRAM_KEYS.has(k)) throw new RangeError(`unknown key "${k}" in ${at}`);
    if (typeof h.name !== 'string' || !h.name.startsWith('/') || Buffer.byteLength(h.name) > ENTRY_NAME_MAX_BYTES) {
      throw new RangeError(`${at}.name must be a stat path starting with / of at most ${ENTRY_NAME_MAX_BYTES} bytes`);
    }
    if (names.has(h.name)) throw new RangeError(`${at}.name ${h.name} is used twice`);
    names.add(h.name);
    if (!HISTOGRAM_SOURCES.has(h.source)) throw new RangeError(`${at}.source must be one of ${[...HISTOGRAM_SOURCES].join(', ')}`);
    const minExp = Array.isArray(h.minExp) ? h.minExp : Array.from({ length: threads }, () => h.minExp as number);
    if (minExp.length !== threads) throw new RangeError(`${at}.minExp must be one number or one per thread (${threads}), got ${minExp.length}`);
    return {
      name: h.name,
      source: h.source,
      minExp: minExp.map((e: unknown, t: number) => int(`${at}.minExp[${t}]`, e, 0, 0xffff_ffff)),
      bins: int(`${at}.bins`, h.bins, 0, MAX_HISTOGRAM_BINS),
    };
  });
}
