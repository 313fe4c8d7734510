/**
 * Torture mode for torn-read tests: a dedicated simple counter vector, /sim/torture (one row per
 * thread, 64 counters per row), that is moved to new memory on every step, under the lock protocol,
 * with the old memory poisoned before the epoch moves (see CounterVector.relocate).
 *
 * THE INVARIANT a reader can check without talking to the simulator: in every consistent read
 * (epoch e recorded at access start, in_progress 0 and the epoch still e at access end), every
 * /sim/torture counter of every row equals e. The writer keeps it by filling the vector with the
 * epoch the unlock is about to publish, at every outermost unlock (torture steps and any other
 * structural change alike), always before the epoch store. A read that mixes memory from two
 * epochs shows a counter != e, 0xdeadbeefdeadbeef, or a bad pointer.
 */
import type { CounterVector } from './counter-vector.js';
import type { SegmentWriter } from './segment-writer.js';

export const TORTURE_ENTRY = '/sim/torture';
export const TORTURE_COUNTERS = 64;

export class TortureVector {
  readonly vector: CounterVector;
  private readonly unhook: () => void;
  private stepCount = 0;

  constructor(
    private readonly writer: SegmentWriter,
    threads: number,
  ) {
    this.vector = writer.addCounterVector(TORTURE_ENTRY, 'simple', threads, TORTURE_COUNTERS);
    // From now on every unlock publishes an epoch the counters already show.
    this.unhook = writer.lock.beforeRelease(() => this.vector.fill(BigInt(writer.epoch + 1)));
    // The add above already unlocked once without the hook: bring the counters in line.
    writer.change(() => undefined);
  }

  /** Steps taken so far. */
  get steps(): number {
    return this.stepCount;
  }

  /** One relocation: exactly one epoch increment. */
  step(): void {
    this.writer.change(() => this.vector.relocate(BigInt(this.writer.epoch + 1)));
    this.stepCount++;
  }

  /** Stops keeping the invariant (the entry stays). */
  dispose(): void {
    this.unhook();
  }
}
