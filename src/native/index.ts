/**
 * Loads the native addon from the paths a build puts it in and declares its exact surface.
 * JavaScript owns validation and the public API (src/stats/); these are one-line forwards.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import fs from 'node:fs';
import { StatsError } from './errors.js';

export { StatsError, isStatsError, NATIVE_ERROR_CODES, type NativeErrorCode } from './errors.js';

export interface SegmentHeader {
  version: number;
  base: bigint;
  epoch: number;
  inProgress: number;
  directoryVector: bigint;
}

export interface DirectoryOptions {
  /** Symlinks whose names start with one of these are left out of the result. */
  skipSymlinkPrefixes?: string[];
  includeEmpty?: boolean;
  /**
   * Leave the directory's pages mapped after the read; releaseDirectoryPages() gives them back
   * (a large directory, 24 MB at 10k interfaces, is otherwise given back at once).
   */
  keepPages?: boolean;
}

/** The directory as columns: entry i of the result is directory slot index[i]. */
export interface NativeDirectory {
  epoch: number;
  /** The directory vector's length, counting entries left out of this result. */
  length: number;
  index: Uint32Array;
  type: Uint8Array;
  /** The raw 8-byte union: scalar value, data pointer, or index1 | index2 << 32. */
  value: BigUint64Array;
  names: string[];
}

export interface SnapshotOptions {
  perThread?: boolean;
  /** Fail with STALE if the directory epoch is not this one. */
  epoch?: number;
  busyTimeoutMs?: number;
  maxAttempts?: number;
  /**
   * A buffer from an earlier snapshot to copy the values into when it is large enough: its pages
   * are already mapped, where a fresh multi-megabyte buffer page-faults on every word.
   */
  into?: ArrayBuffer;
}

/**
 * layout has 5 words per requested entry: status (0 ok, else index into `codes`), type, offset,
 * rows, width. At values[offset] come `rows` row lengths (in elements), then the rows'
 * elements, each `width` u64 words.
 */
export interface NativeSnapshot {
  epoch: number;
  attempts: number;
  values: BigUint64Array;
  layout: Uint32Array;
  names: ((string | null)[] | undefined)[];
}

export interface NativeStatSegment {
  header(): SegmentHeader;
  directory(opts?: DirectoryOptions): NativeDirectory;
  /** Gives back the pages a keepPages directory read left mapped; a no-op when closed or none. */
  releaseDirectoryPages(): void;
  snapshot(entries: Uint32Array, opts?: SnapshotOptions): NativeSnapshot;
  close(): void;
  readonly size: number;
  readonly inode: number;
  readonly closed: boolean;
}

export interface NativeSharedSegment {
  /** Read-write view of the memfd mapping: for the simulator (the writer) only. */
  readonly buffer: ArrayBuffer;
  readonly size: number;
  /** How many clients were handed the descriptor. */
  readonly served: number;
  serve(socketPath: string): void;
  stopServing(): void;
  destroy(): void;
}

/** Options of one native rendering (see RenderPlan.render). */
export interface NativeRenderOptions {
  perThread: boolean;
  openMetrics: boolean;
  /** Real threads (main + workers): rows past it in node vectors are VPP's padding. */
  threads: number;
}

/**
 * One scrape's exposition being written (native/exposition.h): fill() writes the next whole lines
 * into `into` from its start and returns how many bytes; 0 when complete. A line longer than
 * `into` is split across calls. Throws STALE if the values were detached or shrank meanwhile.
 */
export interface NativeRenderer {
  fill(into: Uint8Array): number;
  readonly done: boolean;
  /** Bytes written so far. */
  readonly bytes: number;
}

/**
 * The exposition of one plan (one directory epoch), copied into C++ memory:
 *   arena    UTF-8 of every family name, both headers (text 0.0.4 and OpenMetrics) and every
 *            distinct label text;
 *   families 9 words each: series begin, series end, name offset, name length, text header
 *            offset, length, OpenMetrics header offset, length, flags (1 no thread label,
 *            2 extra row);
 *   series   5 words each: label offset, label length, snapshot entry k, column (-1 as
 *            0xffffffff: one series per column, the label text is then the column label's
 *            name), word;
 *   slots    the number of snapshot entries the plan reads.
 * Throws INVALID_ARG when an offset or index is out of range.
 */
export interface NativeRenderPlan {
  /**
   * Starts rendering a snapshot (values and layout as NativeSnapshot has them). Throws STALE
   * when the layout does not describe the plan's entries (another epoch) or points outside the
   * values; nothing is read out of bounds.
   */
  render(values: BigUint64Array, layout: Uint32Array, opts: NativeRenderOptions): NativeRenderer;
  readonly series: number;
  readonly families: number;
  readonly slots: number;
  readonly arenaBytes: number;
}

export interface NativeAddon {
  StatSegment: {
    openSocket(path: string): NativeStatSegment;
    openFile(path: string): NativeStatSegment;
    /** Same as openSocket, with the connect and receive done off the JavaScript thread. */
    openSocketAsync(path: string): Promise<NativeStatSegment>;
    /** Inode of the descriptor the stats socket hands out, without mapping it. */
    probeSocketAsync(path: string): Promise<number>;
  };
  SharedSegment: new (size: number) => NativeSharedSegment;
  /** le: per exponent 1..64 the arena offset and length of the bound's text (histogram families need it). */
  RenderPlan: new (arena: Uint8Array, families: Uint32Array, series: Uint32Array, slots: number, le?: Uint32Array) => NativeRenderPlan;
  setErrorClass(cls: new (code: string, message: string) => Error): void;
  codes: string[];
}

const here = path.dirname(fileURLToPath(import.meta.url));

function candidatePaths(): string[] {
  const fromEnv = process.env.VPP_EXPORTER_NATIVE;
  // dist/src/native -> repository root is three levels up.
  const root = path.resolve(here, '..', '..', '..');
  const list = [
    path.join(root, 'build', 'native', 'Release', 'vpp_native.node'),
    path.join(root, 'build', 'native', 'Debug', 'vpp_native.node'),
  ];
  return fromEnv ? [fromEnv, ...list] : list;
}

function load(): NativeAddon {
  const require = createRequire(import.meta.url);
  const tried: string[] = [];
  for (const p of candidatePaths()) {
    if (!fs.existsSync(p)) {
      tried.push(`${p} (missing)`);
      continue;
    }
    try {
      const addon = require(p) as NativeAddon;
      addon.setErrorClass(StatsError);
      return addon;
    } catch (e) {
      tried.push(`${p} (${(e as Error).message})`);
    }
  }
  throw new Error(`cannot load the native addon (run npm run build:native); tried:\n  ${tried.join('\n  ')}`);
}

let cached: NativeAddon | undefined;

export function native(): NativeAddon {
  cached ??= load();
  return cached;
}

/** Name of a per-entry status code from a snapshot layout. */
export function statusName(status: number): string {
  return native().codes[status] ?? `UNKNOWN(${status})`;
}
