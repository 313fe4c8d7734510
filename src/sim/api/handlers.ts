/**
 * What the simulated VPP does with each message it implements: the semantics of VPP 26.10's
 * handlers (vnet/interface_api.c, vnet/ip/ip_api.c, vnet/fib/fib_api.c, vlibmemory/*), on the
 * shared InterfaceModel and the simulator's Fib. Messages are decoded and replies encoded by the
 * generated codecs (src/binapi/generated), except ip_route_add_del, which is handled on its wire
 * bytes (createRawHandlers, wire.ts) for speed; this file only decides what to answer.
 *
 * Where a handler's reply goes: like VPP, to the registration named by the request's
 * client_index (vl_api_client_index_to_registration), which the server resolved into `dest`
 * before calling; a request naming no live registration was dropped without a reply.
 */
import type { MessageName, MessageOf } from '../../binapi/generated/index.js';
import type { SwInterfaceDetails } from '../../binapi/generated/interface.js';
import type { InterfaceModel, InterfaceState } from '../model.js';
import { ModelError } from '../model.js';
import { AF_IP4, AF_IP6, type Af, formatPrefix, maxLen, parsePrefix, sameAddr, samePrefix } from './addr.js';
import type { ApiConnection } from './connection.js';
import { entryAddr, type Fib, type RouteResult, RV } from './fib.js';
import { ROUTE } from './wire.js';

export type HandlerFn<N extends MessageName> = (msg: MessageOf<N>, dest: ApiConnection, src: ApiConnection) => void;
export type HandlerMap = { [N in MessageName]?: HandlerFn<N> };
/** A handler on the wire bytes (wire.ts); false when the body is too short (dropped, like VPP). */
export type RawHandlerFn = (body: Buffer, dest: ApiConnection, src: ApiConnection) => boolean;
export type RawHandlerMap = { [N in MessageName]?: RawHandlerFn };

/** What the handlers need from the server. */
export interface HandlerHost {
  readonly model: InterfaceModel;
  readonly fib: Fib;
  readonly program: string;
  readonly version: string;
  readonly buildDate: string;
  send<N extends MessageName>(dest: ApiConnection, name: N, value: MessageOf<N>): void;
  /** sockclnt_create_reply with the whole message table and the connection's handle. */
  sendCreateReply(conn: ApiConnection, context: number): void;
  /** ip_route_add_del_reply, written straight into the connection's staging buffer. */
  sendRouteReply(dest: ApiConnection, context: number, result: RouteResult): void;
  /** want_interface_events: VPP's pub_sub_handler; returns the retval. */
  wantInterfaceEvents(clientIndex: number, enable: boolean, pid: number): number;
  /** Admin state, with the link following it on simulated hardware ports. */
  setAdminState(swIfIndex: number, up: boolean): void;
  /** Ends a registration once what is staged for it went out (sockclnt_delete). */
  closeAfterReply(conn: ApiConnection): void;
}

const NO_INDEX = 0xffffffff;
const IF_STATUS_ADMIN_UP = 1;
const IF_STATUS_LINK_UP = 2;
const IF_TYPE_HARDWARE = 0;
const IF_TYPE_SUB = 1;
const LINK_DUPLEX_FULL = 2;
const SUB_IF_ONE_TAG = 2;
const SUB_IF_EXACT_MATCH = 16;
const ZERO_MAC = Buffer.alloc(6);

/** interface_dev_type: the name of each device class (dev_class->name) as VPP reports it. */
const DEV_TYPE: Record<InterfaceState['deviceClass'], string> = {
  local: 'local',
  loopback: 'Loopback',
  ethernet: 'dpdk',
  'af-packet': 'af-packet',
  memif: 'memif',
};

function macBytes(mac: string): Buffer {
  return Buffer.from(mac.replace(/:/g, ''), 'hex');
}

function macText(b: Uint8Array): string {
  return Buffer.from(b.subarray(0, 6)).toString('hex').replace(/(..)(?!$)/g, '$1:');
}

/** sw_interface_details as send_sw_interface_details fills it (the captures' values). */
export function interfaceDetails(context: number, i: InterfaceState, parent: InterfaceState | undefined): SwInterfaceDetails {
  const isSub = i.subId !== 0;
  const hw = isSub ? parent : i;
  const linkUp = hw?.linkUp ?? i.linkUp;
  const ethernetSpeed = hw?.deviceClass === 'ethernet' && linkUp;
  return {
    context,
    sw_if_index: i.swIfIndex,
    sup_sw_if_index: i.supSwIfIndex,
    l2_address: isSub ? ZERO_MAC : macBytes(i.mac),
    flags: (i.adminUp ? IF_STATUS_ADMIN_UP : 0) | (linkUp ? IF_STATUS_LINK_UP : 0),
    type: isSub ? IF_TYPE_SUB : IF_TYPE_HARDWARE,
    link_duplex: ethernetSpeed ? LINK_DUPLEX_FULL : 0,
    link_speed: ethernetSpeed ? 1_000_000 : 0,
    link_mtu: hw?.mtu ?? i.mtu,
    mtu: [isSub ? 0 : i.mtu, 0, 0, 0],
    sub_id: isSub ? i.subId : 0,
    sub_number_of_tags: isSub ? 1 : 0,
    sub_outer_vlan_id: isSub ? i.subId & 0xfff : 0,
    sub_inner_vlan_id: 0,
    sub_if_flags: isSub ? SUB_IF_ONE_TAG | SUB_IF_EXACT_MATCH : 0,
    vtr_op: 0,
    vtr_push_dot1q: 0,
    vtr_tag1: 0,
    vtr_tag2: 0,
    outer_tag: 0,
    b_dmac: ZERO_MAC,
    b_smac: ZERO_MAC,
    b_vlanid: 0,
    i_sid: 0,
    interface_name: i.name,
    interface_dev_type: DEV_TYPE[i.deviceClass],
    tag: '',
  };
}

/**
 * The handlers on wire bytes: ip_route_add_del, the message route programming sends by the
 * hundred thousand, without building message objects (wire.ts checks its offsets against the
 * generated codec). Its semantics are Fib.routeAddDelWire's.
 */
export function createRawHandlers(host: HandlerHost): RawHandlerMap {
  const result: RouteResult = { retval: 0, statsIndex: 0 };
  return {
    ip_route_add_del: (body, dest) => {
      if (!host.fib.routeAddDelWire(body, result)) return false;
      host.sendRouteReply(dest, body.readUInt32BE(ROUTE.context), result);
      return true;
    },
  };
}

/** The retval for a model error of an interface operation. */
function modelRetval(e: unknown): number {
  if (e instanceof ModelError) {
    if (e.code === 'NO_SUCH_INTERFACE') return RV.INVALID_SW_IF_INDEX;
    if (e.code === 'NAME_IN_USE') return RV.INVALID_REGISTRATION;
  }
  return RV.UNSPECIFIED;
}

export function createHandlers(host: HandlerHost): HandlerMap {
  const { model, fib } = host;

  /** VALIDATE_SW_IF_INDEX: the interface exists (and is API-visible: all of ours are). */
  const valid = (sw: number): InterfaceState | undefined => model.get(sw);

  const sendDetails = (dest: ApiConnection, context: number, i: InterfaceState): void => {
    const parent = i.subId !== 0 ? model.get(i.supSwIfIndex) : undefined;
    host.send(dest, 'sw_interface_details', interfaceDetails(context, i, parent));
  };

  const createLoopback = (mac: Buffer, name: string | undefined): { retval: number; sw: number } => {
    try {
      const iface = model.create({
        kind: 'loopback',
        ...(name !== undefined ? { name } : {}),
        ...(mac.subarray(0, 6).some((b) => b !== 0) ? { mac: macText(mac) } : {}),
        adminUp: false,
        linkUp: false,
      });
      return { retval: RV.OK, sw: iface.swIfIndex };
    } catch (e) {
      return { retval: modelRetval(e), sw: NO_INDEX };
    }
  };

  return {
    // The one request without client_index: the reply goes to the socket it came in on.
    sockclnt_create: (m, _dest, src) => {
      src.name = m.name;
      host.sendCreateReply(src, m.context);
    },

    control_ping: (m, dest) =>
      host.send(dest, 'control_ping_reply', { context: m.context, retval: 0, client_index: m.client_index, vpe_pid: process.pid }),

    show_version: (m, dest) =>
      host.send(dest, 'show_version_reply', {
        context: m.context,
        retval: 0,
        program: host.program,
        version: host.version,
        build_date: host.buildDate,
        build_directory: '',
      }),

    // VPP answers on the socket the request came in on, then frees that registration.
    sockclnt_delete: (m, _dest, src) => {
      host.send(src, 'sockclnt_delete_reply', { context: m.context, response: 1 });
      host.closeAfterReply(src);
    },

    want_interface_events: (m, dest) =>
      host.send(dest, 'want_interface_events_reply', {
        context: m.context,
        retval: host.wantInterfaceEvents(m.client_index, m.enable_disable !== 0, m.pid),
      }),

    sw_interface_dump: (m, dest) => {
      const sw = m.sw_if_index;
      if (!m.name_filter_valid && sw !== NO_INDEX && sw !== 0) {
        // One interface; an invalid index sends nothing (the ping reply ends the dump).
        const i = valid(sw);
        if (i) sendDetails(dest, m.context, i);
        return;
      }
      const filter = m.name_filter_valid ? m.name_filter.toLowerCase() : undefined;
      for (const i of model.list()) {
        if (filter !== undefined && !i.name.toLowerCase().includes(filter)) continue;
        sendDetails(dest, m.context, i);
      }
    },

    sw_interface_set_flags: (m, dest) => {
      let retval: number = RV.OK;
      if (!valid(m.sw_if_index)) retval = RV.INVALID_SW_IF_INDEX;
      else host.setAdminState(m.sw_if_index, (m.flags & IF_STATUS_ADMIN_UP) !== 0);
      host.send(dest, 'sw_interface_set_flags_reply', { context: m.context, retval });
    },

    sw_interface_add_del_address: (m, dest) => {
      host.send(dest, 'sw_interface_add_del_address_reply', { context: m.context, retval: addDelAddress(m) });
    },

    ip_address_dump: (m, dest) => {
      const i = valid(m.sw_if_index);
      if (!i) return;
      const af: Af = m.is_ipv6 ? AF_IP6 : AF_IP4;
      for (const text of i.addresses) {
        const p = parsePrefix(text);
        if (p?.af !== af) continue;
        host.send(dest, 'ip_address_details', {
          context: m.context,
          sw_if_index: i.swIfIndex,
          prefix: { address: { af, un: p.addr }, len: p.len },
        });
      }
    },

    create_loopback: (m, dest) => {
      const r = createLoopback(m.mac_address, undefined);
      host.send(dest, 'create_loopback_reply', { context: m.context, retval: r.retval, sw_if_index: r.sw });
    },

    create_loopback_instance: (m, dest) => {
      const r = createLoopback(m.mac_address, m.is_specified ? `loop${m.user_instance}` : undefined);
      host.send(dest, 'create_loopback_instance_reply', { context: m.context, retval: r.retval, sw_if_index: r.sw });
    },

    delete_loopback: (m, dest) => {
      // vnet_delete_loopback_interface: -2 unless it is a loopback's hardware interface.
      const i = valid(m.sw_if_index);
      let retval: number = RV.INVALID_SW_IF_INDEX;
      if (i && i.deviceClass === 'loopback' && i.subId === 0) {
        try {
          model.delete(i.swIfIndex);
          retval = RV.OK;
        } catch (e) {
          retval = modelRetval(e);
        }
      }
      host.send(dest, 'delete_loopback_reply', { context: m.context, retval });
    },

    ip_table_add_del: (m, dest) => {
      const af: Af = m.table.is_ip6 ? AF_IP6 : AF_IP4;
      if (m.is_add) fib.addTable(af, m.table.table_id, m.table.name);
      else fib.deleteTable(af, m.table.table_id);
      host.send(dest, 'ip_table_add_del_reply', { context: m.context, retval: 0 });
    },

    ip_table_dump: (m, dest) => {
      for (const t of fib.tables()) {
        host.send(dest, 'ip_table_details', { context: m.context, table: { table_id: t.tableId, is_ip6: t.af === AF_IP6, name: t.name } });
      }
    },

    ip_route_dump: (m, dest) => {
      const t = fib.table(m.table.is_ip6 ? AF_IP6 : AF_IP4, m.table.table_id);
      if (!t) return;
      for (const e of t.sorted()) {
        host.send(dest, 'ip_route_details', {
          context: m.context,
          route: {
            table_id: t.tableId,
            stats_index: e.index,
            prefix: { address: { af: e.af, un: entryAddr(e) }, len: e.len },
            paths: fib.bestPaths(e),
          },
        });
      }
    },
  };

  /** sw_interface_add_del_address (interface_api.c) and ip4/ip6_add_del_interface_address. */
  function addDelAddress(m: MessageOf<'sw_interface_add_del_address'>): number {
    const iface = valid(m.sw_if_index);
    if (!iface) return RV.INVALID_SW_IF_INDEX;
    if (m.del_all) {
      model.setAddresses(iface.swIfIndex, []);
      return RV.OK;
    }
    const af = m.prefix.address.af;
    if (af !== AF_IP4 && af !== AF_IP6) return RV.INVALID_ADDRESS_FAMILY;
    const len = m.prefix.len;
    if (len > maxLen(af)) return RV.IP_PREFIX_INVALID;
    // "local0 interface doesn't support IP addressing": an error without an api_errno, so VPP
    // answers 0 and changes nothing.
    if (iface.swIfIndex === 0) return RV.OK;
    const addr = m.prefix.address.un;
    if (!m.is_add) {
      const text = iface.addresses.find((t) => {
        const p = parsePrefix(t);
        return p !== undefined && p.af === af && p.len === len && sameAddr(af, p.addr, addr);
      });
      if (text === undefined) return RV.ADDRESS_NOT_FOUND_FOR_INTERFACE;
      model.deleteAddress(iface.swIfIndex, text);
      return RV.OK;
    }
    // No overlapping subnets in one table, except more addresses of one subnet on one interface.
    for (const [sw, list] of fib.interfaceAddresses()) {
      for (const x of list) {
        if (x.af !== af) continue;
        if (!samePrefix(af, addr, x.addr, x.len) && !samePrefix(af, x.addr, addr, len)) continue;
        if (sw === iface.swIfIndex && x.len === len && !sameAddr(af, x.addr, addr)) continue;
        return RV.ADDRESS_IN_USE;
      }
    }
    model.addAddress(iface.swIfIndex, formatPrefix(af, addr, len));
    return RV.OK;
  }
}
