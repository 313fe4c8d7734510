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

export const HEADER_SIZE = 16;
/** Default largest body accepted (get_api_json_reply, the biggest VPP sends, is a few MB). */
export const DEFAULT_MAX_MESSAGE_SIZE = 64 * 1024 * 1024;

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

/** The 16-byte header for a body of `length` bytes. */
export function frameHeader(length: number): Buffer {
  const h = Buffer.alloc(HEADER_SIZE);
  h.writeUInt32BE(length, 8);
  return h;
}

/**
 * Reassembles frames from stream chunks. Separate from the socket so it can be fed directly.
 * Chunks are queued without copying; a body that lies within one chunk is a view of it, one
 * spanning chunks is copied once.
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

  /** Feeds a chunk; delivers every frame it completes. Throws FRAME_TOO_LARGE. */
  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    for (;;) {
      if (this.need < 0) {
        if (this.buffered < HEADER_SIZE) return;
        const len = this.take(HEADER_SIZE).readUInt32BE(8);
        if (len > this.maxMessageSize) {
          throw new TransportError('FRAME_TOO_LARGE', `data_len ${len} > ${this.maxMessageSize}`);
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
  readonly stats: TransportStats = { framesIn: 0, framesOut: 0, bytesIn: 0, bytesOut: 0 };

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
   */
  send(body: Uint8Array): boolean {
    const socket = this.socket;
    if (this.state !== 'open' || socket === null) throw new TransportError('CLOSED', 'send on a transport that is not open');
    // Header and body leave in one writev.
    socket.cork();
    socket.write(frameHeader(body.length));
    const ok = socket.write(body);
    socket.uncork();
    this.stats.framesOut++;
    this.stats.bytesOut += HEADER_SIZE + body.length;
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
      this.state = 'closed';
      socket.end();
      const timer = setTimeout(() => socket.destroy(), 1000);
      timer.unref();
    }
    await this.closedPromise;
  }
}

function noop(): void {}
