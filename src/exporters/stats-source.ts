/**
 * Turns the stats client's snapshots into (plan, view) pairs for the exporters. The plan is
 * rebuilt only when the directory epoch changes; the names it needs (/if/names,
 * /sys/node/names) are read once per epoch, not per scrape.
 */
import type { StatsClient, DirectoryIndex, SnapshotView, Selector } from '../stats/index.js';
import { buildPlan, NAME_VECTORS, type Plan } from './catalog.js';

export interface StatsSourceOptions {
  perThread: boolean;
  include?: RegExp[];
  exclude?: RegExp[];
}

export interface Collected {
  plan: Plan;
  view: SnapshotView;
  /** Real threads (main + workers). */
  threads: number;
  /**
   * Where VPP's cumulative values start (ns since the epoch): VPP's boot time (/sys/boottime) from
   * this snapshot, or, when the segment has none (0 or no entry), the time this process first
   * mapped the segment. Fixed while VPP runs; a restart moves it forward.
   */
  startTimeNs: bigint;
  /** Done with the view: its buffer may be reused (Snapshot.release). */
  release(): void;
}

const PLAN_ATTEMPTS = 4;

export class StatsSource {
  private plan: Plan | undefined;
  private readonly selectNames: Selector = (index) => NAME_VECTORS.flatMap((n) => (index.get(n) ? [index.get(n)!.index] : []));
  // Returns nothing for an index the plan was not made for; collect() then rebuilds the plan.
  private readonly selectPlan: Selector = (index) => (this.plan && index.epoch === this.plan.epoch ? this.plan.slots : []);
  /** How many times the plan was rebuilt (directory epoch changes seen). */
  rebuilds = 0;

  constructor(
    readonly client: StatsClient,
    private readonly opts: StatsSourceOptions,
  ) {}

  private async makePlan(index: DirectoryIndex): Promise<Plan | undefined> {
    const snap = await this.client.snapshot(this.selectNames);
    if (!snap || snap.index.epoch !== index.epoch) return undefined;
    // Name strings are plain JS strings, independent of the value buffer.
    snap.release();
    const names = new Map<string, (string | null)[]>();
    snap.slots.forEach((slot, k) => {
      const e = snap.index.entries.find((x) => x.index === slot);
      if (e) names.set(e.name, snap.view.strings(k) ?? []);
    });
    this.rebuilds++;
    return buildPlan({ index, names, include: this.opts.include, exclude: this.opts.exclude });
  }

  /** One consistent snapshot with its plan, or undefined when VPP cannot be read. */
  async collect(): Promise<Collected | undefined> {
    for (let attempt = 0; attempt < PLAN_ATTEMPTS; attempt++) {
      const index = await this.client.directory();
      if (!index) return undefined;
      if (!this.plan || this.plan.epoch !== index.epoch) {
        this.plan = await this.makePlan(index);
        if (!this.plan) continue;
      }
      const snap = await this.client.snapshot(this.selectPlan, { perThread: this.opts.perThread });
      if (!snap) return undefined;
      if (snap.index.epoch !== this.plan.epoch) {
        snap.release();
        continue;
      }
      return {
        plan: this.plan,
        view: snap.view,
        threads: threadCount(snap.index, snap.view, snap.slots),
        startTimeNs: seriesStartNs(this.plan, snap.view, snap.segmentSince),
        release: () => snap.release(),
      };
    }
    return undefined;
  }
}

function threadCount(index: DirectoryIndex, view: SnapshotView, slots: Uint32Array): number {
  const e = index.get('/sys/num_worker_threads');
  const k = e ? slots.indexOf(e.index) : -1;
  if (k >= 0 && view.status(k) === 0) return Number(view.values[view.firstValueIndex(k)]) + 1;
  return 1;
}

function seriesStartNs(plan: Plan, view: SnapshotView, segmentSince: number): bigint {
  const k = plan.bootTimeK;
  const bootSeconds = k >= 0 && view.status(k) === 0 ? view.values[view.firstValueIndex(k)] : 0n;
  return bootSeconds > 0n ? bootSeconds * 1_000_000_000n : BigInt(segmentSince) * 1_000_000n;
}
