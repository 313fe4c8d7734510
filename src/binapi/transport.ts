/*
 * Framing of VPP's binary API over its unix stream socket (/run/vpp/api.sock).
 *
 * Wire grammar (../shared/vpp/BINARY-API.md §2; VPP vlibmemory/socket_api.c, papi
 * vpp_transport_socket.py):
 *
 *   stream  := frame*
 *   frame   := header body
 *   header  := q:8 data_len:u32be gc_mark:4          16 bytes (msgbuf_t)
 *              q        sent as 0; VPP sends a pointer of its own there: ignored
 *              data_len the body's length in bytes, big-endian
 *              gc_mark  sent as 0, ignored
 *   body    := data_len bytes (u16be message id, then the message's fields)
 *
 * The socket is a byte stream: a frame may arrive in any number of pieces and several frames
 * in one piece, so frames are reassembled here. This layer is as dumb as GoVPP's socket adapter
 * (adapter/socketclient): connect, send a body, hand each received body to one callback, close.
 * It knows no message types: ids, contexts, reply matching, timeouts and reconnects belong to
 * the connection layer above.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { Encoder } from './codec/encoder.js';

export const HEADER_SIZE = 16;
/** Default largest body accepted (get_api_json_reply, the biggest VPP sends, is a few MB). */
export const DEFAULT_MAX_MESSAGE_SIZE = 64 * 1024 * 1024;
/** Staged output is written at once when it reaches this size (else at the end of the job). */
const FLUSH_AT = 16 * 1024;
const OUT_INITIAL = 16 * 1024;

export const TRANSPORT_ERROR_CODES = {
  CONNECT: { retriable: true, message: 'the API socket could not be reached' },
  TIMEOUT: { retriable: true, message: 'connecting to the API socket timed out' },
  CLOSED: { retriable: true, message: 'the API socket is closed' },
  SOCKET: { retriable: true, message: 'the API socket failed' },
  PARTIAL_FRAME: { retriable: true, message: 'the API socket closed in the middle of a frame' },
  FRAME_TOO_LARGE: { retriable: true, message: 'a frame is larger than the configured maximum' },
  /** The upper layer's bug: the connection is closed so it cannot go unnoticed. */
  CALLBACK: { retriable: false, message: 'the message callback threw' },
} as const;

export type TransportErrorCode = keyof typeof TRANSPORT_ERROR_CODES;

export class TransportError extends Error {
  readonly code: TransportErrorCode;
  readonly retriable: boolean;

  constructor(code: TransportErrorCode, detail: string, options?: { cause?: unknown }) {
    super(`${TRANSPORT_ERROR_CODES[code].message}: ${detail}`, options);
    this.name = 'TransportError';
    this.code = code;
    this.retriable = TRANSPORT_ERROR_CODES[code].retriable;
  }
}

export interface TransportOptions {
  /** Path of VPP's API socket. */
  readonly path: string;
  /** Give up connecting after this long (ms). Default 5000. */
  readonly connectTimeoutMs?: number;
  /** Largest body accepted; a bigger data_len closes the connection (FRAME_TOO_LARGE). */
  readonly maxMessageSize?: number;
}

export interface TransportStats {
  framesIn: number;
  framesOut: number;
  bytesIn: number;
  bytesOut: number;
}

/** Writes data_len into the (zeroed) 16-byte header at `at`: a frame built in place. */
export function setFrameLength(buf: Buffer, at: number, length: number): void {
  buf[at + 8] = length >>> 24;
  buf[at + 9] = length >>> 16;
  buf[at + 10] = length >>> 8;
  buf[at + 11] = length;
}

/** The 16-byte header for a body of `length` bytes. */
export function frameHeader(length: number): Buffer {
  const h = Buffer.alloc(HEADER_SIZE);
  h.writeUInt32BE(length, 8);
  return h;
}

/**
 * Reassembles frames from stream chunks. Separate from the socket so it can be fed directly.
 * Chunks are queued without copying; a body that lies within one chunk is a view of it, one
 * spanning chunks is copied once. The common case, a chunk holding whole frames and nothing
 * buffered before it, is read in place: one view per body and nothing else allocated.
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private head = 0; // offset into chunks[0]
  private buffered = 0;
  private need = -1; // body length of the frame whose header was read, -1 before that

  constructor(
    private readonly maxMessageSize: number,
    private readonly onBody: (body: Buffer) => void,
  ) {}

  /** Bytes received but not yet delivered (a partial frame). */
  get pending(): number {
    return this.buffered + (this.need >= 0 ? HEADER_SIZE : 0);
  }

  private take(n: number): Buffer {
    const first = this.chunks[0];
    if (first !== undefined && first.length - this.head >= n) {
      const out = first.subarray(this.head, this.head + n);
      this.head += n;
      if (this.head === first.length) {
        this.chunks.shift();
        this.head = 0;
      }
      this.buffered -= n;
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const c = this.chunks[0];
      const k = Math.min(n - filled, c.length - this.head);
      c.copy(out, filled, this.head, this.head + k);
      filled += k;
      this.head += k;
      if (this.head === c.length) {
        this.chunks.shift();
        this.head = 0;
      }
    }
    this.buffered -= n;
    return out;
  }

  /** data_len of the header at `at` (bytes 8..11, big-endian), checked against the maximum. */
  private bodyLength(b: Buffer, at: number): number {
    const len = ((b[at + 8] << 24) | (b[at + 9] << 16) | (b[at + 10] << 8) | b[at + 11]) >>> 0;
    if (len > this.maxMessageSize) {
      throw new TransportError('FRAME_TOO_LARGE', `data_len ${len} > ${this.maxMessageSize}`);
    }
    return len;
  }

  /** Feeds a chunk; delivers every frame it completes. Throws FRAME_TOO_LARGE. */
  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.buffered === 0 && this.need < 0) {
      this.pushWhole(chunk);
      return;
    }
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    this.drain();
  }

  /** Nothing buffered: reads the frames of `chunk` in place, queues what is left of it. */
  private pushWhole(chunk: Buffer): void {
    const end = chunk.length;
    let at = 0;
    try {
      while (end - at >= HEADER_SIZE) {
        const len = this.bodyLength(chunk, at);
        if (end - at - HEADER_SIZE < len) break;
        const start = at + HEADER_SIZE;
        at = start + len;
        this.onBody(chunk.subarray(start, at));
      }
    } finally {
      // Also when onBody or the size check threw: what was not delivered stays queued, as the
      // general path would leave it.
      if (at < end) {
        this.chunks.push(at === 0 ? chunk : chunk.subarray(at));
        this.buffered += end - at;
      }
    }
    if (this.buffered > 0) this.drain();
  }

  private drain(): void {
    for (;;) {
      if (this.need < 0) {
        if (this.buffered < HEADER_SIZE) return;
        const first = this.chunks[0];
        let len: number;
        if (first.length - this.head >= HEADER_SIZE) {
          len = this.bodyLength(first, this.head);
          this.take(HEADER_SIZE);
        } else {
          len = this.bodyLength(this.take(HEADER_SIZE), 0);
        }
        this.need = len;
      }
      if (this.buffered < this.need) return;
      const body = this.take(this.need);
      this.need = -1;
      this.onBody(body);
    }
  }
}

type MessageCallback = (body: Buffer) => void;
type CloseCallback = (error: TransportError | null) => void;

/**
 * One connection to VPP's API socket. Usage:
 *
 *   const t = new SocketTransport({ path: '/run/vpp/api.sock' });
 *   t.onMessage((body) => ...);        // every received body, in order
 *   t.onClose((err) => ...);           // once: null after close() or a clean EOF
 *   await t.connect();
 *   t.send(body);                      // false: the kernel buffer is full, await t.drained()
 *   await t.close();
 */
export class SocketTransport {
  private socket: net.Socket | null = null;
  private state: 'new' | 'connecting' | 'open' | 'closed' = 'new';
  private messageCb: MessageCallback = () => undefined;
  private closeCb: CloseCallback = () => undefined;
  private closeError: TransportError | null = null;
  private closedPromise: Promise<void> | null = null;
  private readonly reader: FrameReader;
  /** Frames staged for the next write; see send(). */
  private readonly out = new Encoder('message', OUT_INITIAL);
  /** Where the frame being written by the caller starts, -1 when none is. */
  private frameStart = -1;
  private flushQueued = false;
  private readonly flushTask = (): void => {
    this.flushQueued = false;
    if (this.frameStart >= 0) return; // cannot happen: frames are begun and ended in one job
    try {
      this.flush();
    } catch (e) {
      this.fail(new TransportError('SOCKET', errorText(e), { cause: e }));
    }
  };
  readonly stats: TransportStats = { framesIn: 0, framesOut: 0, bytesIn: 0, bytesOut: 0 };
  /**
   * performance.now() when the chunk being read arrived (or the last one did): the time of every
   * body it holds, taken once per read rather than once per frame.
   */
  receivedAt = 0;

  constructor(private readonly opts: TransportOptions) {
    this.reader = new FrameReader(opts.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE, (body) => {
      // Nothing is delivered once the transport is closing or failed.
      if (this.state !== 'open') return;
      this.stats.framesIn++;
      try {
        this.messageCb(body);
      } catch (e) {
        this.fail(new TransportError('CALLBACK', e instanceof Error ? e.message : String(e), { cause: e }));
      }
    });
  }

  /** The callback for every received body (replaces the previous one). */
  onMessage(cb: MessageCallback): void {
    this.messageCb = cb;
  }

  /** Called once when the connection ends: null for close() or a clean EOF, else why. */
  onClose(cb: CloseCallback): void {
    this.closeCb = cb;
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  connect(): Promise<void> {
    if (this.state !== 'new') return Promise.reject(new TransportError('CLOSED', 'a transport connects once; make a new one'));
    this.state = 'connecting';
    const timeoutMs = this.opts.connectTimeoutMs ?? 5000;
    return new Promise<void>((resolve, reject) => {
      const socket = net.createConnection({ path: this.opts.path });
      this.socket = socket;
      let timer: NodeJS.Timeout | null = setTimeout(() => {
        timer = null;
        socket.destroy();
        this.state = 'closed';
        reject(new TransportError('TIMEOUT', `${this.opts.path} after ${timeoutMs} ms`));
      }, timeoutMs);
      const onError = (e: Error): void => {
        if (timer) clearTimeout(timer);
        this.state = 'closed';
        socket.destroy();
        reject(new TransportError('CONNECT', `${this.opts.path}: ${e.message}`, { cause: e }));
      };
      socket.once('error', onError);
      socket.once('connect', () => {
        if (timer === null) return;
        clearTimeout(timer);
        socket.off('error', onError);
        this.state = 'open';
        this.closedPromise = new Promise<void>((done) => socket.once('close', () => done()));
        socket.on('data', (chunk: Buffer) => this.onData(chunk));
        socket.on('error', (e: Error) => this.fail(new TransportError('SOCKET', e.message, { cause: e })));
        socket.on('end', () => {
          if (this.reader.pending > 0) this.fail(new TransportError('PARTIAL_FRAME', `${this.reader.pending} bytes of an unfinished frame`));
          else this.finish(null);
        });
        socket.on('close', () => this.finish(this.closeError ?? (this.state === 'open' ? new TransportError('CLOSED', 'by the peer') : null)));
        resolve();
      });
    });
  }

  private onData(chunk: Buffer): void {
    this.receivedAt = performance.now();
    this.stats.bytesIn += chunk.length;
    try {
      this.reader.push(chunk);
    } catch (e) {
      this.fail(e instanceof TransportError ? e : new TransportError('SOCKET', String(e), { cause: e }));
    }
  }

  /** Ends the connection with an error: the stream can no longer be trusted. */
  private fail(err: TransportError): void {
    if (this.state === 'closed') return;
    this.closeError ??= err;
    this.state = 'closed';
    this.socket?.destroy();
  }

  private finish(err: TransportError | null): void {
    if (this.closeCb === noop) return;
    const cb = this.closeCb;
    this.closeCb = noop;
    this.state = 'closed';
    this.socket?.destroy();
    cb(err);
  }

  /**
   * Sends one message body (header added here). Returns false when the socket's buffer is
   * full: keep going or await drained(). Throws CLOSED when not connected.
   *
   * Frames are staged in one buffer and written together: at the end of the current job (a
   * microtask, so before the event loop polls again and with no added latency), or at once when
   * FLUSH_AT bytes are staged. Many requests made in one turn leave in one write(2).
   */
  send(body: Uint8Array): boolean {
    const e = this.beginFrame('message');
    try {
      e.bytes(body, 'body');
    } catch (err) {
      this.abortFrame();
      throw err;
    }
    return this.endFrame();
  }

  /**
   * Sends `frames` whole frames (headers included, see setFrameLength()) that lie in bytes
   * [start, end) of `buf`, as they are: frames built ahead of time, copied in one piece.
   */
  sendFrames(buf: Buffer, start: number, end: number, frames: number): boolean {
    const socket = this.socket;
    if (this.state !== 'open' || socket === null || this.frameStart >= 0) throw new TransportError('CLOSED', 'send on a transport that is not open');
    this.out.raw(buf, start, end);
    this.stats.framesOut += frames;
    this.stats.bytesOut += end - start;
    return this.staged(socket);
  }

  /**
   * Starts a frame in the output buffer and returns the encoder to write its body with (from
   * the message id on); then endFrame() to send it, or abortFrame() when writing failed. The
   * body is encoded straight into the buffer the socket is written from: no copy in between.
   * Nothing else may be sent between beginFrame() and endFrame()/abortFrame(). Throws CLOSED
   * when not connected.
   */
  beginFrame(what: string): Encoder {
    if (this.state !== 'open' || this.socket === null) throw new TransportError('CLOSED', 'send on a transport that is not open');
    const e = this.out;
    this.frameStart = e.offset;
    e.zeros(HEADER_SIZE);
    return e.begin(what);
  }

  /** Frames the body written since beginFrame() and sends it (see send()). */
  endFrame(): boolean {
    const e = this.out;
    const start = this.frameStart;
    const length = e.offset - start - HEADER_SIZE;
    setFrameLength(e.buffer, start, length);
    this.frameStart = -1;
    this.stats.framesOut++;
    this.stats.bytesOut += HEADER_SIZE + length;
    const socket = this.socket;
    if (socket === null) return false;
    return this.staged(socket);
  }

  /** After staging: writes now when FLUSH_AT is reached, else at the end of the job. */
  private staged(socket: net.Socket): boolean {
    if (this.out.offset >= FLUSH_AT) return this.flush();
    if (!this.flushQueued) {
      this.flushQueued = true;
      // A resolved promise's reaction: a microtask without queueMicrotask's AsyncResource.
      void RESOLVED.then(this.flushTask);
    }
    return !socket.writableNeedDrain;
  }

  /** Drops the frame started by beginFrame(). */
  abortFrame(): void {
    if (this.frameStart >= 0) this.out.seek(this.frameStart);
    this.frameStart = -1;
  }

  /** Writes what is staged now rather than at the end of the job (nothing when closed). */
  flushNow(): void {
    if (this.state === 'open' && this.frameStart < 0) this.flush();
  }

  /**
   * Writes what is staged in one write; returns socket.write's answer. The buffer is reused
   * when the kernel took the write whole (nothing left queued in the socket), else the socket
   * keeps it and staging goes on in a new one.
   */
  private flush(): boolean {
    const e = this.out;
    const n = e.offset;
    const socket = this.socket;
    if (n === 0 || socket === null) return socket !== null && !socket.writableNeedDrain;
    if (this.state !== 'open') {
      e.seek(0);
      return false;
    }
    const ok = socket.write(e.buffer.subarray(0, n));
    if (socket.writableLength === 0) e.seek(0);
    else e.reset(Buffer.allocUnsafe(Math.max(OUT_INITIAL, Math.min(e.buffer.length, FLUSH_AT * 2))));
    return ok;
  }

  /** Resolves when the socket's write buffer has room again (at once when it has now). */
  drained(): Promise<void> {
    const socket = this.socket;
    if (this.state !== 'open' || socket === null) return Promise.reject(new TransportError('CLOSED', 'not open'));
    if (!socket.writableNeedDrain) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const onDrain = (): void => {
        socket.off('close', onClose);
        resolve();
      };
      const onClose = (): void => {
        socket.off('drain', onDrain);
        reject(new TransportError('CLOSED', 'closed while waiting to drain'));
      };
      socket.once('drain', onDrain);
      socket.once('close', onClose);
    });
  }

  /** Flushes what was sent, closes, and resolves when the socket is gone. Idempotent. */
  async close(): Promise<void> {
    const socket = this.socket;
    if (this.state === 'new' || this.state === 'connecting' || socket === null) {
      this.state = 'closed';
      socket?.destroy();
      return;
    }
    if (this.state === 'open') {
      // What was sent before close() still leaves, as it would have without staging.
      this.flush();
      this.state = 'closed';
      socket.end();
      const timer = setTimeout(() => socket.destroy(), 1000);
      timer.unref();
    }
    await this.closedPromise;
  }
}

function noop(): void {}

const RESOLVED = Promise.resolve();

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
