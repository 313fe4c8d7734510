/**
 * Interface traffic: advances the /if/* counters (and the error and /net neighbour counters that go
 * with them) as packets arrive, without the lock, like VPP's data plane. Each interface has a
 * fixed rate factor and packet size drawn from the seed; its receive queue is polled by one worker
 * and its transmit side by the next (the main thread when there are no workers).
 *
 * Every derived counter is a function of the interface's cumulative packet count (drops are one in
 * 997 packets, multicast one in 64, ...), so derived counters never run ahead of their totals and a
 * frozen simulator (rate 0) stays exactly where it is. Per-thread totals are kept for the collector
 * (node counters and vector rates lag behind, as VPP's collector does).
 *
 * State is typed arrays indexed by sw_if_index: no object per interface or counter.
 */
import type { IF_COMBINED_COUNTERS, IF_SIMPLE_COUNTERS } from './catalog.js';
import type { CounterVector } from './counter-vector.js';
import type { Log2Histogram } from './log2-histogram.js';
import type { Prng } from './prng.js';

type SimpleName = (typeof IF_SIMPLE_COUNTERS)[number];
type CombinedName = (typeof IF_COMBINED_COUNTERS)[number];

export interface TrafficVectors {
  simple: Record<SimpleName, CounterVector>;
  combined: Record<CombinedName, CounterVector>;
  /** /node/errors and the columns interface drops are counted in (one per interface, round robin). */
  nodeErrors: CounterVector;
  dropErrorColumns: readonly number[];
  /** Neighbour discovery counters handled on the main thread; absent ones are skipped. */
  arpRxRequests?: CounterVector;
  arpTxReplies?: CounterVector;
  ndRxRequests?: CounterVector;
  ndTxReplies?: CounterVector;
  /** Log2 histograms of received packet sizes (a packet counts in the row of the thread that polls it). */
  rxPacketSizes?: readonly Log2Histogram[];
}

/** Packets since the collector last looked, per thread. */
export interface TrafficTotals {
  rx: Float64Array;
  ip4: Float64Array;
  ip6: Float64Array;
  drops: Float64Array;
  tx: Float64Array;
  /** rx by input node name (device classes with their own input node). */
  rxByInputNode: Map<string, Float64Array>;
  /** tx by the node index of the transmitting hardware interface's output node. */
  txByOutputNode: Map<number, Float64Array>;
}

/** One in N packets is of this kind (cumulative-count based, see the file comment). */
const EVERY = {
  multicast: 64,
  broadcast: 512,
  ip6: 5,
  drop: 997,
  rxMiss: 65_521,
  rxNoBuf: 999_983,
  punt: 100_003,
  rxError: 1_000_003,
  txError: 100_019,
  arp: 20_011,
  nd: 40_009,
} as const;

/** What a pass adds per interface: all new packets, every Nth, all but every Nth, or unicast. */
const Delta = { All: 0, Every: 1, AllBut: 2, Unicast: 3 } as const;
type Delta = (typeof Delta)[keyof typeof Delta];

/** Common frame sizes; each interface keeps one. */
const PACKET_SIZES = [64, 128, 256, 512, 576, 1024, 1280, 1400, 1500];

/** BigInt of small integers without allocating, for the common small increments. */
const SMALL = Array.from({ length: 4096 }, (_, i) => BigInt(i));
function big(n: number): bigint {
  return n < 4096 ? SMALL[n] : BigInt(n);
}

function steps(before: number, after: number, every: number): number {
  return Math.floor(after / every) - Math.floor(before / every);
}

export interface TrafficInterface {
  swIfIndex: number;
  /** Node index of the output node of the hardware interface that transmits, or -1. */
  outputNode: number;
  /** Input node of the device class, or null. */
  inputNode: string | null;
  active: boolean;
}

export class Traffic {
  private capacity = 0;
  private present = new Uint8Array(0);
  private active = new Uint8Array(0);
  private rxFactor = new Float64Array(0);
  private txFactor = new Float64Array(0);
  /** Bytes per packet. */
  private size = new BigUint64Array(0);
  private rxCum = new Float64Array(0);
  private txCum = new Float64Array(0);
  /** Cumulative counts before the current advance(). */
  private rxPrev = new Float64Array(0);
  private txPrev = new Float64Array(0);
  private rxRow = new Int32Array(0);
  private txRow = new Int32Array(0);
  private outputNode = new Int32Array(0);
  private inputNode: (string | null)[] = [];
  /** How many interfaces each thread polls through each input node. */
  readonly polled = new Map<string, Int32Array>();
  readonly totals: TrafficTotals;

  constructor(
    private readonly v: TrafficVectors,
    private readonly threads: number,
    private readonly prng: Prng,
  ) {
    this.totals = {
      rx: new Float64Array(threads),
      ip4: new Float64Array(threads),
      ip6: new Float64Array(threads),
      drops: new Float64Array(threads),
      tx: new Float64Array(threads),
      rxByInputNode: new Map(),
      txByOutputNode: new Map(),
    };
  }

  /** Worker that polls sw_if_index's receive queue (thread 0 is main). */
  rxThread(sw: number): number {
    return this.threads === 1 ? 0 : 1 + (sw % (this.threads - 1));
  }

  txThread(sw: number): number {
    return this.threads === 1 ? 0 : 1 + ((sw + 1) % (this.threads - 1));
  }

  /** A new interface (also a reused sw_if_index: its traffic starts from zero, like its counters). */
  add(i: TrafficInterface): void {
    const sw = i.swIfIndex;
    this.grow(sw + 1);
    this.present[sw] = 1;
    this.active[sw] = i.active ? 1 : 0;
    this.rxFactor[sw] = this.prng.range(0.5, 1.5);
    this.txFactor[sw] = this.prng.range(0.5, 1.5);
    this.size[sw] = BigInt(this.prng.pick(PACKET_SIZES));
    this.rxCum[sw] = 0;
    this.txCum[sw] = 0;
    this.rxRow[sw] = this.rxThread(sw);
    this.txRow[sw] = this.txThread(sw);
    this.outputNode[sw] = i.outputNode;
    this.inputNode[sw] = i.inputNode;
    if (i.inputNode !== null) perThreadCount(this.polled, i.inputNode, this.threads)[this.rxThread(sw)]++;
  }

  remove(sw: number): void {
    if (!this.present[sw]) return;
    this.present[sw] = 0;
    this.active[sw] = 0;
    const input = this.inputNode[sw];
    if (input != null) perThreadCount(this.polled, input, this.threads)[this.rxThread(sw)]--;
    this.inputNode[sw] = null;
  }

  setActive(sw: number, active: boolean): void {
    if (this.present[sw]) this.active[sw] = active ? 1 : 0;
  }

  /**
   * Packets and bytes for `seconds` at `rate` packets per second per interface. Two phases: first
   * every interface's cumulative packet counts move (sequential typed arrays), then each counter
   * vector is updated in one pass over the interfaces. Vector by vector matters at scale: touching
   * twenty vectors per interface defeats the CPU's prefetching and costs a cache miss per counter.
   */
  advance(seconds: number, rate: number): void {
    if (!(seconds > 0) || !(rate > 0)) return;
    const t = this.totals;
    const sizes = this.v.rxPacketSizes ?? [];
    for (let sw = 0; sw < this.capacity; sw++) {
      const rxBefore = this.rxCum[sw];
      const txBefore = this.txCum[sw];
      this.rxPrev[sw] = rxBefore;
      this.txPrev[sw] = txBefore;
      if (this.active[sw] === 0) continue;
      const rxAfter = rxBefore + rate * this.rxFactor[sw] * seconds;
      const txAfter = txBefore + rate * this.txFactor[sw] * seconds;
      this.rxCum[sw] = rxAfter;
      this.txCum[sw] = txAfter;
      const n = Math.floor(rxAfter) - Math.floor(rxBefore);
      const m = Math.floor(txAfter) - Math.floor(txBefore);
      const r = this.rxRow[sw];
      const ip6 = steps(rxBefore, rxAfter, EVERY.ip6);
      t.rx[r] += n;
      t.ip6[r] += ip6;
      t.ip4[r] += n - ip6;
      t.drops[r] += steps(rxBefore, rxAfter, EVERY.drop);
      const input = this.inputNode[sw];
      if (input != null && n > 0) perThread(t.rxByInputNode, input, this.threads)[r] += n;
      for (const h of sizes) h.observe(r, Number(this.size[sw]), n);
      const w = this.txRow[sw];
      t.tx[w] += m;
      const out = this.outputNode[sw];
      if (out >= 0 && m > 0) perThread(t.txByOutputNode, out, this.threads)[w] += m;
    }
    const c = this.v.combined;
    const s = this.v.simple;
    const rx = { cum: this.rxCum, prev: this.rxPrev, row: this.rxRow };
    const tx = { cum: this.txCum, prev: this.txPrev, row: this.txRow };
    this.pass(c.rx, rx, Delta.All, 1, true);
    this.pass(c['rx-unicast'], rx, Delta.Unicast, 1, true);
    this.pass(c['rx-multicast'], rx, Delta.Every, EVERY.multicast, true);
    this.pass(c['rx-broadcast'], rx, Delta.Every, EVERY.broadcast, true);
    this.pass(s.ip4, rx, Delta.AllBut, EVERY.ip6);
    this.pass(s.ip6, rx, Delta.Every, EVERY.ip6);
    this.pass(s.drops, rx, Delta.Every, EVERY.drop);
    this.pass(c.tx, tx, Delta.All, 1, true);
    this.pass(c['tx-unicast'], tx, Delta.Unicast, 1, true);
    this.pass(c['tx-multicast'], tx, Delta.Every, EVERY.multicast, true);
    this.pass(c['tx-broadcast'], tx, Delta.Every, EVERY.broadcast, true);
    this.rareCounters();
  }

  /** The collector takes the per-thread totals and starts them again. */
  resetTotals(): void {
    const t = this.totals;
    for (const a of [t.rx, t.ip4, t.ip6, t.drops, t.tx, ...t.rxByInputNode.values(), ...t.txByOutputNode.values()]) a.fill(0);
  }

  /**
   * Adds the delta of one kind (see Delta) at column sw of vector v for every interface that moved,
   * in the row of the interface's thread; bytes too (packets x the interface's size) when combined.
   */
  private pass(
    v: CounterVector,
    side: { cum: Float64Array; prev: Float64Array; row: Int32Array },
    kind: Delta,
    every: number,
    combined = false,
  ): void {
    const { cum, prev, row } = side;
    for (let sw = 0; sw < this.capacity; sw++) {
      if (this.active[sw] === 0) continue;
      const b = prev[sw];
      const a = cum[sw];
      let d = Math.floor(a) - Math.floor(b);
      if (kind === Delta.Every) d = steps(b, a, every);
      else if (kind === Delta.AllBut) d -= steps(b, a, every);
      else if (kind === Delta.Unicast) d -= steps(b, a, EVERY.multicast) + steps(b, a, EVERY.broadcast);
      if (d <= 0) continue;
      const r = row[sw];
      v.add(r, sw, big(d), 0);
      // BigInt * BigUint64Array element stays in 64-bit registers; BigInt(number) would allocate.
      if (combined) v.add(r, sw, big(d) * this.size[sw], 1);
    }
  }

  /**
   * The counters that move once in tens of thousands of packets, in one pass: rx-miss, rx-no-buf,
   * punt, rx-error, tx-error, the drop errors, ARP and ND (on the main thread).
   */
  private rareCounters(): void {
    const s = this.v.simple;
    const cols = this.v.dropErrorColumns;
    for (let sw = 0; sw < this.capacity; sw++) {
      if (this.active[sw] === 0) continue;
      const b = this.rxPrev[sw];
      const a = this.rxCum[sw];
      const r = this.rxRow[sw];
      let d = steps(b, a, EVERY.rxMiss);
      if (d > 0) s['rx-miss'].add(r, sw, big(d));
      if ((d = steps(b, a, EVERY.rxNoBuf)) > 0) s['rx-no-buf'].add(r, sw, big(d));
      if ((d = steps(b, a, EVERY.punt)) > 0) s.punt.add(r, sw, big(d));
      if ((d = steps(b, a, EVERY.rxError)) > 0) s['rx-error'].add(r, sw, big(d));
      if ((d = steps(b, a, EVERY.drop)) > 0 && cols.length > 0) this.v.nodeErrors.add(r, cols[sw % cols.length], big(d));
      if ((d = steps(b, a, EVERY.arp)) > 0) {
        this.v.arpRxRequests?.add(0, sw, big(d));
        this.v.arpTxReplies?.add(0, sw, big(d));
      }
      if ((d = steps(b, a, EVERY.nd)) > 0) {
        this.v.ndRxRequests?.add(0, sw, big(d));
        this.v.ndTxReplies?.add(0, sw, big(d));
      }
      if ((d = steps(this.txPrev[sw], this.txCum[sw], EVERY.txError)) > 0) s['tx-error'].add(this.txRow[sw], sw, big(d));
    }
  }

  private grow(n: number): void {
    if (n <= this.capacity) return;
    const cap = Math.max(n, Math.ceil(this.capacity * 1.5), 64);
    const grown = <T extends { set(array: T): void }>(a: T, make: (k: number) => T): T => {
      const b = make(cap);
      b.set(a);
      return b;
    };
    this.present = grown(this.present, (k) => new Uint8Array(k));
    this.active = grown(this.active, (k) => new Uint8Array(k));
    this.rxFactor = grown(this.rxFactor, (k) => new Float64Array(k));
    this.txFactor = grown(this.txFactor, (k) => new Float64Array(k));
    this.size = grown(this.size, (k) => new BigUint64Array(k));
    this.rxCum = grown(this.rxCum, (k) => new Float64Array(k));
    this.txCum = grown(this.txCum, (k) => new Float64Array(k));
    this.rxPrev = grown(this.rxPrev, (k) => new Float64Array(k));
    this.txPrev = grown(this.txPrev, (k) => new Float64Array(k));
    this.rxRow = grown(this.rxRow, (k) => new Int32Array(k));
    this.txRow = grown(this.txRow, (k) => new Int32Array(k));
    this.outputNode = grown(this.outputNode, (k) => new Int32Array(k).fill(-1));
    this.inputNode.length = cap;
    this.capacity = cap;
  }
}

function perThreadCount(m: Map<string, Int32Array>, key: string, threads: number): Int32Array {
  let a = m.get(key);
  if (a === undefined) m.set(key, (a = new Int32Array(threads)));
  return a;
}

function perThread<K>(m: Map<K, Float64Array>, key: K, threads: number): Float64Array {
  let a = m.get(key);
  if (a === undefined) m.set(key, (a = new Float64Array(threads)));
  return a;
}
