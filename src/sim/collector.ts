/**
 * The simulated statseg-collector-process (vlib/stats/collector.c): every run it bumps
 * /sys/heartbeat, stamps /sys/last_update, and publishes what the data plane did since the last
 * run - node clocks/vectors/calls/suspends per thread, vector and loop rates per worker, the input
 * rate, memory heaps and buffer pools. Like VPP's, these values lag the interface counters by up to
 * one collector interval.
 *
 * The node model is coarse but consistent: a worker spins through its main loop polling its input
 * nodes, received packets pass the ethernet/ip4/ip6 nodes in vectors whose size grows with load,
 * transmitted ones pass interface-output and the hardware interface's output and tx nodes, drops
 * pass error-drop; clocks are cycles per packet plus per call, and polling takes the rest of a
 * 2.5 GHz core. The main thread runs VPP's periodic processes.
 */
import type { NODE_COUNTERS } from './catalog.js';
import type { CounterVector } from './counter-vector.js';
import type { HeapStats } from './heap.js';
import type { Log2Histogram } from './log2-histogram.js';
import type { Prng } from './prng.js';
import type { SegmentWriter } from './segment-writer.js';
import type { Traffic } from './traffic.js';

type NodeCounter = (typeof NODE_COUNTERS)[number];

export interface CollectorTargets {
  writer: SegmentWriter;
  heartbeat: number;
  lastUpdate: number;
  vectorRate: number;
  inputRate: number;
  vectorRatePerWorker: CounterVector;
  loopsPerWorker: CounterVector;
  nodes: Record<NodeCounter, CounterVector>;
  /** Node index by name (undefined when the node does not exist). */
  nodeIndex(name: string): number | undefined;
  /** The tx node that goes with an interface output node. */
  txNodeOf(outputNode: number): number;
  statSegmentHeap: CounterVector | undefined;
  mainHeap: CounterVector | undefined;
  /** `base` is what the gauges are published around (with a little jitter); scenarios may change it. */
  bufferPools: readonly { cached: number; used: number; available: number; base: { cached: number; used: number; available: number } }[];
  interfaceCount(): number;
  /** Log2 histograms of the receive path's packets per dispatch, per worker. */
  rxVectorSizes: readonly Log2Histogram[];
}

const CPU_HZ = 2.5e9;
const WORKER_LOOPS_PER_SECOND = 1.8e7;
const MAIN_LOOPS_PER_SECOND = 180_000;
/** Cycles per call on top of cycles per packet. */
const CALL_CYCLES = 90;

/** Receive path: node name, share of packets (rx, ip4 or ip6 counts), cycles per packet. */
const RX_PATH: readonly [string, 'rx' | 'ip4' | 'ip6' | 'drops' | 'tx', number][] = [
  ['ethernet-input', 'rx', 45],
  ['ip4-input-no-checksum', 'ip4', 30],
  ['ip4-lookup', 'ip4', 40],
  ['ip4-rewrite', 'ip4', 35],
  ['ip6-input', 'ip6', 35],
  ['ip6-lookup', 'ip6', 55],
  ['ip6-rewrite', 'ip6', 40],
  ['error-drop', 'drops', 25],
  ['drop', 'drops', 15],
  ['interface-output', 'tx', 25],
];

/** Periodic processes on the main thread: name, runs per second, cycles per run. */
const PROCESSES: readonly [string, number, number][] = [
  ['ip4-full-reassembly-expire-walk', 20, 7_500],
  ['ip6-full-reassembly-expire-walk', 20, 14_000],
  ['ip6-ra-process', 1, 14_000],
  ['ip6-mld-process', 1, 10_500],
  ['fib-walk', 0.5, 25_000],
  ['memif-process', 0.35, 180_000],
  ['vpe-link-state-process', 0.4, 9_000],
  ['ip4-sv-reassembly-expire-walk', 0.12, 15_500],
  ['ip6-sv-reassembly-expire-walk', 0.12, 23_000],
];

export class Collector {
  /** Fractional process runs carried over between collector runs. */
  private readonly processCarry = new Float64Array(PROCESSES.length);
  private heartbeat: bigint;
  /** Scenario hook: vectors per call forced for a node (by name); calls follow from its vectors. */
  readonly vectorsPerCall = new Map<string, number>();
  /** Fractional calls of forced nodes carried over, by node name and thread. */
  private readonly callCarry = new Map<string, number>();

  constructor(
    private readonly t: CollectorTargets,
    private readonly traffic: Traffic,
    private readonly threads: number,
    private readonly prng: Prng,
  ) {
    this.heartbeat = t.writer.scalar(t.heartbeat);
  }

  /** One collector run covering `seconds` of activity, at `uptime` seconds since boot. */
  run(seconds: number, uptime: number): void {
    const w = this.t.writer;
    this.heartbeat += 1n;
    w.setScalar(this.t.heartbeat, this.heartbeat);
    w.setScalar(this.t.lastUpdate, BigInt(Math.floor(uptime)));
    if (seconds > 0) {
      this.dataPlane(seconds);
      this.mainThread(seconds);
    }
    this.memory();
    this.traffic.resetTotals();
  }

  private dataPlane(seconds: number): void {
    const tot = this.traffic.totals;
    const workers = this.threads - 1;
    let rateSum = 0;
    let inputRate = 0;
    for (let r = 0; r < this.threads; r++) {
      const isData = workers === 0 || r > 0;
      if (!isData) {
        this.t.loopsPerWorker.set(0, r, BigInt(Math.round(MAIN_LOOPS_PER_SECOND * this.jitter())));
        continue;
      }
      const pps = tot.rx[r] / seconds;
      inputRate += pps;
      const vsize = Math.min(256, Math.max(1, Math.floor(pps / 20_000)));
      const loops = Math.round(seconds * (WORKER_LOOPS_PER_SECOND / (1 + pps / 100_000)) * this.jitter());
      let busy = 0;
      const count = (node: string | number | undefined, vectors: number, cpp: number, calls?: number): void => {
        const i = typeof node === 'string' ? this.t.nodeIndex(node) : node;
        if (i === undefined || (vectors <= 0 && !calls)) return;
        const forced = typeof node === 'string' ? this.forcedCalls(node, r, vectors) : undefined;
        const c = calls ?? forced ?? Math.max(1, Math.ceil(vectors / vsize));
        const clocks = vectors * cpp + c * CALL_CYCLES;
        busy += clocks;
        this.addNode(r, i, vectors, c, clocks, 0);
      };
      for (const [node, share, cpp] of RX_PATH) count(node, tot[share][r], cpp);
      // ethernet-input's dispatches of this run: tot.rx[r] packets in vectors of vsize.
      if (tot.rx[r] > 0) for (const h of this.t.rxVectorSizes) h.observe(r, vsize, Math.ceil(tot.rx[r] / vsize));
      for (const [out, perThread] of tot.txByOutputNode) {
        count(out, perThread[r], 20);
        count(this.t.txNodeOf(out), perThread[r], 60);
      }
      // Polling fills the rest of the core: every loop calls each input node this thread polls.
      const polledNodes = [...this.traffic.polled].filter(([, n]) => n[r] > 0).map(([name]) => name);
      const idle = Math.max(0, seconds * CPU_HZ - busy);
      for (const name of polledNodes) {
        const i = this.t.nodeIndex(name);
        if (i === undefined) continue;
        const vectors = tot.rxByInputNode.get(name)?.[r] ?? 0;
        const calls = this.forcedCalls(name, r, vectors) ?? loops;
        this.addNode(r, i, vectors, calls, idle / polledNodes.length + vectors * 60, 0);
      }
      this.t.vectorRatePerWorker.set(0, r, BigInt(pps > 0 ? vsize : 0));
      this.t.loopsPerWorker.set(0, r, BigInt(Math.round(loops / seconds)));
      rateSum += pps > 0 ? vsize : 0;
    }
    const w = this.t.writer;
    w.setScalar(this.t.vectorRate, BigInt(Math.round(rateSum / Math.max(1, workers))));
    w.setScalar(this.t.inputRate, BigInt(Math.round(inputRate)));
  }

  private mainThread(seconds: number): void {
    PROCESSES.forEach(([name, perSecond, cycles], k) => {
      const i = this.t.nodeIndex(name);
      if (i === undefined) return;
      const runs = this.processCarry[k] + perSecond * seconds;
      const whole = Math.floor(runs);
      this.processCarry[k] = runs - whole;
      if (whole > 0) this.addNode(0, i, 0, whole, whole * cycles, whole);
    });
    const self = this.t.nodeIndex('statseg-collector-process');
    if (self !== undefined) this.addNode(0, self, 0, 1, 60_000 + this.t.interfaceCount() * 40, 1);
  }

  /** Calls for `vectors` at a forced vectors per call (fractions carried to the next run), or undefined. */
  private forcedCalls(node: string, row: number, vectors: number): number | undefined {
    const vpc = this.vectorsPerCall.get(node);
    if (vpc === undefined) return undefined;
    const key = `${node}\0${row}`;
    const exact = vectors / vpc + (this.callCarry.get(key) ?? 0);
    const whole = Math.floor(exact);
    this.callCarry.set(key, exact - whole);
    return whole;
  }

  private addNode(row: number, node: number, vectors: number, calls: number, clocks: number, suspends: number): void {
    const n = this.t.nodes;
    if (node >= n.clocks.columns) return;
    if (vectors > 0) n.vectors.add(row, node, BigInt(Math.round(vectors)));
    if (calls > 0) n.calls.add(row, node, BigInt(Math.round(calls)));
    if (clocks > 0) n.clocks.add(row, node, BigInt(Math.round(clocks)));
    if (suspends > 0) n.suspends.add(row, node, BigInt(suspends));
  }

  private memory(): void {
    const seg = this.t.statSegmentHeap;
    if (seg) setHeapRow(seg, this.t.writer.mem.heap.stats());
    const main = this.t.mainHeap;
    if (main) {
      const total = Number(main.get(0, 0));
      const used = Math.min(total, 35_000_000 + this.t.interfaceCount() * 2_048 + this.prng.int(65_536));
      setRow(main, [total, used, total - used, 0, total, 600 + this.prng.int(200), Math.floor((total - used) * 0.93)]);
    }
    for (const p of this.t.bufferPools) {
      const w = this.t.writer;
      const all = p.base.cached + p.base.used + p.base.available;
      const used = Math.max(0, p.base.used + this.prng.int(200) - 100);
      const cached = Math.max(0, p.base.cached + this.prng.int(60) - 30);
      w.setScalar(p.used, BigInt(used));
      w.setScalar(p.cached, BigInt(cached));
      w.setScalar(p.available, BigInt(Math.max(0, all - used - cached)));
    }
  }

  private jitter(): number {
    return this.prng.range(0.97, 1.03);
  }
}

/** /mem/<heap> row from heap figures: total, used, free, used_mmap, total_alloc, free_chunks, releasable. */
export function setHeapRow(v: CounterVector, s: HeapStats): void {
  setRow(v, [s.total, s.used, s.free, 0, s.total, s.freeChunks, s.largestFree]);
}

function setRow(v: CounterVector, values: number[]): void {
  values.forEach((x, i) => v.set(0, i, BigInt(x)));
}
