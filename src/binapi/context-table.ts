/**
 * The connection's pending requests by context: a Map<number, T> for this one key shape, made
 * cheaper for how contexts are handed out (a u32 counter, so the contexts in use are mostly a
 * run of consecutive numbers).
 *
 * An entry lives in slot `context & mask` of an array; the rare entry whose slot is taken by
 * another context (an old dump still streaming while the counter went once around the array)
 * goes to an overflow Map. The array doubles when it is three quarters full, so a lookup is
 * one array load and a compare, where a Map of 10k entries (a pipelined burst) costs a hash
 * probe through a large table. Behaviour is exactly a Map's, except iteration order: use
 * `values()` and sort when the order matters.
 */
export interface HasContext {
  readonly context: number;
}

/** Room for a burst of 12k requests before the first growth (64 KiB). */
const INITIAL_SLOTS = 16384;

export class ContextTable<T extends HasContext> {
  private slots: (T | undefined)[] = new Array<T | undefined>(INITIAL_SLOTS).fill(undefined);
  private mask = INITIAL_SLOTS - 1;
  private inSlots = 0;
  private readonly overflow = new Map<number, T>();

  get size(): number {
    return this.inSlots + this.overflow.size;
  }

  get(context: number): T | undefined {
    const e = this.slots[context & this.mask];
    if (e !== undefined && e.context === context) return e;
    return this.overflow.size === 0 ? undefined : this.overflow.get(context);
  }

  has(context: number): boolean {
    return this.get(context) !== undefined;
  }

  /** Adds (or replaces) the entry for `entry.context`. */
  set(entry: T): void {
    const context = entry.context;
    const i = context & this.mask;
    const e = this.slots[i];
    if (e === undefined) {
      if (this.overflow.size > 0) this.overflow.delete(context); // it moves to its slot
      this.slots[i] = entry;
      this.inSlots++;
      if (this.inSlots * 4 > this.slots.length * 3) this.grow();
    } else if (e.context === context) {
      this.slots[i] = entry;
    } else {
      this.overflow.set(context, entry);
    }
  }

  delete(context: number): boolean {
    const i = context & this.mask;
    const e = this.slots[i];
    if (e !== undefined && e.context === context) {
      this.slots[i] = undefined;
      this.inSlots--;
      return true;
    }
    return this.overflow.size > 0 && this.overflow.delete(context);
  }

  /** Every entry, in no particular order. */
  values(): T[] {
    const out: T[] = [];
    for (const e of this.slots) if (e !== undefined) out.push(e);
    for (const e of this.overflow.values()) out.push(e);
    return out;
  }

  private grow(): void {
    const old = this.slots;
    const n = old.length * 2;
    const slots = new Array<T | undefined>(n).fill(undefined);
    const mask = n - 1;
    // Distinct slots mod n/2 stay distinct mod n: the entries in slots move without collisions.
    for (const e of old) if (e !== undefined) slots[e.context & mask] = e;
    this.slots = slots;
    this.mask = mask;
    if (this.overflow.size > 0) {
      const moved = [...this.overflow.values()];
      this.overflow.clear();
      for (const e of moved) this.set(e);
    }
  }
}
