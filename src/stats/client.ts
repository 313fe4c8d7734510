/**
 * The stats segment client: owns the mapping, follows VPP across restarts, and hands out
 * epoch-consistent snapshots. The directory index is rebuilt only when the epoch changes.
 *
 * Restart detection (VPP gives a new memfd on every start; the old mapping stays readable but
 * frozen): the socket file's inode changed, a probe of the socket refused the connection or
 * handed out another memfd, the heartbeat stopped advancing, or a read failed. Each leads to an
 * unmap and a reconnect with capped exponential backoff.
 */
import fs from 'node:fs';
import { EventEmitter } from 'node:events';
import { native, StatsError, isStatsError, type NativeStatSegment } from '../native/index.js';
import { logger, type Logger } from '../log.js';
import { StatType, type StatEntry } from './types.js';
import { SnapshotView } from './snapshot.js';

export interface StatsClientOptions {
  /** VPP's stats socket. Exactly one of socketPath and filePath. */
  socketPath?: string;
  /** A segment image file (read once, never reconnected). */
  filePath?: string;
  /** Symlinks left out of the directory index (see DirectoryIndex.symlinksSkipped). */
  skipSymlinkPrefixes?: string[];
  /** Reconnect when /sys/heartbeat has not moved for this long; 0 disables. VPP ticks every 10 s. */
  heartbeatTimeoutMs?: number;
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  busyTimeoutMs?: number;
  /**
   * How often (at most) a read also probes the socket in the background: a refused connection
   * means VPP is gone even though its socket file is left behind (kill -9), and a memfd with
   * another inode means VPP restarted. 0 disables.
   */
  probeIntervalMs?: number;
  /** How long a large directory's pages stay mapped after a re-index (default DIRECTORY_PAGES_KEPT_MS). */
  directoryPagesKeptMs?: number;
  log?: Logger;
}

/** The directory at one epoch, indexed by name. */
export class DirectoryIndex {
  readonly byName = new Map<string, StatEntry>();
  readonly entries: StatEntry[] = [];

  constructor(
    readonly epoch: number,
    /** Length of the directory vector (slots), counting skipped ones. */
    readonly length: number,
    readonly symlinksSkipped: readonly string[],
  ) {}

  get(name: string): StatEntry | undefined {
    return this.byName.get(name);
  }
}

export interface StatsClientCounters {
  /** Successful (re)connections after the first. */
  reconnects: number;
  /** Snapshot attempts beyond the first (epoch moved or in_progress set during a read). */
  retries: number;
  /** Directory re-indexes after an epoch change. */
  reindexes: number;
  /** Failed reads (busy, corrupt, disconnected). */
  failures: number;
}

export interface Snapshot {
  index: DirectoryIndex;
  view: SnapshotView;
  /** Directory slots in the order of the view's entries. */
  slots: Uint32Array;
  /** When this client first mapped the segment the snapshot was read from (ms since the epoch). */
  segmentSince: number;
  /**
   * Hands the value buffer back for the next snapshot to fill. Call it when done with the view,
   * and never use the view afterwards; a snapshot never released is simply garbage collected.
   */
  release(): void;
}

/** Chooses which directory slots a caller needs; called again only when the epoch changes. */
export type Selector = (index: DirectoryIndex) => ArrayLike<number>;

const STALE_RETRIES = 4;
/**
 * A large directory's pages (25 MB at 10k interfaces, mostly symlinks) are given back right after
 * a re-index, unless the re-index before it was less than this long ago: while interfaces come and
 * go, they stay mapped (the next re-index then takes about 2 ms at 10k instead of 4.5-5 ms faulting
 * them in) until this long after the last re-index. At rest they do not count in our RSS.
 */
const DIRECTORY_PAGES_KEPT_MS = 10_000;

export class StatsClient extends EventEmitter {
  readonly counters: StatsClientCounters = { reconnects: 0, retries: 0, reindexes: 0, failures: 0 };
  lastError: Error | undefined;

  private seg: NativeStatSegment | undefined;
  private index: DirectoryIndex | undefined;
  private releaseDirectoryTimer: NodeJS.Timeout | undefined;
  private lastReindexAt = -Infinity;
  private socketInode = 0;
  private segmentInode = 0;
  /**
   * When the current segment was first mapped (ms since the epoch): a remap of the same segment
   * (same memfd inode, e.g. after a frozen heartbeat) keeps it, a new segment (VPP restarted) moves it.
   */
  private segmentSince = 0;
  private lastProbe = 0;
  private probing = false;
  private connecting: Promise<boolean> | undefined;
  private everConnected = false;
  private nextAttempt = 0;
  private backoffMs: number;
  private heartbeat = -1n;
  private heartbeatChangedAt = 0;
  private readonly selections = new WeakMap<Selector, { epoch: number; slots: Uint32Array }>();
  /** A released snapshot's value buffer, reused by the next snapshot (see Snapshot.release). */
  private spare: ArrayBuffer | undefined;
  private readonly log: Logger;
  private closed = false;

  constructor(private readonly opts: StatsClientOptions) {
    super();
    if ((opts.socketPath === undefined) === (opts.filePath === undefined)) {
      throw new TypeError('StatsClient: give exactly one of socketPath and filePath');
    }
    this.backoffMs = opts.backoffInitialMs ?? 100;
    this.log = opts.log ?? logger('stats');
  }

  /** True while a segment is mapped and believed live. */
  get up(): boolean {
    return this.seg !== undefined;
  }

  get epoch(): number | undefined {
    return this.index?.epoch;
  }

  /**
   * Connect if not connected and the backoff allows; resolves true when a segment is mapped.
   * Never throws for an unreachable VPP: the error is kept in lastError and retried later.
   */
  async connect(): Promise<boolean> {
    if (this.seg) return true;
    if (this.closed) return false;
    if (this.connecting) return this.connecting;
    if (Date.now() < this.nextAttempt) return false;
    this.connecting = this.doConnect().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async doConnect(): Promise<boolean> {
    try {
      let seg: NativeStatSegment;
      if (this.opts.filePath !== undefined) {
        seg = native().StatSegment.openFile(this.opts.filePath);
      } else {
        const inode = fs.statSync(this.opts.socketPath!).ino;
        seg = await native().StatSegment.openSocketAsync(this.opts.socketPath!);
        this.socketInode = inode;
      }
      if (this.closed) {
        seg.close();
        return false;
      }
      this.seg = seg;
      if (seg.inode !== this.segmentInode || this.segmentSince === 0) this.segmentSince = Date.now();
      this.segmentInode = seg.inode;
      this.lastProbe = Date.now();
      this.index = undefined;
      this.heartbeat = -1n;
      this.heartbeatChangedAt = Date.now();
      this.backoffMs = this.opts.backoffInitialMs ?? 100;
      if (this.everConnected) this.counters.reconnects++;
      this.everConnected = true;
      this.lastError = undefined;
      this.log.info({ source: this.opts.socketPath ?? this.opts.filePath, size: seg.size }, 'stats segment mapped');
      this.emit('connect');
      return true;
    } catch (e) {
      this.fail(e as Error, 'connect');
      return false;
    }
  }

  /** Unmap now (VPP went away); the next connect() is subject to backoff. */
  private drop(reason: string): void {
    clearTimeout(this.releaseDirectoryTimer);
    this.releaseDirectoryTimer = undefined;
    if (this.seg) {
      this.seg.close();
      this.seg = undefined;
      this.index = undefined;
      if (this.closed) this.log.debug({ reason }, 'stats segment unmapped');
      else this.log.warn({ reason }, 'stats segment unmapped');
      this.emit('disconnect', reason);
    }
  }

  private fail(e: Error, during: string): void {
    this.counters.failures++;
    this.lastError = e;
    this.nextAttempt = Date.now() + this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.opts.backoffMaxMs ?? 2000);
    this.log.debug({ err: e.message, during }, 'stats read failed');
  }

  /** Checks that the mapping still belongs to the running VPP. */
  private stillLive(): boolean {
    if (this.opts.socketPath === undefined || !this.seg) return true;
    let ino: number;
    try {
      ino = fs.statSync(this.opts.socketPath).ino;
    } catch {
      this.drop('stats socket is gone');
      return false;
    }
    if (ino !== this.socketInode) {
      this.drop('stats socket was re-created (VPP restarted)');
      return false;
    }
    this.maybeProbe();
    return true;
  }

  private maybeProbe(): void {
    const interval = this.opts.probeIntervalMs ?? 1000;
    if (interval <= 0 || this.probing || Date.now() - this.lastProbe < interval) return;
    this.probing = true;
    this.lastProbe = Date.now();
    const seg = this.seg;
    native()
      .StatSegment.probeSocketAsync(this.opts.socketPath!)
      .then(
        (inode) => {
          if (this.seg === seg && inode !== this.segmentInode) this.drop('the stats socket hands out a new segment (VPP restarted)');
        },
        (e: unknown) => {
          // Refused: nobody listens on the socket any more. A timeout (RECV_FD) is a stopped or
          // busy VPP whose segment is still the current one: keep it.
          if (this.seg === seg && isStatsError(e, 'CONNECT')) this.drop(`stats socket refuses connections: ${(e as Error).message}`);
        },
      )
      .finally(() => (this.probing = false));
  }

  private reindex(seg: NativeStatSegment): DirectoryIndex {
    const skip = this.opts.skipSymlinkPrefixes ?? [];
    const keptMs = this.opts.directoryPagesKeptMs ?? DIRECTORY_PAGES_KEPT_MS;
    const now = performance.now();
    const churning = now - this.lastReindexAt < keptMs;
    this.lastReindexAt = now;
    const d = seg.directory({ skipSymlinkPrefixes: skip, keepPages: churning });
    clearTimeout(this.releaseDirectoryTimer);
    this.releaseDirectoryTimer = churning ? setTimeout(() => seg.releaseDirectoryPages(), keptMs).unref() : undefined;
    const index = new DirectoryIndex(d.epoch, d.length, skip);
    for (let i = 0; i < d.names.length; i++) {
      const type = d.type[i];
      const e: StatEntry = { index: d.index[i], name: d.names[i], type };
      if (type === StatType.SYMLINK) {
        const raw = d.value[i];
        e.target = Number(raw & 0xffffffffn);
        e.column = Number(raw >> 32n);
      }
      index.entries.push(e);
      index.byName.set(e.name, e);
    }
    if (this.index) this.counters.reindexes++;
    this.index = index;
    return index;
  }

  /** The current directory index, re-read if the epoch moved. Connects if needed. */
  async directory(): Promise<DirectoryIndex | undefined> {
    if (!(await this.connect()) || !this.stillLive()) return undefined;
    const seg = this.seg!;
    try {
      if (!this.index || seg.header().epoch !== this.index.epoch) this.reindex(seg);
      return this.index;
    } catch (e) {
      this.onReadError(e as Error);
      return undefined;
    }
  }

  /**
   * One epoch-consistent snapshot of the slots `select` picks. Returns undefined when VPP is
   * not reachable or the read failed (see lastError); never throws for those.
   */
  async snapshot(select: Selector, opts: { perThread?: boolean } = {}): Promise<Snapshot | undefined> {
    if (!(await this.connect()) || !this.stillLive()) return undefined;
    const seg = this.seg!;
    try {
      for (let attempt = 0; ; attempt++) {
        const index = this.index && seg.header().epoch === this.index.epoch ? this.index : this.reindex(seg);
        const slots = this.slotsFor(select, index);
        const into = this.spare;
        this.spare = undefined;
        try {
          const raw = seg.snapshot(slots, {
            perThread: opts.perThread ?? false,
            epoch: index.epoch,
            busyTimeoutMs: this.opts.busyTimeoutMs ?? 100,
            ...(into ? { into } : {}),
          });
          const buffer = raw.values.buffer as ArrayBuffer;
          if (into && buffer !== into) this.spare = into; // too small: keep it for a smaller read
          this.counters.retries += raw.attempts - 1;
          const view = new SnapshotView(raw);
          this.checkHeartbeat(view, slots, index);
          let released = false;
          const release = (): void => {
            if (released) return;
            released = true;
            if (!this.spare || this.spare.byteLength < buffer.byteLength) this.spare = buffer;
          };
          return { index, view, slots, segmentSince: this.segmentSince, release };
        } catch (e) {
          if (into) this.spare = into;
          if (isStatsError(e, 'STALE') && attempt < STALE_RETRIES) {
            this.counters.retries++;
            this.index = undefined;
            continue;
          }
          throw e;
        }
      }
    } catch (e) {
      this.onReadError(e as Error);
      return undefined;
    }
  }

  private slotsFor(select: Selector, index: DirectoryIndex): Uint32Array {
    const cached = this.selections.get(select);
    if (cached && cached.epoch === index.epoch) return cached.slots;
    const slots = Uint32Array.from(select(index));
    this.selections.set(select, { epoch: index.epoch, slots });
    return slots;
  }

  private checkHeartbeat(view: SnapshotView, slots: Uint32Array, index: DirectoryIndex): void {
    const timeout = this.opts.heartbeatTimeoutMs ?? 0;
    if (timeout <= 0 || this.opts.socketPath === undefined) return;
    const hb = index.get('/sys/heartbeat');
    if (!hb) return;
    const k = slots.indexOf(hb.index);
    if (k < 0) return;
    const value = view.values[view.firstValueIndex(k)];
    const now = Date.now();
    if (value !== this.heartbeat) {
      this.heartbeat = value;
      this.heartbeatChangedAt = now;
    } else if (now - this.heartbeatChangedAt > timeout) {
      // A frozen heartbeat with an unchanged socket inode: VPP hung or restarted in place.
      // Remapping is cheap and shows which.
      this.drop(`heartbeat frozen for ${now - this.heartbeatChangedAt} ms`);
    }
  }

  private onReadError(e: Error): void {
    if (e instanceof StatsError && (e.code === 'BUSY' || e.code === 'STALE')) {
      this.fail(e, 'read');
      return;
    }
    // A bad pointer or version on a live segment: the mapping no longer describes VPP.
    this.drop(`read failed: ${e.message}`);
    this.fail(e, 'read');
  }

  close(): void {
    this.closed = true;
    this.drop('closed');
  }
}

/** Selector for every slot of the index (for dumps). */
export const selectAll: Selector = (index) => index.entries.map((e) => e.index);
