/*
 * The connection layer of VPP's binary API: everything between the dumb framing transport
 * (transport.ts) and the typed public client (client.ts). GoVPP's core/ does this job above its
 * socket adapter; this file is the same split.
 *
 * Protocol (../shared/vpp/BINARY-API.md §4-8):
 *
 *   connect   C->S sockclnt_create{context, name}        with the fixed id 15
 *             S->C sockclnt_create_reply{index, table}   id 16; table = [{id, "<name>_<crc>"}]
 *   request   C->S X{client_index=index, context=c, ...}
 *             S->C X_reply{context=c, retval, ...}
 *   dump      C->S X_dump{context=c} ; C->S control_ping{context=c}
 *             S->C X_details{context=c} * n ; S->C control_ping_reply{context=c}
 *   event     S->C E{client_index, ...}                  no context: routed by message name
 *   close     C->S sockclnt_delete{index} ; S->C sockclnt_delete_reply
 *
 * What this layer adds, and why:
 * - Ids are per connection. The table is read on every connect, each generated message is
 *   looked up by `<name>_<crc>`, and a message whose key is missing (unknown to this VPP, or the
 *   same name with another CRC: another field layout) is disabled on that connection: using it
 *   is refused with MESSAGE_UNAVAILABLE before anything is sent, so a wrong id or a wrong layout
 *   never reaches the wire. Requests are encoded with the ids of the connection they are queued
 *   on, and everything queued or in flight fails when that connection ends; no value built with
 *   an old table can be sent on a new one.
 * - Contexts: a u32 counter, skipping 0 and contexts still in use; replies and details are
 *   matched by context, not by order.
 * - A window of at most `maxInFlight` requests on the wire; further requests wait in a FIFO for
 *   a slot (and for the socket to drain). The timeout of a request covers the wait.
 * - Health: a control_ping every `healthIntervalMs` (one outstanding at most). Any message from
 *   VPP proves it alive; after `healthTimeoutMs` of silence health is `down` (a SIGSTOPped VPP),
 *   pending requests keep waiting for their own timeouts, and the first message heard again
 *   brings health back `up`. After `unhealthyReconnectMs` of silence the connection is dropped
 *   and made again (a half-open socket or a stream stuck in the middle of a frame).
 * - Reconnect with capped exponential backoff that never gives up; want_* subscriptions are
 *   re-made on the new connection before `connected` is emitted, so an upper layer that dumps
 *   on `connected` cannot miss an event between its dump and the subscription.
 * - A frame that cannot be trusted (an id outside the table, a body that does not decode, a
 *   frame cut off or too large) drops the connection with a PROTOCOL error and reconnects:
 *   after garbage there is no way to find the next frame boundary.
 */
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { Encoder, type MessageDescriptor } from './codec/index.js';
import { messages, services } from './generated/index.js';
import type { SockclntCreateReply } from './generated/memclnt.js';
import { HEADER_SIZE, setFrameLength, SocketTransport } from './transport.js';
import { Deadlines, type Timed } from './deadlines.js';
import { ContextTable } from './context-table.js';
import { retvalMessage, VppApiError } from './errors.js';
import { ConnectionError } from './connection-error.js';
import { Batch, isValueArray, type BatchOptions, type BatchPlan, type BatchResult, type BatchValues } from './batch.js';

/** sockclnt_create and its reply have fixed ids: memclnt is registered first (papi uses 15/16). */
export const SOCKCLNT_CREATE_ID = 15;
export const SOCKCLNT_CREATE_REPLY_ID = 16;

export const CONNECTION_DEFAULTS = {
  clientName: 'vpp-exporter',
  timeoutMs: 5000,
  connectTimeoutMs: 5000,
  healthIntervalMs: 1000,
  healthTimeoutMs: 2500,
  unhealthyReconnectMs: 10_000,
  reconnectInitialMs: 100,
  reconnectMaxMs: 5000,
  maxInFlight: 256,
  closeTimeoutMs: 1000,
} as const;

export interface ConnectionOptions {
  /** VPP's API socket, e.g. /run/vpp/api.sock. */
  readonly socketPath: string;
  /** The name VPP shows for this client (`show api clients`); at most 63 bytes. */
  readonly clientName?: string;
  /** Default per-request timeout (ms); a dump's timer restarts on every details message. */
  readonly timeoutMs?: number;
  /** Socket connect plus sockclnt_create reply, per attempt (ms). */
  readonly connectTimeoutMs?: number;
  /** Send a control_ping this often (ms); 0 disables health checking. */
  readonly healthIntervalMs?: number;
  /** Health goes `down` after this long without any message from VPP (ms). */
  readonly healthTimeoutMs?: number;
  /** Drop and re-make the connection after this long without any message (ms); 0: never. */
  readonly unhealthyReconnectMs?: number;
  /** First reconnect delay (ms), doubled per failed attempt up to reconnectMaxMs. */
  readonly reconnectInitialMs?: number;
  readonly reconnectMaxMs?: number;
  /** Requests on the wire at once; more wait for a slot. */
  readonly maxInFlight?: number;
  /** How long close() waits for sockclnt_delete_reply (ms). */
  readonly closeTimeoutMs?: number;
  /** Largest frame accepted from VPP (bytes); see transport.ts. */
  readonly maxMessageSize?: number;
}

type ResolvedOptions = Required<Omit<ConnectionOptions, 'maxMessageSize'>> & { maxMessageSize: number | undefined };

export type HealthState = 'up' | 'down';

/** A generated message that cannot be used with the connected VPP. */
export interface DisabledMessage {
  readonly name: string;
  /** What we would look up: `<name>_<crc>`. */
  readonly nameCrc: string;
  /** `crc-mismatch`: VPP has the name with another CRC (another layout); `unknown`: not at all. */
  readonly reason: 'crc-mismatch' | 'unknown';
  /** VPP's `<name>_<crc>` for a CRC mismatch. */
  readonly vppNameCrc: string | null;
}

export interface ConnectedInfo {
  /** Counts connections made by this client: 1 for the first. */
  readonly generation: number;
  readonly reconnect: boolean;
  /** The handle VPP gave us (sockclnt_create_reply.index), sent as client_index. */
  readonly clientIndex: number;
  /** Entries in VPP's message table. */
  readonly tableSize: number;
  readonly disabled: readonly DisabledMessage[];
  /** want_* requests re-made before this event, and those that failed. */
  readonly resubscribed: readonly string[];
  readonly resubscribeErrors: readonly Error[];
}

export interface DisconnectedInfo {
  readonly generation: number;
  /** Why; a ConnectionError CLOSED after close(). */
  readonly error: Error;
  readonly willReconnect: boolean;
}

export interface HealthInfo {
  readonly state: HealthState;
  /** How long VPP had been silent when health went down (ms); 0 when up. */
  readonly silentMs: number;
}

export interface ConnectionEvents {
  connected: [ConnectedInfo];
  disconnected: [DisconnectedInfo];
  health: [HealthInfo];
  /** Something worth a log line that fails no request: a subscriber threw, a re-subscription failed, messages disabled. */
  warning: [Error];
}

export interface ConnectionStats {
  /** Requests and dumps put on the wire (health pings and internal requests excluded). */
  requests: number;
  /** Replies and completed dumps delivered (including those with a non-zero retval). */
  replies: number;
  /** Replies with a non-zero retval (rejected with VppApiError). */
  apiErrors: number;
  timeouts: number;
  /** Requests refused before sending (a disabled message, not connected, closed). */
  refused: number;
  /** On the wire now, and the most ever. */
  inFlight: number;
  maxInFlight: number;
  /** Waiting for a slot in the window. */
  queued: number;
  /** Connections made; reconnects counts those after the first. */
  connects: number;
  reconnects: number;
  connectFailures: number;
  disconnects: number;
  protocolErrors: number;
  /** Events received, and those no subscriber wanted. */
  events: number;
  eventsUnsubscribed: number;
  /** Subscribers that threw. */
  listenerErrors: number;
  /** Replies whose context matches nothing pending (late replies after a timeout). */
  unsolicited: number;
  /** Messages in VPP's table that we have no generated codec for (dropped). */
  unknownMessages: number;
  healthPings: number;
  /** Generated messages disabled on the current connection. */
  disabledMessages: number;
}

export interface SendOptions {
  /** Overrides the connection's timeoutMs for this request. */
  readonly timeoutMs?: number;
}

type Fields = Readonly<Record<string, unknown>>;

const DESCRIPTORS: ReadonlyMap<string, MessageDescriptor<unknown>> = new Map(
  Object.values(messages).map((m): [string, MessageDescriptor<unknown>] => [m.name, m]),
);
const CONTROL_PING: MessageDescriptor<unknown> = messages.control_ping;
const CONTROL_PING_REPLY: MessageDescriptor<unknown> = messages.control_ping_reply;
const CRC_SUFFIX = /_[0-9a-f]{8}$/;
/** The arena's slab size, and the room below which a request starts a new slab. */
const ARENA_SIZE = 64 * 1024;
const ARENA_MIN_FREE = 2048;
/** After this many replies free slots in one read, pump() runs (and writes) at once. */
const PUMP_EAGER = 32;
/** pump() hands a run of queued frames over once it is this long. */
const PUMP_RUN_MAX = 16 * 1024;
const RESOLVED = Promise.resolve();

/** A request's messages, resolved on one connection. */
interface Plan {
  readonly request: MessageDescriptor<unknown>;
  readonly requestId: number;
  /** The reply, or the details of a dump. */
  readonly reply: MessageDescriptor<unknown>;
  /** control_ping's id for dumps, else -1. */
  readonly pingId: number;
}

type Kind = 'request' | 'dump' | 'internal' | 'health';

interface Pending extends Timed {
  readonly kind: Kind;
  readonly name: string;
  readonly context: number;
  /** When it was made, relative to the others (see pendingInOrder()). */
  readonly seq: number;
  readonly link: Link;
  /**
   * The encoded frame (header and body) while it waits for a slot: bytes [start, end) of `slab`
   * (a request that goes out at once is encoded straight into the transport's output and keeps
   * none).
   */
  slab: Buffer | null;
  start: number;
  end: number;
  /** A dump's control_ping id (its frame is made when the dump is sent), else -1. */
  readonly pingId: number;
  readonly reply: MessageDescriptor<unknown>;
  readonly items: unknown[] | null;
  readonly timeoutMs: number;
  /** Takes a slot of the window. */
  readonly windowed: boolean;
  state: 'queued' | 'sent' | 'done';
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: Error) => void;
}

interface Handshake {
  readonly context: number;
  readonly resolve: (r: SockclntCreateReply) => void;
  readonly reject: (e: Error) => void;
}

/** One socket's life: its transport, its message table and its timers. */
class Link {
  /** `<name>_<crc>` -> id, and back, for the whole table. */
  readonly table = new Map<string, number>();
  readonly nameById = new Map<number, string>();
  /** Our generated messages resolved on this connection. */
  readonly idByName = new Map<string, number>();
  /** Descriptor by message id (an array: one load per received frame). */
  readonly descById: (MessageDescriptor<unknown> | undefined)[] = [];
  readonly disabled = new Map<string, DisabledMessage>();
  readonly plans = new Map<string, Plan>();
  installed = false;
  clientIndex = 0;
  handshake: Handshake | null = null;
  /** Handshake and re-subscription done: open to callers. */
  ready = false;
  dead = false;
  needDrain = false;
  lastRx = performance.now();
  healthContext = 0;
  pingTimer: NodeJS.Timeout | null = null;
  watchdog: NodeJS.Timeout | null = null;

  constructor(
    readonly generation: number,
    readonly transport: SocketTransport,
  ) {}
}

/** A FIFO on a ring buffer that doubles when full: O(1) push and shift, no copying after. */
class Fifo<T> {
  private items: (T | undefined)[] = new Array<T | undefined>(256).fill(undefined);
  private mask = 255;
  private head = 0;
  private count = 0;
  get length(): number {
    return this.count;
  }
  push(x: T): void {
    if (this.count === this.items.length) this.grow();
    this.items[(this.head + this.count) & this.mask] = x;
    this.count++;
  }
  /** The first item, left in place. */
  peek(): T | undefined {
    return this.count === 0 ? undefined : this.items[this.head];
  }
  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const i = this.head;
    const x = this.items[i];
    this.items[i] = undefined;
    this.head = (i + 1) & this.mask;
    this.count--;
    return x;
  }
  clear(): void {
    this.items.fill(undefined);
    this.head = 0;
    this.count = 0;
  }
  private grow(): void {
    const n = this.items.length * 2;
    const next = new Array<T | undefined>(n).fill(undefined);
    for (let k = 0; k < this.count; k++) next[k] = this.items[(this.head + k) & this.mask];
    this.items = next;
    this.mask = n - 1;
    this.head = 0;
  }
}

/**
 * `new Promise(capture)` leaves its resolving functions here, to be taken at once: a request's
 * promise without an executor closure (and the context it would capture) per request.
 */
let capturedResolve: (v: unknown) => void = () => undefined;
let capturedReject: (e: Error) => void = () => undefined;
function capture(resolve: (v: unknown) => void, reject: (e: Error) => void): void {
  capturedResolve = resolve;
  capturedReject = reject;
}

function numField(v: unknown, key: string): number | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const x = (v as Record<string, unknown>)[key];
  return typeof x === 'number' ? x : undefined;
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function checkInt(name: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min) throw new TypeError(`connection option ${name} must be an integer >= ${min}, got ${String(v)}`);
}

/** Throws why `values` is neither an array nor a {count, valueAt} a batch can take. */
function checkBatchValues(name: string, values: unknown): void {
  if (Array.isArray(values)) return;
  const v = values as { count?: unknown; valueAt?: unknown } | null;
  if (typeof v !== 'object' || v === null || typeof v.valueAt !== 'function') {
    throw new TypeError(`requestBatch(${name}): values must be an array or {count, valueAt}`);
  }
  const n = v.count;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 0xfffffffe) {
    throw new TypeError(`requestBatch(${name}): count must be an integer from 0 to 4294967294, got ${String(n)}`);
  }
}

function resolveOptions(o: ConnectionOptions): ResolvedOptions {
  if (typeof o !== 'object' || o === null) throw new TypeError('connection options must be an object');
  if (typeof o.socketPath !== 'string' || o.socketPath.length === 0) throw new TypeError('connection option socketPath must be a non-empty string');
  const r: ResolvedOptions = {
    socketPath: o.socketPath,
    clientName: o.clientName ?? CONNECTION_DEFAULTS.clientName,
    timeoutMs: o.timeoutMs ?? CONNECTION_DEFAULTS.timeoutMs,
    connectTimeoutMs: o.connectTimeoutMs ?? CONNECTION_DEFAULTS.connectTimeoutMs,
    healthIntervalMs: o.healthIntervalMs ?? CONNECTION_DEFAULTS.healthIntervalMs,
    healthTimeoutMs: o.healthTimeoutMs ?? CONNECTION_DEFAULTS.healthTimeoutMs,
    unhealthyReconnectMs: o.unhealthyReconnectMs ?? CONNECTION_DEFAULTS.unhealthyReconnectMs,
    reconnectInitialMs: o.reconnectInitialMs ?? CONNECTION_DEFAULTS.reconnectInitialMs,
    reconnectMaxMs: o.reconnectMaxMs ?? CONNECTION_DEFAULTS.reconnectMaxMs,
    maxInFlight: o.maxInFlight ?? CONNECTION_DEFAULTS.maxInFlight,
    closeTimeoutMs: o.closeTimeoutMs ?? CONNECTION_DEFAULTS.closeTimeoutMs,
    maxMessageSize: o.maxMessageSize,
  };
  if (typeof r.clientName !== 'string' || Buffer.byteLength(r.clientName) > 63) {
    throw new TypeError('connection option clientName must be a string of at most 63 bytes');
  }
  checkInt('timeoutMs', r.timeoutMs, 1);
  checkInt('connectTimeoutMs', r.connectTimeoutMs, 1);
  checkInt('healthIntervalMs', r.healthIntervalMs, 0);
  checkInt('healthTimeoutMs', r.healthTimeoutMs, 1);
  checkInt('unhealthyReconnectMs', r.unhealthyReconnectMs, 0);
  checkInt('reconnectInitialMs', r.reconnectInitialMs, 1);
  checkInt('reconnectMaxMs', r.reconnectMaxMs, r.reconnectInitialMs);
  checkInt('maxInFlight', r.maxInFlight, 1);
  checkInt('closeTimeoutMs', r.closeTimeoutMs, 1);
  if (r.maxMessageSize !== undefined) checkInt('maxMessageSize', r.maxMessageSize, 64);
  if (r.unhealthyReconnectMs > 0 && r.unhealthyReconnectMs < r.healthTimeoutMs) {
    throw new TypeError('connection option unhealthyReconnectMs must be 0 or at least healthTimeoutMs');
  }
  return r;
}

/** A want_* request to re-make after every reconnect. */
interface Standing {
  readonly name: string;
  readonly fields: Fields;
}

/**
 * One logical connection to VPP's API that reconnects by itself. Untyped (message names are
 * strings, values `unknown`): client.ts puts the generated types on top.
 */
export class Connection extends EventEmitter<ConnectionEvents> {
  readonly options: Readonly<ResolvedOptions>;
  private link: Link | null = null;
  private generation = 0;
  private started = false;
  private closing = false;
  private closePromise: Promise<void> | null = null;
  private connecting = false;
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private context = 0;
  private readonly pending = new ContextTable<Pending>();
  /** Counts entries made, for their order (the table does not keep it). */
  private seq = 0;
  /** The timeouts of requests, dumps and batches (one timer for all of them). */
  private readonly deadlines = new Deadlines<Pending | Batch<Link>>((e) => (e instanceof Batch ? this.expireBatch(e) : this.expire(e)));
  /** Requests and batches waiting for window slots, in the order they were made. */
  private readonly queue = new Fifo<Pending | Batch<Link>>();
  /** Batches not yet settled: their context ranges are taken, their replies routed to them. */
  private readonly batches: Batch<Link>[] = [];
  /** Where requests waiting for a slot are encoded (slabs of ARENA_SIZE, see send()). */
  private readonly arena = new Encoder('message', ARENA_SIZE);
  private inFlight = 0;
  private pumpQueued = false;
  /** Slots freed by replies since the last pump(). */
  private freed = 0;
  private readonly pumpTask = (): void => {
    if (this.pumpQueued) this.pump();
  };
  private queued = 0;
  private healthState: HealthState = 'down';
  private readonly subscribers = new Map<string, Set<(value: unknown) => void>>();
  private readonly standing = new Map<string, Standing>();
  private lastDisabled: readonly DisabledMessage[] = [];
  private lastErrorValue: Error | null = null;
  private readonly closeWaiters = new Set<() => void>();
  private readonly counters: Omit<ConnectionStats, 'inFlight' | 'queued' | 'disabledMessages'> = {
    requests: 0,
    replies: 0,
    apiErrors: 0,
    timeouts: 0,
    refused: 0,
    maxInFlight: 0,
    connects: 0,
    reconnects: 0,
    connectFailures: 0,
    disconnects: 0,
    protocolErrors: 0,
    events: 0,
    eventsUnsubscribed: 0,
    listenerErrors: 0,
    unsolicited: 0,
    unknownMessages: 0,
    healthPings: 0,
  };

  constructor(options: ConnectionOptions) {
    super();
    this.options = resolveOptions(options);
  }

  /** Starts connecting (and reconnecting, for ever, until close()). */
  start(): void {
    if (this.started) return;
    if (this.closing) throw new ConnectionError('CLOSED', 'start() after close()');
    this.started = true;
    void this.connectOnce();
  }

  get connected(): boolean {
    return this.link?.ready === true;
  }

  get health(): HealthState {
    return this.healthState;
  }

  get isClosed(): boolean {
    return this.closing;
  }

  /** The last connect or connection error. */
  get lastError(): Error | null {
    return this.lastErrorValue;
  }

  get stats(): ConnectionStats {
    // A waiting batch is one item of this.queued; its unsent requests are what it holds back.
    let queued = this.queued;
    for (const b of this.batches) if (b.waiting) queued += b.count - b.next - 1;
    return { ...this.counters, inFlight: this.inFlight, queued, disabledMessages: this.lastDisabled.length };
  }

  /** Generated messages that the current (or last) connection's VPP cannot take. */
  get disabledMessages(): readonly DisabledMessage[] {
    return this.lastDisabled;
  }

  /** The id of a message on the current connection; undefined when disabled or not connected. */
  messageId(name: string): number | undefined {
    return this.link?.installed === true ? this.link.idByName.get(name) : undefined;
  }

  /** sockclnt_create_reply.index of the current connection. */
  get clientIndex(): number | undefined {
    return this.link?.installed === true ? this.link.clientIndex : undefined;
  }

  /** Resolves when connected (at once if so); rejects after timeoutMs or on close(). */
  waitConnected(timeoutMs: number): Promise<void> {
    if (this.connected) return Promise.resolve();
    if (this.closing) return Promise.reject(new ConnectionError('CLOSED', 'the client is closed'));
    return new Promise<void>((resolve, reject) => {
      const done = (err: Error | null): void => {
        clearTimeout(timer);
        this.off('connected', onConnected);
        this.off('disconnected', onDisconnected);
        this.closeWaiters.delete(onClose);
        if (err) reject(err);
        else resolve();
      };
      const onConnected = (): void => done(null);
      const onClose = (): void => done(new ConnectionError('CLOSED', 'the client was closed while waiting to connect'));
      const onDisconnected = (info: DisconnectedInfo): void => {
        if (!info.willReconnect) onClose();
      };
      const timer = setTimeout(() => {
        const last = this.lastErrorValue;
        done(
          new ConnectionError('NOT_CONNECTED', `${this.options.socketPath}: not connected after ${timeoutMs} ms${last ? `; last error: ${last.message}` : ''}`, {
            cause: last ?? undefined,
          }),
        );
      }, timeoutMs);
      this.on('connected', onConnected);
      this.on('disconnected', onDisconnected);
      this.closeWaiters.add(onClose);
    });
  }

  // ---- requests ----------------------------------------------------------------------------

  /** A request answered by one reply; a non-zero retval rejects with VppApiError. */
  request(name: string, fields: Fields, opts?: SendOptions): Promise<unknown> {
    return this.send('request', name, fields, opts);
  }

  /** A dump: the request and a control_ping with the same context; resolves with the details. */
  dump(name: string, fields: Fields, opts?: SendOptions): Promise<unknown[]> {
    return this.send('dump', name, fields, opts) as Promise<unknown[]>;
  }

  /**
   * Many requests of one message type, pipelined through the window like request()s, settled
   * together: resolves once every request is answered or has failed, with each one's retval or
   * error (see BatchResult); it does not reject for the failure of single requests. Rejects,
   * with nothing sent, when the batch cannot be sent at all (not connected, closed, not a
   * request with a reply, a disabled message, a bad timeoutMs).
   *
   * Each value is encoded when its request takes a window slot, straight into the socket's
   * output: `values` must not change until the batch settles. With `{count, valueAt}` instead of
   * an array, valueAt(i) makes request i's value when it takes its slot (once, in order) and the
   * value is not kept. A value that does not encode, or a valueAt that throws, fails that
   * request alone. The timeout is the batch's: when no reply to it has come for timeoutMs,
   * everything still unanswered fails with TIMEOUT. A lost connection fails what is unanswered
   * with DISCONNECTED; close() fails what is not sent yet and waits for what is on the wire.
   */
  requestBatch(name: string, values: BatchValues<Fields>, opts?: BatchOptions): Promise<BatchResult> {
    if (this.closing) return this.refuse('CLOSED', name);
    const link = this.link;
    if (link === null || link.dead || !link.installed || !link.ready) return this.refuse('NOT_CONNECTED', name);
    const timeoutMs = opts?.timeoutMs ?? this.options.timeoutMs;
    let plan: BatchPlan;
    try {
      if (!Number.isInteger(timeoutMs) || timeoutMs < 1) throw new TypeError(`timeoutMs must be a positive integer, got ${String(timeoutMs)}`);
      checkBatchValues(name, values);
      plan = this.plan(link, name, false);
    } catch (e) {
      this.counters.refused++;
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    const n = isValueArray(values) ? values.length : values.count;
    let resolve: (r: BatchResult) => void = () => undefined;
    const promise = new Promise<BatchResult>((r) => {
      resolve = r;
    });
    const batch = new Batch<Link>(name, link, plan, values, this.reserveContexts(n), this.seq++, timeoutMs, opts?.replies === true, resolve);
    if (n === 0) {
      batch.settle();
      return promise;
    }
    this.batches.push(batch);
    this.deadlines.add(batch, timeoutMs);
    this.queue.push(batch);
    this.queued++;
    if (!link.needDrain && this.inFlight < this.options.maxInFlight) {
      this.pump();
      // The window is full: nothing more goes out before replies come (as in send()).
      if (this.inFlight >= this.options.maxInFlight && !link.dead) link.transport.flushNow();
    }
    return promise;
  }

  /**
   * A want_* request that stays in force: it is made now (when connected) and again after every
   * reconnect, before `connected` is emitted. `enable_disable: 0` makes it and forgets it.
   * When not connected it rejects with NOT_CONNECTED but stays registered for the next connection.
   */
  async want(name: string, fields: Fields, opts?: SendOptions): Promise<unknown> {
    const svc = services[name];
    if (svc === undefined || svc.stream || svc.reply === null) {
      this.counters.refused++;
      throw new ConnectionError('BAD_REQUEST', `${name} is not a request with a reply`, { request: name });
    }
    const enable = numField(fields, 'enable_disable');
    if (enable === 0) this.standing.delete(name);
    else this.standing.set(name, { name, fields: { ...fields } });
    try {
      return await this.send('request', name, fields, opts);
    } catch (e) {
      // A definite refusal (VPP said no, the message is disabled, the value is wrong) is not
      // worth repeating on every reconnect; a lost connection or a timeout is.
      const permanent = !(e instanceof ConnectionError) || !e.retriable;
      if (permanent && enable !== 0) this.standing.delete(name);
      throw e;
    }
  }

  /** Subscribes to an event by message name; returns the unsubscribe function. */
  subscribe(eventName: string, listener: (value: unknown) => void): () => void {
    const d = DESCRIPTORS.get(eventName);
    if (d === undefined || d.hasContext) throw new ConnectionError('BAD_REQUEST', `${eventName} is not an event (a message without a context)`);
    let set = this.subscribers.get(eventName);
    if (set === undefined) {
      set = new Set();
      this.subscribers.set(eventName, set);
    }
    // A wrapper, so that the same function subscribed twice gets two deliveries and two handles.
    const wrapper = (v: unknown): void => listener(v);
    set.add(wrapper);
    return () => {
      set.delete(wrapper);
    };
  }

  private refuse(code: 'NOT_CONNECTED' | 'CLOSED', name: string): Promise<never> {
    this.counters.refused++;
    const detail =
      code === 'CLOSED'
        ? `${name}: the client is closed`
        : `${name}: ${this.options.socketPath} is not connected${this.lastErrorValue ? ` (last error: ${this.lastErrorValue.message})` : ''}`;
    return Promise.reject(new ConnectionError(code, detail, { request: name, cause: code === 'NOT_CONNECTED' ? (this.lastErrorValue ?? undefined) : undefined }));
  }

  private send(kind: Exclude<Kind, 'health'>, name: string, fields: Fields, opts?: SendOptions): Promise<unknown> {
    if (this.closing && kind !== 'internal') return this.refuse('CLOSED', name);
    const link = this.link;
    if (link === null || link.dead || !link.installed || (!link.ready && kind !== 'internal')) return this.refuse('NOT_CONNECTED', name);
    const timeoutMs = opts?.timeoutMs ?? this.options.timeoutMs;
    const context = this.nextContext();
    const dump = kind === 'dump';
    let plan: Plan;
    // Nothing waiting for a slot and room on the wire: the request is encoded straight into
    // the transport's output buffer and is on its way when this returns (as pump() would send
    // it); otherwise it is encoded into the arena and waits in the queue. Either way it is
    // encoded now, so a bad value is refused here and later changes to `fields` do not matter.
    const direct = this.queued === 0 && !link.needDrain && this.inFlight < this.options.maxInFlight && link.transport.isOpen;
    let slab: Buffer | null = null;
    let start = 0;
    let end = 0;
    try {
      if (!Number.isInteger(timeoutMs) || timeoutMs < 1) throw new TypeError(`timeoutMs must be a positive integer, got ${String(timeoutMs)}`);
      plan = this.plan(link, name, dump);
      if (direct) {
        const e = link.transport.beginFrame(name);
        try {
          plan.request.encodeInto(e, fields, plan.requestId, link.clientIndex, context);
        } catch (err) {
          link.transport.abortFrame();
          throw err;
        }
      } else {
        // The whole frame (header and body), so that queued requests that follow each other
        // in a slab go out with one copy.
        let a = this.arena;
        if (a.buffer.length - a.offset < ARENA_MIN_FREE) a = a.reset(Buffer.allocUnsafe(ARENA_SIZE));
        start = a.offset;
        a.zeros(HEADER_SIZE).begin(name);
        try {
          plan.request.encodeInto(a, fields, plan.requestId, link.clientIndex, context);
        } catch (err) {
          a.seek(start);
          throw err;
        }
        slab = a.buffer;
        end = a.offset;
        setFrameLength(slab, start, end - start - HEADER_SIZE);
      }
    } catch (e) {
      this.counters.refused++;
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    let ok = true;
    if (direct) {
      ok = link.transport.endFrame();
      if (dump) ok = this.sendPing(link, context, plan.pingId) && ok;
    }
    const promise = new Promise<unknown>(capture);
    const entry: Pending = {
      kind,
      name,
      context,
      seq: this.seq++,
      link,
      slab,
      start,
      end,
      pingId: dump ? plan.pingId : -1,
      reply: plan.reply,
      items: dump ? [] : null,
      timeoutMs,
      windowed: true,
      state: direct ? 'sent' : 'queued',
      deadline: 0,
      timedPrev: null,
      timedNext: null,
      timedList: null,
      resolve: capturedResolve,
      reject: capturedReject,
    };
    try {
      this.deadlines.add(entry, timeoutMs);
      this.pending.set(entry);
      if (direct) {
        this.sent(entry);
        if (!ok) this.waitDrain(link);
        // The window is full: nothing more goes out before replies come, so what is staged
        // may as well leave now rather than at the end of the job.
        else if (this.inFlight >= this.options.maxInFlight) link.transport.flushNow();
      } else {
        this.queue.push(entry);
        this.queued++;
        // Queued behind others or for want of a slot: pump() can only do something with room.
        if (!link.needDrain && this.inFlight < this.options.maxInFlight) this.pump();
      }
    } catch (e) {
      // As a throw in a promise executor would: the request fails, the caller does not throw.
      entry.reject(e instanceof Error ? e : new Error(String(e)));
    }
    return promise;
  }

  /** Everything pending, oldest first (the order they were made in, as a Map would keep it). */
  private pendingInOrder(): Pending[] {
    return this.pending.values().sort((a, b) => a.seq - b.seq);
  }

  /** Counts an entry put on the wire. */
  private sent(e: Pending): void {
    this.inFlight++;
    if (this.inFlight > this.counters.maxInFlight) this.counters.maxInFlight = this.inFlight;
    if (e.kind !== 'internal') this.counters.requests++;
  }

  /** A dump's control_ping (same context): ends the stream of details. */
  private sendPing(link: Link, context: number, pingId: number): boolean {
    const e = link.transport.beginFrame('control_ping');
    CONTROL_PING.encodeInto(e, {}, pingId, link.clientIndex, context);
    return link.transport.endFrame();
  }

  /**
   * Puts a batch's next requests on the wire while the window has room, each encoded straight
   * into the transport's output; returns false when the socket asks to wait for drain.
   */
  private sendBatch(link: Link, b: Batch<Link>, max: number): boolean {
    if (b.link !== link) {
      // Cannot happen (a link's batches are failed when it ends); never send an old id.
      this.failBatch(b, new ConnectionError('DISCONNECTED', `${b.name} (batch of ${b.count}) was made for an earlier connection`, { request: b.name }));
      return true;
    }
    const t = link.transport;
    const { request, requestId } = b.plan;
    const count = b.count;
    const clientIndex = link.clientIndex;
    let ok = true;
    let sent = 0;
    while (ok && this.inFlight + sent < max && b.next < count) {
      const i = b.next++;
      const e = t.beginFrame(b.name);
      try {
        request.encodeInto(e, b.value(i), requestId, clientIndex, b.base + i);
      } catch (err) {
        t.abortFrame();
        this.counters.refused++;
        b.failed(i, err instanceof Error ? err : new Error(String(err)));
        continue;
      }
      ok = t.endFrame();
      sent++;
    }
    b.outstanding += sent;
    this.inFlight += sent;
    this.counters.requests += sent;
    if (this.inFlight > this.counters.maxInFlight) this.counters.maxInFlight = this.inFlight;
    if (b.next === count && b.waiting) {
      b.waiting = false;
      this.queued--;
    }
    if (b.unsettled === 0) this.finishBatch(b);
    return ok;
  }

  /** Resolves what a request needs on this connection, or throws why it cannot be sent. */
  private plan(link: Link, name: string, dump: boolean): Plan {
    const cached = link.plans.get(name);
    if (cached !== undefined && cached.pingId >= 0 === dump) return cached;
    const svc = services[name];
    if (svc === undefined) throw new ConnectionError('BAD_REQUEST', `${name} is not a request of the generated API`, { request: name });
    if (svc.reply === null) throw new ConnectionError('BAD_REQUEST', `${name} has no reply; it cannot be sent with request()`, { request: name });
    if (svc.streamMsg !== null) throw new ConnectionError('BAD_REQUEST', `${name} is a *_get stream (details then a reply); not supported yet`, { request: name });
    if (svc.stream && !dump) throw new ConnectionError('BAD_REQUEST', `${name} is a dump; use dump()`, { request: name });
    if (!svc.stream && dump) throw new ConnectionError('BAD_REQUEST', `${name} is not a dump; use request()`, { request: name });
    // A want_* whose event cannot be decoded would only make VPP send frames we must drop.
    const needed = dump ? [name, svc.reply, 'control_ping', 'control_ping_reply'] : [name, svc.reply, ...svc.events];
    for (const n of needed) {
      if (!link.idByName.has(n)) throw new ConnectionError('MESSAGE_UNAVAILABLE', this.describeDisabled(link, n, name), { request: name });
    }
    const request = DESCRIPTORS.get(name);
    const reply = DESCRIPTORS.get(svc.reply);
    const requestId = link.idByName.get(name);
    if (request === undefined || reply === undefined || requestId === undefined) {
      throw new ConnectionError('BAD_REQUEST', `${name}: no generated codec`, { request: name });
    }
    const plan: Plan = { request, requestId, reply, pingId: dump ? (link.idByName.get('control_ping') ?? -1) : -1 };
    link.plans.set(name, plan);
    return plan;
  }

  private describeDisabled(link: Link, message: string, request: string): string {
    const d = link.disabled.get(message);
    const why =
      d === undefined
        ? `${message} has no generated codec`
        : d.reason === 'crc-mismatch'
          ? `VPP's message table has ${d.vppNameCrc ?? '?'} where we expect ${d.nameCrc} (the same message with another definition: CRC mismatch)`
          : `VPP's message table has no ${d.nameCrc} (VPP does not know the message)`;
    const who = message === request ? request : `${request} needs ${message}, and`;
    return `${who} ${message === request ? 'is disabled: ' : 'that is disabled: '}${why}`;
  }

  private nextContext(): number {
    for (;;) {
      this.context = this.context >= 0xffffffff ? 1 : this.context + 1;
      if (!this.pending.has(this.context) && this.batchOf(this.context) === null) return this.context;
    }
  }

  /** The batch whose context range holds `context`, or null. */
  private batchOf(context: number): Batch<Link> | null {
    for (const b of this.batches) if (b.indexOf(context) >= 0) return b;
    return null;
  }

  /**
   * Takes n consecutive contexts that nothing pending or batched uses, below the u32 wrap (a
   * batch's requests are found by subtracting the first); returns the first.
   */
  private reserveContexts(n: number): number {
    if (n === 0) return 0;
    if (n > 0xfffffffe) throw new RangeError(`a batch of ${n} requests does not fit in the u32 contexts`);
    for (;;) {
      let base = this.context >= 0xffffffff ? 1 : this.context + 1;
      if (base + n - 1 > 0xffffffff) base = 1;
      const end = base + n;
      let clash = -1;
      for (const b of this.batches) {
        if (b.base < end && base < b.base + b.count) clash = Math.max(clash, b.base + b.count - 1);
      }
      if (clash < 0 && this.pending.size > 0) {
        for (let c = end - 1; c >= base; c--) {
          if (this.pending.has(c)) {
            clash = c;
            break;
          }
        }
      }
      if (clash < 0) {
        this.context = end - 1;
        return base;
      }
      this.context = clash; // start again after it
    }
  }

  /**
   * Puts queued requests on the wire while the window and the socket have room. Requests that
   * follow each other in an arena slab are copied to the transport in one piece.
   */
  private pump(): void {
    this.pumpQueued = false;
    this.freed = 0;
    const link = this.link;
    if (link === null || link.dead) return;
    const max = this.options.maxInFlight;
    let ok = true;
    let run: Buffer | null = null;
    let runStart = 0;
    let runEnd = 0;
    let runFrames = 0;
    try {
      while (ok && !link.needDrain && this.inFlight < max) {
        const head = this.queue.peek();
        if (head === undefined) break;
        if (head instanceof Batch) {
          // What was queued before the batch goes out before it.
          if (run !== null) ok = link.transport.sendFrames(run, runStart, runEnd, runFrames) && ok;
          run = null;
          if (head.waiting) ok = this.sendBatch(link, head, max) && ok;
          if (head.waiting) break; // the window or the socket is full
          this.queue.shift();
          continue;
        }
        this.queue.shift();
        const e = head;
        if (e.state !== 'queued') continue; // timed out while waiting
        this.queued--;
        if (e.link !== link) {
          // Cannot happen (a link's entries are failed when it ends); never send an old id.
          this.finish(e);
          e.reject(new ConnectionError('DISCONNECTED', `${e.name} (context ${e.context}) was made for an earlier connection`, { request: e.name }));
          continue;
        }
        e.state = 'sent';
        this.sent(e);
        const slab = e.slab;
        e.slab = null;
        if (slab !== null) {
          if (slab === run && e.start === runEnd) {
            runEnd = e.end;
            runFrames++;
          } else {
            if (run !== null) ok = link.transport.sendFrames(run, runStart, runEnd, runFrames);
            run = slab;
            runStart = e.start;
            runEnd = e.end;
            runFrames = 1;
          }
        }
        if (e.pingId >= 0 || runEnd - runStart >= PUMP_RUN_MAX) {
          // A dump's control_ping follows its request; a long run is handed over (and the
          // socket's answer heard) before it grows further.
          if (run !== null) ok = link.transport.sendFrames(run, runStart, runEnd, runFrames) && ok;
          run = null;
          if (e.pingId >= 0) ok = this.sendPing(link, e.context, e.pingId) && ok;
        }
      }
      if (run !== null) ok = link.transport.sendFrames(run, runStart, runEnd, runFrames) && ok;
    } catch (err) {
      this.teardown(link, err instanceof Error ? err : new Error(String(err)));
      return;
    }
    if (!ok) this.waitDrain(link);
  }

  /**
   * pump() at the end of the current job: replies that free slots come in batches (all the
   * frames of one read), and the requests that take the slots then go out together.
   */
  private schedulePump(): void {
    if (this.queued === 0) return;
    if (++this.freed >= PUMP_EAGER) {
      // A long read of replies: send what took the slots so far now, so that VPP works on it
      // while the rest of the read is handled, instead of the two taking turns.
      const link = this.link;
      this.pump();
      if (link !== null && !link.dead) link.transport.flushNow();
      return;
    }
    if (this.pumpQueued) return;
    this.pumpQueued = true;
    void RESOLVED.then(this.pumpTask);
  }

  /** Writes one body (handshake, health ping); false when the link is gone or the socket must drain first. */
  private write(link: Link, body: Buffer): boolean {
    let ok: boolean;
    try {
      ok = link.transport.send(body);
    } catch (e) {
      this.teardown(link, e instanceof Error ? e : new Error(String(e)));
      return false;
    }
    if (!ok) this.waitDrain(link);
    return ok;
  }

  /** The socket's buffer is full: nothing more is sent until it drains. */
  private waitDrain(link: Link): void {
    if (link.needDrain) return;
    link.needDrain = true;
    link.transport.drained().then(
      () => {
        link.needDrain = false;
        this.pump();
      },
      () => undefined, // the link is ending; onClose does the rest
    );
  }

  private finish(e: Pending): void {
    if (e.state === 'done') return;
    if (e.state === 'queued') this.queued--;
    else if (e.windowed) this.inFlight--;
    e.state = 'done';
    e.slab = null;
    this.deadlines.remove(e);
    if (this.pending.get(e.context) === e) this.pending.delete(e.context);
  }

  private expire(e: Pending): void {
    if (e.state === 'done') return;
    const wasQueued = e.state === 'queued';
    this.finish(e);
    this.counters.timeouts++;
    const got = e.items === null ? '' : e.items.length === 0 ? ' (no details received)' : ` (${e.items.length} details received, none in the last ${e.timeoutMs} ms)`;
    const where = wasQueued ? ` while waiting for one of the ${this.options.maxInFlight} in-flight slots` : '';
    e.reject(
      new ConnectionError('TIMEOUT', `${e.name} (context ${e.context}): no reply within ${e.timeoutMs} ms${where}${got} from ${this.options.socketPath}`, {
        request: e.name,
      }),
    );
    this.pump();
  }

  // ---- receiving ---------------------------------------------------------------------------

  private onBody(link: Link, body: Buffer): void {
    if (link.dead) return;
    link.lastRx = link.transport.receivedAt;
    try {
      this.route(link, body);
    } catch (e) {
      const err = e instanceof ConnectionError ? e : new ConnectionError('PROTOCOL', errorMessage(e), { cause: e });
      if (err.code === 'PROTOCOL') this.counters.protocolErrors++;
      this.teardown(link, err);
      return;
    }
    if (link.ready && this.healthState === 'down') {
      this.setHealth('up', 0);
      this.armWatchdog(link, this.options.healthTimeoutMs);
    }
  }

  private route(link: Link, body: Buffer): void {
    if (body.length < 2) throw new ConnectionError('PROTOCOL', `a ${body.length}-byte frame has no message id`);
    const id = body.readUInt16BE(0);
    if (!link.installed) {
      this.handshakeReply(link, id, body);
      return;
    }
    const desc = link.descById[id];
    if (desc === undefined) {
      const nameCrc = link.nameById.get(id);
      if (nameCrc === undefined) throw new ConnectionError('PROTOCOL', `message id ${id} (a ${body.length}-byte body) is not in VPP's message table`);
      this.counters.unknownMessages++;
      return;
    }
    const at = desc.contextOffset;
    if (this.batches.length > 0 && at !== null && body.length >= at + 4) {
      // Matched before it is decoded: most batch replies are never decoded at all.
      const b = this.batchOf(((body[at] << 24) | (body[at + 1] << 16) | (body[at + 2] << 8) | body[at + 3]) >>> 0);
      if (b !== null) {
        this.batchReply(link, b, desc, body);
        return;
      }
    }
    let value: unknown;
    try {
      value = desc.decode(body);
    } catch (e) {
      throw new ConnectionError('PROTOCOL', `${desc.name} (id ${id}, ${body.length} bytes) does not decode: ${errorMessage(e)}`, { cause: e });
    }
    if (!desc.hasContext) {
      this.dispatch(desc.name, value);
      return;
    }
    const context = numField(value, 'context') ?? 0;
    const e = this.pending.get(context);
    if (e === undefined || e.state !== 'sent' || e.link !== link) {
      this.counters.unsolicited++;
      return;
    }
    this.complete(link, e, desc, value);
  }

  private complete(link: Link, e: Pending, desc: MessageDescriptor<unknown>, value: unknown): void {
    if (e.kind === 'health') {
      if (desc === CONTROL_PING_REPLY) {
        this.finish(e);
        link.healthContext = 0;
      }
      return;
    }
    if (e.items !== null) {
      if (desc === e.reply) {
        e.items.push(value);
        this.deadlines.refresh(e);
        return;
      }
      if (desc === CONTROL_PING_REPLY) {
        this.finish(e);
        this.counters.replies++;
        this.schedulePump();
        e.resolve(e.items);
        return;
      }
    } else if (desc === e.reply) {
      this.finish(e);
      this.counters.replies++;
      const retval = desc.hasRetval ? (numField(value, 'retval') ?? 0) : 0;
      this.schedulePump();
      if (retval !== 0) {
        this.counters.apiErrors++;
        e.reject(new VppApiError(e.name, retval));
      } else {
        e.resolve(value);
      }
      return;
    }
    this.finish(e);
    this.schedulePump();
    e.reject(new ConnectionError('UNEXPECTED_REPLY', `${e.name} (context ${e.context}) was answered with ${desc.name}`, { request: e.name }));
  }

  /** A reply (or anything with a context) to one of a batch's requests. */
  private batchReply(link: Link, b: Batch<Link>, desc: MessageDescriptor<unknown>, body: Buffer): void {
    const at = desc.contextOffset ?? 0;
    const i = b.indexOf(((body[at] << 24) | (body[at + 1] << 16) | (body[at + 2] << 8) | body[at + 3]) >>> 0);
    if (b.link !== link || !b.awaitingReply(i)) {
      this.counters.unsolicited++;
      return;
    }
    const reply = b.plan.reply;
    let retval = 0;
    let value: unknown = undefined;
    const rv = reply.retvalOffset;
    if (desc === reply && rv !== null && b.replies === null && body.length === reply.fixedSize) {
      // A fixed-size reply of the right size always decodes (the decoder only checks lengths),
      // so the retval is read where it lies and nothing is allocated for it.
      retval = (body[rv] << 24) | (body[rv + 1] << 16) | (body[rv + 2] << 8) | body[rv + 3];
    } else {
      try {
        value = desc.decode(body);
      } catch (e) {
        throw new ConnectionError('PROTOCOL', `${desc.name} (${body.length} bytes) does not decode: ${errorMessage(e)}`, { cause: e });
      }
      if (desc !== reply) {
        b.failed(i, new ConnectionError('UNEXPECTED_REPLY', `${b.name} (context ${b.base + i}) was answered with ${desc.name}`, { request: b.name }));
        this.batchAnswered(link, b);
        return;
      }
      retval = desc.hasRetval ? (numField(value, 'retval') ?? 0) : 0;
    }
    this.counters.replies++;
    if (retval !== 0) {
      this.counters.apiErrors++;
      b.answered(i, retval, new VppApiError(b.name, retval), value);
    } else {
      b.answered(i, 0, undefined, value);
    }
    this.batchAnswered(link, b);
  }

  /** After a batch request's answer: its slot is free, the deadline moves, maybe it is done. */
  private batchAnswered(link: Link, b: Batch<Link>): void {
    b.outstanding--;
    this.inFlight--;
    // The deadline restarts on progress, once per read (all the frames of a read arrive at once).
    const now = link.transport.receivedAt;
    if (b.progressAt !== now) {
      b.progressAt = now;
      this.deadlines.refresh(b);
    }
    if (b.unsettled === 0) this.finishBatch(b);
    this.schedulePump();
  }

  /** A settled batch leaves: its contexts are free again and its promise resolves. */
  private finishBatch(b: Batch<Link>): void {
    if (b.done) return;
    if (b.waiting) {
      b.waiting = false;
      this.queued--;
    }
    this.inFlight -= b.outstanding;
    b.outstanding = 0;
    this.deadlines.remove(b);
    const k = this.batches.indexOf(b);
    if (k >= 0) this.batches.splice(k, 1);
    b.settle();
  }

  /** Fails everything of a batch that is not answered yet (its unsent requests never go out). */
  private failBatch(b: Batch<Link>, error: Error, unsentError: Error = error): number {
    const slots = b.outstanding;
    const n = b.failOutstanding(error) + b.failUnsent(unsentError);
    this.inFlight -= slots;
    this.finishBatch(b);
    return n;
  }

  private expireBatch(b: Batch<Link>): void {
    if (b.done) return;
    const unsent = b.count - b.next;
    const where = unsent > 0 ? `; ${unsent} not sent yet, waiting for one of the ${this.options.maxInFlight} in-flight slots` : '';
    const err = new ConnectionError(
      'TIMEOUT',
      `${b.name} (batch of ${b.count}, contexts ${b.base}..${b.base + b.count - 1}): no reply within ${b.timeoutMs} ms to ${b.outstanding} in flight${where} from ${this.options.socketPath}`,
      { request: b.name },
    );
    this.counters.timeouts += this.failBatch(b, err);
    this.pump();
  }

  private dispatch(name: string, value: unknown): void {
    this.counters.events++;
    const set = this.subscribers.get(name);
    if (set === undefined || set.size === 0) {
      this.counters.eventsUnsubscribed++;
      return;
    }
    for (const listener of set) {
      try {
        listener(value);
      } catch (e) {
        this.counters.listenerErrors++;
        this.warn(new Error(`a ${name} subscriber threw: ${errorMessage(e)}`, { cause: e }));
      }
    }
  }

  /** Emits without letting a throwing listener break the caller (a frame loop or a timer). */
  private safeEmit<K extends keyof ConnectionEvents>(event: K, ...args: ConnectionEvents[K]): void {
    try {
      // The cast only widens the generic signature; the call is still this.emit(...).
      (this.emit as (event: K, ...a: ConnectionEvents[K]) => boolean)(event, ...args);
    } catch (e) {
      process.emitWarning(`vpp-exporter binapi: a '${String(event)}' listener threw: ${errorMessage(e)}`);
    }
  }

  private warn(e: Error): void {
    this.safeEmit('warning', e);
  }

  private setHealth(state: HealthState, silentMs: number): void {
    if (this.healthState === state) return;
    this.healthState = state;
    this.safeEmit('health', { state, silentMs: Math.round(silentMs) });
  }

  // ---- connecting --------------------------------------------------------------------------

  private async connectOnce(): Promise<void> {
    if (this.closing || this.connecting || this.link !== null) return;
    this.connecting = true;
    try {
      await this.establish();
    } catch (e) {
      this.lastErrorValue = e instanceof Error ? e : new Error(String(e));
      this.counters.connectFailures++;
    } finally {
      this.connecting = false;
    }
    if (this.link === null && !this.closing) this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closing || this.connecting || this.reconnectTimer !== null || this.link !== null) return;
    const delay = Math.min(this.options.reconnectInitialMs * 2 ** Math.min(this.attempt, 30), this.options.reconnectMaxMs);
    this.attempt++;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      void this.connectOnce();
    }, delay);
  }

  private async establish(): Promise<void> {
    const transport = new SocketTransport({
      path: this.options.socketPath,
      connectTimeoutMs: this.options.connectTimeoutMs,
      ...(this.options.maxMessageSize !== undefined ? { maxMessageSize: this.options.maxMessageSize } : {}),
    });
    const link = new Link(this.generation + 1, transport);
    transport.onMessage((body) => this.onBody(link, body));
    transport.onClose((err) => {
      if (err !== null && (err.code === 'PARTIAL_FRAME' || err.code === 'FRAME_TOO_LARGE')) {
        this.counters.protocolErrors++;
        this.teardown(link, new ConnectionError('PROTOCOL', err.message, { cause: err }));
      } else {
        this.teardown(
          link,
          err === null ? new ConnectionError('DISCONNECTED', `VPP closed ${this.options.socketPath}`) : new ConnectionError('DISCONNECTED', err.message, { cause: err }),
        );
      }
    });
    this.link = link;
    let handshakeTimer: NodeJS.Timeout | null = null;
    try {
      const started = performance.now();
      await transport.connect();
      if (this.closing) throw new ConnectionError('CLOSED', 'close() was called while connecting');
      if (link.dead) throw this.lastErrorValue ?? new ConnectionError('DISCONNECTED', 'the socket closed during the handshake');
      const context = this.nextContext();
      const left = Math.max(1, this.options.connectTimeoutMs - Math.round(performance.now() - started));
      await new Promise<SockclntCreateReply>((resolve, reject) => {
        link.handshake = { context, resolve, reject };
        handshakeTimer = setTimeout(
          () => reject(new ConnectionError('HANDSHAKE', `no sockclnt_create_reply from ${this.options.socketPath} within ${this.options.connectTimeoutMs} ms`)),
          left,
        );
        this.write(link, messages.sockclnt_create.encode({ context, name: this.options.clientName }, SOCKCLNT_CREATE_ID));
      });
      if (handshakeTimer !== null) clearTimeout(handshakeTimer);
      if (link.dead) throw this.lastErrorValue ?? new ConnectionError('DISCONNECTED', 'the socket closed during the handshake');
      this.startHealth(link);
      const resubscribed: string[] = [];
      const resubscribeErrors: Error[] = [];
      // Subscriptions first: an upper layer dumps on `connected` and must not miss an event.
      const standing = [...this.standing.values()];
      const results = await Promise.allSettled(standing.map((s) => this.send('internal', s.name, s.fields)));
      if (link.dead || this.closing) throw this.lastErrorValue ?? new ConnectionError('DISCONNECTED', 'the connection ended while re-subscribing');
      standing.forEach((s, i) => {
        const r = results[i];
        if (r.status === 'fulfilled') resubscribed.push(s.name);
        else {
          const err = new Error(`re-subscribing ${s.name} failed: ${errorMessage(r.reason)}`, { cause: r.reason });
          resubscribeErrors.push(err);
          this.warn(err);
        }
      });
      link.ready = true;
      this.generation = link.generation;
      this.attempt = 0;
      this.counters.connects++;
      if (link.generation > 1) this.counters.reconnects++;
      this.setHealth('up', 0);
      this.safeEmit('connected', {
        generation: link.generation,
        reconnect: link.generation > 1,
        clientIndex: link.clientIndex,
        tableSize: link.table.size,
        disabled: this.lastDisabled,
        resubscribed,
        resubscribeErrors,
      });
      this.pump();
    } catch (e) {
      if (handshakeTimer !== null) clearTimeout(handshakeTimer);
      const err = e instanceof Error ? e : new Error(String(e));
      this.teardown(link, err);
      // The transport's own error says more than a generic "disconnected" afterwards.
      throw err;
    }
  }

  private handshakeReply(link: Link, id: number, body: Buffer): void {
    const hs = link.handshake;
    if (hs === null) throw new ConnectionError('PROTOCOL', `message id ${id} arrived before sockclnt_create was sent`);
    if (id !== SOCKCLNT_CREATE_REPLY_ID) {
      throw new ConnectionError('PROTOCOL', `expected sockclnt_create_reply (id ${SOCKCLNT_CREATE_REPLY_ID}) first, got message id ${id} (${body.length} bytes)`);
    }
    let reply: SockclntCreateReply;
    try {
      reply = messages.sockclnt_create_reply.decode(body);
    } catch (e) {
      throw new ConnectionError('PROTOCOL', `sockclnt_create_reply (${body.length} bytes) does not decode: ${errorMessage(e)}`, { cause: e });
    }
    if (reply.context !== hs.context) {
      throw new ConnectionError('PROTOCOL', `sockclnt_create_reply has context ${reply.context}, we sent ${hs.context}`);
    }
    if (reply.response !== 0) {
      throw new ConnectionError('HANDSHAKE', `VPP refused sockclnt_create: response ${reply.response} (${retvalMessage(reply.response)})`);
    }
    // Installed here, synchronously: frames after the reply in the same chunk are routed with it.
    this.install(link, reply);
    link.handshake = null;
    hs.resolve(reply);
  }

  /** Reads the message table and resolves every generated message against it. */
  private install(link: Link, reply: SockclntCreateReply): void {
    const byBase = new Map<string, string>();
    for (const { index, name } of reply.message_table) {
      const other = link.nameById.get(index);
      if (other !== undefined) throw new ConnectionError('PROTOCOL', `the message table gives id ${index} to both ${other} and ${name}`);
      link.nameById.set(index, name);
      link.table.set(name, index);
      byBase.set(name.replace(CRC_SUFFIX, ''), name);
    }
    const disabled: DisabledMessage[] = [];
    for (const d of DESCRIPTORS.values()) {
      const id = link.table.get(d.nameCrc);
      if (id !== undefined) {
        link.idByName.set(d.name, id);
        link.descById[id] = d;
        continue;
      }
      const vpp = byBase.get(d.name) ?? null;
      const entry: DisabledMessage = { name: d.name, nameCrc: d.nameCrc, reason: vpp === null ? 'unknown' : 'crc-mismatch', vppNameCrc: vpp };
      link.disabled.set(d.name, entry);
      disabled.push(entry);
    }
    link.clientIndex = reply.index;
    link.installed = true;
    this.lastDisabled = disabled;
    if (disabled.length > 0) {
      const list = disabled.map((d) => (d.reason === 'crc-mismatch' ? `${d.name} (we have ${d.nameCrc}, VPP has ${d.vppNameCrc ?? '?'})` : `${d.name} (unknown to VPP)`));
      this.warn(new ConnectionError('MESSAGE_UNAVAILABLE', `${disabled.length} message(s) disabled on this connection: ${list.join(', ')}`));
    }
  }

  // ---- health ------------------------------------------------------------------------------

  private startHealth(link: Link): void {
    link.lastRx = performance.now();
    if (this.options.healthIntervalMs <= 0) return;
    link.pingTimer = setInterval(() => this.ping(link), this.options.healthIntervalMs);
    this.armWatchdog(link, this.options.healthTimeoutMs);
  }

  private ping(link: Link): void {
    if (link.dead || link.healthContext !== 0) return;
    const pingId = link.idByName.get('control_ping');
    if (pingId === undefined) return; // disabled: only traffic proves liveness then
    const context = this.nextContext();
    const body = CONTROL_PING.encode({ client_index: link.clientIndex, context }, pingId);
    const entry: Pending = {
      kind: 'health',
      name: 'control_ping',
      context,
      seq: this.seq++,
      link,
      slab: null,
      start: 0,
      end: 0,
      pingId: -1,
      reply: CONTROL_PING_REPLY,
      items: null,
      timeoutMs: 0,
      windowed: false,
      state: 'sent',
      deadline: 0,
      timedPrev: null,
      timedNext: null,
      timedList: null,
      resolve: () => undefined,
      reject: () => undefined,
    };
    this.pending.set(entry);
    link.healthContext = context;
    this.counters.healthPings++;
    this.write(link, body);
  }

  private armWatchdog(link: Link, ms: number): void {
    if (this.options.healthIntervalMs <= 0 || link.dead) return;
    if (link.watchdog !== null) clearTimeout(link.watchdog);
    link.watchdog = setTimeout(() => this.watch(link), Math.max(1, Math.ceil(ms)));
  }

  /** Fires when the silence may have reached a threshold; re-arms itself for the next one. */
  private watch(link: Link): void {
    link.watchdog = null;
    if (link.dead) return;
    const o = this.options;
    const silent = performance.now() - link.lastRx;
    if (silent >= o.healthTimeoutMs && link.ready) this.setHealth('down', silent);
    if (silent >= o.healthTimeoutMs && o.unhealthyReconnectMs > 0 && silent >= o.unhealthyReconnectMs) {
      this.teardown(link, new ConnectionError('UNRESPONSIVE', `no message from VPP for ${Math.round(silent)} ms`));
      return;
    }
    const next = silent < o.healthTimeoutMs ? o.healthTimeoutMs - silent : o.unhealthyReconnectMs > 0 ? o.unhealthyReconnectMs - silent : o.healthTimeoutMs;
    this.armWatchdog(link, next);
  }

  // ---- ending ------------------------------------------------------------------------------

  /** Ends a link: fails what was bound to it, emits, and schedules the next connection. */
  private teardown(link: Link, error: Error): void {
    if (link.dead) return;
    link.dead = true;
    if (link.pingTimer !== null) clearInterval(link.pingTimer);
    if (link.watchdog !== null) clearTimeout(link.watchdog);
    link.pingTimer = link.watchdog = null;
    if (this.link === link) this.link = null;
    if (!(error instanceof ConnectionError && error.code === 'CLOSED')) this.lastErrorValue = error;
    link.handshake?.reject(error);
    link.handshake = null;
    const closed = error instanceof ConnectionError && error.code === 'CLOSED';
    const bound: (Pending | Batch<Link>)[] = [...this.pendingInOrder(), ...this.batches];
    bound.sort((a, b) => a.seq - b.seq);
    for (const e of bound) {
      if (e.link !== link) continue;
      if (e instanceof Batch) {
        const what = `${e.name} (batch of ${e.count}, ${e.unsettled} unanswered)`;
        this.failBatch(
          e,
          closed
            ? new ConnectionError('CLOSED', `${what}: close() was called`, { request: e.name })
            : new ConnectionError('DISCONNECTED', `${what}: ${error instanceof ConnectionError ? error.detail : error.message}`, { request: e.name, cause: error }),
        );
        continue;
      }
      this.finish(e);
      e.reject(
        closed
          ? new ConnectionError('CLOSED', `${e.name} (context ${e.context}): close() was called`, { request: e.name })
          : new ConnectionError('DISCONNECTED', `${e.name} (context ${e.context}): ${error instanceof ConnectionError ? error.detail : error.message}`, {
              request: e.name,
              cause: error,
            }),
      );
    }
    if (this.queued === 0) this.queue.clear();
    void link.transport.close();
    if (link.ready) {
      this.counters.disconnects++;
      this.setHealth('down', performance.now() - link.lastRx);
      this.safeEmit('disconnected', { generation: link.generation, error, willReconnect: !this.closing });
    }
    if (!this.closing) this.scheduleReconnect();
  }

  /**
   * Sends sockclnt_delete (waiting up to closeTimeoutMs for the reply), fails what is still
   * pending with CLOSED, closes the socket and stops reconnecting. Idempotent.
   */
  close(): Promise<void> {
    this.closePromise ??= this.doClose();
    return this.closePromise;
  }

  private async doClose(): Promise<void> {
    this.closing = true;
    for (const w of [...this.closeWaiters]) w();
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    // Requests still waiting for a slot never go out.
    const waiting: (Pending | Batch<Link>)[] = [...this.pendingInOrder(), ...this.batches];
    waiting.sort((a, b) => a.seq - b.seq);
    for (const e of waiting) {
      if (e instanceof Batch) {
        if (!e.waiting) continue;
        e.failUnsent(new ConnectionError('CLOSED', `${e.name} (batch of ${e.count}, ${e.count - e.next} not sent): close() was called before they were sent`, { request: e.name }));
        e.waiting = false;
        this.queued--;
        if (e.unsettled === 0) this.finishBatch(e);
        continue;
      }
      if (e.state !== 'queued') continue;
      this.finish(e);
      e.reject(new ConnectionError('CLOSED', `${e.name} (context ${e.context}): close() was called before it was sent`, { request: e.name }));
    }
    const link = this.link;
    if (link === null) return;
    if (link.ready && !link.dead) {
      try {
        // VPP answers in order: the replies to what is in flight arrive before this one.
        await this.send('internal', 'sockclnt_delete', { index: link.clientIndex }, { timeoutMs: this.options.closeTimeoutMs });
      } catch {
        // Gone or silent: closing the socket is enough, VPP cleans up a dead registration.
      }
    }
    this.teardown(link, new ConnectionError('CLOSED', 'close() was called'));
    if (this.deadlines.size === 0) this.deadlines.stop();
    await link.transport.close();
  }
}
