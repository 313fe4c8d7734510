/**
 * The values of a snapshot in the shapes vpp-papi's VPPStats gives (and `stats dump --json`
 * prints), so that our reader and vpp-papi compare directly:
 *   scalar, gauge -> number; simple -> [thread][index]; combined -> [thread][index] = [packets,
 *   bytes]; name vector -> [string | null]; symlink -> the linked column per thread (combined as
 *   [packets, bytes]); histogram -> per-thread bins; ring buffer -> its header fields.
 * Numbers stay bigint so that no u64 loses precision.
 */
import { StatType } from './types.js';
import type { SnapshotView } from './snapshot.js';

export type DumpValue =
  | bigint
  | string
  | null
  | DumpValue[]
  | { [k: string]: DumpValue };

const RING_FIELDS = [
  'entry_size', 'ring_size', 'n_threads', 'schema_size', 'schema_version', 'metadata_offset',
  'data_offset',
] as const;

/** Value of requested entry k; `requestedType` is the directory type (SYMLINK shows as a column). */
export function dumpValue(view: SnapshotView, k: number, requestedType: number): DumpValue {
  if (requestedType === StatType.NAME_VECTOR) return view.strings(k) ?? [];
  const e = view.entry(k);
  const v = view.values;
  const element = (at: number): DumpValue => (e.width === 1 ? v[at] : Array.from(v.subarray(at, at + e.width)));
  switch (requestedType) {
    case StatType.SCALAR_INDEX:
    case StatType.GAUGE:
      return v[e.rowStarts[0]];
    case StatType.SYMLINK:
      // One element per thread row: the linked column.
      return e.rowStarts.map((s) => element(s));
    case StatType.RING_BUFFER: {
      const out: { [k: string]: DumpValue } = {};
      RING_FIELDS.forEach((f, i) => (out[f] = v[e.rowStarts[0] + i]!));
      return out;
    }
    case StatType.COUNTER_VECTOR_SIMPLE:
    case StatType.COUNTER_VECTOR_COMBINED:
    case StatType.HISTOGRAM_LOG2:
      return e.rowStarts.map((s, r) => {
        const row: DumpValue[] = [];
        for (let i = 0; i < e.rowLengths[r]; i++) row.push(element(s + i * e.width));
        return row;
      });
    default:
      return null;
  }
}

/**
 * JSON text as Python's json.dumps(obj, sort_keys=True) writes it (", " and ": " separators,
 * non-ASCII escaped), so that output compares byte for byte with vpp-papi-made files.
 */
export function pythonJson(value: DumpValue): string {
  if (value === null) return 'null';
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'string') return pythonString(value);
  if (Array.isArray(value)) return '[' + value.map(pythonJson).join(', ') + ']';
  const keys = Object.keys(value).sort(compareCodePoints);
  return '{' + keys.map((k) => `${pythonString(k)}: ${pythonJson(value[k])}`).join(', ') + '}';
}

export function pythonString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (c < 0x20 || c > 0x7e) {
      // Python escapes every non-ASCII code point, astral ones as a surrogate pair.
      for (let i = 0; i < ch.length; i++) out += '\\u' + ch.charCodeAt(i).toString(16).padStart(4, '0');
    } else out += ch;
  }
  return out + '"';
}

/** Python sorts str keys by code point; JavaScript's default sort compares UTF-16 units. */
export function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done) return y.done ? 0 : -1;
    if (y.done) return 1;
    const d = x.value.codePointAt(0)! - y.value.codePointAt(0)!;
    if (d !== 0) return d;
  }
}
