/**
 * How big a segment a topology needs, and how much room each growing structure gets up front.
 * VPP's statseg size is fixed at start (`statseg { size }`, default 32 MiB) and so is ours; the
 * simulator reserves room for churn (an eighth more interfaces, at least 64) so that adding
 * interfaces moves no vector until that room is used up.
 */
import { BASE_ERRORS, BASE_NODES, NET_VECTORS, OUTPUT_NODE_ERRORS } from './catalog.js';
import { ENTRY_SIZE, HEAP_FIRST_OBJECT } from './segment-layout.js';
import { TORTURE_COUNTERS } from './torture.js';

export interface TopologySize {
  /** Interfaces including local0. */
  interfaces: number;
  /** Hardware interfaces including local0 (each adds two nodes and their errors). */
  hardwareInterfaces: number;
  /** Threads: main + workers. */
  threads: number;
  perNodeCounters: boolean;
  torture: boolean;
  /** Bins of each log2 histogram entry. */
  histogramBins?: readonly number[];
}

export interface Capacity {
  interfaces: number;
  nodes: number;
  errors: number;
  entries: number;
}

/** VPP's default statseg size, the floor for small topologies. */
export const DEFAULT_SEGMENT_SIZE = 32 * 1024 * 1024;
const MIB = 1024 * 1024;
/** Most errors a hardware interface registers (output node + the largest tx node set). */
const ERRORS_PER_HW = OUTPUT_NODE_ERRORS.length + 4;
/** Entries outside the per-object ones: scalars, gauges, vectors, name vectors, /mem symlinks. */
const FIXED_ENTRIES = 64 + NET_VECTORS.length;

export function plannedCapacity(t: TopologySize): Capacity {
  const spareInterfaces = Math.max(64, Math.ceil(t.interfaces / 8));
  const spareHw = Math.max(32, Math.ceil(t.hardwareInterfaces / 8));
  const interfaces = t.interfaces + spareInterfaces;
  const nodes = BASE_NODES.length + 2 * (t.hardwareInterfaces + spareHw);
  const errors = BASE_ERRORS.length + ERRORS_PER_HW * (t.hardwareInterfaces + spareHw);
  const entries = FIXED_ENTRIES + errors + 17 * interfaces + (t.perNodeCounters ? 4 * nodes : 0) + (t.histogramBins?.length ?? 0);
  return { interfaces, nodes, errors, entries };
}

/** Bytes of a cache-line-aligned counter vector with `rows` rows of `columns` elements. */
function counterVectorBytes(rows: number, columns: number, width: number): number {
  return 64 + 8 * rows + 64 + rows * (64 + 16 + columns * 8 * width);
}

/** Segment bytes for the topology: everything at planned capacity, plus headroom, in whole MiB. */
export function requiredSegmentSize(t: TopologySize): number {
  const c = plannedCapacity(t);
  const T = t.threads;
  const perInterfaceNet = NET_VECTORS.filter((v) => v.length === null);
  const fixedNet = NET_VECTORS.filter((v) => v.length !== null);
  let bytes = HEAP_FIRST_OBJECT;
  bytes += 64 + c.entries * ENTRY_SIZE;
  bytes += 9 * counterVectorBytes(T, c.interfaces, 1) + 8 * counterVectorBytes(T, c.interfaces, 2);
  for (const v of perInterfaceNet) bytes += counterVectorBytes(T, c.interfaces, v.type === 'simple' ? 1 : 2);
  for (const v of fixedNet) bytes += counterVectorBytes(T, v.length ?? 0, v.type === 'simple' ? 1 : 2);
  bytes += 4 * counterVectorBytes(T + 1, c.nodes, 1);
  bytes += counterVectorBytes(T, c.errors, 1);
  // Name vectors: 8 bytes per pointer, and each string vector within 64 bytes (names are short).
  bytes += 2 * 64 + 8 * (c.interfaces + c.nodes) + 64 * (c.interfaces + c.nodes);
  if (t.torture) bytes += 2 * counterVectorBytes(T, TORTURE_COUNTERS, 1);
  for (const bins of t.histogramBins ?? []) bytes += counterVectorBytes(T, bins + 1, 1);
  // Small vectors (/mem, per-worker rates) and allocator slack.
  bytes += 256 * 1024;
  const total = Math.ceil((bytes * 1.1 + MIB) / MIB) * MIB;
  return Math.max(DEFAULT_SEGMENT_SIZE, total);
}
