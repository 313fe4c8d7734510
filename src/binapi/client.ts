/**
 * The public binary API client: vpp_papi's shape (`request`, `dump`, events by name) with the
 * generated types. It owns no logic of its own: connection.ts does the work, this file puts the
 * types on it (better-sqlite3's one-line wrappers).
 *
 *   const vpp = await connectVpp({ socketPath: '/run/vpp/api.sock' });
 *   const v = await vpp.showVersion();                       // MessageOf<'show_version_reply'>
 *   const ifs = await vpp.dump('sw_interface_dump', {...});  // MessageOf<'sw_interface_details'>[]
 *   await vpp.close();
 */
import {
  Connection,
  type ConnectionEvents,
  type ConnectionOptions,
  type ConnectionStats,
  type DisabledMessage,
  type HealthState,
  type SendOptions,
} from './connection.js';
import { ConnectionError } from './connection-error.js';
import type { BatchOptions, BatchResult, BatchValues } from './batch.js';
import type { MessageOf } from './generated/index.js';
import type { DetailsOf, DumpName, EventName, EventOf, ReplyOf, RequestFields, RequestName, WantName } from './types.js';

export interface VppClientOptions extends ConnectionOptions {
  /** connectVpp() only: how long to wait for the first connection (ms); default connectTimeoutMs. */
  readonly waitMs?: number;
}

type Listener<K extends keyof ConnectionEvents> = (...args: ConnectionEvents[K]) => void;

export class VppClient {
  private readonly conn: Connection;

  /** Makes a client that is not connecting yet; call start(), or use connectVpp()/createVppClient(). */
  constructor(options: VppClientOptions) {
    this.conn = new Connection(options);
  }

  /** Starts connecting in the background; reconnects until close(). */
  start(): this {
    this.conn.start();
    return this;
  }

  /** Sends a request and resolves with its reply; a non-zero retval rejects with VppApiError. */
  request<N extends RequestName>(name: N, fields: RequestFields<N>, opts?: SendOptions): Promise<ReplyOf<N>> {
    return this.conn.request(name, fields, opts) as Promise<ReplyOf<N>>;
  }

  /**
   * Sends many requests of one message type, pipelined through the window, and resolves once
   * with each one's retval or error (it does not reject for single failures):
   *
   *   const r = await vpp.requestBatch('ip_route_add_del', routes);
   *   r.failed;        // how many did not succeed
   *   r.errors[i];     // why request i failed: VppApiError (retval), ConnectionError, CodecError
   *
   * `values` may also be `{ count, valueAt: (i) => value }`: each value is made when its request
   * goes out and dropped once encoded, instead of all of them living until the batch ends.
   *
   * Rejects, with nothing sent, when the batch cannot be sent at all (not connected, closed, a
   * disabled message). See Connection.requestBatch for timeouts and disconnects.
   */
  requestBatch<N extends RequestName>(name: N, values: BatchValues<RequestFields<N>>, opts?: BatchOptions): Promise<BatchResult<ReplyOf<N>>> {
    return this.conn.requestBatch(name, values, opts) as Promise<BatchResult<ReplyOf<N>>>;
  }

  /** Sends a dump (and the control_ping that ends it) and resolves with every details message. */
  dump<N extends DumpName>(name: N, fields: RequestFields<N>, opts?: SendOptions): Promise<DetailsOf<N>[]> {
    return this.conn.dump(name, fields, opts) as Promise<DetailsOf<N>[]>;
  }

  /**
   * A want_* request that is re-made after every reconnect (before `connected`), until it is
   * made with `enable_disable: 0`. Rejects with NOT_CONNECTED when not connected, but stays
   * registered and is made on the next connection.
   */
  want<N extends WantName>(name: N, fields: RequestFields<N>, opts?: SendOptions): Promise<ReplyOf<N>> {
    return this.conn.want(name, fields, opts) as Promise<ReplyOf<N>>;
  }

  /** want_interface_events for this process: sw_interface_event is sent to subscribe('sw_interface_event'). */
  wantInterfaceEvents(enable = true, opts?: SendOptions): Promise<ReplyOf<'want_interface_events'>> {
    return this.want('want_interface_events', { enable_disable: enable ? 1 : 0, pid: process.pid }, opts);
  }

  /** Calls `listener` with every event of that name; returns the function that unsubscribes. */
  subscribe<E extends EventName>(eventName: E, listener: (event: EventOf<E>) => void): () => void {
    return this.conn.subscribe(eventName, listener as (v: unknown) => void);
  }

  showVersion(opts?: SendOptions): Promise<MessageOf<'show_version_reply'>> {
    return this.request('show_version', {}, opts);
  }

  /** sockclnt_delete, then the socket is closed; pending requests fail with CLOSED. Idempotent. */
  close(): Promise<void> {
    return this.conn.close();
  }

  /** Resolves when connected (at once if so); rejects with NOT_CONNECTED after timeoutMs. */
  waitConnected(timeoutMs: number = this.conn.options.connectTimeoutMs): Promise<void> {
    return this.conn.waitConnected(timeoutMs);
  }

  on<K extends keyof ConnectionEvents>(event: K, listener: Listener<K>): this {
    (this.conn.on as (e: K, l: Listener<K>) => Connection)(event, listener);
    return this;
  }

  once<K extends keyof ConnectionEvents>(event: K, listener: Listener<K>): this {
    (this.conn.once as (e: K, l: Listener<K>) => Connection)(event, listener);
    return this;
  }

  off<K extends keyof ConnectionEvents>(event: K, listener: Listener<K>): this {
    (this.conn.off as (e: K, l: Listener<K>) => Connection)(event, listener);
    return this;
  }

  get connected(): boolean {
    return this.conn.connected;
  }

  get health(): HealthState {
    return this.conn.health;
  }

  /** A snapshot of the counters (requests, timeouts, reconnects, in flight, ...). */
  get stats(): ConnectionStats {
    return this.conn.stats;
  }

  /** Generated messages the connected VPP cannot take (unknown, or another CRC). */
  get disabledMessages(): readonly DisabledMessage[] {
    return this.conn.disabledMessages;
  }

  get lastError(): Error | null {
    return this.conn.lastError;
  }

  /** The message's id on the current connection (undefined: not connected or disabled). */
  messageId(name: string): number | undefined {
    return this.conn.messageId(name);
  }

  get clientIndex(): number | undefined {
    return this.conn.clientIndex;
  }
}

/** A client that connects in the background and keeps reconnecting: for daemons. */
export function createVppClient(options: VppClientOptions): VppClient {
  return new VppClient(options).start();
}

/**
 * Connects and resolves once the first connection is made (message table read, subscriptions
 * none yet). Rejects with NOT_CONNECTED, carrying the last error, when that takes longer than
 * `waitMs` (default connectTimeoutMs); the client is closed then. After it resolves the client
 * reconnects by itself whenever the connection is lost.
 */
export async function connectVpp(options: VppClientOptions): Promise<VppClient> {
  const client = new VppClient(options).start();
  try {
    await client.waitConnected(options.waitMs);
    return client;
  } catch (e) {
    await client.close();
    throw e instanceof ConnectionError ? e : new ConnectionError('NOT_CONNECTED', String(e), { cause: e });
  }
}
