/**
 * The simulated VPP's interfaces: the state both halves of the simulator share (the stats segment
 * and, later, the binary API). Changes are announced as events; listeners run synchronously, and a
 * listener that throws on "created" (e.g. the stats segment is full) undoes the creation.
 *
 * Index reuse follows VPP: sw_if_index and hw_if_index come from pools whose free lists are LIFO
 * (vppinfra pool_get takes the most recently freed index), so a deleted interface's index is
 * reused by the next creation, as the churn capture shows (loop3 deleted and re-created got
 * sw_if_index 4 back). Loopback names take the lowest free instance (loop3 again), like
 * vnet_create_loopback_interface; their MAC is de:ad:00:00:00:<instance>.
 */
import { EventEmitter } from 'node:events';
import type { DeviceClass } from './catalog.js';

export type CreatableClass = Exclude<DeviceClass, 'local'>;

export interface InterfaceState {
  readonly swIfIndex: number;
  /** null for sub-interfaces, which have no hardware interface (and no nodes) of their own. */
  readonly hwIfIndex: number | null;
  readonly name: string;
  readonly deviceClass: DeviceClass;
  /** The parent's sw_if_index for a sub-interface, its own otherwise. */
  readonly supSwIfIndex: number;
  /** 0 for hardware interfaces. */
  readonly subId: number;
  readonly adminUp: boolean;
  readonly linkUp: boolean;
  readonly mtu: number;
  readonly mac: string;
  /** Prefixes such as "10.0.0.1/24" or "2001:db8::1/64", in the order added. */
  readonly addresses: readonly string[];
}

export type CreateInterfaceSpec =
  | {
      kind: CreatableClass;
      /** Required except for loopbacks, which default to loop<lowest free instance>. */
      name?: string;
      mac?: string;
      mtu?: number;
      adminUp?: boolean;
      linkUp?: boolean;
    }
  | {
      kind: 'sub';
      parent: number;
      subId: number;
      /** Defaults to <parent name>.<subId>. */
      name?: string;
      mtu?: number;
      adminUp?: boolean;
    };

export type ModelErrorCode = 'NO_SUCH_INTERFACE' | 'NAME_IN_USE' | 'INVALID_ARGUMENT' | 'NOT_ALLOWED';

export class ModelError extends Error {
  constructor(
    readonly code: ModelErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ModelError';
  }
}

export interface InterfaceModelEvents {
  created: [iface: InterfaceState];
  /** Sub-interfaces of a deleted parent are deleted (and announced) first. */
  deleted: [iface: InterfaceState];
  changed: [iface: InterfaceState, previous: InterfaceState];
}

export interface InterfaceModelOptions {
  /** Seeds the locally administered MACs of non-loopback interfaces. */
  seed?: number;
}

const DEFAULT_MTU = 9000;

/** Index allocation with VPP's pool behaviour: reuse the most recently freed index first. */
class IndexPool {
  private next = 0;
  private readonly freed: number[] = [];

  take(): number {
    return this.freed.pop() ?? this.next++;
  }

  give(i: number): void {
    this.freed.push(i);
  }

  /** Undo the last take() of `i` (a failed creation). */
  untake(i: number): void {
    if (i === this.next - 1) this.next--;
    else this.freed.push(i);
  }
}

export class InterfaceModel extends EventEmitter<InterfaceModelEvents> {
  private readonly bySw = new Map<number, InterfaceState>();
  private readonly byNameMap = new Map<string, number>();
  private readonly swPool = new IndexPool();
  private readonly hwPool = new IndexPool();
  private readonly loopInstances = new Set<number>();
  /** Sub-interfaces by parent sw_if_index. */
  private readonly subs = new Map<number, Set<number>>();
  private macCounter: number;

  constructor(opts: InterfaceModelOptions = {}) {
    super();
    this.macCounter = ((opts.seed ?? 0) * 2654435761) >>> 8;
    // local0 exists from the start at sw_if_index 0 / hw_if_index 0, always down, MTU 0.
    const local0: InterfaceState = Object.freeze({
      swIfIndex: this.swPool.take(),
      hwIfIndex: this.hwPool.take(),
      name: 'local0',
      deviceClass: 'local',
      supSwIfIndex: 0,
      subId: 0,
      adminUp: false,
      linkUp: false,
      mtu: 0,
      mac: '00:00:00:00:00:00',
      addresses: Object.freeze([]),
    });
    this.store(local0);
  }

  get count(): number {
    return this.bySw.size;
  }

  get(swIfIndex: number): InterfaceState | undefined {
    return this.bySw.get(swIfIndex);
  }

  byName(name: string): InterfaceState | undefined {
    const sw = this.byNameMap.get(name);
    return sw === undefined ? undefined : this.bySw.get(sw);
  }

  /** All interfaces by ascending sw_if_index. */
  list(): InterfaceState[] {
    return [...this.bySw.values()].sort((a, b) => a.swIfIndex - b.swIfIndex);
  }

  create(spec: CreateInterfaceSpec): InterfaceState {
    const iface = spec.kind === 'sub' ? this.newSub(spec) : this.newHw(spec);
    this.store(iface);
    try {
      this.emit('created', iface);
    } catch (e) {
      this.unstore(iface);
      this.swPool.untake(iface.swIfIndex);
      if (iface.hwIfIndex !== null) this.hwPool.untake(iface.hwIfIndex);
      if (iface.deviceClass === 'loopback' && iface.hwIfIndex !== null) this.loopInstances.delete(loopInstance(iface.name) ?? -1);
      throw e;
    }
    return iface;
  }

  /** Deletes an interface (and first its sub-interfaces); returns everything deleted, in order. */
  delete(swIfIndex: number): InterfaceState[] {
    const iface = this.require(swIfIndex);
    if (iface.deviceClass === 'local') throw new ModelError('NOT_ALLOWED', 'local0 cannot be deleted');
    const done: InterfaceState[] = [];
    for (const sub of [...(this.subs.get(swIfIndex) ?? [])]) done.push(...this.delete(sub));
    this.unstore(iface);
    this.swPool.give(iface.swIfIndex);
    if (iface.hwIfIndex !== null) this.hwPool.give(iface.hwIfIndex);
    if (iface.deviceClass === 'loopback' && iface.subId === 0) this.loopInstances.delete(loopInstance(iface.name) ?? -1);
    this.emit('deleted', iface);
    done.push(iface);
    return done;
  }

  setFlags(swIfIndex: number, flags: { adminUp?: boolean; linkUp?: boolean }): InterfaceState {
    return this.update(swIfIndex, flags);
  }

  setMtu(swIfIndex: number, mtu: number): InterfaceState {
    checkMtu(mtu);
    return this.update(swIfIndex, { mtu });
  }

  addAddress(swIfIndex: number, prefix: string): InterfaceState {
    checkPrefix(prefix);
    const cur = this.require(swIfIndex);
    if (cur.addresses.includes(prefix)) return cur;
    return this.update(swIfIndex, { addresses: [...cur.addresses, prefix] });
  }

  deleteAddress(swIfIndex: number, prefix: string): InterfaceState {
    const cur = this.require(swIfIndex);
    if (!cur.addresses.includes(prefix)) throw new ModelError('INVALID_ARGUMENT', `${cur.name} has no address ${prefix}`);
    return this.update(swIfIndex, { addresses: cur.addresses.filter((a) => a !== prefix) });
  }

  setAddresses(swIfIndex: number, prefixes: readonly string[]): InterfaceState {
    prefixes.forEach(checkPrefix);
    return this.update(swIfIndex, { addresses: [...new Set(prefixes)] });
  }

  private require(swIfIndex: number): InterfaceState {
    const iface = this.bySw.get(swIfIndex);
    if (iface === undefined) throw new ModelError('NO_SUCH_INTERFACE', `no interface with sw_if_index ${swIfIndex}`);
    return iface;
  }

  private update(
    swIfIndex: number,
    patch: { adminUp?: boolean; linkUp?: boolean; mtu?: number; addresses?: string[] },
  ): InterfaceState {
    const prev = this.require(swIfIndex);
    const next: InterfaceState = Object.freeze({
      ...prev,
      adminUp: patch.adminUp ?? prev.adminUp,
      linkUp: patch.linkUp ?? prev.linkUp,
      mtu: patch.mtu ?? prev.mtu,
      addresses: patch.addresses ? Object.freeze(patch.addresses) : prev.addresses,
    });
    if (
      next.adminUp === prev.adminUp &&
      next.linkUp === prev.linkUp &&
      next.mtu === prev.mtu &&
      next.addresses === prev.addresses
    ) {
      return prev;
    }
    this.bySw.set(swIfIndex, next);
    this.emit('changed', next, prev);
    // A sub-interface's link state is its hardware's.
    if (next.linkUp !== prev.linkUp) {
      for (const sub of this.subs.get(swIfIndex) ?? []) this.update(sub, { linkUp: next.linkUp });
    }
    return next;
  }

  private newHw(spec: Extract<CreateInterfaceSpec, { kind: CreatableClass }>): InterfaceState {
    let name = spec.name;
    let instance: number | undefined;
    if (spec.kind === 'loopback') {
      instance = name === undefined ? this.lowestFreeLoopInstance() : loopInstance(name);
      name ??= `loop${instance}`;
    }
    if (name === undefined || name.length === 0) throw new ModelError('INVALID_ARGUMENT', `a ${spec.kind} interface needs a name`);
    checkName(name);
    if (this.byNameMap.has(name)) throw new ModelError('NAME_IN_USE', `interface ${name} already exists`);
    if (spec.mtu !== undefined) checkMtu(spec.mtu);
    const mac = spec.mac ?? (instance !== undefined ? loopbackMac(instance) : this.nextMac());
    checkMac(mac);
    if (instance !== undefined) this.loopInstances.add(instance);
    const sw = this.swPool.take();
    return Object.freeze({
      swIfIndex: sw,
      hwIfIndex: this.hwPool.take(),
      name,
      deviceClass: spec.kind,
      supSwIfIndex: sw,
      subId: 0,
      adminUp: spec.adminUp ?? false,
      linkUp: spec.linkUp ?? spec.kind === 'loopback',
      mtu: spec.mtu ?? DEFAULT_MTU,
      mac,
      addresses: Object.freeze([]),
    });
  }

  private newSub(spec: Extract<CreateInterfaceSpec, { kind: 'sub' }>): InterfaceState {
    const parent = this.require(spec.parent);
    if (parent.subId !== 0 || parent.deviceClass === 'local') {
      throw new ModelError('INVALID_ARGUMENT', `${parent.name} cannot have sub-interfaces`);
    }
    if (!Number.isInteger(spec.subId) || spec.subId < 1 || spec.subId > 0xffff_ffff) {
      throw new ModelError('INVALID_ARGUMENT', `sub-interface id ${spec.subId} is not a u32 above 0`);
    }
    const name = spec.name ?? `${parent.name}.${spec.subId}`;
    checkName(name);
    if (this.byNameMap.has(name)) throw new ModelError('NAME_IN_USE', `interface ${name} already exists`);
    if (spec.mtu !== undefined) checkMtu(spec.mtu);
    return Object.freeze({
      swIfIndex: this.swPool.take(),
      hwIfIndex: null,
      name,
      deviceClass: parent.deviceClass,
      supSwIfIndex: parent.swIfIndex,
      subId: spec.subId,
      adminUp: spec.adminUp ?? false,
      linkUp: parent.linkUp,
      mtu: spec.mtu ?? parent.mtu,
      mac: parent.mac,
      addresses: Object.freeze([]),
    });
  }

  private store(iface: InterfaceState): void {
    this.bySw.set(iface.swIfIndex, iface);
    this.byNameMap.set(iface.name, iface.swIfIndex);
    if (iface.subId !== 0) {
      let set = this.subs.get(iface.supSwIfIndex);
      if (set === undefined) this.subs.set(iface.supSwIfIndex, (set = new Set()));
      set.add(iface.swIfIndex);
    }
  }

  private unstore(iface: InterfaceState): void {
    this.bySw.delete(iface.swIfIndex);
    this.byNameMap.delete(iface.name);
    if (iface.subId !== 0) this.subs.get(iface.supSwIfIndex)?.delete(iface.swIfIndex);
    this.subs.delete(iface.swIfIndex);
  }

  private lowestFreeLoopInstance(): number {
    let i = 0;
    while (this.loopInstances.has(i)) i++;
    return i;
  }

  /** Locally administered unicast MACs, 02:fe:xx:xx:xx:xx, as af_packet and memif pick them. */
  private nextMac(): string {
    const n = this.macCounter++ >>> 0;
    const b = [0x02, 0xfe, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
    return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
  }
}

function loopInstance(name: string): number | undefined {
  const m = /^loop(\d+)$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

function loopbackMac(instance: number): string {
  return `de:ad:00:00:00:${(instance & 0xff).toString(16).padStart(2, '0')}`;
}

function checkName(name: string): void {
  // VPP's interface names are short; a name must also fit a 127-byte stats entry with its prefix.
  if (Buffer.byteLength(name, 'utf8') > 63 || /[\s\0]/.test(name)) {
    throw new ModelError('INVALID_ARGUMENT', `bad interface name ${JSON.stringify(name)}: at most 63 bytes, no spaces`);
  }
}

function checkMtu(mtu: number): void {
  if (!Number.isInteger(mtu) || mtu < 0 || mtu > 65535) throw new ModelError('INVALID_ARGUMENT', `bad MTU ${mtu}`);
}

function checkMac(mac: string): void {
  if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(mac)) throw new ModelError('INVALID_ARGUMENT', `bad MAC address ${mac}`);
}

function checkPrefix(prefix: string): void {
  const m = /^([0-9a-fA-F:.]+)\/(\d{1,3})$/.exec(prefix);
  const max = prefix.includes(':') ? 128 : 32;
  if (!m || Number(m[2]) > max) throw new ModelError('INVALID_ARGUMENT', `bad address prefix ${prefix}`);
}
