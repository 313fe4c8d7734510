/**
 * Request deadlines without a timer per request: the connection layer's replacement for one
 * setTimeout/clearTimeout pair per request (node's timers do the same thing internally, with a
 * Timeout object and a closure per call).
 *
 * Entries with the same timeout are kept in a doubly linked list in the order they were added;
 * since the clock only moves forward, each list is sorted by deadline, so its head is its
 * earliest. One node timer is armed for the earliest head; when it fires, every head whose
 * deadline has passed expires, and the timer is armed again for the next. Adding and removing
 * are O(1) and allocate nothing (the entry is the list node). Removing never re-arms: a timer
 * that fires with nothing due just re-arms for what is left, or stops. While no entry is
 * waiting the timer is unref'd, so it keeps no process alive, as no timer would.
 */
import { performance } from 'node:perf_hooks';

/** The fields an entry carries for its list; owned by Deadlines. */
export interface Timed {
  /** performance.now() at which it expires (while it is in a list). */
  deadline: number;
  timedPrev: Timed | null;
  timedNext: Timed | null;
  timedList: TimedList | null;
}

export class TimedList {
  head: Timed | null = null;
  tail: Timed | null = null;
  constructor(readonly timeoutMs: number) {}
}

export class Deadlines<T extends Timed> {
  private readonly lists = new Map<number, TimedList>();
  private count = 0;
  private timer: NodeJS.Timeout | null = null;
  /** performance.now() the timer is set to fire at (Infinity when none is set). */
  private armedAt = Infinity;
  private refed = false;
  private readonly fire = (): void => this.onTimer();

  constructor(private readonly onExpire: (entry: T) => void) {}

  /** Entries waiting. */
  get size(): number {
    return this.count;
  }

  /** Expires `entry` timeoutMs from now. It must not be in a list already. */
  add(entry: T, timeoutMs: number): void {
    let list = this.lists.get(timeoutMs);
    if (list === undefined) {
      list = new TimedList(timeoutMs);
      this.lists.set(timeoutMs, list);
    }
    const deadline = performance.now() + timeoutMs;
    entry.deadline = deadline;
    entry.timedList = list;
    entry.timedNext = null;
    entry.timedPrev = list.tail;
    if (list.tail === null) list.head = entry;
    else list.tail.timedNext = entry;
    list.tail = entry;
    this.count++;
    if (deadline < this.armedAt) this.arm(deadline);
    else if (!this.refed && this.timer !== null) {
      this.timer.ref();
      this.refed = true;
    }
  }

  /** Takes `entry` out (it will not expire); nothing when it is not in a list. */
  remove(entry: T): void {
    const list = entry.timedList;
    if (list === null) return;
    const prev = entry.timedPrev;
    const next = entry.timedNext;
    if (prev === null) list.head = next;
    else prev.timedNext = next;
    if (next === null) list.tail = prev;
    else next.timedPrev = prev;
    entry.timedPrev = entry.timedNext = null;
    entry.timedList = null;
    if (--this.count === 0 && this.refed && this.timer !== null) {
      this.timer.unref();
      this.refed = false;
    }
  }

  /** Restarts `entry`'s timeout from now (a dump's timer on every details message). */
  refresh(entry: T): void {
    const list = entry.timedList;
    if (list === null) return;
    this.remove(entry);
    this.add(entry, list.timeoutMs);
  }

  /** Stops the timer (entries still in lists are forgotten by the caller). */
  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.armedAt = Infinity;
    this.refed = false;
  }

  private arm(at: number): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.armedAt = at;
    this.timer = setTimeout(this.fire, Math.max(1, Math.ceil(at - performance.now())));
    this.refed = true;
  }

  private onTimer(): void {
    this.timer = null;
    this.armedAt = Infinity;
    this.refed = false;
    const now = performance.now();
    const due: T[] = [];
    for (const list of this.lists.values()) {
      for (let e = list.head; e !== null && e.deadline <= now; e = list.head) {
        this.remove(e as T);
        due.push(e as T);
      }
    }
    // Expire in deadline order; an expiry may add or remove entries (it sends queued requests).
    if (due.length > 1) due.sort((a, b) => a.deadline - b.deadline);
    for (const e of due) this.onExpire(e);
    this.rearm();
  }

  private rearm(): void {
    let next = Infinity;
    for (const [ms, list] of this.lists) {
      if (list.head === null) {
        this.lists.delete(ms);
        continue;
      }
      if (list.head.deadline < next) next = list.head.deadline;
    }
    // An expiry may have added an entry and armed the timer already: only ever arm earlier.
    if (next < this.armedAt) this.arm(next);
  }
}
