/**
 * The simulated VPP's binary API socket (VPP's `socksvr`, /run/vpp/api.sock): a unix stream
 * server that real clients (vpp-papi, GoVPP, our own) take for VPP 26.10. Framing, message table,
 * client handles, dump/ping ordering, interface events and error codes follow VPP and the
 * captures in ../shared (BINARY-API.md); the differences are listed in README.md here.
 *
 * Processing: every chunk read from a client is split into frames (FrameReader), each frame is
 * dispatched by its message id (a flat array), decoded by the generated codec and handled; the
 * replies of the whole chunk are staged and written in one write when the chunk is done. Interface
 * events are batched per sw_if_index like VPP's link_state_process and sent after the replies of
 * the batch that caused them.
 */
import fs from 'node:fs';
import net from 'node:net';
import { CodecError, type MessageDescriptor } from '../../binapi/codec/index.js';
import { messages, type MessageName, type MessageOf } from '../../binapi/generated/index.js';
import { TransportError } from '../../binapi/transport.js';
import { logger, type Logger } from '../../log.js';
import type { InterfaceModel, InterfaceState } from '../model.js';
import { Prng } from '../prng.js';
import type { StatsSim } from '../stats-sim.js';
import { ApiConnection, type ConnectionOwner } from './connection.js';
import { Fib } from './fib.js';
import { createHandlers, createRawHandlers, type HandlerFn, type HandlerHost, type HandlerMap } from './handlers.js';
import { type RouteResult } from './fib.js';
import { ROUTE_REPLY_SIZE, writeRouteReply } from './wire.js';
import { MessageTable } from './message-table.js';

export interface ApiServerOptions {
  /** Where to listen (a stale socket file there is replaced, as VPP does). */
  socketPath: string;
  /** The interfaces, shared with the stats side. */
  model: InterfaceModel;
  /** The stats side of the same simulator, when there is one: it must follow the same model. */
  stats?: StatsSim;
  /** A simulated link flap (link down, then up again) on a random up port every this many ms; 0 = none. */
  flapIntervalMs?: number;
  /** Seeds the choice of flapping ports. Default 1. */
  seed?: number;
  /** show_version_reply.version. Default "26.10-sim". */
  version?: string;
  /** Largest frame body accepted; a bigger data_len closes that client. Default 16 MiB. */
  maxMessageSize?: number;
}

export interface ApiServerStats {
  connectionsAccepted: number;
  framesIn: number;
  framesOut: number;
  /** Frames with an id outside the table (VPP: "no handler for msg id", no reply). */
  unknownId: number;
  /** Frames of a message the simulator has no handler for (VPP without a handler: no reply). */
  unhandled: number;
  /** The same by `<name>_<crc>`. */
  unhandledByName: Record<string, number>;
  /** Requests whose client_index names no live client (VPP drops them: nowhere to reply). */
  badClientIndex: number;
  /** Frames too short for their message (VPP drops truncated messages). */
  decodeErrors: number;
  /** Handler failures (a simulator bug): the frame is dropped, the client stays. */
  handlerErrors: number;
  /** sw_interface_event messages sent. */
  eventsSent: number;
  /** Simulated link flaps started. */
  flaps: number;
}

export interface FlapOptions {
  /** The port to flap; by default a random hardware port that is admin and link up. */
  swIfIndex?: number;
  /** How long the link stays down. Default: half the flap interval, at most 1000 ms (100 ms without one). */
  downMs?: number;
}

export interface ApiServer {
  readonly socketPath: string;
  readonly model: InterfaceModel;
  readonly fib: Fib;
  readonly messageTable: MessageTable;
  readonly stats: Readonly<ApiServerStats>;
  /** Clients connected now. */
  readonly connections: number;
  /** Starts a link flap now; returns the port's sw_if_index, undefined when no port qualifies. */
  flap(opts?: FlapOptions): number | undefined;
  /** Closes every client socket and the listener and removes the socket file. Idempotent. */
  stop(): Promise<void>;
}

/** Events link_state_process batches per sw_if_index (vnet/interface_api.c enum api_events). */
const EV_LINK_UP = 1 << 1;
const EV_LINK_DOWN = 1 << 2;
const EV_ADMIN_UP = 1 << 3;
const EV_ADMIN_DOWN = 1 << 4;
const EV_ADD = 1 << 5;
const EV_DEL = 1 << 6;

const DEFAULT_MAX_MESSAGE_SIZE = 16 * 1024 * 1024;
const MAX_SOCKET_PATH_BYTES = 107;

interface DispatchEntry {
  readonly name: MessageName;
  readonly hasClientIndex: boolean;
  readonly fixedSize: number | null;
  /** False when the body is too short for the message (dropped); CodecError does the same. */
  run(body: Buffer, dest: ApiConnection, src: ApiConnection): boolean;
}

interface Registration {
  readonly clientIndex: number;
  readonly pid: number;
}

/** Starts the API server; rejects when the socket cannot be listened on. */
export async function startApiServer(opts: ApiServerOptions): Promise<ApiServer> {
  const server = new SimApiServer(opts);
  await server.listen();
  return server;
}

function buildDate(d: Date): string {
  return d.toISOString().slice(0, 19);
}

class SimApiServer implements ApiServer, HandlerHost, ConnectionOwner {
  readonly socketPath: string;
  readonly model: InterfaceModel;
  readonly fib: Fib;
  readonly messageTable = new MessageTable();
  readonly program = 'vpe';
  readonly version: string;
  readonly buildDate = buildDate(new Date());
  readonly stats: ApiServerStats = {
    connectionsAccepted: 0,
    framesIn: 0,
    framesOut: 0,
    unknownId: 0,
    unhandled: 0,
    unhandledByName: {},
    badClientIndex: 0,
    decodeErrors: 0,
    handlerErrors: 0,
    eventsSent: 0,
    flaps: 0,
  };

  private readonly server: net.Server;
  private readonly maxMessageSize: number;
  /** Message id -> handler; undefined for ids without one. */
  private readonly dispatchTable: (DispatchEntry | undefined)[] = [];
  /** The id of every generated message, by name. */
  private readonly ids = new Map<MessageName, number>();
  private readonly routeReplyId: number;
  private readonly clients = new Map<number, ApiConnection>();
  /** Every open socket, those ending after sockclnt_delete included (stop() destroys them all). */
  private readonly sockets = new Set<net.Socket>();
  private readonly freeSlots: number[] = [];
  private nextSlot = 1;
  private readonly dirty = new Set<ApiConnection>();
  private readonly registrations = new Map<number, Registration>();
  private readonly pendingEvents = new Map<number, number>();
  private eventsScheduled: NodeJS.Immediate | null = null;
  /** Hardware ports (not local0, not sub-interfaces): what links and flaps apply to. */
  private readonly ports = new Set<number>();
  /** Ports whose simulated carrier is down (a flap in progress). */
  private readonly carrierDown = new Set<number>();
  private readonly flapTimers = new Set<NodeJS.Timeout>();
  private flapInterval: NodeJS.Timeout | null = null;
  private readonly flapIntervalMs: number;
  private readonly prng: Prng;
  private stopping: Promise<void> | null = null;
  private readonly log: Logger = logger('sim-api');

  private readonly onCreated = (i: InterfaceState): void => {
    if (isPort(i)) this.ports.add(i.swIfIndex);
    this.queueEvent(i.swIfIndex, EV_ADD);
  };
  private readonly onDeleted = (i: InterfaceState): void => {
    this.ports.delete(i.swIfIndex);
    this.carrierDown.delete(i.swIfIndex);
    this.queueEvent(i.swIfIndex, EV_DEL);
  };
  private readonly onChanged = (i: InterfaceState, prev: InterfaceState): void => {
    let bits = 0;
    if (i.adminUp !== prev.adminUp) bits |= i.adminUp ? EV_ADMIN_UP : EV_ADMIN_DOWN;
    // Link events come from hardware interfaces only (link_up_down_function: hi->sw_if_index).
    if (i.linkUp !== prev.linkUp && i.hwIfIndex !== null) bits |= i.linkUp ? EV_LINK_UP : EV_LINK_DOWN;
    if (bits !== 0) this.queueEvent(i.swIfIndex, bits);
  };

  constructor(opts: ApiServerOptions) {
    if (typeof opts !== 'object' || opts === null) throw new RangeError('API server options must be an object');
    if (typeof opts.socketPath !== 'string' || opts.socketPath.length === 0) throw new RangeError('socketPath must be a non-empty string');
    if (Buffer.byteLength(opts.socketPath) > MAX_SOCKET_PATH_BYTES) {
      throw new RangeError(`socketPath is longer than ${MAX_SOCKET_PATH_BYTES} bytes, the limit of a unix socket address`);
    }
    if (opts.stats !== undefined && opts.stats.model !== opts.model) throw new RangeError('stats must follow the same model as the API server');
    const flap = opts.flapIntervalMs ?? 0;
    if (!Number.isInteger(flap) || flap < 0) throw new RangeError(`flapIntervalMs must be an integer >= 0, got ${String(flap)}`);
    this.socketPath = opts.socketPath;
    this.model = opts.model;
    this.flapIntervalMs = flap;
    this.prng = new Prng(opts.seed ?? 1);
    this.version = opts.version ?? '26.10-sim';
    this.maxMessageSize = opts.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;

    for (const name of Object.keys(messages) as MessageName[]) {
      const id = this.messageTable.idOf(messages[name].nameCrc);
      if (id !== undefined) this.ids.set(name, id);
    }
    this.fib = new Fib(this.model);
    try {
      const handlers = createHandlers(this);
      for (const name of Object.keys(handlers) as MessageName[]) this.bind(name, handlers);
      const raw = createRawHandlers(this);
      for (const name of Object.keys(raw) as MessageName[]) {
        const id = this.ids.get(name);
        const fn = raw[name];
        if (id === undefined || fn === undefined) throw new Error(`message table: no id for ${messages[name].nameCrc}`);
        this.dispatchTable[id] = { name, hasClientIndex: messages[name].hasClientIndex, fixedSize: null, run: fn };
      }
    } catch (e) {
      this.fib.detach();
      throw e;
    }
    this.routeReplyId = this.ids.get('ip_route_add_del_reply') ?? 0;

    // VPP's simulated ports bring their link down with the admin state; start consistent.
    for (const i of this.model.list()) {
      if (!isPort(i)) continue;
      this.ports.add(i.swIfIndex);
      if (!i.adminUp && i.linkUp) this.model.setFlags(i.swIfIndex, { linkUp: false });
    }
    this.model.on('created', this.onCreated);
    this.model.on('deleted', this.onDeleted);
    this.model.on('changed', this.onChanged);

    this.server = net.createServer({ allowHalfOpen: false }, (socket) => this.accept(socket));
  }

  private bind<N extends MessageName>(name: N, handlers: HandlerMap): void {
    const fn: HandlerFn<N> | undefined = handlers[name];
    const id = this.ids.get(name);
    if (fn === undefined) return;
    if (id === undefined) throw new Error(`message table: no id for ${messages[name].nameCrc} (its CRC differs from the generated code's)`);
    const desc = messages[name] as unknown as MessageDescriptor<MessageOf<N>>;
    this.dispatchTable[id] = {
      name,
      hasClientIndex: desc.hasClientIndex,
      fixedSize: desc.fixedSize,
      run: (body, dest, src) => {
        fn(desc.decode(body), dest, src);
        return true;
      },
    };
  }

  listen(): Promise<void> {
    try {
      removeStaleSocket(this.socketPath);
    } catch (e) {
      this.detach();
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    return new Promise<void>((resolve, reject) => {
      const onError = (e: Error): void => {
        this.detach();
        reject(e);
      };
      this.server.once('error', onError);
      this.server.listen(this.socketPath, () => {
        this.server.off('error', onError);
        this.server.on('error', () => undefined);
        if (this.flapIntervalMs > 0) {
          this.flapInterval = setInterval(() => this.flap(), this.flapIntervalMs);
          this.flapInterval.unref();
        }
        resolve();
      });
    });
  }

  get connections(): number {
    return this.sockets.size;
  }

  // --- connections ----------------------------------------------------------------------------

  private accept(socket: net.Socket): void {
    if (this.stopping) {
      socket.destroy();
      return;
    }
    const slot = this.freeSlots.pop() ?? this.nextSlot++;
    const conn = new ApiConnection(socket, slot, this, this.maxMessageSize, (c, body) => this.onFrame(c, body));
    this.clients.set(conn.handle, conn);
    this.sockets.add(socket);
    this.stats.connectionsAccepted++;
    socket.on('data', (chunk: Buffer) => {
      try {
        conn.reader.push(chunk);
      } catch (e) {
        // Only FRAME_TOO_LARGE: the stream cannot be resynchronised.
        if (!(e instanceof TransportError)) this.stats.handlerErrors++;
        socket.destroy();
      }
      this.flushDirty();
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      this.sockets.delete(socket);
      this.release(conn);
    });
  }

  private release(conn: ApiConnection): void {
    if (this.clients.get(conn.handle) === conn) this.clients.delete(conn.handle);
    // The slot (and so the handle) is free for the next client once the socket is gone.
    if (!this.stopping) this.freeSlots.push(conn.slot);
    // The reaper of want_interface_events: a client's registration dies with it.
    this.registrations.delete(conn.handle);
    this.dirty.delete(conn);
  }

  markDirty(conn: ApiConnection): void {
    this.dirty.add(conn);
  }

  private flushDirty(): void {
    for (const c of this.dirty) c.flush();
    this.dirty.clear();
  }

  closeAfterReply(conn: ApiConnection): void {
    conn.closing = true;
    this.clients.delete(conn.handle);
    this.registrations.delete(conn.handle);
    conn.flush();
    conn.socket.end();
  }

  // --- dispatch -------------------------------------------------------------------------------

  private onFrame(src: ApiConnection, body: Buffer): void {
    if (src.closing) return;
    this.stats.framesIn++;
    if (body.length < 2) {
      this.stats.decodeErrors++;
      return;
    }
    const id = (body[0] << 8) | body[1];
    const entry = this.dispatchTable[id];
    if (entry === undefined) {
      if (id === 0 || id > this.messageTable.size) {
        this.stats.unknownId++;
      } else {
        this.stats.unhandled++;
        const name = this.messageTable.nameOf(id) ?? String(id);
        this.stats.unhandledByName[name] = (this.stats.unhandledByName[name] ?? 0) + 1;
      }
      return;
    }
    let dest = src;
    if (entry.hasClientIndex) {
      if (body.length < 6) {
        this.stats.decodeErrors++;
        return;
      }
      const c = this.clients.get(body.readUInt32BE(2));
      if (c === undefined) {
        this.stats.badClientIndex++;
        return;
      }
      dest = c;
    }
    // VPP accepts a message longer than its fixed size (it checks only for too short ones).
    const msg = entry.fixedSize !== null && body.length > entry.fixedSize ? body.subarray(0, entry.fixedSize) : body;
    try {
      if (!entry.run(msg, dest, src)) this.stats.decodeErrors++;
    } catch (e) {
      if (e instanceof CodecError) {
        this.stats.decodeErrors++;
        this.log.debug({ apiMsg: entry.name, err: e.message }, 'dropped a message that does not decode');
      } else {
        this.stats.handlerErrors++;
        this.log.error({ apiMsg: entry.name, err: e }, 'handler failed; message dropped');
      }
    }
  }

  send<N extends MessageName>(dest: ApiConnection, name: N, value: MessageOf<N>): void {
    const desc = messages[name] as unknown as MessageDescriptor<MessageOf<N>>;
    dest.push(desc.encode(value, this.ids.get(name) ?? 0));
    this.stats.framesOut++;
  }

  sendRouteReply(dest: ApiConnection, context: number, result: RouteResult): void {
    const at = dest.reserve(ROUTE_REPLY_SIZE);
    writeRouteReply(dest.buffer, at, this.routeReplyId, context, result.retval, result.statsIndex);
    this.stats.framesOut++;
  }

  sendCreateReply(conn: ApiConnection, context: number): void {
    conn.push(this.messageTable.createReply(context, conn.handle));
    this.stats.framesOut++;
  }

  // --- interface events -----------------------------------------------------------------------

  wantInterfaceEvents(clientIndex: number, enable: boolean, pid: number): number {
    const INVALID_REGISTRATION = -31;
    if (this.registrations.has(clientIndex)) {
      if (enable) return INVALID_REGISTRATION;
      this.registrations.delete(clientIndex);
      return 0;
    }
    if (!enable) return INVALID_REGISTRATION;
    this.registrations.set(clientIndex, { clientIndex, pid });
    return 0;
  }

  private queueEvent(swIfIndex: number, bits: number): void {
    if (this.registrations.size === 0 || this.stopping) return;
    this.pendingEvents.set(swIfIndex, (this.pendingEvents.get(swIfIndex) ?? 0) | bits);
    this.eventsScheduled ??= setImmediate(() => this.sendEvents());
  }

  /** link_state_process: one sw_interface_event per interface and registration, by sw_if_index. */
  private sendEvents(): void {
    this.eventsScheduled = null;
    const pending = [...this.pendingEvents].sort((a, b) => a[0] - b[0]);
    this.pendingEvents.clear();
    for (const [sw, bits] of pending) {
      const flags = (bits & EV_ADMIN_UP ? 1 : 0) | (bits & EV_LINK_UP ? 2 : 0);
      const deleted = (bits & EV_DEL) !== 0;
      for (const reg of this.registrations.values()) {
        const dest = this.clients.get(reg.clientIndex);
        if (dest === undefined) continue;
        this.send(dest, 'sw_interface_event', { client_index: reg.clientIndex, pid: reg.pid, sw_if_index: sw, flags, deleted });
        this.stats.eventsSent++;
      }
    }
    this.flushDirty();
  }

  // --- links ----------------------------------------------------------------------------------

  setAdminState(swIfIndex: number, up: boolean): void {
    if (this.ports.has(swIfIndex)) {
      // The simulated drivers (loopback, af_packet, memif, dpdk) take the link down with the admin
      // state and up again with it, unless the simulated carrier is down.
      this.model.setFlags(swIfIndex, { adminUp: up, linkUp: up && !this.carrierDown.has(swIfIndex) });
    } else {
      this.model.setFlags(swIfIndex, { adminUp: up });
    }
  }

  flap(opts: FlapOptions = {}): number | undefined {
    if (this.stopping) return undefined;
    let sw = opts.swIfIndex;
    if (sw === undefined) {
      const candidates = [...this.ports].filter((s) => {
        const i = this.model.get(s);
        return i !== undefined && i.adminUp && i.linkUp && !this.carrierDown.has(s);
      });
      if (candidates.length === 0) return undefined;
      sw = this.prng.pick(candidates.sort((a, b) => a - b));
    } else if (!this.ports.has(sw) || this.carrierDown.has(sw)) {
      return undefined;
    }
    const port = sw;
    const downMs = opts.downMs ?? (this.flapIntervalMs > 0 ? Math.min(1000, Math.max(1, Math.floor(this.flapIntervalMs / 2))) : 100);
    this.stats.flaps++;
    this.carrierDown.add(port);
    this.model.setFlags(port, { linkUp: false });
    const timer = setTimeout(() => {
      this.flapTimers.delete(timer);
      this.carrierDown.delete(port);
      const i = this.model.get(port);
      if (i?.adminUp && this.ports.has(port)) this.model.setFlags(port, { linkUp: true });
    }, downMs);
    timer.unref();
    this.flapTimers.add(timer);
    return port;
  }

  // --- stop -----------------------------------------------------------------------------------

  private detach(): void {
    this.model.off('created', this.onCreated);
    this.model.off('deleted', this.onDeleted);
    this.model.off('changed', this.onChanged);
    this.fib.detach();
    if (this.flapInterval) clearInterval(this.flapInterval);
    for (const t of this.flapTimers) clearTimeout(t);
    this.flapTimers.clear();
    if (this.eventsScheduled) clearImmediate(this.eventsScheduled);
    this.eventsScheduled = null;
  }

  stop(): Promise<void> {
    this.stopping ??= new Promise<void>((resolve) => {
      this.detach();
      for (const s of this.sockets) s.destroy();
      this.sockets.clear();
      this.clients.clear();
      this.registrations.clear();
      this.dirty.clear();
      this.server.close(() => {
        try {
          fs.unlinkSync(this.socketPath);
        } catch {
          // net.Server removes its socket file on close; nothing left to do.
        }
        resolve();
      });
    });
    return this.stopping;
  }
}

function isPort(i: InterfaceState): boolean {
  return i.hwIfIndex !== null && i.deviceClass !== 'local';
}

/** Removes a socket file left by a simulator that died; refuses to remove anything else. */
function removeStaleSocket(path: string): void {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(path);
  } catch {
    return;
  }
  if (!st.isSocket()) throw new Error(`${path} exists and is not a socket`);
  fs.unlinkSync(path);
}
