/**
 * Link events: interface state changes, creations and deletions, from VPP's binary API onto the
 * event spool (and from there Kafka), with nothing lost across VPP restarts, our own restarts or
 * a full spool.
 *
 * How (BINARY-API.md §7, RELIABILITY.md C.14):
 * - Subscribe first (want_interface_events; the client re-makes it after every reconnect before
 *   it reports `connected`), then dump (sw_interface_dump), then emit the differences against the
 *   last state we emitted. Again after every reconnect: a change made while we were disconnected
 *   arrives with reason "resync". The last emitted state is kept on disk (link-state.ts), so our
 *   own restart works the same way.
 * - sw_interface_event's flags say which up-events happened in VPP's batch, not the state. So an
 *   event only says "look at this interface": the engine collects them and reads the true state
 *   back with a dump of those sw_if_indexes (pipelined; a full dump when many are pending), then
 *   emits the difference with reason "event". When the state read back equals the one we had but
 *   an event announced another one (a flap faster than the read-back), that state is emitted too,
 *   marked transient, followed by the return to the current state.
 * - One batch at a time: dumps, then one spool append (a group commit) for every change of the
 *   batch, so the sequence numbers and the per-interface order are those of the spool.
 * - When the spool refuses events (full), the engine stops reading until the spool has room and
 *   then resyncs: every change is still delivered, as its net difference (RELIABILITY.md C.16).
 */
import type { ConnectedInfo, DisconnectedInfo, MessageOf, RequestFields, VppClient } from '../binapi/index.js';
import { VppApiError } from '../binapi/index.js';
import type { Logger } from '../log.js';
import { CE_TYPES, cloudEventHeaders, eventSource, type EventSink, type OutboundMessage, type SpooledEvent } from '../sink/index.js';
import { uuidv7 } from './ids.js';
import { LinkStateStore, type LinkState } from './link-state.js';
import type { InterfaceStateData, LinkChange, LinkEventData, LinkReason } from './types.js';

export type { LinkState } from './link-state.js';

const ALL = 0xffffffff;
const ADMIN_UP = 1;
const LINK_UP = 2;
/** VNET_API_ERROR_INVALID_SW_IF_INDEX: the interface is gone. */
const INVALID_SW_IF_INDEX = -2;

/** The part of the binary API client this needs (VppClient has it; tests may bring their own). */
export interface LinkEventSource {
  readonly connected: boolean;
  subscribe(eventName: 'sw_interface_event', listener: (event: MessageOf<'sw_interface_event'>) => void): () => void;
  wantInterfaceEvents(enable?: boolean): Promise<unknown>;
  dump(name: 'sw_interface_dump', fields: RequestFields<'sw_interface_dump'>): Promise<MessageOf<'sw_interface_details'>[]>;
  on(event: 'connected', listener: (info: ConnectedInfo) => void): unknown;
  on(event: 'disconnected', listener: (info: DisconnectedInfo) => void): unknown;
  off(event: 'connected', listener: (info: ConnectedInfo) => void): unknown;
  off(event: 'disconnected', listener: (info: DisconnectedInfo) => void): unknown;
}

/** Compile-time proof that the real client fits. */
export const asLinkEventSource = (client: VppClient): LinkEventSource => client;

export interface LinkEventsOptions {
  readonly vpp: LinkEventSource;
  readonly sink: EventSink;
  /** This VPP instance's name: in keys (`<instance>/<sw_if_index>`), payloads and ce_source. */
  readonly instance: string;
  /** Where the last emitted state and the sequence numbers are kept (e.g. <spool dir>/link-state). */
  readonly stateDir: string;
  readonly logger?: Logger;
  /** More pending interfaces than this and one full dump is read instead of one per interface (default 64). */
  readonly fullDumpThreshold?: number;
  /** Wait after a failed dump while still connected (default 1 s). */
  readonly retryMs?: number;
  /** How long to wait for the up event that says which side of a fast flap went down (default 1 s). */
  readonly deferMs?: number;
  /** Called with every batch of link events accepted into the spool (tests, benchmarks). */
  readonly onAccepted?: (events: readonly LinkEventData[], receivedAt: readonly number[]) => void;
  /** Wall clock (ms). */
  readonly now?: () => number;
}

export interface LinkEventsStats {
  /** sw_interface_event messages received. */
  readonly vppEvents: number;
  /** Link events accepted into the spool, by reason; transient ones counted too. */
  readonly emitted: number;
  readonly emittedEvent: number;
  readonly emittedResync: number;
  readonly transients: number;
  readonly resyncs: number;
  readonly fullDumps: number;
  readonly indexDumps: number;
  readonly dumpFailures: number;
  /** Events the spool refused (each later re-derived by a resync). */
  readonly refused: number;
  /** Interfaces known now. */
  readonly interfaces: number;
}

/** What VPP's events said about one interface since it was last read back. */
export interface LinkHint {
  /** Distinct flag values, in the order first seen. */
  flags: number[];
  /** The flags of the latest event. */
  last: number;
  deleted: boolean;
  /** When the first of these events arrived (ms since the epoch, and performance.now()). */
  at: number;
  perfAt: number;
  /** Set once the engine stopped waiting for the up event that would say which side flapped. */
  final?: boolean;
}

export interface LinkTransition {
  readonly sw: number;
  readonly kind: LinkChange;
  readonly prev: LinkState | undefined;
  readonly next: LinkState | undefined;
  readonly transient: boolean;
  readonly reason: LinkReason;
  readonly at: number;
  readonly perfAt: number;
}

function stateOf(d: MessageOf<'sw_interface_details'>): LinkState {
  return { swIfIndex: d.sw_if_index, name: d.interface_name, adminUp: (d.flags & ADMIN_UP) !== 0, linkUp: (d.flags & LINK_UP) !== 0 };
}

function sameState(a: LinkState, b: LinkState): boolean {
  return a.name === b.name && a.adminUp === b.adminUp && a.linkUp === b.linkUp;
}

/**
 * The state a flap went through, from the flags of the events received while the state read back
 * stayed `p`; undefined when they show none. VPP's flags say which up-events happened in a batch
 * (BINARY-API.md §7; the simulator does the same): ADMIN_UP if an admin-up event occurred, LINK_UP
 * if a link-up one did; a batch with only downs has 0, whichever side went down. With the state
 * back where it was, a side that had an up event while it was up in `p` went down and up again,
 * and a side that had one while down went up and down again: the transient state is `p` with
 * those sides flipped. Events that only say "down" (0) name no side: then both (see waitForUpEvent,
 * which waits for the up event that names it).
 */
export function transientState(p: LinkState, flags: readonly number[]): LinkState | undefined {
  const have = (p.adminUp ? ADMIN_UP : 0) | (p.linkUp ? LINK_UP : 0);
  if (flags.length === 0) return undefined;
  let ups = 0;
  for (const f of flags) ups |= f;
  const bits = ups === 0 ? 0 : have ^ ups;
  if (bits === have) return undefined;
  return { ...p, adminUp: (bits & ADMIN_UP) !== 0, linkUp: (bits & LINK_UP) !== 0 };
}

/**
 * Whether to wait for VPP's next event before deciding: the state read back equals the last one
 * emitted and the latest event said only "down" (0), so VPP owes the up event that names the side
 * that went down (ADMIN_UP or LINK_UP); without it, the 0 would have to stand for both.
 */
export function waitForUpEvent(prev: LinkState | undefined, cur: LinkState | undefined, hint: LinkHint | undefined): boolean {
  if (hint === undefined || hint.final === true || hint.deleted || prev === undefined || cur === undefined || !sameState(prev, cur)) return false;
  // No flags: a sub-interface read back because of its parent's event (followParent); nothing to wait for.
  if (hint.flags.length === 0) return false;
  return hint.last === 0;
}

/** `newer`'s flags after `older`'s, into `older`. */
function mergeHint(older: LinkHint, newer: LinkHint): LinkHint {
  for (const f of newer.flags) if (!older.flags.includes(f)) older.flags.push(f);
  if (newer.flags.length > 0) older.last = newer.last;
  older.deleted ||= newer.deleted;
  return older;
}

/**
 * The changes that take interface `sw` from `prev` (last emitted) to `cur` (read back now), given
 * what VPP's events said meanwhile (`hint`).
 */
export function transitions(
  sw: number,
  prev: LinkState | undefined,
  cur: LinkState | undefined,
  hint: LinkHint | undefined,
  at: number,
  perfAt: number,
): LinkTransition[] {
  const reason: LinkReason = hint !== undefined ? 'event' : 'resync';
  const when = hint?.at ?? at;
  const perf = hint?.perfAt ?? perfAt;
  const out: LinkTransition[] = [];
  const add = (kind: LinkChange, from: LinkState | undefined, to: LinkState | undefined, transient = false): void => {
    out.push({ sw, kind, prev: from, next: to, transient, reason, at: when, perfAt: perf });
  };
  let p = prev;
  // Another interface now (a new name at a reused index), or deleted and made again.
  if (p !== undefined && cur !== undefined && (p.name !== cur.name || hint?.deleted === true)) {
    add('deleted', p, undefined);
    p = undefined;
  }
  // No net change, but VPP announced another state: a flap faster than our read-back.
  if (p !== undefined && cur !== undefined && sameState(p, cur) && hint !== undefined) {
    const t = transientState(p, hint.flags);
    if (t !== undefined) {
      add('changed', p, t, true);
      p = t;
    }
  }
  if (cur === undefined) {
    if (p !== undefined) add('deleted', p, undefined);
  } else if (p === undefined) {
    add('created', undefined, cur);
  } else if (!sameState(p, cur)) {
    add('changed', p, cur);
  }
  return out;
}

export class LinkEvents {
  private readonly vpp: LinkEventSource;
  private readonly sink: EventSink;
  private readonly instance: string;
  private readonly source: string;
  private readonly log: Logger | undefined;
  private readonly fullDumpThreshold: number;
  private readonly retryMs: number;
  private readonly now: () => number;
  private readonly store: LinkStateStore;
  private pending = new Map<number, LinkHint>();
  /**
   * Sub-interfaces by parent sw_if_index, from every sw_interface_details read. VPP sends a link
   * event for the hardware interface only, yet a sub-interface's link_up is its parent's
   * (send_sw_interface_details reads the sup hw interface), so its change comes with no event.
   */
  private readonly subs = new Map<number, Set<number>>();
  private readonly parentOf = new Map<number, number>();
  /** Interfaces waiting for VPP's up event (waitForUpEvent), at most DEFER_MS. */
  private readonly deferred = new Map<number, LinkHint>();
  private deferTimer: NodeJS.Timeout | null = null;
  private readonly deferMs: number;
  private resyncWanted = false;
  private waitingForSpace = false;
  private working: Promise<void> | null = null;
  private stopped = false;
  private unsubscribe: (() => void) | null = null;
  private unsubscribeSpace: (() => void) | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private counters = {
    vppEvents: 0,
    emitted: 0,
    emittedEvent: 0,
    emittedResync: 0,
    transients: 0,
    resyncs: 0,
    fullDumps: 0,
    indexDumps: 0,
    dumpFailures: 0,
    refused: 0,
  };

  private constructor(o: LinkEventsOptions, store: LinkStateStore) {
    this.vpp = o.vpp;
    this.sink = o.sink;
    this.instance = o.instance;
    this.source = eventSource(o.instance);
    this.log = o.logger;
    this.fullDumpThreshold = o.fullDumpThreshold ?? 64;
    this.retryMs = o.retryMs ?? 1000;
    this.deferMs = o.deferMs ?? 1000;
    this.now = o.now ?? Date.now;
    this.store = store;
    this.onAccepted = o.onAccepted;
  }

  private readonly onAccepted: LinkEventsOptions['onAccepted'];

  /**
   * Loads the last state, subscribes to interface events and starts the first resync (now when
   * connected, else on `connected`). Resolves once subscribed; events flow from then on.
   */
  static async start(o: LinkEventsOptions): Promise<LinkEvents> {
    if (o.instance === '' || o.instance.includes('/')) throw new RangeError(`instance must be non-empty and without '/', got '${o.instance}'`);
    const store = await LinkStateStore.open({ dir: o.stateDir, instance: o.instance, logger: o.logger });
    const le = new LinkEvents(o, store);
    await le.begin();
    return le;
  }

  get stats(): LinkEventsStats {
    return { ...this.counters, interfaces: this.store.state.size };
  }

  /** The last emitted state per sw_if_index. */
  get state(): ReadonlyMap<number, LinkState> {
    return this.store.state;
  }

  /** Moves whenever `state` changes. */
  get stateVersion(): number {
    return this.store.version;
  }

  get lastSeq(): number {
    return this.store.lastSeq;
  }

  /** Reads every interface again and emits what differs (reason resync). */
  resync(): void {
    this.resyncWanted = true;
    this.schedule();
  }

  /** Work is under way, waiting for a retry, or pending (while connected and the spool takes events). */
  get busy(): boolean {
    return (
      this.working !== null ||
      this.retryTimer !== null ||
      this.deferred.size > 0 ||
      (this.vpp.connected && !this.waitingForSpace && (this.resyncWanted || this.pending.size > 0))
    );
  }

  /** Resolves when the engine is not busy (tests, benchmarks). */
  async idle(): Promise<void> {
    while (this.busy && !this.stopped) {
      if (this.working !== null) await this.working;
      else await new Promise((r) => setTimeout(r, 5));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    this.unsubscribeSpace?.();
    this.vpp.off('connected', this.onConnected);
    this.vpp.off('disconnected', this.onDisconnected);
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (this.deferTimer !== null) clearTimeout(this.deferTimer);
    this.deferTimer = null;
    this.deferred.clear();
    // The batch under way finishes (its events are accepted or not) before the state is closed.
    while (this.working !== null) await this.working;
    await this.store.close();
  }

  private async begin(): Promise<void> {
    this.unsubscribe = this.vpp.subscribe('sw_interface_event', this.onEvent);
    this.vpp.on('connected', this.onConnected);
    this.vpp.on('disconnected', this.onDisconnected);
    this.unsubscribeSpace = this.sink.onSpace(this.onSpace);
    try {
      // Registered with the client either way: re-made on every (re)connection before `connected`.
      await this.vpp.wantInterfaceEvents(true);
      this.resync();
    } catch (e) {
      if (this.vpp.connected) {
        this.log?.error({ err: e }, 'want_interface_events failed');
        throw e;
      }
      this.log?.info({ error: (e as Error).message }, 'VPP API not connected yet: link events start when it is');
    }
  }

  private readonly onEvent = (e: MessageOf<'sw_interface_event'>): void => {
    this.counters.vppEvents++;
    let h = this.pending.get(e.sw_if_index);
    const waiting = this.deferred.get(e.sw_if_index);
    if (waiting !== undefined) {
      // The event it was waiting for (or another): read it back again with everything known.
      this.deferred.delete(e.sw_if_index);
      h = h === undefined ? waiting : mergeHint(waiting, h);
      this.pending.set(e.sw_if_index, h);
    }
    if (h === undefined) {
      h = { flags: [], last: 0, deleted: false, at: this.now(), perfAt: performance.now() };
      this.pending.set(e.sw_if_index, h);
    }
    const f = e.flags & (ADMIN_UP | LINK_UP);
    if (!h.flags.includes(f)) h.flags.push(f);
    h.last = f;
    if (e.deleted) h.deleted = true;
    this.followParent(e.sw_if_index, h);
    this.schedule();
  };

  /** Reads the sub-interfaces of `parent` back too, attributed to its event. */
  private followParent(parent: number, cause: LinkHint): void {
    for (const sub of this.subs.get(parent) ?? []) {
      if (this.pending.has(sub) || this.deferred.has(sub)) continue;
      this.pending.set(sub, { flags: [], last: 0, deleted: false, at: cause.at, perfAt: cause.perfAt });
    }
  }

  /** Keeps `subs` current from details read back (undefined: `sw` is gone). */
  private noteParent(sw: number, d: MessageOf<'sw_interface_details'> | undefined): void {
    const old = this.parentOf.get(sw);
    if (old !== undefined) {
      const set = this.subs.get(old);
      if (set?.delete(sw) && set.size === 0) this.subs.delete(old);
      this.parentOf.delete(sw);
    }
    if (d === undefined || d.sup_sw_if_index === d.sw_if_index) return;
    let set = this.subs.get(d.sup_sw_if_index);
    if (!set) this.subs.set(d.sup_sw_if_index, (set = new Set()));
    set.add(sw);
    this.parentOf.set(sw, d.sup_sw_if_index);
  }

  private readonly onConnected = (info: ConnectedInfo): void => {
    // want_interface_events was re-made before this: now dump and compare.
    this.log?.info({ generation: info.generation, reconnect: info.reconnect }, 'VPP API connected: resyncing link state');
    this.resync();
  };

  private readonly onDisconnected = (info: DisconnectedInfo): void => {
    this.log?.warn({ error: info.error.message, willReconnect: info.willReconnect }, 'VPP API disconnected: link events resume with a resync');
  };

  private readonly onSpace = (): void => {
    if (!this.waitingForSpace) return;
    this.waitingForSpace = false;
    this.log?.info('event spool has room again: resyncing link state');
    this.resync();
  };

  private schedule(): void {
    if (this.working !== null || this.stopped) return;
    this.working = this.work()
      .catch((e: unknown) => {
        // work() handles its own failures; this is for a bug, which must not become an
        // unhandled rejection nor a busy loop: a resync after the retry delay.
        this.log?.error({ err: e }, 'link event engine failed; resyncing');
        this.resyncWanted = true;
        this.retryTimer ??= setTimeout(() => {
          this.retryTimer = null;
          this.schedule();
        }, this.retryMs);
      })
      .finally(() => {
        this.working = null;
        // Something may have arrived after the loop's last look.
        if (!this.stopped && this.retryTimer === null && this.vpp.connected && !this.waitingForSpace && (this.resyncWanted || this.pending.size > 0)) {
          this.schedule();
        }
      });
  }

  private async work(): Promise<void> {
    while (!this.stopped && !this.waitingForSpace && this.retryTimer === null && (this.resyncWanted || this.pending.size > 0)) {
      if (!this.vpp.connected) return; // `connected` brings a resync, which covers the pending hints
      const full = this.resyncWanted || this.pending.size > this.fullDumpThreshold;
      const wasResync = this.resyncWanted;
      const hints = this.pending;
      this.pending = new Map();
      this.resyncWanted = false;
      try {
        const changes = full ? await this.readAll(hints) : await this.readSome(hints);
        if (wasResync) this.counters.resyncs++;
        await this.emit(changes);
      } catch (e) {
        // Keep what the events said (older hints first) and try again.
        for (const [sw, h] of this.pending) {
          const old = hints.get(sw);
          hints.set(sw, old === undefined ? h : mergeHint(old, h));
        }
        this.pending = hints;
        if (wasResync) this.resyncWanted = true;
        this.counters.dumpFailures++;
        if (this.stopped) return;
        if (this.vpp.connected) {
          this.log?.warn({ err: e }, `reading interface state failed; again in ${this.retryMs} ms`);
          this.retryTimer = setTimeout(() => {
            this.retryTimer = null;
            this.schedule();
          }, this.retryMs);
        }
        return;
      }
    }
  }

  private async readAll(hints: Map<number, LinkHint>): Promise<LinkTransition[]> {
    this.counters.fullDumps++;
    const details = await this.vpp.dump('sw_interface_dump', { sw_if_index: ALL, name_filter_valid: false, name_filter: '' });
    const at = this.now();
    const perfAt = performance.now();
    const current = new Map<number, LinkState>();
    this.subs.clear();
    this.parentOf.clear();
    for (const d of details) {
      current.set(d.sw_if_index, stateOf(d));
      this.noteParent(d.sw_if_index, d);
    }
    const indexes = new Set<number>([...this.store.state.keys(), ...current.keys(), ...hints.keys()]);
    const changes: LinkTransition[] = [];
    for (const sw of [...indexes].sort((a, b) => a - b)) this.decide(changes, sw, current.get(sw), hints.get(sw), at, perfAt);
    return changes;
  }

  private async readSome(hints: Map<number, LinkHint>): Promise<LinkTransition[]> {
    const indexes = [...hints.keys()].sort((a, b) => a - b);
    this.counters.indexDumps += indexes.length;
    // Pipelined by the client (its window keeps hundreds in flight).
    const read = await Promise.all(indexes.map((sw) => this.readOne(sw)));
    const at = this.now();
    const perfAt = performance.now();
    const changes: LinkTransition[] = [];
    indexes.forEach((sw, i) => this.decide(changes, sw, read[i], hints.get(sw), at, perfAt));
    return changes;
  }

  /** Adds the changes of one interface, or sets it aside to wait for VPP's up event. */
  private decide(changes: LinkTransition[], sw: number, cur: LinkState | undefined, hint: LinkHint | undefined, at: number, perfAt: number): void {
    const prev = this.store.state.get(sw);
    // Events set aside for this interface came before these: decide on all of them together.
    const waiting = this.deferred.get(sw);
    if (waiting !== undefined) {
      this.deferred.delete(sw);
      hint = hint === undefined ? waiting : mergeHint(waiting, hint);
    }
    if (hint !== undefined && waitForUpEvent(prev, cur, hint)) {
      this.deferred.set(sw, hint);
      this.deferTimer ??= setTimeout(() => {
        this.deferTimer = null;
        // Not heard: decide with what is known (VPP's 0 then stands for both sides).
        for (const [s, h] of this.deferred) {
          h.final = true;
          const p = this.pending.get(s);
          this.pending.set(s, p === undefined ? h : mergeHint(h, p));
        }
        this.deferred.clear();
        this.schedule();
      }, this.deferMs);
      return;
    }
    changes.push(...transitions(sw, prev, cur, hint, at, perfAt));
  }

  private async readOne(sw: number): Promise<LinkState | undefined> {
    try {
      const details = await this.vpp.dump('sw_interface_dump', { sw_if_index: sw, name_filter_valid: false, name_filter: '' });
      const d = details.find((x) => x.sw_if_index === sw);
      this.noteParent(sw, d);
      return d === undefined ? undefined : stateOf(d);
    } catch (e) {
      if (e instanceof VppApiError && e.retval === INVALID_SW_IF_INDEX) {
        this.noteParent(sw, undefined);
        return undefined;
      }
      throw e;
    }
  }

  private async emit(changes: LinkTransition[]): Promise<void> {
    if (changes.length === 0) return;
    const firstSeq = await this.store.nextSeqs(changes.length);
    const data: LinkEventData[] = [];
    const events: SpooledEvent[] = [];
    changes.forEach((c, i) => {
      const d = this.eventData(c, firstSeq + i);
      data.push(d);
      events.push(this.spooled(d, c));
    });
    const r = await this.sink.submit(events);
    const accepted = r.accepted;
    if (accepted > 0) {
      const states = new Map<number, LinkState | undefined>();
      for (let i = 0; i < accepted; i++) states.set(changes[i].sw, changes[i].next);
      this.store.commit(states);
      let ev = 0;
      const acceptedAt = performance.now();
      for (let i = 0; i < accepted; i++) {
        const d = data[i];
        if (d.reason === 'event') {
          ev++;
          this.sink.metrics.linkEventAcceptSeconds.observe((acceptedAt - changes[i].perfAt) / 1000);
        }
        if (d.transient) this.counters.transients++;
        this.log?.info(
          { sw_if_index: d.sw_if_index, interface: d.interface, admin_up: d.admin_up, link_up: d.link_up, change: d.change, reason: d.reason, transient: d.transient, seq: d.seq, event_id: d.event_id },
          'link event',
        );
      }
      this.counters.emitted += accepted;
      this.counters.emittedEvent += ev;
      this.counters.emittedResync += accepted - ev;
      if (ev > 0) this.sink.metrics.linkEvents.inc({ reason: 'event' }, ev);
      if (accepted - ev > 0) this.sink.metrics.linkEvents.inc({ reason: 'resync' }, accepted - ev);
      this.onAccepted?.(accepted === data.length ? data : data.slice(0, accepted), changes.slice(0, accepted).map((c) => c.perfAt));
    }
    if (r.dropped > 0) {
      this.counters.refused += r.dropped;
      this.waitingForSpace = true;
      this.log?.warn({ dropped: r.dropped }, 'event spool full: link events refused; a resync follows when it has room');
    }
  }

  private eventData(c: LinkTransition, seq: number): LinkEventData {
    const ref = c.next ?? c.prev!;
    return {
      event_id: uuidv7(),
      instance: this.instance,
      sw_if_index: c.sw,
      interface: ref.name,
      admin_up: c.next?.adminUp ?? false,
      link_up: c.next?.linkUp ?? false,
      deleted: c.kind === 'deleted',
      change: c.kind,
      previous: c.prev === undefined ? null : { interface: c.prev.name, admin_up: c.prev.adminUp, link_up: c.prev.linkUp },
      seq,
      time: new Date(c.at).toISOString(),
      reason: c.reason,
      transient: c.transient,
    };
  }

  private spooled(d: LinkEventData, c: LinkTransition): SpooledEvent {
    const key = `${this.instance}/${d.sw_if_index}`;
    const subject = String(d.sw_if_index);
    const linkEvent: OutboundMessage = {
      stream: 'link-events',
      key,
      value: JSON.stringify(d),
      headers: cloudEventHeaders({ id: d.event_id, source: this.source, type: CE_TYPES.linkEvent, time: d.time, subject }),
    };
    let state: OutboundMessage;
    if (c.next === undefined) {
      state = {
        stream: 'interface-state',
        key,
        value: null,
        headers: cloudEventHeaders({ id: d.event_id, source: this.source, type: CE_TYPES.interfaceState, time: d.time, subject, hasData: false }),
      };
    } else {
      const s: InterfaceStateData = {
        event_id: d.event_id,
        instance: d.instance,
        sw_if_index: d.sw_if_index,
        interface: d.interface,
        admin_up: d.admin_up,
        link_up: d.link_up,
        seq: d.seq,
        time: d.time,
      };
      state = {
        stream: 'interface-state',
        key,
        value: JSON.stringify(s),
        headers: cloudEventHeaders({ id: d.event_id, source: this.source, type: CE_TYPES.interfaceState, time: d.time, subject }),
      };
    }
    return { id: d.event_id, messages: [linkEvent, state] };
  }
}

/** Loads the state, subscribes and starts: see LinkEvents. */
export function startLinkEvents(o: LinkEventsOptions): Promise<LinkEvents> {
  return LinkEvents.start(o);
}
