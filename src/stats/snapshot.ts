/**
 * Views over a native snapshot: the values of one requested entry, without copying.
 * Layout (src/native/index.ts): per entry status, type, offset, rows, width; at `offset` the row
 * lengths, then the rows.
 */
import { statusName, type NativeSnapshot } from '../native/index.js';

export interface EntryView {
  status: number;
  type: number;
  rows: number;
  width: number;
  /** Element counts per row. */
  rowLengths: number[];
  /** Index in `values` of each row's first word. */
  rowStarts: number[];
}

export class SnapshotView {
  readonly epoch: number;
  readonly values: BigUint64Array;
  private readonly layout: Uint32Array;
  private readonly names: NativeSnapshot['names'];

  constructor(snap: NativeSnapshot) {
    this.epoch = snap.epoch;
    this.values = snap.values;
    this.layout = snap.layout;
    this.names = snap.names;
  }

  get length(): number {
    return this.layout.length / 5;
  }

  status(k: number): number {
    return this.layout[k * 5];
  }

  statusName(k: number): string {
    return statusName(this.status(k));
  }

  type(k: number): number {
    return this.layout[k * 5 + 1];
  }

  entry(k: number): EntryView {
    const l = this.layout;
    const offset = l[k * 5 + 2];
    const rows = l[k * 5 + 3];
    const width = l[k * 5 + 4];
    const rowLengths: number[] = [];
    const rowStarts: number[] = [];
    let at = offset + rows;
    for (let r = 0; r < rows; r++) {
      const n = Number(this.values[offset + r]);
      rowLengths.push(n);
      rowStarts.push(at);
      at += n * width;
    }
    return { status: l[k * 5], type: l[k * 5 + 1], rows, width, rowLengths, rowStarts };
  }

  /** The strings of a NAME_VECTOR entry (null for unset slots). */
  strings(k: number): (string | null)[] | undefined {
    return this.names[k];
  }

  /** Index of the first value word of entry k (for scalars: the value itself). */
  firstValueIndex(k: number): number {
    const offset = this.layout[k * 5 + 2];
    return offset + this.layout[k * 5 + 3];
  }
}
