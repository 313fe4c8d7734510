/**
 * A VPP API server for tests that answers with the frames a real VPP 26.10 sent in the recorded
 * sessions (../shared/fixtures/vpp-26.10/api-session-*.json). It uses none of the code under test
 * (no codec, no transport): frames are cut and matched on raw bytes.
 *
 * For each frame the client sends:
 *   1. sockclnt_create (id 15) is answered with the recorded 974-entry sockclnt_create_reply,
 *      its context re-stamped to the client's (optionally with table edits, see TableEdit).
 *   2. Any other id is looked up in the table this connection was given. An id outside it gets
 *      no reply (VPP drops it: "no handler for msg id") and is logged in `unmatched`; an id whose
 *      table entry is not the message the recording used there (a renamed, i.e. CRC-mismatched,
 *      entry) is a `violation`: a client must never send it.
 *   3. The frame is matched to a recorded request: by the client's context when an earlier frame
 *      with that context was matched (the control_ping after a dump), else by its bytes with
 *      client_index, context (and the pid of want_*, the name of sockclnt_create) masked; an
 *      unused recording first, then any (so requests can repeat).
 *   4. The recorded replies with that recorded context are sent with the client's context:
 *      `X_reply` for a request, `X_details` for `X_dump`, `control_ping_reply` for a ping; events
 *      recorded after a reply (sw_interface_event after sw_interface_set_flags) follow it.
 * The captures' order across directions is not always request-before-reply, which is why
 * matching goes by context and never by position.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { tmpDir } from '../helpers/paths.js';
import { baseName, loadSession, SESSIONS, type Frame, type SessionName } from './session.js';

export const HEADER_SIZE = 16;
export const RECORDED_CLIENT_INDEX = 0x80000001;
/** Ids up to here are memclnt's, fixed by its .api order; id shifts leave them alone. */
const FIXED_IDS = 20;

export interface TableEdit {
  /** `<name>_<crc>` -> another key (e.g. another CRC): the client must refuse that message. */
  readonly rename?: Readonly<Record<string, string>>;
  /** Entries to leave out. */
  readonly remove?: readonly string[];
  /** Rotate every id above 20 by this much: the same messages under new ids. */
  readonly idShift?: number;
}

export interface ReplayOptions {
  readonly sessions?: readonly SessionName[];
  /** The table edit for connection number n (1 = the first). */
  readonly table?: (connection: number) => TableEdit | undefined;
  /** Send the reply groups answered from one read in random order (VPP never does). */
  readonly shuffle?: boolean;
  /** Called after the handshake reply of each connection was written. */
  readonly afterHandshake?: (c: ReplayConnection) => void;
}

export interface Received {
  readonly connection: number;
  readonly id: number;
  /** The served table's name for the id, or null. */
  readonly name: string | null;
  readonly context: number;
  /** The recorded frame it was matched to. */
  readonly matched: string | null;
}

interface Recorded {
  readonly session: SessionName;
  readonly frame: Frame;
  readonly base: string;
  /** `session:context`, or null for events. */
  readonly key: string | null;
  uses: number;
}

export interface ReplayConnection {
  readonly number: number;
  readonly socket: net.Socket;
  write(bytes: Buffer): void;
  destroy(): void;
}

interface ConnState extends ReplayConnection {
  handshaken: boolean;
  readonly ctxMap: Map<number, string>;
  readonly servedName: Map<number, string>;
  readonly toServed: (id: number) => number;
  readonly toRecorded: (id: number) => number;
  readonly tableReply: { header: Buffer; body: Buffer };
  pending: Buffer;
}

function isEvent(base: string): boolean {
  return base.endsWith('_event');
}

function replyBase(base: string): string {
  if (base === 'sockclnt_create') return 'sockclnt_create_reply';
  if (base.endsWith('_dump')) return `${base.slice(0, -'_dump'.length)}_details`;
  return `${base}_reply`;
}

/** Where the context is in a server->client body (null: an event has none). */
function s2cContextOffset(base: string): number | null {
  if (isEvent(base)) return null;
  return base === 'sockclnt_create_reply' ? 6 : 2;
}

/** Bytes that legitimately differ between the recording and any client. */
function maskedKey(base: string, body: Buffer): string {
  const b = Buffer.from(body);
  b.fill(0, 0, 2); // the id: checked against the connection's table instead
  if (base === 'sockclnt_create') {
    b.fill(0, 2, Math.min(b.length, 70)); // context, client name
  } else {
    b.fill(0, 2, Math.min(b.length, 10)); // client_index, context
    if (base.startsWith('want_') && b.length >= 18) b.fill(0, 14, 18); // pid
  }
  return `${base}:${b.toString('hex')}`;
}

interface TableEntry {
  index: number;
  name: string;
}

function parseTable(body: Buffer): { prefix: Buffer; entries: TableEntry[] } {
  const count = body.readUInt16BE(18);
  const entries: TableEntry[] = [];
  for (let i = 0; i < count; i++) {
    const at = 20 + i * 66;
    const raw = body.subarray(at + 2, at + 66);
    const nul = raw.indexOf(0);
    entries.push({ index: body.readUInt16BE(at), name: raw.subarray(0, nul < 0 ? 64 : nul).toString('latin1') });
  }
  return { prefix: Buffer.from(body.subarray(0, 18)), entries };
}

function buildTable(prefix: Buffer, entries: readonly TableEntry[]): Buffer {
  const out = Buffer.alloc(20 + entries.length * 66);
  prefix.copy(out, 0);
  out.writeUInt16BE(entries.length, 18);
  entries.forEach((e, i) => {
    const at = 20 + i * 66;
    out.writeUInt16BE(e.index, at);
    out.write(e.name, at + 2, 63, 'latin1');
  });
  return out;
}

export class ReplayServer {
  readonly path: string;
  readonly received: Received[] = [];
  readonly unmatched: Received[] = [];
  readonly violations: string[] = [];
  /** Handshakes answered (sockclnt_create frames). */
  handshakes = 0;
  connections = 0;
  private readonly server: net.Server;
  private readonly conns = new Set<ConnState>();
  private readonly recorded: Recorded[] = [];
  private readonly byMasked = new Map<string, Recorded[]>();
  private readonly byKeyAndBase = new Map<string, Recorded[]>();
  /** Recorded server frames by `session:context`, in recorded order, each with the events after it. */
  private readonly repliesByKey = new Map<string, { frame: Recorded; events: Recorded[] }[]>();
  private readonly tableFrame: Frame;
  private readonly recordedTable: { prefix: Buffer; entries: TableEntry[] };
  private readonly recordedNameById: ReadonlyMap<number, string>;
  private readonly maxId: number;
  private frozen = false;
  private readonly opts: ReplayOptions;
  private readonly waiters: (() => void)[] = [];

  private constructor(socketPath: string, opts: ReplayOptions) {
    this.path = socketPath;
    this.opts = opts;
    const sessions = opts.sessions ?? SESSIONS;
    let table: Frame | null = null;
    for (const session of sessions) {
      let lastReply: { frame: Recorded; events: Recorded[] } | null = null;
      for (const frame of loadSession(session)) {
        const base = baseName(frame.name);
        if (frame.dir === 'c2s') {
          const ctxOff = base === 'sockclnt_create' ? 2 : 6;
          const r: Recorded = { session, frame, base, key: `${session}:${frame.body.readUInt32BE(ctxOff)}`, uses: 0 };
          this.recorded.push(r);
          const mk = maskedKey(base, frame.body);
          this.byMasked.set(mk, [...(this.byMasked.get(mk) ?? []), r]);
          const kb = `${r.key}:${base}`;
          this.byKeyAndBase.set(kb, [...(this.byKeyAndBase.get(kb) ?? []), r]);
          continue;
        }
        if (base === 'sockclnt_create_reply') table ??= frame;
        const off = s2cContextOffset(base);
        if (off === null) {
          // An event: it follows the reply recorded just before it.
          lastReply?.events.push({ session, frame, base, key: null, uses: 0 });
          continue;
        }
        const key = `${session}:${frame.body.readUInt32BE(off)}`;
        const item = { frame: { session, frame, base, key, uses: 0 }, events: [] };
        this.repliesByKey.set(key, [...(this.repliesByKey.get(key) ?? []), item]);
        lastReply = item;
      }
    }
    if (table === null) throw new Error('replay: no sockclnt_create_reply recorded');
    this.tableFrame = table;
    this.recordedTable = parseTable(table.body);
    this.recordedNameById = new Map(this.recordedTable.entries.map((e) => [e.index, e.name]));
    this.maxId = Math.max(...this.recordedTable.entries.map((e) => e.index));
    this.server = net.createServer((socket) => this.accept(socket));
  }

  /** Listens on `socketPath` (a fresh one in a temporary directory by default). */
  static async start(opts: ReplayOptions = {}, socketPath?: string): Promise<ReplayServer> {
    const p = socketPath ?? path.join(tmpDir('binapi-replay-'), 'api.sock');
    fs.rmSync(p, { force: true });
    const s = new ReplayServer(p, opts);
    await new Promise<void>((resolve, reject) => {
      s.server.once('error', reject);
      s.server.listen(s.path, () => resolve());
    });
    return s;
  }

  /** Every recorded client frame that no client frame matched yet. */
  unusedRecordings(session?: SessionName): string[] {
    return this.recorded.filter((r) => r.uses === 0 && (session === undefined || r.session === session)).map((r) => `${r.session}#${r.frame.index} ${r.frame.name}`);
  }

  /** Stops reading and answering, like a SIGSTOPped VPP (the kernel still buffers). */
  freeze(): void {
    this.frozen = true;
    for (const c of this.conns) c.socket.pause();
  }

  thaw(): void {
    this.frozen = false;
    for (const c of this.conns) c.socket.resume();
  }

  /** Closes every client connection (VPP restarting, as the client sees it). */
  dropAll(): void {
    for (const c of this.conns) c.socket.destroy();
  }

  /** Writes raw bytes to every connection. */
  inject(bytes: Buffer): void {
    for (const c of this.conns) c.write(bytes);
  }

  get openConnections(): number {
    return this.conns.size;
  }

  /** Resolves when `check` is true, re-checked after every frame received and every 10 ms. */
  async until(check: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`replay server: timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 10);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  async close(): Promise<void> {
    for (const c of this.conns) c.socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: net.Socket): void {
    const number = ++this.connections;
    const edit = this.opts.table?.(number);
    const shift = edit?.idShift ?? 0;
    const span = this.maxId - FIXED_IDS;
    const toServed = (id: number): number => (id <= FIXED_IDS ? id : FIXED_IDS + 1 + ((((id - FIXED_IDS - 1 + shift) % span) + span) % span));
    const toRecorded = (id: number): number => (id <= FIXED_IDS ? id : FIXED_IDS + 1 + ((((id - FIXED_IDS - 1 - shift) % span) + span) % span));
    const removed = new Set(edit?.remove ?? []);
    const entries = this.recordedTable.entries
      .filter((e) => !removed.has(e.name))
      .map((e) => ({ index: toServed(e.index), name: edit?.rename?.[e.name] ?? e.name }));
    const body = buildTable(this.recordedTable.prefix, entries);
    const header = Buffer.from(this.tableFrame.header);
    header.writeUInt32BE(body.length, 8);
    const c: ConnState = {
      number,
      socket,
      handshaken: false,
      ctxMap: new Map(),
      servedName: new Map(entries.map((e) => [e.index, e.name])),
      toServed,
      toRecorded,
      tableReply: { header, body },
      pending: Buffer.alloc(0),
      write: (bytes: Buffer) => {
        if (!socket.destroyed) socket.write(bytes);
      },
      destroy: () => socket.destroy(),
    };
    this.conns.add(c);
    socket.on('error', () => undefined);
    socket.on('close', () => this.conns.delete(c));
    socket.on('data', (chunk: Buffer) => this.onData(c, chunk));
    if (this.frozen) socket.pause();
  }

  private onData(c: ConnState, chunk: Buffer): void {
    c.pending = c.pending.length === 0 ? chunk : Buffer.concat([c.pending, chunk]);
    // Answers grouped by the client's context, so that shuffling keeps a dump's details before
    // its control_ping_reply.
    const byContext = new Map<number, Buffer[]>();
    let afterHandshake = false;
    while (c.pending.length >= HEADER_SIZE) {
      const len = c.pending.readUInt32BE(8);
      if (c.pending.length < HEADER_SIZE + len) break;
      const body = Buffer.from(c.pending.subarray(HEADER_SIZE, HEADER_SIZE + len));
      c.pending = c.pending.subarray(HEADER_SIZE + len);
      const wasHandshaken = c.handshaken;
      const out = this.handle(c, body);
      if (out.length > 0) {
        const context = body.length >= 10 ? body.readUInt32BE(body.readUInt16BE(0) === 15 ? 2 : 6) : -1;
        const g = byContext.get(context);
        if (g === undefined) byContext.set(context, out);
        else g.push(...out);
      }
      if (!wasHandshaken && c.handshaken) afterHandshake = true;
    }
    const groups = [...byContext.values()];
    if (this.opts.shuffle === true) {
      for (let i = groups.length - 1; i > 0; i--) {
        const j = Math.floor(Math.random() * (i + 1));
        [groups[i], groups[j]] = [groups[j], groups[i]];
      }
    }
    const bytes = groups.flat();
    if (bytes.length > 0) c.write(Buffer.concat(bytes));
    if (afterHandshake) this.opts.afterHandshake?.(c);
    for (const w of this.waiters.splice(0)) w();
  }

  private frame(header: Buffer, body: Buffer): Buffer[] {
    const h = Buffer.from(header);
    h.writeUInt32BE(body.length, 8);
    return [h, body];
  }

  /** The frames that answer one client frame (header and body pairs, flattened). */
  private handle(c: ConnState, body: Buffer): Buffer[] {
    if (body.length < 2) {
      this.violations.push(`connection ${c.number}: a ${body.length}-byte frame`);
      return [];
    }
    const id = body.readUInt16BE(0);
    if (!c.handshaken) {
      if (id !== 15 || body.length !== 70) {
        this.violations.push(`connection ${c.number}: first frame has id ${id} (${body.length} bytes), not sockclnt_create`);
        return [];
      }
      c.handshaken = true;
      this.handshakes++;
      const context = body.readUInt32BE(2);
      const rec = this.recorded.find((r) => r.base === 'sockclnt_create');
      if (rec) rec.uses++;
      this.received.push({ connection: c.number, id, name: 'sockclnt_create', context, matched: rec ? `${rec.session}#${rec.frame.index}` : null });
      const reply = Buffer.from(c.tableReply.body);
      reply.writeUInt32BE(context, 6);
      return this.frame(c.tableReply.header, reply);
    }
    const context = body.length >= 10 ? body.readUInt32BE(6) : 0;
    const served = c.servedName.get(id) ?? null;
    const entry: Received = { connection: c.number, id, name: served, context, matched: null };
    if (served === null) {
      this.unmatched.push(entry);
      this.received.push(entry);
      return [];
    }
    const recordedId = c.toRecorded(id);
    const recordedName = this.recordedNameById.get(recordedId);
    if (recordedName !== served) {
      this.violations.push(`connection ${c.number}: id ${id} sent, whose table entry is ${served} (a message the client must not use)`);
      this.received.push(entry);
      return [];
    }
    if (body.length >= 6 && body.readUInt32BE(2) !== RECORDED_CLIENT_INDEX) {
      this.violations.push(`connection ${c.number}: ${served} with client_index 0x${body.readUInt32BE(2).toString(16)}`);
    }
    const base = baseName(served);
    let rec: Recorded | undefined;
    const mapped = c.ctxMap.get(context);
    if (mapped !== undefined) rec = this.byKeyAndBase.get(`${mapped}:${base}`)?.[0];
    if (rec === undefined) {
      const candidates = this.byMasked.get(maskedKey(base, body)) ?? [];
      rec = candidates.find((r) => r.uses === 0) ?? candidates[0];
    }
    if (rec === undefined || rec.key === null) {
      this.unmatched.push(entry);
      this.received.push(entry);
      return [];
    }
    rec.uses++;
    c.ctxMap.set(context, rec.key);
    this.received.push({ ...entry, matched: `${rec.session}#${rec.frame.index}` });
    const want = replyBase(base);
    const out: Buffer[] = [];
    for (const item of this.repliesByKey.get(rec.key) ?? []) {
      if (item.frame.base !== want) continue;
      for (const r of [item.frame, ...item.events]) {
        const b = Buffer.from(r.frame.body);
        b.writeUInt16BE(c.toServed(r.frame.msgId), 0);
        const off = s2cContextOffset(r.base);
        if (off !== null) b.writeUInt32BE(context, off);
        out.push(...this.frame(r.frame.header, b));
      }
    }
    return out;
  }
}
