/**
 * What the link-event engine must remember across its own restarts: the last state it emitted per
 * interface (so that a restart emits only what changed meanwhile, as "resync") and the sequence
 * number (so that it keeps increasing).
 *
 * Files in the state directory:
 *   snapshot.json   {"version":1,"instance":...,"lastSeq":n,"reserved":n,"interfaces":[[sw,name,admin,link],...]}
 *   journal.jsonl   one line per committed batch {"q":lastSeq,"i":[[sw,name,admin,link] | [sw,null]]}
 *                   and per reservation {"r":n}
 * The journal is appended (state lines without fsync: a crash of the process keeps them, a power
 * loss may cost the last ones, which the resync after the restart emits again; reservation lines
 * with fdatasync); when it grows past a limit the state is
 * written as a new snapshot (temporary file, fsync, rename) and the journal starts over. A torn last
 * line (a crash during a write) is ignored and cut off.
 *
 * Sequence numbers are reserved in blocks: a reservation is on disk before any number of it is
 * used, and a restart continues after the last reservation, so numbers never repeat, even when the
 * state of the last events did not reach the disk (they are then emitted again by the resync, with
 * new numbers).
 */
import fsp, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../log.js';

export interface LinkState {
  readonly swIfIndex: number;
  readonly name: string;
  readonly adminUp: boolean;
  readonly linkUp: boolean;
}

type Row = [number, string, boolean, boolean];
type Entry = Row | [number, null];

interface Snapshot {
  version: 1;
  instance: string;
  lastSeq: number;
  reserved: number;
  interfaces: Row[];
}

const SNAPSHOT = 'snapshot.json';
const JOURNAL = 'journal.jsonl';
export const SEQ_BLOCK = 10_000;
const JOURNAL_LIMIT = 4 * 1024 * 1024;

export interface LinkStateStoreOptions {
  readonly dir: string;
  readonly instance: string;
  readonly logger?: Logger;
  /** Sequence numbers reserved at a time (default 10000). */
  readonly seqBlock?: number;
  /** Journal bytes before a new snapshot is written (default 4 MiB). */
  readonly journalLimit?: number;
}

export class LinkStateStore {
  readonly state = new Map<number, LinkState>();
  /** Moves whenever `state` changes (readers cache what they derive from it). */
  private versionValue = 0;
  private lastSeqValue = 0;
  private reserved = 0;
  private journal: FileHandle | null = null;
  private journalBytes = 0;
  private pending: string[] = [];
  private writing: Promise<void> | null = null;
  private readonly seqBlock: number;
  private readonly journalLimit: number;
  private failed = false;
  private syncWanted = false;

  private constructor(private readonly o: LinkStateStoreOptions) {
    this.seqBlock = o.seqBlock ?? SEQ_BLOCK;
    this.journalLimit = o.journalLimit ?? JOURNAL_LIMIT;
  }

  static async open(o: LinkStateStoreOptions): Promise<LinkStateStore> {
    const s = new LinkStateStore(o);
    await fsp.mkdir(o.dir, { recursive: true });
    await s.load();
    return s;
  }

  /** The last sequence number handed out. */
  get lastSeq(): number {
    return this.lastSeqValue;
  }

  /**
   * Hands out `n` sequence numbers (the first is returned), reserving a new block on disk first
   * when the current one does not cover them.
   */
  async nextSeqs(n: number): Promise<number> {
    const first = this.lastSeqValue + 1;
    const last = this.lastSeqValue + n;
    if (last > this.reserved) {
      const reserved = last + this.seqBlock;
      await this.write(JSON.stringify({ r: reserved }) + '\n', true);
      this.reserved = reserved;
    }
    this.lastSeqValue = last;
    return first;
  }

  /**
   * Records states that were emitted (undefined: deleted) in memory at once and on disk in the
   * background (group commit). Losing the last few to a crash only means they are emitted again.
   */
  commit(changes: ReadonlyMap<number, LinkState | undefined>): void {
    const entries: Entry[] = [];
    for (const [sw, st] of changes) {
      if (st === undefined) {
        this.state.delete(sw);
        entries.push([sw, null]);
      } else {
        this.state.set(sw, st);
        entries.push([sw, st.name, st.adminUp, st.linkUp]);
      }
    }
    if (entries.length === 0) return;
    this.versionValue++;
    void this.write(JSON.stringify({ q: this.lastSeqValue, i: entries }) + '\n').catch(() => undefined);
  }

  get version(): number {
    return this.versionValue;
  }

  /** Waits until everything committed is on disk. */
  async flush(): Promise<void> {
    while (this.writing !== null) await this.writing;
  }

  async close(): Promise<void> {
    await this.flush();
    await this.journal?.datasync().catch(() => undefined);
    await this.journal?.close().catch(() => undefined);
    this.journal = null;
  }

  // ---- disk ----------------------------------------------------------------------------------

  /** `durable`: fdatasync before resolving (sequence reservations); state lines need not wait for it. */
  private write(line: string, durable = false): Promise<void> {
    this.pending.push(line);
    if (durable) this.syncWanted = true;
    this.writing ??= this.writeLoop();
    return this.writing;
  }

  private async writeLoop(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const text = this.pending.join('');
        this.pending = [];
        try {
          if (this.journalBytes + text.length > this.journalLimit) await this.writeSnapshot();
          this.journal ??= await fsp.open(path.join(this.o.dir, JOURNAL), 'a');
          await this.journal.write(text);
          // State lines are not fsynced (a power loss costs at most a re-derived event); a
          // sequence reservation is, before any of its numbers is used.
          if (this.syncWanted) {
            this.syncWanted = false;
            await this.journal.datasync();
          }
          this.journalBytes += Buffer.byteLength(text);
          if (this.failed) {
            this.failed = false;
            this.o.logger?.info('link state journal writable again');
          }
        } catch (e) {
          // Sequence reservations wait for this and fail with it; state lines are only delayed
          // knowledge (a restart re-derives them).
          if (!this.failed) this.o.logger?.error({ err: e }, 'link state journal write failed');
          this.failed = true;
          await this.journal?.close().catch(() => undefined);
          this.journal = null;
          throw e;
        }
      }
    } finally {
      this.writing = null;
    }
  }

  private async writeSnapshot(): Promise<void> {
    const snap: Snapshot = {
      version: 1,
      instance: this.o.instance,
      lastSeq: this.lastSeqValue,
      reserved: this.reserved,
      interfaces: [...this.state.values()].map((s) => [s.swIfIndex, s.name, s.adminUp, s.linkUp]),
    };
    const file = path.join(this.o.dir, SNAPSHOT);
    const tmp = file + '.tmp';
    const fh = await fsp.open(tmp, 'w');
    try {
      await fh.writeFile(JSON.stringify(snap));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fsp.rename(tmp, file);
    const dir = await fsp.open(this.o.dir, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
    await this.journal?.close();
    this.journal = await fsp.open(path.join(this.o.dir, JOURNAL), 'w');
    this.journalBytes = 0;
  }

  private async load(): Promise<void> {
    const log = this.o.logger;
    let snapshotSeq = 0;
    let foreign = false;
    try {
      const snap = JSON.parse(await fsp.readFile(path.join(this.o.dir, SNAPSHOT), 'utf8')) as Partial<Snapshot>;
      if (snap.version !== 1 || !Array.isArray(snap.interfaces)) throw new Error('not a version 1 snapshot');
      this.lastSeqValue = Number(snap.lastSeq) || 0;
      this.reserved = Number(snap.reserved) || 0;
      snapshotSeq = this.lastSeqValue;
      if (snap.instance !== this.o.instance) {
        foreign = true;
        log?.warn({ stored: snap.instance, instance: this.o.instance }, 'link state belongs to another instance name: interfaces start from scratch');
      } else {
        for (const r of snap.interfaces) this.apply([r[0], r[1], r[2], r[3]]);
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') log?.error({ err: e }, 'link state snapshot unreadable: starting from an empty state');
    }
    let text = '';
    try {
      text = await fsp.readFile(path.join(this.o.dir, JOURNAL), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    let good = 0;
    for (const line of text.split('\n')) {
      if (line === '') break;
      let rec: { r?: unknown; q?: unknown; i?: unknown };
      try {
        rec = JSON.parse(line) as typeof rec;
      } catch {
        break;
      }
      good += Buffer.byteLength(line) + 1;
      if (typeof rec.r === 'number') this.reserved = Math.max(this.reserved, rec.r);
      if (typeof rec.q === 'number' && Array.isArray(rec.i)) {
        this.lastSeqValue = Math.max(this.lastSeqValue, rec.q);
        // Lines older than the snapshot may remain after a crash between snapshot and truncation.
        if (rec.q > snapshotSeq && !foreign) for (const e of rec.i as Entry[]) this.apply(e);
      }
    }
    const size = Buffer.byteLength(text);
    if (good < size) {
      log?.warn({ keptBytes: good, cutBytes: size - good }, 'link state journal ends in a torn line: cut off');
      const fh = await fsp.open(path.join(this.o.dir, JOURNAL), 'r+');
      try {
        await fh.truncate(good);
        await fh.sync();
      } finally {
        await fh.close();
      }
    }
    this.journalBytes = good;
    // Whatever was handed out before, it was at most the reservation.
    this.lastSeqValue = Math.max(this.lastSeqValue, this.reserved);
  }

  private apply(e: Entry): void {
    const [sw, name] = e;
    if (typeof sw !== 'number') return;
    this.versionValue++;
    if (name === null) this.state.delete(sw);
    else if (e.length === 4 && typeof name === 'string') this.state.set(sw, { swIfIndex: sw, name, adminUp: e[2] === true, linkUp: e[3] === true });
  }
}
