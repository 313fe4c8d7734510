/**
 * VPP's writer side of the consistency protocol (vlib/stats/stats.c:10-52, STATS-SEGMENT.md
 * section 9): lock sets in_progress = 1 before anything moves; the last unlock increments the epoch
 * and then clears in_progress. Locks nest and only the outermost unlock publishes.
 *
 * The header words are written with Atomics.store: a sequentially consistent store, so no earlier
 * write of the change can become visible after the epoch/in_progress stores (on x86 plain stores
 * are not reordered with each other either, but this keeps the JIT from doing it). Aligned 8-byte
 * BigUint64Array stores are single instructions, so readers never see a torn pointer or counter.
 */
import { Header } from './segment-layout.js';

export class WriterStuckError extends Error {
  constructor() {
    super('the stats segment writer is stuck with in_progress = 1 (stickInProgress was called)');
    this.name = 'WriterStuckError';
  }
}

export class SegmentLock {
  private depth = 0;
  private isStuck = false;
  private readonly hooks = new Set<() => void>();

  constructor(private readonly u64: BigUint64Array) {}

  get held(): boolean {
    return this.depth > 0;
  }

  get stuck(): boolean {
    return this.isStuck;
  }

  get epoch(): number {
    return Number(Atomics.load(this.u64, Header.epoch / 8));
  }

  acquire(): void {
    if (this.isStuck) throw new WriterStuckError();
    if (this.depth++ === 0) Atomics.store(this.u64, Header.inProgress / 8, 1n);
  }

  release(): void {
    if (this.depth === 0) throw new Error('stats segment lock released more often than taken');
    if (this.depth > 1) {
      this.depth--;
      return;
    }
    // Hooks still run under the lock (depth 1): they may change the segment too.
    try {
      for (const h of this.hooks) h();
    } finally {
      this.depth = 0;
      const e = Atomics.load(this.u64, Header.epoch / 8);
      Atomics.store(this.u64, Header.epoch / 8, e + 1n);
      Atomics.store(this.u64, Header.inProgress / 8, 0n);
    }
  }

  /** Runs fn between acquire and release (release also when fn throws: the epoch still moves). */
  run<T>(fn: () => T): T {
    this.acquire();
    try {
      return fn();
    } finally {
      this.release();
    }
  }

  assertHeld(what: string): void {
    if (this.depth === 0) throw new Error(`${what} must happen under the stats segment lock`);
  }

  /** Registers a function run at every outermost unlock, before the epoch moves. */
  beforeRelease(hook: () => void): () => void {
    this.hooks.add(hook);
    return () => this.hooks.delete(hook);
  }

  /** A writer that died holding the lock: in_progress stays 1 and the writer refuses further changes. */
  stick(): void {
    this.isStuck = true;
    Atomics.store(this.u64, Header.inProgress / 8, 1n);
  }
}
