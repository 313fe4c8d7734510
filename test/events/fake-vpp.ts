/**
 * An in-process stand-in for the binary API client, for unit tests of the link-event engine's
 * logic (the end-to-end tests use the real client against the simulator). It keeps interfaces,
 * sends sw_interface_event like VPP does and answers sw_interface_dump with the state at the time
 * the dump is "processed" (a turn of the event loop later, after every event sent before it, as
 * VPP processes a socket's messages in order).
 *
 * Event flags follow VPP (BINARY-API.md §7): ADMIN_UP / LINK_UP are set when an *up* event
 * happened; a change with only downs sends 0.
 */
import { EventEmitter } from 'node:events';
import type { ConnectedInfo, DisconnectedInfo, MessageOf, RequestFields } from '../../src/binapi/index.js';
import { ConnectionError, VppApiError } from '../../src/binapi/index.js';
import type { LinkEventSource } from '../../src/events/index.js';

type Details = MessageOf<'sw_interface_details'>;
type IfEvent = MessageOf<'sw_interface_event'>;

interface FakeIf {
  name: string;
  adminUp: boolean;
  linkUp: boolean;
}

interface FakeEvents {
  connected: [ConnectedInfo];
  disconnected: [DisconnectedInfo];
}

export class FakeVpp extends EventEmitter<FakeEvents> implements LinkEventSource {
  connected = true;
  readonly interfaces = new Map<number, FakeIf>();
  private readonly ifListeners = new Set<(e: IfEvent) => void>();
  private generation = 1;
  wants = 0;
  dumps = 0;
  fullDumps = 0;
  /** Make the next n dumps fail with a timeout. */
  failDumps = 0;
  /** Answer per-index dumps of unknown indexes with retval -2 instead of nothing. */
  invalidIndexIsError = false;

  constructor(count = 0) {
    super();
    this.interfaces.set(0, { name: 'local0', adminUp: false, linkUp: false });
    for (let i = 1; i <= count; i++) this.interfaces.set(i, { name: `loop${i - 1}`, adminUp: true, linkUp: true });
  }

  subscribe(_name: 'sw_interface_event', listener: (event: IfEvent) => void): () => void {
    this.ifListeners.add(listener);
    return () => this.ifListeners.delete(listener);
  }

  wantInterfaceEvents(): Promise<unknown> {
    if (!this.connected) return Promise.reject(new ConnectionError('NOT_CONNECTED', 'fake: not connected'));
    this.wants++;
    return Promise.resolve({ retval: 0 });
  }

  dump(_name: 'sw_interface_dump', fields: RequestFields<'sw_interface_dump'>): Promise<Details[]> {
    if (!this.connected) return Promise.reject(new ConnectionError('NOT_CONNECTED', 'fake: not connected'));
    this.dumps++;
    if (fields.sw_if_index === 0xffffffff) this.fullDumps++;
    const gen = this.generation;
    return new Promise<Details[]>((resolve, reject) => {
      setImmediate(() => {
        if (!this.connected || gen !== this.generation) return reject(new ConnectionError('DISCONNECTED', 'fake: connection lost'));
        if (this.failDumps > 0) {
          this.failDumps--;
          return reject(new ConnectionError('TIMEOUT', 'fake: timeout'));
        }
        if (fields.sw_if_index !== 0xffffffff) {
          const i = this.interfaces.get(fields.sw_if_index);
          if (i === undefined) {
            if (this.invalidIndexIsError) return reject(new VppApiError('sw_interface_dump', -2));
            return resolve([]);
          }
          return resolve([details(fields.sw_if_index, i)]);
        }
        resolve([...this.interfaces].sort((a, b) => a[0] - b[0]).map(([sw, i]) => details(sw, i)));
      });
    });
  }

  // ---- driving it ----------------------------------------------------------------------------

  setFlags(sw: number, s: { adminUp?: boolean; linkUp?: boolean }): void {
    const i = this.interfaces.get(sw);
    if (i === undefined) throw new Error(`no interface ${sw}`);
    // VPP sends nothing when nothing changes.
    if ((s.adminUp === undefined || s.adminUp === i.adminUp) && (s.linkUp === undefined || s.linkUp === i.linkUp)) return;
    const linkWasUp = i.linkUp;
    if (s.adminUp !== undefined) i.adminUp = s.adminUp;
    if (s.linkUp !== undefined) i.linkUp = s.linkUp;
    // VPP: a bit is set when an up event of its kind happened (an admin up also reports the link
    // as up when it was up); a down-only batch has flags 0.
    const flags = (s.adminUp === true ? 1 : 0) | (s.linkUp === true || (s.adminUp === true && linkWasUp) ? 2 : 0);
    this.send({ client_index: 0x80000001, pid: process.pid, sw_if_index: sw, flags, deleted: false });
  }

  create(name: string, sw?: number): number {
    let idx = sw ?? 1;
    if (sw === undefined) while (this.interfaces.has(idx)) idx++;
    this.interfaces.set(idx, { name, adminUp: false, linkUp: false });
    this.send({ client_index: 0x80000001, pid: process.pid, sw_if_index: idx, flags: 0, deleted: false });
    return idx;
  }

  delete(sw: number): void {
    this.interfaces.delete(sw);
    this.send({ client_index: 0x80000001, pid: process.pid, sw_if_index: sw, flags: 0, deleted: true });
  }

  /** Sends an event as it is, whatever the state (VPP's events come after the state changed). */
  emitRaw(sw: number, flags: number, deleted = false): void {
    this.send({ client_index: 0x80000001, pid: process.pid, sw_if_index: sw, flags, deleted });
  }

  /** Changes state without any event (as if it happened while we were not connected). */
  setSilently(sw: number, s: Partial<FakeIf>): void {
    const cur = this.interfaces.get(sw) ?? { name: `new${sw}`, adminUp: false, linkUp: false };
    this.interfaces.set(sw, { ...cur, ...s });
  }

  disconnect(): void {
    this.connected = false;
    this.generation++;
    this.emit('disconnected', { generation: this.generation - 1, error: new Error('fake: VPP went away'), willReconnect: true });
  }

  reconnect(): void {
    this.connected = true;
    this.wants++;
    this.emit('connected', { generation: this.generation, reconnect: true, clientIndex: 0x80000001, tableSize: 1, disabled: [], resubscribed: ['want_interface_events'], resubscribeErrors: [] });
  }

  /** What a dump says now, as the engine's state type. */
  truth(): Map<number, { name: string; adminUp: boolean; linkUp: boolean }> {
    return new Map([...this.interfaces].map(([sw, i]) => [sw, { ...i }]));
  }

  private send(e: IfEvent): void {
    if (!this.connected) return;
    for (const l of this.ifListeners) l(e);
  }
}

function details(sw: number, i: FakeIf): Details {
  return {
    context: 0,
    sw_if_index: sw,
    sup_sw_if_index: sw,
    l2_address: new Uint8Array(6),
    flags: (i.adminUp ? 1 : 0) | (i.linkUp ? 2 : 0),
    type: 0,
    link_duplex: 0,
    link_speed: 0,
    link_mtu: 9000,
    mtu: [9000, 0, 0, 0],
    sub_id: 0,
    sub_number_of_tags: 0,
    sub_outer_vlan_id: 0,
    sub_inner_vlan_id: 0,
    sub_if_flags: 0,
    vtr_op: 0,
    vtr_push_dot1q: 0,
    vtr_tag1: 0,
    vtr_tag2: 0,
    outer_tag: 0,
    b_dmac: new Uint8Array(6),
    b_smac: new Uint8Array(6),
    b_vlanid: 0,
    i_sid: 0,
    interface_name: i.name,
    interface_dev_type: 'Loopback',
    tag: '',
  } as Details;
}
