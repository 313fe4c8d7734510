/**
 * The simulated VPP's stats segment: builds it the way VPP 26.10 does for a topology and keeps it in
 * step with the interface model. Entry order follows the captured segment (indices in comments are
 * the capture's): the fixed scalars first, /mem/stat segment, rates, buffer pools, /node/errors with
 * every node's error counters, /if/* and local0, /if/names, BFD, /mem/main heap, the node vectors and
 * the /nodes/* symlinks, then per interface its error counters and /interfaces/* symlinks.
 *
 * Structural changes (interfaces, nodes, errors) take the segment lock; counters move without it.
 * One difference from VPP: VPP's collector picks up node additions and renames up to 10 s later; the
 * simulator updates /sys/node/names and the /nodes/* symlinks within the change itself, so that the
 * segment is complete and truth() deterministic without timers.
 */
import {
  BASE_ERRORS,
  BASE_NODES,
  BFD_GAUGES,
  BUFFER_POOLS,
  DELETED_INTERFACE_NAME,
  deletedInterfaceNodeNames,
  DEVICE_INPUT_NODE,
  errorCounterName,
  IF_COMBINED_COUNTERS,
  IF_COUNTERS,
  IF_SIMPLE_COUNTERS,
  interfaceNodeNames,
  interfaceSymlinkName,
  LOCAL0_NODES_AT,
  MEM_HEAP_SYMLINKS,
  MEMORY_HEAPS,
  memHeapName,
  NET_VECTORS,
  NODE_COUNTERS,
  nodeSymlinkName,
  OUTPUT_NODE_ERRORS,
  txNodeErrors,
} from './catalog.js';
import { Collector, setHeapRow } from './collector.js';
import { ColumnAllocator } from './column-allocator.js';
import type { CounterKind, CounterVector } from './counter-vector.js';
import type { Log2Histogram } from './log2-histogram.js';
import type { InterfaceModel, InterfaceState } from './model.js';
import type { HistogramSource } from './options.js';
import type { NameVector } from './name-vector.js';
import { Prng } from './prng.js';
import { PAGE_SIZE, StatType } from './segment-layout.js';
import { plannedCapacity, type Capacity } from './segment-size.js';
import { SegmentWriter } from './segment-writer.js';
import { TORTURE_ENTRY, TortureVector } from './torture.js';
import { Traffic, type TrafficVectors } from './traffic.js';
import { buildExpectedDirectory, buildTruth, type ExpectedEntry, type TruthOptions, type TruthSource } from './truth.js';
import type { DumpValue } from '../stats/dump.js';

export interface StatsSimOptions {
  /** Worker threads; the segment has 1 + workers rows per counter vector. */
  workers: number;
  seed: number;
  /** VPP-side address of the mapping; derived from the seed by default. */
  base?: bigint;
  /** statseg { per-node-counters on }: /nodes/<node>/<counter> symlinks (the capture had them). Default true. */
  perNodeCounters?: boolean;
  /** Interfaces (local0 included) and hardware interfaces to make room for up front. */
  expected?: { interfaces: number; hardwareInterfaces: number };
  /** Wall clock in ms, for /sys/boottime. */
  now?: () => number;
  /** Log2 histogram entries, after the base entries; min_exp per thread row. */
  histograms?: readonly { name: string; source: HistogramSource; minExp: readonly number[]; bins: number }[];
}

type NodeCounter = (typeof NODE_COUNTERS)[number];

/** A buffer pool's gauges: /buffer-pools/<pool>/{cached,used,available}. */
export interface BufferPoolValues {
  cached: number;
  used: number;
  available: number;
}

interface ErrorCounter {
  name: string;
  column: number;
  slot: number;
}

interface NodeRecord {
  name: string;
  /** The name its /nodes/* symlinks were made with, and their slots (null: none yet). */
  linkedAs: string | null;
  slots: Int32Array | null;
  errors: ErrorCounter[];
}

interface InterfaceRecord {
  sw: number;
  hw: number | null;
  /** The name its /interfaces/* symlinks were made with. */
  name: string;
  /** Slots of the 17 /interfaces/<name>/<counter> symlinks, -1 where none. */
  slots: Int32Array;
  /** Its own tx/output nodes (hardware interfaces). */
  nodes: { tx: number; output: number } | null;
}

/** Counters start from this much traffic, so that even a frozen segment has distinct non-zero values. */
const WARMUP_SECONDS = 3600;
const WARMUP_PPS = 1000;
/** Error counters interface drops are counted in: errors a real VPP showed for dropped traffic. */
const DROP_ERRORS = ['ip4-udp-lookup/no_listener', 'ip4-icmp-error/drop', 'ip6-input/dst_lookup_miss', 'ip4-input/ip4 ttl <= 1'];
const DAY = 86_400;

/** A page-aligned address like VPP's mappings (0x7fXX_XXXX_X000), from the seed, that fits `size`. */
export function baseAddressForSeed(seed: number, size: number): bigint {
  const pages = Math.ceil(size / PAGE_SIZE) + 1;
  const span = 0x0fff_ffff - pages;
  const page = 0x7f_0000_000 + new Prng(seed ^ 0x5eed).int(Math.max(1, span));
  return BigInt(page) * BigInt(PAGE_SIZE);
}

export class StatsSim {
  readonly writer: SegmentWriter;
  readonly threads: number;
  readonly workers: number;
  readonly perNodeCounters: boolean;
  readonly capacity: Capacity;
  private readonly prng: Prng;
  private readonly scalarSlots = new Map<string, number>();
  private readonly vectorByName = new Map<string, CounterVector>();
  private readonly nameVectorByName = new Map<string, NameVector>();
  private readonly histogramByName = new Map<string, Log2Histogram>();
  private readonly histogramsBySource: Record<HistogramSource, Log2Histogram[]> = { 'rx-packet-bytes': [], 'rx-vector-size': [] };
  private readonly memLinks: { name: string; slot: number; vector: CounterVector; column: number }[] = [];
  private readonly nodes: NodeRecord[] = [];
  private readonly nodeByName = new Map<string, number>();
  private readonly dirtyNodes = new Set<number>();
  /** Nodes of deleted hardware interfaces, reused LIFO by the next one created. */
  private readonly deletedNodePairs: { tx: number; output: number }[] = [];
  /** Interface output node -> its tx node (pairs stay together across renames). */
  private readonly txOfOutput = new Map<number, number>();
  private readonly errorColumns = new ColumnAllocator();
  private readonly interfaces = new Map<number, InterfaceRecord>();
  private readonly ifVectors: CounterVector[] = [];
  private readonly perInterfaceNet: CounterVector[] = [];
  private readonly traffic: Traffic;
  private readonly collector: Collector;
  private nodeErrors!: CounterVector;
  private ifNames!: NameVector;
  private nodeNames!: NameVector;
  private nodeVectors!: Record<NodeCounter, CounterVector>;
  private torture: TortureVector | undefined;
  /** Buffer pool gauges' slots and the values the collector publishes around (scenario hooks). */
  private readonly pools: { name: string; cached: number; used: number; available: number; base: BufferPoolValues }[];
  private collectorPaused = false;
  private uptime: number;
  private warmedUp = false;
  private readonly onCreated = (i: InterfaceState): void => this.addInterface(i);
  private readonly onDeleted = (i: InterfaceState): void => this.removeInterface(i);
  private readonly onChanged = (i: InterfaceState): void => this.traffic.setActive(i.swIfIndex, i.adminUp && i.linkUp);

  constructor(
    buffer: ArrayBuffer,
    readonly model: InterfaceModel,
    opts: StatsSimOptions,
  ) {
    if (!Number.isInteger(opts.workers) || opts.workers < 0) throw new RangeError(`workers must be an integer >= 0, got ${opts.workers}`);
    this.workers = opts.workers;
    this.threads = opts.workers + 1;
    this.perNodeCounters = opts.perNodeCounters ?? true;
    this.prng = new Prng(opts.seed);
    const expected = opts.expected ?? { interfaces: model.count, hardwareInterfaces: model.count };
    this.capacity = plannedCapacity({
      ...expected,
      threads: this.threads,
      perNodeCounters: this.perNodeCounters,
      torture: false,
      histogramBins: (opts.histograms ?? []).map((h) => h.bins),
    });
    this.writer = new SegmentWriter(buffer, {
      base: opts.base ?? baseAddressForSeed(opts.seed, buffer.byteLength),
      directoryCapacity: this.capacity.entries,
    });
    // A VPP up for months: busy nodes' clocks beyond 2^53, a heartbeat in the hundred thousands.
    this.uptime = Math.floor(this.prng.range(100 * DAY, 200 * DAY));
    const now = (opts.now ?? Date.now)();
    this.buildBase(Math.floor(now / 1000 - this.uptime));
    for (const h of opts.histograms ?? []) this.addHistogram(h.name, h.source, h.minExp, h.bins);
    this.traffic = new Traffic(this.trafficVectors(), this.threads, this.prng);
    this.pools = BUFFER_POOLS.map((p) => ({
      name: p.name,
      cached: this.scalarSlot(`/buffer-pools/${p.name}/cached`),
      used: this.scalarSlot(`/buffer-pools/${p.name}/used`),
      available: this.scalarSlot(`/buffer-pools/${p.name}/available`),
      base: { cached: p.cached, used: p.used, available: p.available },
    }));
    this.collector = new Collector(
      {
        writer: this.writer,
        heartbeat: this.scalarSlot('/sys/heartbeat'),
        lastUpdate: this.scalarSlot('/sys/last_update'),
        vectorRate: this.scalarSlot('/sys/vector_rate'),
        inputRate: this.scalarSlot('/sys/input_rate'),
        vectorRatePerWorker: this.vector('/sys/vector_rate_per_worker'),
        loopsPerWorker: this.vector('/sys/loops_per_worker'),
        nodes: this.nodeVectors,
        nodeIndex: (name) => this.nodeByName.get(name),
        txNodeOf: (output) => this.txNodeOf(output),
        statSegmentHeap: this.vectorByName.get(memHeapName('stat segment')),
        mainHeap: this.vectorByName.get(memHeapName('main heap')),
        bufferPools: this.pools,
        interfaceCount: () => this.interfaces.size,
        rxVectorSizes: this.histogramsBySource['rx-vector-size'],
      },
      this.traffic,
      this.threads,
      this.prng,
    );
    this.traffic.add({ swIfIndex: 0, outputNode: -1, inputNode: null, active: false });
    for (const iface of model.list()) if (iface.swIfIndex !== 0) this.addInterface(iface);
    model.on('created', this.onCreated);
    model.on('deleted', this.onDeleted);
    model.on('changed', this.onChanged);
  }

  get epoch(): number {
    return this.writer.epoch;
  }

  get stuck(): boolean {
    return this.writer.lock.stuck;
  }

  /** Seconds since the simulated VPP booted. */
  get uptimeSeconds(): number {
    return this.uptime;
  }

  /** Gives every counter a history: an hour of traffic and one collector run covering the uptime. Once. */
  warmUp(): void {
    if (this.warmedUp) return;
    this.warmedUp = true;
    this.traffic.advance(WARMUP_SECONDS, WARMUP_PPS);
    this.collector.run(this.uptime, this.uptime);
  }

  /** Interface traffic for `seconds` at `rate` packets/s per interface (counters move, no lock). */
  advance(seconds: number, rate: number): void {
    if (this.stuck) return;
    this.traffic.advance(seconds, rate);
  }

  /** A collector run: heartbeat, node counters, rates, memory (no lock: all in place). */
  collect(seconds: number): void {
    if (this.stuck || this.collectorPaused) return;
    this.uptime += seconds;
    this.collector.run(seconds, this.uptime);
  }

  /** Registers a graph node (as a plugin or a new interface would), with its error counters. */
  addNode(name: string, errors: readonly string[] = []): number {
    if (this.nodeByName.has(name)) throw new RangeError(`node ${name} already exists`);
    return this.writer.change(() => {
      this.writer.directory.reserve(errors.length + NODE_COUNTERS.length);
      const i = this.newNode(name);
      this.registerErrors(i, errors);
      this.syncNodes();
      return i;
    });
  }

  /** Creates /sim/torture (once) and keeps its invariant from now on; see torture.ts. */
  enableTorture(): TortureVector {
    if (this.torture === undefined) {
      this.torture = new TortureVector(this.writer, this.threads);
      this.vectorByName.set(TORTURE_ENTRY, this.torture.vector);
    }
    return this.torture;
  }

  /** One torture relocation (exactly one epoch increment). */
  tortureStep(): void {
    if (this.stuck) return;
    this.enableTorture().step();
  }

  /** in_progress = 1 for good: the writer behaves as if VPP died holding the lock. */
  stickInProgress(): void {
    this.writer.stickInProgress();
  }

  /** Every entry's value as the simulator wrote it (see truth.ts). */
  truth(opts?: TruthOptions): Map<string, DumpValue> {
    return buildTruth(this.truthSource(), opts);
  }

  /** Every directory slot (EMPTY ones with an empty name) as the simulator laid it out. */
  expectedDirectory(): ExpectedEntry[] {
    return buildExpectedDirectory(this.truthSource(), this.writer.directory.length);
  }

  // --- scenario hooks (src/sim/scenario.ts) ------------------------------------------------------

  /** Buffer pool names, in segment order. */
  bufferPoolNames(): string[] {
    return this.pools.map((p) => p.name);
  }

  /** The values a pool's gauges are published around (each collector run adds a little jitter). */
  bufferPool(name: string): BufferPoolValues {
    return { ...this.pool(name).base };
  }

  /** Changes what a buffer pool's gauges show, from now on (written at once and by every collector run). */
  setBufferPool(name: string, values: Partial<BufferPoolValues>): void {
    const p = this.pool(name);
    for (const k of ['cached', 'used', 'available'] as const) {
      const v = values[k];
      if (v === undefined) continue;
      if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`buffer pool ${k} must be an integer >= 0, got ${v}`);
      p.base[k] = v;
      this.writer.setScalar(p[k], BigInt(v));
    }
  }

  /** Adds `count` to the error counter /err/<node>/<error> in `thread`'s row (default: the first worker). */
  addErrors(node: string, error: string, count: number, thread = this.threads > 1 ? 1 : 0): void {
    const i = this.nodeByName.get(node);
    const name = errorCounterName(node, error);
    const e = i === undefined ? undefined : this.nodes[i].errors.find((r) => r.name === name);
    if (e === undefined) throw new RangeError(`no error counter ${name}`);
    this.checkThread(thread);
    if (count > 0) this.nodeErrors.add(thread, e.column, BigInt(Math.round(count)));
  }

  hasNode(name: string): boolean {
    return this.nodeByName.has(name);
  }

  /** Forces a node's vectors per call from the next collector run on (undefined: back to the model's). */
  setVectorsPerCall(node: string, vectorsPerCall: number | undefined): void {
    if (!this.nodeByName.has(node)) throw new RangeError(`no node ${node}`);
    if (vectorsPerCall === undefined) {
      this.collector.vectorsPerCall.delete(node);
      return;
    }
    if (!(vectorsPerCall >= 1 && vectorsPerCall <= 256)) throw new RangeError(`vectors per call must be from 1 to 256, got ${vectorsPerCall}`);
    this.collector.vectorsPerCall.set(node, vectorsPerCall);
  }

  /** Adds `count` to a simple interface counter (/if/drops, /if/rx-miss, ...) in the row of the thread that polls it. */
  addInterfaceCounter(swIfIndex: number, counter: (typeof IF_SIMPLE_COUNTERS)[number], count: number): void {
    if (!this.interfaces.has(swIfIndex)) throw new RangeError(`no interface with sw_if_index ${swIfIndex}`);
    const v = this.vectorByName.get(`/if/${counter}`);
    if (v === undefined || !IF_SIMPLE_COUNTERS.includes(counter)) throw new RangeError(`no interface counter /if/${counter}`);
    const row = counter === 'tx-error' ? this.traffic.txThread(swIfIndex) : this.traffic.rxThread(swIfIndex);
    if (count > 0) v.add(row, swIfIndex, BigInt(Math.round(count)));
  }

  /** A paused collector leaves the heartbeat and every collector-made value where they are (a hung main thread). */
  setCollectorPaused(paused: boolean): void {
    this.collectorPaused = paused;
  }

  private pool(name: string): (typeof this.pools)[number] {
    const p = this.pools.find((x) => x.name === name);
    if (p === undefined) throw new RangeError(`no buffer pool ${name}`);
    return p;
  }

  private checkThread(thread: number): void {
    if (!Number.isInteger(thread) || thread < 0 || thread >= this.threads) throw new RangeError(`thread must be from 0 to ${this.threads - 1}, got ${thread}`);
  }

  /** Stops following the model and keeping the torture invariant. */
  detach(): void {
    this.model.off('created', this.onCreated);
    this.model.off('deleted', this.onDeleted);
    this.model.off('changed', this.onChanged);
    this.torture?.dispose();
  }

  // --- building ---------------------------------------------------------------------------------

  private buildBase(bootTime: number): void {
    const w = this.writer;
    const T = this.threads;
    const cap = this.capacity;
    w.change(() => {
      // 0..2: STAT_COUNTER_HEARTBEAT, _LAST_STATS_CLEAR, _BOOTTIME (fixed indices).
      this.scalar('/sys/heartbeat', BigInt(Math.max(0, Math.floor(this.uptime / 10) - 1)));
      this.scalar('/sys/last_stats_clear', 0n);
      this.scalar('/sys/boottime', BigInt(bootTime));
      this.memHeap('stat segment'); // 3..6
      this.scalar('/sys/vector_rate', 0n, StatType.GAUGE); // 7
      // One row, one column per thread (init.c:23-27,130-132).
      this.counters('/sys/vector_rate_per_worker', 'simple', 1, T); // 8
      this.counters('/sys/loops_per_worker', 'simple', 1, T); // 9
      for (const p of BUFFER_POOLS) {
        this.scalar(`/buffer-pools/${p.name}/cached`, BigInt(p.cached), StatType.GAUGE);
        this.scalar(`/buffer-pools/${p.name}/used`, BigInt(p.used), StatType.GAUGE);
        this.scalar(`/buffer-pools/${p.name}/available`, BigInt(p.available), StatType.GAUGE);
      }
      this.scalar('/sys/num_worker_threads', BigInt(this.workers), StatType.GAUGE); // 13
      this.nodeErrors = this.counters('/node/errors', 'simple', T, 0, cap.errors); // 14
      // Nodes: the static ones, local0's two at their index, then the CLI process nodes.
      BASE_NODES.forEach((name, i) => {
        if (i === LOCAL0_NODES_AT) this.addLocal0Nodes();
        this.newNode(name);
      });
      if (BASE_NODES.length <= LOCAL0_NODES_AT) this.addLocal0Nodes();
      this.registerBaseErrors(); // 15..3112
      this.scalar('/sys/last_update', 0n); // 3113
      this.scalar('/sys/input_rate', 0n, StatType.GAUGE);
      const firstPerInterface = NET_VECTORS.findIndex((v) => v.length === null);
      const netBefore = NET_VECTORS.slice(0, Math.max(0, firstPerInterface));
      const netPerInterface = NET_VECTORS.filter((v) => v.length === null);
      const netAfter = NET_VECTORS.slice(netBefore.length).filter((v) => v.length !== null);
      for (const v of netBefore) this.counters(v.name, v.type, T, v.length ?? 0);
      for (const c of IF_SIMPLE_COUNTERS) this.ifVectors.push(this.counters(`/if/${c}`, 'simple', T, 1, cap.interfaces));
      for (const c of IF_COMBINED_COUNTERS) this.ifVectors.push(this.counters(`/if/${c}`, 'combined', T, 1, cap.interfaces));
      const local0 = this.nodes.findIndex((n) => n.name === 'local0-output');
      this.registerErrors(local0, OUTPUT_NODE_ERRORS); // 3135..3137
      for (const v of netPerInterface) this.perInterfaceNet.push(this.counters(v.name, v.type, T, 1, cap.interfaces));
      this.ifNames = this.names('/if/names', cap.interfaces); // 3150
      this.ifNames.set(0, 'local0');
      this.txOfOutput.set(local0, local0 - 1);
      this.interfaces.set(0, this.linkInterface(0, 0, 'local0', { tx: local0 - 1, output: local0 }));
      for (const g of BFD_GAUGES) this.scalar(g, 0n, StatType.GAUGE); // 3168..3171
      const [punt, ...late] = netAfter;
      if (punt) this.counters(punt.name, punt.type, T, punt.length ?? 0); // 3172
      this.memHeap('main heap'); // 3173..3176
      this.nodeNames = this.names('/sys/node/names', cap.nodes); // 3177
      // Validated at row vlib_get_n_threads(): one row more than threads, the last stays zero.
      this.nodeVectors = {
        clocks: this.counters('/sys/node/clocks', 'simple', T + 1, 0, cap.nodes),
        vectors: this.counters('/sys/node/vectors', 'simple', T + 1, 0, cap.nodes),
        calls: this.counters('/sys/node/calls', 'simple', T + 1, 0, cap.nodes),
        suspends: this.counters('/sys/node/suspends', 'simple', T + 1, 0, cap.nodes),
      };
      this.syncNodes(); // 3182..
      for (const v of late) this.counters(v.name, v.type, T, v.length ?? 0); // /net/adjacency
    });
  }

  private addLocal0Nodes(): void {
    const n = interfaceNodeNames('local0');
    this.newNode(n.tx);
    this.newNode(n.output);
  }

  private registerBaseErrors(): void {
    // BASE_ERRORS is in column order, grouped by node; node indices are BASE_NODES'.
    const nodeOf = (baseIndex: number): number => this.nodeByName.get(BASE_NODES[baseIndex])!;
    let i = 0;
    while (i < BASE_ERRORS.length) {
      const node = BASE_ERRORS[i][0];
      let j = i;
      while (j < BASE_ERRORS.length && BASE_ERRORS[j][0] === node) j++;
      this.registerErrors(nodeOf(node), BASE_ERRORS.slice(i, j).map((e) => e[1]));
      i = j;
    }
  }

  private memHeap(heap: string): void {
    const name = memHeapName(heap);
    const v = this.counters(name, 'simple', 1, 7);
    if (heap === 'stat segment') setHeapRow(v, this.writer.mem.heap.stats());
    else (MEMORY_HEAPS.find((h) => h.name === heap)?.row ?? []).forEach((x, i) => v.set(0, i, BigInt(x)));
    for (const [what, column] of MEM_HEAP_SYMLINKS) {
      const link = `${name}/${what}`;
      this.memLinks.push({ name: link, slot: this.writer.directory.addSymlink(link, v.slot, column), vector: v, column });
    }
  }

  private scalar(name: string, value: bigint, type: typeof StatType.SCALAR_INDEX | typeof StatType.GAUGE = StatType.SCALAR_INDEX): number {
    const slot = this.writer.addScalar(name, value, type);
    this.scalarSlots.set(name, slot);
    return slot;
  }

  /** A log2 histogram like a plugin registers (vlib_validate_log2_histogram), moved by `source`. */
  private addHistogram(name: string, source: HistogramSource, minExp: readonly number[], bins: number): void {
    if (minExp.length !== this.threads) throw new RangeError(`histogram ${name}: ${minExp.length} min_exp values for ${this.threads} threads`);
    if ([this.histogramByName, this.vectorByName, this.nameVectorByName, this.scalarSlots].some((m) => m.has(name))) throw new RangeError(`histogram ${name}: the name exists`);
    const h = this.writer.addHistogramLog2(name, minExp, bins);
    this.histogramByName.set(name, h);
    this.histogramsBySource[source].push(h);
  }

  private counters(name: string, kind: CounterKind, rows: number, columns: number, capacity = columns): CounterVector {
    const v = this.writer.addCounterVector(name, kind, rows, columns, capacity);
    this.vectorByName.set(name, v);
    return v;
  }

  private names(name: string, capacity: number): NameVector {
    const v = this.writer.addNameVector(name, capacity);
    this.nameVectorByName.set(name, v);
    return v;
  }

  private scalarSlot(name: string): number {
    const s = this.scalarSlots.get(name);
    if (s === undefined) throw new Error(`no scalar ${name}`);
    return s;
  }

  private vector(name: string): CounterVector {
    const v = this.vectorByName.get(name);
    if (v === undefined) throw new Error(`no counter vector ${name}`);
    return v;
  }

  private trafficVectors(): TrafficVectors {
    const byName = (c: string): CounterVector => this.vector(`/if/${c}`);
    const simple = Object.fromEntries(IF_SIMPLE_COUNTERS.map((c) => [c, byName(c)])) as TrafficVectors['simple'];
    const combined = Object.fromEntries(IF_COMBINED_COUNTERS.map((c) => [c, byName(c)])) as TrafficVectors['combined'];
    const dropErrorColumns: number[] = [];
    for (const e of DROP_ERRORS) {
      const slash = e.indexOf('/');
      const node = this.nodeByName.get(e.slice(0, slash));
      const reg = node === undefined ? undefined : this.nodes[node].errors.find((r) => r.name === errorCounterName(e.slice(0, slash), e.slice(slash + 1)));
      if (reg) dropErrorColumns.push(reg.column);
    }
    return {
      simple,
      combined,
      nodeErrors: this.nodeErrors,
      dropErrorColumns,
      arpRxRequests: this.vectorByName.get('/net/arp/rx/requests'),
      arpTxReplies: this.vectorByName.get('/net/arp/tx/replies'),
      ndRxRequests: this.vectorByName.get('/net/ip6-nd/rx/requests'),
      ndTxReplies: this.vectorByName.get('/net/ip6-nd/tx/replies'),
      rxPacketSizes: this.histogramsBySource['rx-packet-bytes'],
    };
  }

  // --- nodes and errors -------------------------------------------------------------------------

  private newNode(name: string): number {
    const i = this.nodes.length;
    this.nodes.push({ name, linkedAs: null, slots: null, errors: [] });
    this.nodeByName.set(name, i);
    this.dirtyNodes.add(i);
    return i;
  }

  private renameNode(i: number, name: string): void {
    const n = this.nodes[i];
    if (this.nodeByName.get(n.name) === i) this.nodeByName.delete(n.name);
    n.name = name;
    this.nodeByName.set(name, i);
    this.dirtyNodes.add(i);
  }

  private txNodeOf(output: number): number {
    return this.txOfOutput.get(output) ?? output - 1;
  }

  /** Error counters of a node: a contiguous range of /node/errors columns and one symlink each. */
  private registerErrors(node: number, errors: readonly string[]): void {
    if (errors.length === 0) return;
    const start = this.errorColumns.alloc(errors.length);
    this.nodeErrors.ensureColumns(this.errorColumns.length);
    const rec = this.nodes[node];
    errors.forEach((e, k) => {
      const column = start + k;
      this.nodeErrors.zeroColumn(column);
      const name = errorCounterName(rec.name, e);
      rec.errors.push({ name, column, slot: this.writer.directory.addSymlink(name, this.nodeErrors.slot, column) });
    });
  }

  private unregisterErrors(node: number): void {
    const rec = this.nodes[node];
    if (rec.errors.length === 0) return;
    for (const e of rec.errors) this.writer.directory.remove(e.slot);
    this.errorColumns.free(rec.errors[0].column, rec.errors.length);
    rec.errors = [];
  }

  /**
   * Brings /sys/node/names, the node vectors' length and the /nodes/* symlinks up to date with the
   * nodes changed since the last call: first removes the symlinks of renamed nodes, then adds the
   * missing ones, in node order - the order in which the capture's collector reused the freed slots.
   */
  private syncNodes(): void {
    if (this.dirtyNodes.size === 0) return;
    const dirty = [...this.dirtyNodes].sort((a, b) => a - b);
    const count = this.nodes.length;
    this.nodeNames.reserve(count);
    for (const c of NODE_COUNTERS) this.nodeVectors[c].ensureColumns(count);
    for (const i of dirty) if (this.nodeNames.get(i) !== this.nodes[i].name) this.nodeNames.set(i, this.nodes[i].name);
    const dir = this.writer.directory;
    if (this.perNodeCounters) dir.reserve(NODE_COUNTERS.length * dirty.length);
    // Names, lengths and room are done; what follows cannot run out of space.
    this.dirtyNodes.clear();
    if (!this.perNodeCounters) return;
    for (const i of dirty) {
      const n = this.nodes[i];
      if (n.slots !== null && n.linkedAs !== n.name) {
        for (const s of n.slots) dir.remove(s);
        n.slots = null;
        n.linkedAs = null;
      }
    }
    for (const i of dirty) {
      const n = this.nodes[i];
      if (n.slots !== null) continue;
      n.slots = Int32Array.from(NODE_COUNTERS, (c) => dir.addSymlink(nodeSymlinkName(n.name, c), this.nodeVectors[c].slot, i));
      n.linkedAs = n.name;
    }
  }

  // --- interfaces -------------------------------------------------------------------------------

  private addInterface(iface: InterfaceState): void {
    const sw = iface.swIfIndex;
    const rec: InterfaceRecord = { sw, hw: iface.hwIfIndex, name: iface.name, slots: new Int32Array(IF_COUNTERS.length).fill(-1), nodes: null };
    try {
      this.writer.change(() => {
        const hw = iface.hwIfIndex !== null;
        const reuse = hw ? this.deletedNodePairs.at(-1) : undefined;
        const newNodes = hw && reuse === undefined ? 2 : 0;
        const errorSets = newNodes > 0 ? [OUTPUT_NODE_ERRORS.length, txNodeErrors(iface.deviceClass).length] : [];
        const errors = errorSets.reduce((a, b) => a + b, 0);
        // Room first: running out of space should fail before anything is half made.
        this.writer.directory.reserve(IF_COUNTERS.length + errors + 2 * NODE_COUNTERS.length);
        // A reused sw_if_index has old counters; columns past the old length are fresh memory.
        const reused = sw < this.ifVectors[0].columns;
        for (const v of this.ifVectors) v.ensureColumns(sw + 1);
        for (const v of this.perInterfaceNet) v.ensureColumns(sw + 1);
        this.ifNames.reserve(sw + 1);
        this.nodeNames.reserve(this.nodes.length + newNodes);
        for (const c of NODE_COUNTERS) this.nodeVectors[c].ensureColumns(this.nodes.length + newNodes);
        this.nodeErrors.ensureColumns(this.errorColumns.lengthAfter(errorSets));
        if (hw) {
          const names = interfaceNodeNames(iface.name);
          if (reuse) {
            this.deletedNodePairs.pop();
            // VPP renames a deleted interface's nodes for the new one and registers no errors for
            // them (the re-created loop3 of the churn capture has no /err/loop3-output/*).
            this.renameNode(reuse.tx, names.tx);
            this.renameNode(reuse.output, names.output);
            rec.nodes = reuse;
          } else {
            rec.nodes = { tx: this.newNode(names.tx), output: this.newNode(names.output) };
            this.txOfOutput.set(rec.nodes.output, rec.nodes.tx);
            this.registerErrors(rec.nodes.output, OUTPUT_NODE_ERRORS);
            this.registerErrors(rec.nodes.tx, txNodeErrors(iface.deviceClass));
          }
        }
        // A new interface's counters start at zero, also on a reused sw_if_index.
        if (reused) {
          for (const v of this.ifVectors) v.zeroColumn(sw);
          for (const v of this.perInterfaceNet) v.zeroColumn(sw);
        }
        this.ifNames.set(sw, iface.name);
        this.linkInterfaceInto(rec);
        this.syncNodes();
      });
    } catch (e) {
      this.tearDownQuietly(rec);
      throw e;
    }
    this.interfaces.set(sw, rec);
    const parent = this.interfaces.get(iface.supSwIfIndex);
    this.traffic.add({
      swIfIndex: sw,
      outputNode: parent?.nodes?.output ?? -1,
      inputNode: DEVICE_INPUT_NODE[iface.deviceClass],
      active: iface.adminUp && iface.linkUp,
    });
  }

  private linkInterface(sw: number, hw: number | null, name: string, nodes: InterfaceRecord['nodes']): InterfaceRecord {
    const rec: InterfaceRecord = { sw, hw, name, slots: new Int32Array(IF_COUNTERS.length).fill(-1), nodes };
    this.linkInterfaceInto(rec);
    return rec;
  }

  /** The 17 /interfaces/<name>/<counter> symlinks, simple counters first (vnet/interface/stats.c). */
  private linkInterfaceInto(rec: InterfaceRecord): void {
    const dir = this.writer.directory;
    IF_COUNTERS.forEach((c, k) => {
      rec.slots[k] = dir.addSymlink(interfaceSymlinkName(rec.name, c), this.ifVectors[k].slot, rec.sw);
    });
  }

  private removeInterface(iface: InterfaceState): void {
    const rec = this.interfaces.get(iface.swIfIndex);
    if (rec === undefined) return;
    this.writer.change(() => this.tearDown(rec));
    this.interfaces.delete(iface.swIfIndex);
    this.traffic.remove(iface.swIfIndex);
  }

  /**
   * Deleting an interface, in the order the churn capture shows: its /interfaces/* symlinks, then its
   * nodes' error counters, then its nodes renamed interface-<hw>-{tx,output}-deleted and kept for
   * reuse, and its /if/names element set to "deleted".
   */
  private tearDown(rec: InterfaceRecord): void {
    const dir = this.writer.directory;
    rec.slots.forEach((s, k) => {
      if (s >= 0) dir.remove(s);
      rec.slots[k] = -1;
    });
    if (rec.nodes !== null) {
      this.unregisterErrors(rec.nodes.output);
      this.unregisterErrors(rec.nodes.tx);
      const deleted = deletedInterfaceNodeNames(rec.hw ?? rec.sw);
      this.renameNode(rec.nodes.tx, deleted.tx);
      this.renameNode(rec.nodes.output, deleted.output);
      this.deletedNodePairs.push(rec.nodes);
      rec.nodes = null;
    }
    if (this.ifNames.length > rec.sw && this.ifNames.get(rec.sw) !== null) this.ifNames.set(rec.sw, DELETED_INTERFACE_NAME);
    this.syncNodes();
  }

  /** Undo of a creation that failed half way (out of space): best effort, the first error wins. */
  private tearDownQuietly(rec: InterfaceRecord): void {
    try {
      if (!this.stuck) this.writer.change(() => this.tearDown(rec));
    } catch {
      // The original error is the one to report.
    }
  }

  // --- truth --------------------------------------------------------------------------------------

  private truthSource(): TruthSource {
    return {
      scalars: () => this.scalarEntries(),
      vectors: () => this.vectorByName.entries(),
      nameVectors: () => this.nameVectorByName.entries(),
      symlinks: () => this.symlinkEntries(),
      histograms: () => this.histogramByName.entries(),
    };
  }

  private *scalarEntries(): Generator<[string, number, number, bigint]> {
    for (const [name, slot] of this.scalarSlots) yield [name, slot, this.writer.directory.type(slot), this.writer.scalar(slot)];
  }

  private *symlinkEntries(): Generator<[string, number, CounterVector, number]> {
    for (const m of this.memLinks) yield [m.name, m.slot, m.vector, m.column];
    for (const n of this.nodes) for (const e of n.errors) yield [e.name, e.slot, this.nodeErrors, e.column];
    for (let i = 0; i < this.nodes.length; i++) {
      const n = this.nodes[i];
      if (n.slots === null || n.linkedAs === null) continue;
      for (let k = 0; k < NODE_COUNTERS.length; k++) {
        const c = NODE_COUNTERS[k];
        yield [nodeSymlinkName(n.linkedAs, c), n.slots[k], this.nodeVectors[c], i];
      }
    }
    for (const r of this.interfaces.values()) {
      for (let k = 0; k < IF_COUNTERS.length; k++) {
        if (r.slots[k] < 0) continue;
        yield [interfaceSymlinkName(r.name, IF_COUNTERS[k]), r.slots[k], this.ifVectors[k], r.sw];
      }
    }
  }
}
