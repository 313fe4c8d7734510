/**
 * One client of the simulated API socket: the frame reassembler (the same FrameReader our client
 * uses) on the way in, and on the way out a staging buffer that collects every frame produced
 * while one read batch is handled, written to the socket in one write afterwards.
 *
 * Frames out carry VPP's 16-byte msgbuf header: 8 bytes of `q` (VPP sends a pointer of its own
 * there, never 0: we send a constant that looks like one), the big-endian data_len, 4 zero bytes.
 */
import type net from 'node:net';
import { FrameReader, HEADER_SIZE } from '../../binapi/transport.js';

/** What VPP 26.10 put in `q` in the captures (c0 74 04 30 01 00 00 00: a host pointer). */
const Q_GARBAGE = Buffer.from([0xc0, 0x74, 0x04, 0x30, 0x01, 0x00, 0x00, 0x00]);
/** Write early once this much is staged (a large dump), so a batch cannot grow without bound. */
const FLUSH_AT = 1 << 20;

export interface ConnectionOwner {
  /** Called when a connection gets its first staged frame of a batch. */
  markDirty(conn: ApiConnection): void;
}

export class ApiConnection {
  /** The client's registration handle: 0x80000000 | slot (VPP's SOCK_API_REG_HANDLE_BIT). */
  readonly handle: number;
  /** The name the client gave in sockclnt_create. */
  name = '';
  /** sockclnt_delete was answered: nothing more is read, the socket ends after the flush. */
  closing = false;
  readonly reader: FrameReader;
  framesOut = 0;
  private staging = Buffer.allocUnsafe(4096);
  private staged = 0;
  private paused = false;

  constructor(
    readonly socket: net.Socket,
    readonly slot: number,
    private readonly owner: ConnectionOwner,
    maxMessageSize: number,
    onBody: (conn: ApiConnection, body: Buffer) => void,
  ) {
    this.handle = (0x8000_0000 | slot) >>> 0;
    this.reader = new FrameReader(maxMessageSize, (body) => onBody(this, body));
    socket.on('drain', () => {
      if (this.paused) {
        this.paused = false;
        socket.resume();
      }
    });
  }

  /** Stages one frame (header + body). */
  push(body: Uint8Array): void {
    const at = this.reserve(body.length);
    this.staging.set(body, at);
  }

  /**
   * Stages a frame header for a body of `length` bytes and returns where in `buffer` the body
   * goes; the caller writes it there at once (before anything else is staged).
   */
  reserve(length: number): number {
    if (this.staged >= FLUSH_AT) this.flush();
    const need = this.staged + HEADER_SIZE + length;
    if (need > this.staging.length) {
      const next = Buffer.allocUnsafe(Math.max(need, this.staging.length * 2));
      this.staging.copy(next, 0, 0, this.staged);
      this.staging = next;
    }
    if (this.staged === 0) this.owner.markDirty(this);
    const s = this.staging;
    const o = this.staged;
    Q_GARBAGE.copy(s, o);
    s.writeUInt32BE(length, o + 8);
    s.writeUInt32BE(0, o + 12);
    this.staged = need;
    this.framesOut++;
    return o + HEADER_SIZE;
  }

  /** The staging buffer `reserve` returns offsets into. */
  get buffer(): Buffer {
    return this.staging;
  }

  /**
   * Writes what is staged in one write. When the kernel buffer is full the socket stops being
   * read until it drains: a client that sends without reading cannot make us buffer forever.
   */
  flush(): void {
    if (this.staged === 0) return;
    const out = Buffer.from(this.staging.subarray(0, this.staged));
    this.staged = 0;
    if (this.staging.length > 4 * FLUSH_AT) this.staging = Buffer.allocUnsafe(4096);
    if (this.socket.destroyed || !this.socket.writable) return;
    if (!this.socket.write(out) && !this.paused) {
      this.paused = true;
      this.socket.pause();
    }
  }
}
