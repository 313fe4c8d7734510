/**
 * The stats simulator's options, validated in one place: the CLI (`vpp-exporter sim`), the demo
 * and tests all pass through here, and a bad value is a RangeError that says which and why.
 */
import { PAGE_SIZE } from './segment-layout.js';

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
}

export interface ResolvedStatsSimulatorOptions
  extends Required<Omit<StatsSimulatorOptions, 'socketPath' | 'segmentSize' | 'apiSocketPath' | 'flapIntervalMs'>> {
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
  'apiSocketPath', 'flapIntervalMs',
]);

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
  return {
    interfaces: int('interfaces', opts.interfaces, 0, MAX_INTERFACES),
    workers: int('workers', opts.workers, 0, MAX_WORKERS),
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
