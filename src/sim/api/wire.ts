/**
 * The hot path of route programming, on the wire bytes: ip_route_add_del read and its reply
 * written at fixed offsets, without building message objects (the generated decoder makes ~25
 * objects per route: the 16 MPLS labels of each path alone are 17). Everything else, dumps
 * included, goes through the generated codecs.
 *
 * The offsets are not a second definition of the format: checkWireLayout() (run when the module
 * loads) encodes sample messages with the generated codec and requires every offset here to read
 * back what was written, and the fast reply writer to produce the generated encoder's bytes, so a
 * regenerated codec with another layout fails loudly at start instead of being misread.
 *
 *   ip_route_add_del (packed, big-endian; vnet/ip/ip.api + fib_types.api + ip_types.api):
 *     0 u16 _vl_msg_id   2 u32 client_index   6 u32 context   10 bool is_add   11 bool is_multipath
 *     12 u32 route.table_id   16 u32 route.stats_index   20 u8 prefix.address.af
 *     21 u8[16] prefix.address.un   37 u8 prefix.len   38 u8 n_paths   39 fib_path[n_paths]
 *   fib_path (167 bytes): 0 sw_if_index  4 table_id  8 rpf_id  12 u8 weight  13 u8 preference
 *     14 u32 type  18 u32 flags  22 u32 proto  26 u8[16] nh.address  42 via_label  46 obj_id
 *     50 classify_table_index  54 u8 n_labels  55 fib_mpls_label[16] (7 bytes each)
 *   ip_route_add_del_reply (14 bytes): 0 u16 id  2 u32 context  6 i32 retval  10 u32 stats_index
 */
import { Decoder, Encoder } from '../../binapi/codec/index.js';
import { type FibMplsLabel, type FibPath, readFibPath, writeFibPath } from '../../binapi/generated/fib_types.js';
import { messages } from '../../binapi/generated/index.js';

export const ROUTE = {
  clientIndex: 2,
  context: 6,
  isAdd: 10,
  isMultipath: 11,
  tableId: 12,
  statsIndex: 16,
  af: 20,
  addr: 21,
  len: 37,
  nPaths: 38,
  paths: 39,
} as const;

export const PATH = {
  size: 167,
  swIfIndex: 0,
  tableId: 4,
  rpfId: 8,
  weight: 12,
  preference: 13,
  type: 14,
  flags: 18,
  proto: 22,
  nh: 26,
  viaLabel: 42,
  nLabels: 54,
} as const;

export const ROUTE_REPLY_SIZE = 14;

/** Writes an ip_route_add_del_reply body at `off`. */
export function writeRouteReply(buf: Buffer, off: number, msgId: number, context: number, retval: number, statsIndex: number): void {
  buf.writeUInt16BE(msgId, off);
  buf.writeUInt32BE(context, off + 2);
  buf.writeInt32BE(retval, off + 6);
  buf.writeUInt32BE(statsIndex >>> 0, off + 10);
}

export const NO_LABELS: readonly FibMplsLabel[] = Object.freeze(
  Array.from({ length: 16 }, () => Object.freeze({ is_uniform: 0, label: 0, ttl: 0, exp: 0 })),
);

/** The wire bytes of one path (the generated encoder). */
export function encodePath(p: FibPath): Buffer {
  const e = new Encoder('fib_path', PATH.size);
  writeFibPath(e, p);
  return Buffer.from(e.finish());
}

/** Paths stored as wire bytes, back to objects (the generated decoder). */
export function decodePaths(raw: Buffer): FibPath[] {
  const d = new Decoder(raw, 'fib_path');
  const out: FibPath[] = [];
  while (d.remaining > 0) out.push(readFibPath(d));
  return out;
}

/** Checks every offset above against the generated codec; throws when one disagrees. */
export function checkWireLayout(): void {
  const label = (i: number): FibMplsLabel => ({ is_uniform: i & 1, label: 0x10000 + i, ttl: 64, exp: i & 7 });
  const path = (k: number): FibPath => ({
    sw_if_index: 0x01020304 + k,
    table_id: 0x05060708 + k,
    rpf_id: 0x090a0b0c + k,
    weight: 0x0d + k,
    preference: 0x0e + k,
    type: 0x0f101112 + k,
    flags: 0x13141516 + k,
    proto: 0x1718191a + k,
    nh: { address: Buffer.from(Array.from({ length: 16 }, (_, i) => 0xa0 + i + k)), via_label: 0x1b1c1d1e + k, obj_id: 2, classify_table_index: 3 },
    n_labels: 0x1f,
    label_stack: Array.from({ length: 16 }, (_, i) => label(i)),
  });
  const body = messages.ip_route_add_del.encode(
    {
      client_index: 0x8000_0007,
      context: 0x2122_2324,
      is_add: true,
      is_multipath: false,
      route: {
        table_id: 0x2526_2728,
        stats_index: 0x292a_2b2c,
        prefix: { address: { af: 1, un: Buffer.from(Array.from({ length: 16 }, (_, i) => 0xc0 + i)) }, len: 0x2d },
        paths: [path(0), path(1)],
      },
    },
    0x3031,
  );
  const fail = (what: string): never => {
    throw new Error(`sim api wire layout: ${what} does not match the generated ip_route_add_del codec`);
  };
  const u32 = (o: number): number => body.readUInt32BE(o);
  if (body.readUInt16BE(0) !== 0x3031) fail('_vl_msg_id');
  if (u32(ROUTE.clientIndex) !== 0x8000_0007) fail('client_index');
  if (u32(ROUTE.context) !== 0x2122_2324) fail('context');
  if (body[ROUTE.isAdd] !== 1 || body[ROUTE.isMultipath] !== 0) fail('is_add/is_multipath');
  if (u32(ROUTE.tableId) !== 0x2526_2728 || u32(ROUTE.statsIndex) !== 0x292a_2b2c) fail('route.table_id/stats_index');
  if (body[ROUTE.af] !== 1 || body[ROUTE.addr] !== 0xc0 || body[ROUTE.addr + 15] !== 0xcf || body[ROUTE.len] !== 0x2d) fail('route.prefix');
  if (body[ROUTE.nPaths] !== 2 || body.length !== ROUTE.paths + 2 * PATH.size) fail('n_paths/path size');
  for (let k = 0; k < 2; k++) {
    const o = ROUTE.paths + k * PATH.size;
    if (u32(o + PATH.swIfIndex) !== 0x01020304 + k || u32(o + PATH.tableId) !== 0x05060708 + k || u32(o + PATH.rpfId) !== 0x090a0b0c + k) fail('path ids');
    if (body[o + PATH.weight] !== 0x0d + k || body[o + PATH.preference] !== 0x0e + k) fail('path weight/preference');
    if (u32(o + PATH.type) !== 0x0f101112 + k || u32(o + PATH.flags) !== 0x13141516 + k || u32(o + PATH.proto) !== 0x1718191a + k) fail('path enums');
    if (body[o + PATH.nh] !== 0xa0 + k || u32(o + PATH.viaLabel) !== 0x1b1c1d1e + k || body[o + PATH.nLabels] !== 0x1f) fail('path nh');
  }
  const reply = { context: 0x4142_4344, retval: -54, stats_index: 0xfeed_beef };
  const want = messages.ip_route_add_del_reply.encode(reply, 0x5152);
  const got = Buffer.alloc(ROUTE_REPLY_SIZE);
  writeRouteReply(got, 0, 0x5152, reply.context, reply.retval, reply.stats_index);
  if (!got.equals(want)) fail('ip_route_add_del_reply');
  const back = decodePaths(encodePath(path(0)));
  if (back.length !== 1 || back[0].sw_if_index !== 0x01020304 || back[0].label_stack[15].label !== 0x1000f) fail('fib_path round trip');
}

checkWireLayout();
