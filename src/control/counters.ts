/**
 * Interface counters for GET /interfaces, from one epoch-consistent snapshot of the stats
 * segment (the same StatsClient as /metrics): every /if/* simple or combined counter vector,
 * summed over threads, indexed by sw_if_index, plus /if/names to check that a column still
 * belongs to the interface the API dump named (a reused sw_if_index never gets another's counters).
 *
 *   /if/rx (combined)      -> rx_packets, rx_bytes
 *   /if/rx-no-buf (simple) -> rx_no_buf
 */
import type { Selector, StatsClient } from '../stats/index.js';
import { StatType } from '../stats/index.js';

export type Counters = Record<string, number>;

export interface CounterTable {
  /** The counters of one interface; undefined when the segment has no column for it or another name there. */
  get(swIfIndex: number, name: string): Counters | undefined;
}

interface Column {
  names: string[];
  /** values[sw][k] for each name k. */
  values: number[][];
}

const PREFIX = '/if/';
const NAMES = '/if/names';

/** Every /if/ counter vector and the names vector; stable, so the client caches it per epoch. */
const selectInterfaceCounters: Selector = (index) =>
  index.entries
    .filter(
      (e) =>
        e.name === NAMES ||
        (e.name.startsWith(PREFIX) && (e.type === StatType.COUNTER_VECTOR_SIMPLE || e.type === StatType.COUNTER_VECTOR_COMBINED)),
    )
    .map((e) => e.index);

function counterNames(path: string, type: number): string[] {
  const base = path.slice(PREFIX.length).replace(/[^A-Za-z0-9]+/g, '_');
  return type === StatType.COUNTER_VECTOR_COMBINED ? [`${base}_packets`, `${base}_bytes`] : [base];
}

/** Reads the counters now; undefined when the stats segment cannot be read. */
export async function readInterfaceCounters(stats: StatsClient): Promise<CounterTable | undefined> {
  const snap = await stats.snapshot(selectInterfaceCounters);
  if (!snap) return undefined;
  try {
    const byIndex = new Map(snap.index.entries.map((e) => [e.index, e]));
    let ifNames: (string | null)[] = [];
    const columns: Column[] = [];
    const v = snap.view;
    for (let k = 0; k < snap.slots.length; k++) {
      const entry = byIndex.get(snap.slots[k]);
      if (!entry || v.status(k) !== 0) continue;
      if (entry.name === NAMES) {
        ifNames = v.strings(k) ?? [];
        continue;
      }
      const names = counterNames(entry.name, v.type(k));
      const e = v.entry(k);
      const width = Math.min(e.width, names.length);
      const values: number[][] = [];
      for (let r = 0; r < e.rows; r++) {
        for (let sw = 0; sw < e.rowLengths[r]; sw++) {
          const row = (values[sw] ??= new Array<number>(names.length).fill(0));
          const at = e.rowStarts[r] + sw * e.width;
          for (let w = 0; w < width; w++) row[w] += Number(v.values[at + w]);
        }
      }
      columns.push({ names, values });
    }
    return {
      get(swIfIndex, name) {
        if (ifNames[swIfIndex] !== name) return undefined;
        const out: Counters = {};
        for (const c of columns) {
          const row = c.values[swIfIndex];
          for (let w = 0; w < c.names.length; w++) out[c.names[w]] = row?.[w] ?? 0;
        }
        return out;
      },
    };
  } finally {
    snap.release();
  }
}
