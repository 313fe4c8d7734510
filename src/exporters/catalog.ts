/**
 * The catalog: how stat paths become metric families. Built once per directory epoch (names only
 * change under VPP's lock, so with the epoch), then rendered from every snapshot's dense arrays.
 *
 * Known paths get their own families (interfaces, nodes, errors, buffer pools, memory heaps,
 * system scalars); every other scalar, gauge, counter vector and log2 histogram comes out under
 * the generic mapping (docs/metrics.md), so no counter is lost. What cannot be a metric (name
 * vectors, ring buffers, aliases) is listed in `unexported` with the reason.
 */
import type { DirectoryIndex, StatEntry } from '../stats/index.js';
import { StatType } from '../stats/index.js';
import { labelBody, sanitizeMetricName } from './names.js';

export type MetricType = 'counter' | 'gauge' | 'histogram';

/**
 * One metric family; series i reads column col[i], word word[i] of snapshot entry k[i]. A
 * histogram family (a VPP log2 histogram) has one series per entry (col 0, word 0) that reads the
 * entry's rows whole: each is [min_exp, bins...], turned into buckets per snapshot, since min_exp
 * is data (log2-histogram.ts: the exposition lines, and OTLP-ready bounds and counts).
 */
export interface Family {
  name: string;
  help: string;
  type: MetricType;
  /** Stat path(s) it comes from, for docs/metrics.md. */
  source: string;
  labelNames: string[];
  k: Int32Array;
  col: Int32Array;
  word: Uint8Array;
  /**
   * Label pairs without braces, escaped; '' for none. For a series with col -1 (one series per
   * column of the row) this is instead the name of the label that carries the column number.
   */
  labels: string[];
  /** Process-wide values (memory heaps, per-worker gauges whose column is the thread): no thread label. */
  noThreadLabel: boolean;
  /** VPP's node vectors carry one more row than there are threads: only the first rows are real. */
  extraRow: boolean;
}

export interface Plan {
  epoch: number;
  /** Directory slots to snapshot; Family.k indexes into this. */
  slots: Uint32Array;
  families: Family[];
  unexported: { path: string; reason: string }[];
  /**
   * The entry (index into slots) of /sys/boottime, VPP's start in unix seconds, or -1: the start
   * of every cumulative series. Snapshotted even when --stats.exclude leaves its family out.
   */
  bootTimeK: number;
}

/** VPP's start time (unix seconds, whole: VPP stores the f64 in the u64 scalar, truncated). */
export const BOOT_TIME = '/sys/boottime';

/** Names that the plan needs: read once per epoch. */
export const NAME_VECTORS = ['/if/names', '/sys/node/names'] as const;

export interface PlanInput {
  index: DirectoryIndex;
  /** The strings of NAME_VECTORS at the index's epoch. */
  names: Map<string, (string | null)[]>;
  include?: RegExp[];
  exclude?: RegExp[];
}

/** Combined counters: what was counted, after "Packets" or "Bytes". */
const IF_COMBINED_HELP: Record<string, string> = {
  rx: 'received',
  tx: 'transmitted',
  'rx-unicast': 'received in unicast frames',
  'rx-multicast': 'received in multicast frames',
  'rx-broadcast': 'received in broadcast frames',
  'tx-unicast': 'transmitted in unicast frames',
  'tx-multicast': 'transmitted in multicast frames',
  'tx-broadcast': 'transmitted in broadcast frames',
};

const IF_HELP: Record<string, string> = {
  drops: 'Packets dropped',
  punt: 'Packets punted to the control plane',
  ip4: 'IPv4 packets received',
  ip6: 'IPv6 packets received',
  'rx-no-buf': 'Packets lost on receive because no buffer was available',
  'rx-miss': 'Packets missed by the receive queue (the NIC ring was full)',
  'rx-error': 'Packets received with errors',
  'tx-error': 'Packets that failed to transmit',
  mpls: 'MPLS packets received',
};

const NODE_HELP: Record<string, string> = {
  calls: 'Times the graph node was called',
  vectors: 'Packets (vector elements) processed by the graph node',
  suspends: 'Times the process node suspended',
  clocks: 'CPU clock cycles spent in the graph node',
};

const MEM_COLUMNS: [string, string, string][] = [
  ['vpp_memory_total_bytes', 'Size of the memory heap', 'gauge'],
  ['vpp_memory_used_bytes', 'Bytes in use in the memory heap', 'gauge'],
  ['vpp_memory_free_bytes', 'Free bytes in the memory heap', 'gauge'],
  ['vpp_memory_used_mmap_bytes', 'Bytes of the heap in use through mmap', 'gauge'],
  ['vpp_memory_max_total_bytes', 'Largest total size the heap reached', 'gauge'],
  ['vpp_memory_free_chunks', 'Free chunks in the memory heap', 'gauge'],
  ['vpp_memory_releasable_bytes', 'Bytes the heap could release to the system', 'gauge'],
];

const SYS_SCALARS: Record<string, [string, string]> = {
  '/sys/vector_rate': ['vpp_vector_rate', 'Average vectors (packets) per graph dispatch, all threads'],
  '/sys/input_rate': ['vpp_input_rate', 'Packets per second received by input nodes'],
  '/sys/num_worker_threads': ['vpp_worker_threads', 'Number of VPP worker threads'],
  '/sys/heartbeat': ['vpp_heartbeat', "Runs of VPP's stats collector; stops moving when VPP hangs"],
  [BOOT_TIME]: ['vpp_boot_time_seconds', 'Unix time VPP started'],
  '/sys/last_stats_clear': ['vpp_last_stats_clear_seconds', "Unix time of the last 'clear runtime' (0: never)"],
  '/sys/last_update': ['vpp_last_update', "VPP's /sys/last_update scalar"],
};

const PER_WORKER: Record<string, [string, string]> = {
  '/sys/vector_rate_per_worker': ['vpp_worker_vector_rate', 'Average vectors per graph dispatch, per thread'],
  '/sys/loops_per_worker': ['vpp_worker_loops_per_second', 'Main loop iterations per second, per thread'],
};

/** Accumulates the series of one family. */
class FamilyBuilder {
  private readonly ks: number[] = [];
  private readonly cols: number[] = [];
  private readonly words: number[] = [];
  private readonly labels: string[] = [];

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: MetricType,
    readonly source: string,
    readonly labelNames: string[],
    readonly noThreadLabel = false,
    readonly extraRow = false,
  ) {}

  add(k: number, col: number, word: number, labels: string): void {
    this.ks.push(k);
    this.cols.push(col);
    this.words.push(word);
    this.labels.push(labels);
  }

  build(): Family {
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      source: this.source,
      labelNames: this.labelNames,
      k: Int32Array.from(this.ks),
      col: Int32Array.from(this.cols),
      word: Uint8Array.from(this.words),
      labels: this.labels,
      noThreadLabel: this.noThreadLabel,
      extraRow: this.extraRow,
    };
  }
}

/** Splits '/err/<node>/<error>' where both parts may contain '/', using the node names. */
export function splitErrorPath(path: string, nodeNames: ReadonlySet<string>): [string, string] {
  const rest = path.slice('/err/'.length);
  let best = -1;
  for (let i = rest.indexOf('/'); i >= 0; i = rest.indexOf('/', i + 1)) {
    if (nodeNames.has(rest.slice(0, i))) best = i;
  }
  const at = best >= 0 ? best : rest.indexOf('/');
  return at < 0 ? [rest, ''] : [rest.slice(0, at), rest.slice(at + 1)];
}

export function buildPlan(input: PlanInput): Plan {
  const { index } = input;
  const wanted = (p: string): boolean =>
    (!input.include?.length || input.include.some((r) => r.test(p))) && !input.exclude?.some((r) => r.test(p));
  const slots: number[] = [];
  const slotK = new Map<number, number>();
  const kOf = (e: StatEntry): number => {
    let k = slotK.get(e.index);
    if (k === undefined) {
      k = slots.length;
      slots.push(e.index);
      slotK.set(e.index, k);
    }
    return k;
  };
  const families = new Map<string, FamilyBuilder>();
  const family = (name: string, make: () => FamilyBuilder): FamilyBuilder => {
    let f = families.get(name);
    if (!f) families.set(name, (f = make()));
    return f;
  };
  const unexported: { path: string; reason: string }[] = [];

  const ifNames = input.names.get('/if/names') ?? [];
  const ifLabels: (string | undefined)[] = ifNames.map((n, i) =>
    n === null || n === 'deleted' ? undefined : labelBody([['interface', n], ['sw_if_index', String(i)]]),
  );
  const nodeNames = input.names.get('/sys/node/names') ?? [];
  const nodeLabels = nodeNames.map((n) => (n === null ? undefined : labelBody([['node', n]])));
  const nodeSet = new Set(nodeNames.filter((n): n is string => n !== null));
  const errorsEntry = index.get('/node/errors');

  const columns = (f: FamilyBuilder, k: number, word: number, labels: (string | undefined)[]): void => {
    labels.forEach((l, col) => {
      if (l !== undefined) f.add(k, col, word, l);
    });
  };

  // Error names come from the /err/<node>/<error> symlinks into /node/errors.
  const errorLabels: (string | undefined)[] = [];
  for (const e of index.entries) {
    if (e.type !== StatType.SYMLINK || !e.name.startsWith('/err/') || !errorsEntry || e.target !== errorsEntry.index) continue;
    const [node, error] = splitErrorPath(e.name, nodeSet);
    errorLabels[e.column!] = labelBody([['node', node], ['error', error]]);
  }

  for (const e of index.entries) {
    const p = e.name;
    if (e.type === StatType.SYMLINK) continue; // aliases of columns exported through their vectors
    if (e.type === StatType.EMPTY || e.type === StatType.ILLEGAL) continue;
    if (!wanted(p)) {
      unexported.push({ path: p, reason: 'excluded by --stats.include/--stats.exclude' });
      continue;
    }
    if (e.type === StatType.NAME_VECTOR) {
      unexported.push({ path: p, reason: 'name vector: used for labels' });
      continue;
    }
    if (e.type === StatType.RING_BUFFER) {
      unexported.push({ path: p, reason: 'ring buffer: event data, not a metric' });
      continue;
    }
    const simple = e.type === StatType.COUNTER_VECTOR_SIMPLE;
    const combined = e.type === StatType.COUNTER_VECTOR_COMBINED;
    const scalar = e.type === StatType.SCALAR_INDEX || e.type === StatType.GAUGE;

    if (p.startsWith('/if/') && (simple || combined)) {
      const c = p.slice(4);
      const base = 'vpp_interface_' + sanitizeMetricName(c);
      const k = kOf(e);
      const names: [string, number][] = combined ? [[`${base}_packets_total`, 0], [`${base}_bytes_total`, 1]] : [[`${base}_packets_total`, 0]];
      for (const [name, word] of names) {
        const what = IF_COMBINED_HELP[c] ?? `counted by ${p}`;
        const help = combined ? `${word === 1 ? 'Bytes' : 'Packets'} ${what}` : (IF_HELP[c] ?? `Packets counted by ${p}`);
        const f = family(name, () => new FamilyBuilder(name, `${help} (VPP ${p}).`, 'counter', p, ['interface', 'sw_if_index']));
        columns(f, k, word, ifLabels);
      }
      continue;
    }
    if (p.startsWith('/sys/node/') && simple) {
      const x = p.slice('/sys/node/'.length);
      const name = `vpp_node_${sanitizeMetricName(x)}_total`;
      const f = family(name, () => new FamilyBuilder(name, `${NODE_HELP[x] ?? `VPP node counter ${x}`} (VPP ${p}).`, 'counter', p, ['node'], false, true));
      columns(f, kOf(e), 0, nodeLabels);
      continue;
    }
    if (p === '/node/errors' && simple) {
      const f = family('vpp_error_total', () => new FamilyBuilder('vpp_error_total', 'Packets counted by VPP error counters, by graph node and error (VPP /node/errors, named by /err/<node>/<error>).', 'counter', p, ['node', 'error']));
      columns(f, kOf(e), 0, errorLabels);
      continue;
    }
    const pool = /^\/buffer-pools\/(.+)\/(cached|used|available)$/.exec(p);
    if (pool && scalar) {
      const name = `vpp_buffer_pool_${pool[2]}_buffers`;
      const f = family(name, () => new FamilyBuilder(name, `Buffers ${pool[2]} in the buffer pool (VPP /buffer-pools/<pool>/${pool[2]}).`, 'gauge', '/buffer-pools/<pool>/' + pool[2], ['pool'], true));
      f.add(kOf(e), 0, 0, labelBody([['pool', pool[1]]]));
      continue;
    }
    const heap = /^\/mem\/([^/]+)$/.exec(p);
    if (heap && simple) {
      const k = kOf(e);
      MEM_COLUMNS.forEach(([name, help, type], col) => {
        const f = family(name, () => new FamilyBuilder(name, `${help} (VPP /mem/<heap> column ${col}).`, type as MetricType, '/mem/<heap>', ['heap'], true));
        f.add(k, col, 0, labelBody([['heap', heap[1]]]));
      });
      continue;
    }
    if (SYS_SCALARS[p] && scalar) {
      const [name, help] = SYS_SCALARS[p];
      family(name, () => new FamilyBuilder(name, `${help} (VPP ${p}).`, 'gauge', p, [], true)).add(kOf(e), 0, 0, '');
      continue;
    }
    if (PER_WORKER[p] && simple) {
      const [name, help] = PER_WORKER[p];
      // One row whose column is the thread: one series per column, labelled thread.
      family(name, () => new FamilyBuilder(name, `${help} (VPP ${p}).`, 'gauge', p, ['thread'], true)).add(kOf(e), -1, 0, 'thread');
      continue;
    }
    // The generic mapping: the path, sanitised, under vpp_.
    const base = 'vpp_' + sanitizeMetricName(p);
    if (e.type === StatType.HISTOGRAM_LOG2) {
      if (families.has(base)) {
        unexported.push({ path: p, reason: `metric name ${base} already taken` });
        continue;
      }
      family(base, () => new FamilyBuilder(base, `VPP log2 histogram ${p}: bucket le="2^e - 1" counts the values below 2^e.`, 'histogram', p, [])).add(kOf(e), 0, 0, '');
      continue;
    }
    if (scalar) {
      if (families.has(base)) {
        unexported.push({ path: p, reason: `metric name ${base} already taken` });
        continue;
      }
      family(base, () => new FamilyBuilder(base, `VPP ${e.type === StatType.GAUGE ? 'gauge' : 'scalar'} ${p}.`, 'gauge', p, [], true)).add(kOf(e), 0, 0, '');
      continue;
    }
    if (simple || combined) {
      const names: [string, number][] = combined ? [[`${base}_packets_total`, 0], [`${base}_bytes_total`, 1]] : [[`${base}_total`, 0]];
      if (names.some(([n]) => families.has(n))) {
        unexported.push({ path: p, reason: `metric name ${names[0][0]} already taken` });
        continue;
      }
      for (const [name, word] of names) {
        const unit = combined ? (word === 1 ? 'bytes' : 'packets') : 'count';
        family(name, () => new FamilyBuilder(name, `VPP counter vector ${p} (${unit}), by its index.`, 'counter', p, ['index']))
          .add(kOf(e), -1, word, 'index');
      }
      continue;
    }
    unexported.push({ path: p, reason: `type ${e.type} has no metric mapping` });
  }
  dropClashingHistograms(families, unexported);
  const bootTime = index.get(BOOT_TIME);
  const bootTimeK = bootTime?.type === StatType.SCALAR_INDEX ? kOf(bootTime) : -1;
  return {
    epoch: index.epoch,
    slots: Uint32Array.from(slots),
    families: [...families.values()].map((f) => f.build()).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    unexported,
    bootTimeK,
  };
}

/** The names a family's samples and headers use, in either exposition format. */
function namesOf(f: FamilyBuilder): string[] {
  if (f.type === 'histogram') return [f.name, `${f.name}_bucket`, `${f.name}_count`, `${f.name}_sum`];
  if (f.type === 'counter') return [f.name, f.name.replace(/_total$/, '')];
  return [f.name];
}

/**
 * A histogram's samples are named <name>_bucket and <name>_count, which another path's family
 * can also be called (a scalar /a/bucket beside a histogram /a): such a histogram is left out, in
 * directory order, and listed as unexported rather than interleaved with the other family. Slots
 * it took stay in the plan (read but not rendered); clashes need odd VPP paths and are rare.
 */
function dropClashingHistograms(families: Map<string, FamilyBuilder>, unexported: { path: string; reason: string }[]): void {
  const histograms = [...families.values()].filter((f) => f.type === 'histogram');
  if (histograms.length === 0) return;
  const owned = new Set<string>();
  for (const f of families.values()) if (f.type !== 'histogram') for (const n of namesOf(f)) owned.add(n);
  for (const h of histograms) {
    const names = namesOf(h);
    const clash = names.find((n) => owned.has(n));
    if (clash !== undefined) {
      families.delete(h.name);
      unexported.push({ path: h.source, reason: `histogram ${h.name}: the name ${clash} is already taken` });
      continue;
    }
    for (const n of names) owned.add(n);
  }
}
