/** Directory entry types of VPP's stats segment (vlib/stats/shared.h, stat_directory_type_t). */
export const StatType = {
  ILLEGAL: 0,
  SCALAR_INDEX: 1,
  COUNTER_VECTOR_SIMPLE: 2,
  COUNTER_VECTOR_COMBINED: 3,
  NAME_VECTOR: 4,
  EMPTY: 5,
  SYMLINK: 6,
  HISTOGRAM_LOG2: 7,
  RING_BUFFER: 8,
  GAUGE: 9,
} as const;

export type StatTypeCode = (typeof StatType)[keyof typeof StatType];

const NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(StatType).map(([k, v]) => [v, k]),
);

export function statTypeName(t: number): string {
  return NAMES[t] ?? `UNKNOWN_${t}`;
}

/** Short names as vpp_get_stats prints them. */
export function statTypeLabel(t: number): string {
  switch (t) {
    case StatType.SCALAR_INDEX: return 'scalar';
    case StatType.GAUGE: return 'gauge';
    case StatType.COUNTER_VECTOR_SIMPLE: return 'simple';
    case StatType.COUNTER_VECTOR_COMBINED: return 'combined';
    case StatType.NAME_VECTOR: return 'name';
    case StatType.EMPTY: return 'empty';
    case StatType.SYMLINK: return 'symlink';
    case StatType.HISTOGRAM_LOG2: return 'histogram';
    case StatType.RING_BUFFER: return 'ring-buffer';
    default: return 'illegal';
  }
}

/** One directory entry as the client keeps it. */
export interface StatEntry {
  /** Directory slot. */
  index: number;
  name: string;
  type: number;
  /** For symlinks: the target slot and column. */
  target?: number;
  column?: number;
}
