/**
 * The simulator's binary API server with a raw client built on the generated codecs: framing,
 * the message table, handles, dumps, errors VPP answers with, garbage that VPP drops, several
 * clients, events and link flaps, the stats segment following API changes, stop and restart.
 * Every frame the server sends in these tests is decoded and re-encoded by the generated codec.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fork } from 'node:child_process';
import { messages, messagesByNameCrc, type MessageName, type MessageOf } from '../../src/binapi/generated/index.js';
import type { MessageDescriptor } from '../../src/binapi/codec/index.js';
import { FrameReader, frameHeader } from '../../src/binapi/transport.js';
import { InterfaceModel, createDefaultTopology, startStatsSimulator, createStatsSimulator } from '../../src/sim/index.js';
import { startApiServer, MESSAGE_TABLE, EMIT_ORDER, type ApiServer } from '../../src/sim/api/index.js';
import { FIXTURES, REPO_ROOT, tmpDir } from '../helpers/paths.js';
import { Prng } from '../../src/sim/prng.js';

const HANDLE = 0x8000_0001;

interface Frame {
  body: Buffer;
  id: number;
  name: string;
}

/** A client that speaks the wire format directly: frames in and out, codecs from src/binapi. */
class RawClient {
  readonly frames: Frame[] = [];
  /** Everything received, as it came (headers included). */
  readonly stream: Buffer[] = [];
  readonly closed: Promise<void>;
  byId = new Map<number, string>();
  ids = new Map<string, number>();
  index = 0;
  private waiters: (() => void)[] = [];
  private nextContext = 1;

  private constructor(readonly socket: net.Socket) {
    const reader = new FrameReader(64 * 1024 * 1024, (body) => this.onFrame(body));
    socket.on('data', (chunk: Buffer) => {
      this.stream.push(Buffer.from(chunk));
      reader.push(chunk);
    });
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  static connect(socketPath: string): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = net.createConnection(socketPath);
      s.once('error', reject);
      s.once('connect', () => {
        s.off('error', reject);
        s.on('error', () => undefined);
        resolve(new RawClient(s));
      });
    });
  }

  private onFrame(body: Buffer): void {
    const id = body.readUInt16BE(0);
    const name = this.byId.get(id) ?? (id === 16 ? 'sockclnt_create_reply_35166268' : `#${id}`);
    this.frames.push({ body: Buffer.from(body), id, name });
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Waits until `pred` holds for the frames received so far. */
  async until(pred: (frames: Frame[]) => boolean, what: string, timeoutMs = 5000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!pred(this.frames)) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; got ${this.frames.map((f) => f.name).join(', ')}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  sendBody(body: Uint8Array): void {
    this.socket.write(Buffer.concat([frameHeader(body.length), body]));
  }

  id(name: MessageName): number {
    const id = this.ids.get(messages[name].nameCrc);
    if (id === undefined) throw new Error(`${name} not in the table`);
    return id;
  }

  encode<N extends MessageName>(name: N, value: MessageOf<N>): Buffer {
    const d = messages[name] as unknown as MessageDescriptor<MessageOf<N>>;
    return d.encode(value, this.id(name));
  }

  /** sockclnt_create; fills the id tables from the reply. */
  async create(name = 'api-test'): Promise<MessageOf<'sockclnt_create_reply'>> {
    this.sendBody(messages.sockclnt_create.encode({ context: 77, name }, 15));
    await this.until((f) => f.some((x) => x.id === 16), 'sockclnt_create_reply');
    const r = messages.sockclnt_create_reply.decode(this.frames.find((x) => x.id === 16)!.body);
    for (const e of r.message_table) {
      this.byId.set(e.index, e.name);
      this.ids.set(e.name, e.index);
    }
    this.index = r.index;
    return r;
  }

  /** One request; resolves with its reply (and, for dumps, the details before the ping reply). */
  async call<N extends MessageName, R extends MessageName>(
    name: N,
    value: Omit<MessageOf<N>, 'client_index' | 'context'>,
    reply: R,
    opts: { dump?: boolean; clientIndex?: number } = {},
  ): Promise<{ reply: MessageOf<R>; details: Frame[] }> {
    const context = this.nextContext++;
    const full = { client_index: opts.clientIndex ?? this.index, context, ...value } as unknown as MessageOf<N>;
    const from = this.frames.length;
    this.sendBody(this.encode(name, full));
    const endName = opts.dump ? messages.control_ping_reply.nameCrc : messages[reply].nameCrc;
    if (opts.dump) this.sendBody(this.encode('control_ping', { client_index: opts.clientIndex ?? this.index, context }));
    const isEnd = (f: Frame): boolean => f.name === endName && f.body.readUInt32BE(2) === context;
    await this.until((fs2) => fs2.slice(from).some(isEnd), `${endName} ctx ${context}`);
    const mine = this.frames.slice(from).filter((f) => f.body.length >= 6 && f.body.readUInt32BE(2) === context);
    const end = mine.find(isEnd)!;
    const d = messages[reply] as unknown as MessageDescriptor<MessageOf<R>>;
    return {
      reply: opts.dump ? (undefined as unknown as MessageOf<R>) : d.decode(end.body),
      details: opts.dump ? mine.filter((f) => f.name === messages[reply].nameCrc) : [],
    };
  }

  /** Decodes details frames of a dump with the generated codec. */
  static decodeAll<R extends MessageName>(name: R, frames: Frame[]): MessageOf<R>[] {
    const d = messages[name] as unknown as MessageDescriptor<MessageOf<R>>;
    return frames.map((f) => d.decode(f.body));
  }

  /** Nothing arrives for `ms`, then a control_ping still gets its reply: the frame was dropped. */
  async expectSilenceThenPing(ms = 150): Promise<void> {
    const n = this.frames.length;
    await new Promise((r) => setTimeout(r, ms));
    assert.equal(this.frames.length, n, `unexpected frames: ${this.frames.slice(n).map((f) => f.name).join(', ')}`);
    const { reply } = await this.call('control_ping', {}, 'control_ping_reply');
    assert.equal(reply.retval, 0);
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Every frame decodes with the generated codec of its name and encodes back to the same bytes. */
function assertRoundTrip(frames: Frame[]): void {
  for (const f of frames) {
    const d = messagesByNameCrc.get(f.name);
    assert.ok(d, `no codec for ${f.name}`);
    const v = d.decode(f.body);
    assert.deepEqual(d.encode(v, f.id), f.body, `${f.name} re-encodes differently`);
  }
}

async function withServer(fn: (server: ApiServer, model: InterfaceModel, socketPath: string) => Promise<void>, interfaces = 12, flapIntervalMs = 0): Promise<void> {
  const model = new InterfaceModel({ seed: 1 });
  createDefaultTopology(model, interfaces);
  const socketPath = path.join(tmpDir('sim-api-'), 'api.sock');
  const server = await startApiServer({ socketPath, model, flapIntervalMs });
  try {
    await fn(server, model, socketPath);
  } finally {
    await server.stop();
  }
}

test('connect: the 16-byte header VPP writes and the whole message table in VPP 26.10 order', async () => {
  await withServer(async (server, _model, socketPath) => {
    const c = await RawClient.connect(socketPath);
    const r = await c.create();
    const f = c.frames[0];
    const header = Buffer.concat(c.stream).subarray(0, 16);
    assert.notDeepEqual(header.subarray(0, 8), Buffer.alloc(8), 'q: VPP sends a non-zero pointer');
    assert.equal(header.readUInt32BE(8), f.body.length, 'data_len is big-endian');
    assert.equal(header.readUInt32BE(12), 0);
    assert.equal(r.index, HANDLE);
    assert.equal(r.context, 77);
    assert.equal(r.response, 0);
    assert.equal(r.count, MESSAGE_TABLE.length);
    assert.equal(f.body.length, 20 + 66 * MESSAGE_TABLE.length);
    assert.deepEqual(r.message_table.map((e) => e.index), [...EMIT_ORDER]);
    for (const e of r.message_table) assert.equal(MESSAGE_TABLE[e.index - 1], e.name);
    // The fixed memclnt ids and the ones VPP 26.10 gave the messages the captures used.
    const want: Record<string, number> = {
      sockclnt_create_455fb9c4: 15,
      sockclnt_create_reply_35166268: 16,
      sockclnt_delete_8ac76db6: 17,
      control_ping_51077d14: 23,
      control_ping_reply_f6b0b8ca: 24,
      sw_interface_dump_aa610c27: 226,
      sw_interface_event_2d3d95a7: 222,
      ip_route_add_del_b8ecfe0d: 450,
      show_version_51077d14: 904,
    };
    for (const [n, id] of Object.entries(want)) assert.equal(c.ids.get(n), id, n);
    // Byte for byte the real VPP's table for the 974 messages it had (same ids, same order).
    const capture = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'api-session-basic.json'), 'utf8')) as { frames: { dir: string; msg_id: number; body: string }[] };
    const vpp = Buffer.from(capture.frames.find((x) => x.dir === 's2c' && x.msg_id === 16)!.body, 'hex');
    assert.deepEqual(f.body.subarray(20, vpp.length), vpp.subarray(20));
    // Every generated message is in the table under its own CRC.
    for (const m of Object.values(messages)) assert.ok(c.ids.has(m.nameCrc), m.nameCrc);
    assertRoundTrip(c.frames);
    assert.equal(server.connections, 1);
    c.close();
  });
});

test('requests: show_version, ping, interface dump and its filters, as VPP answers them', async () => {
  await withServer(async (_server, model, socketPath) => {
    const c = await RawClient.connect(socketPath);
    await c.create();
    const v = (await c.call('show_version', {}, 'show_version_reply')).reply;
    assert.equal(v.retval, 0);
    assert.equal(v.program, 'vpe');
    assert.equal(v.version, '26.10-sim');
    assert.match(v.build_date, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
    const ping = (await c.call('control_ping', {}, 'control_ping_reply')).reply;
    assert.deepEqual({ ...ping, context: 0 }, { context: 0, retval: 0, client_index: HANDLE, vpe_pid: process.pid });

    const all = RawClient.decodeAll(
      'sw_interface_details',
      (await c.call('sw_interface_dump', { sw_if_index: 0xffffffff, name_filter_valid: false, name_filter: '' }, 'sw_interface_details', { dump: true })).details,
    );
    assert.deepEqual(all.map((d) => d.sw_if_index), model.list().map((i) => i.swIfIndex));
    for (const d of all) {
      const i = model.get(d.sw_if_index)!;
      assert.equal(d.interface_name, i.name);
      assert.equal(d.sup_sw_if_index, i.supSwIfIndex);
      assert.equal(d.flags, (i.adminUp ? 1 : 0) | (i.linkUp ? 2 : 0), i.name);
      assert.equal(d.type, i.subId === 0 ? 0 : 1);
      if (i.subId === 0) assert.equal(d.l2_address.toString('hex'), i.mac.replace(/:/g, ''));
      else assert.equal(d.sub_id, i.subId);
    }
    const local0 = all[0];
    assert.deepEqual([local0.interface_name, local0.interface_dev_type, local0.flags, local0.link_mtu], ['local0', 'local', 0, 0]);
    const loop = all.find((d) => d.interface_name === 'loop0')!;
    assert.deepEqual([loop.interface_dev_type, loop.link_mtu, loop.mtu], ['Loopback', 9000, [9000, 0, 0, 0]]);
    const sub = all.find((d) => d.type === 1)!;
    assert.deepEqual([sub.sub_number_of_tags, sub.sub_if_flags, sub.mtu], [1, 18, [0, 0, 0, 0]]);
    // An admin-down port has its link down too (the simulated drivers tie them, as VPP's do).
    const down = all.find((d) => d.interface_name === 'loop1')!;
    assert.equal(down.flags, 0);

    // Name filter: case-insensitive substring (strcasestr); one index; 0 means all; a bad index: nothing.
    const dump = async (sw: number, filter?: string): Promise<string[]> =>
      RawClient.decodeAll(
        'sw_interface_details',
        (await c.call('sw_interface_dump', { sw_if_index: sw, name_filter_valid: filter !== undefined, name_filter: filter ?? '' }, 'sw_interface_details', { dump: true })).details,
      ).map((d) => d.interface_name);
    assert.deepEqual(await dump(0xffffffff, 'GIGABITethernet0/8'), ['GigabitEthernet0/8/0', 'GigabitEthernet0/8/0.100']);
    assert.deepEqual(await dump(3), ['loop0']);
    assert.equal((await dump(0)).length, model.count);
    assert.deepEqual(await dump(9999), []);
    assertRoundTrip(c.frames);
    c.close();
  });
});

test('interface changes through the API reach the model, and errors carry VPP retvals', async () => {
  await withServer(async (_server, model, socketPath) => {
    const c = await RawClient.connect(socketPath);
    await c.create();
    const set = async (sw: number, flags: number): Promise<number> =>
      (await c.call('sw_interface_set_flags', { sw_if_index: sw, flags }, 'sw_interface_set_flags_reply')).reply.retval;
    assert.equal(await set(1, 0), 0);
    assert.deepEqual([model.get(1)!.adminUp, model.get(1)!.linkUp], [false, false]);
    assert.equal(model.get(5)!.linkUp, false, 'the sub-interface follows its port');
    assert.equal(await set(1, 1), 0);
    assert.deepEqual([model.get(1)!.adminUp, model.get(1)!.linkUp], [true, true]);
    assert.equal(await set(9999, 1), -2);

    const addr = async (sw: number, isAdd: boolean, af: number, bytes: number[], len: number, delAll = false): Promise<number> => {
      const un = Buffer.alloc(16);
      un.set(bytes);
      return (
        await c.call(
          'sw_interface_add_del_address',
          { sw_if_index: sw, is_add: isAdd, del_all: delAll, prefix: { address: { af, un }, len } },
          'sw_interface_add_del_address_reply',
        )
      ).reply.retval;
    };
    assert.equal(await addr(3, true, 0, [10, 77, 0, 1], 24), 0);
    assert.ok(model.get(3)!.addresses.includes('10.77.0.1/24'));
    assert.equal(await addr(3, true, 0, [10, 77, 0, 2], 24), 0, 'more addresses of one subnet on one interface');
    assert.equal(await addr(3, true, 0, [10, 77, 0, 1], 24), -105, 'VPP: ADDRESS_IN_USE, also for the same address again');
    assert.equal(await addr(4, true, 0, [10, 77, 0, 9], 16), -105, 'overlaps another interface');
    assert.equal(await addr(3, true, 1, [0x20, 0x01, 0x0d, 0xb8, 0, 0x77], 64), 0);
    assert.ok(model.get(3)!.addresses.includes('2001:db8:77::/64'));
    assert.equal(await addr(3, false, 0, [10, 77, 0, 5], 24), -60);
    assert.equal(await addr(9999, true, 0, [10, 78, 0, 1], 24), -2);
    assert.equal(await addr(3, true, 0, [10, 78, 0, 1], 33), -88);
    assert.equal(await addr(3, true, 7, [10, 78, 0, 1], 24), -97);
    assert.equal(await addr(0, true, 0, [10, 79, 0, 1], 24), 0, 'local0: VPP answers 0 and adds nothing');
    assert.deepEqual(model.get(0)!.addresses, []);

    const ipDump = async (sw: number, v6: boolean): Promise<string[]> =>
      RawClient.decodeAll(
        'ip_address_details',
        (await c.call('ip_address_dump', { sw_if_index: sw, is_ipv6: v6 }, 'ip_address_details', { dump: true })).details,
      ).map((d) => `${d.sw_if_index} ${d.prefix.address.af} ${d.prefix.address.un.subarray(0, v6 ? 16 : 4).toString('hex')}/${d.prefix.len}`);
    assert.deepEqual(await ipDump(3, false), ['3 0 0a030001/24', '3 0 0a4d0001/24', '3 0 0a4d0002/24']);
    assert.deepEqual(await ipDump(3, true), ['3 1 20010db8000300000000000000000001/64', '3 1 20010db8007700000000000000000000/64']);
    assert.deepEqual(await ipDump(9999, false), []);
    assert.equal(await addr(3, false, 0, [10, 77, 0, 1], 24), 0);
    assert.equal(await addr(3, false, 0, [], 0, true), 0, 'del_all');
    assert.deepEqual(model.get(3)!.addresses, []);

    // Loopbacks: the lowest free instance, the MAC asked for (de:ad:00:00:00:<instance> without one).
    const lb = (await c.call('create_loopback', { mac_address: Buffer.alloc(6) }, 'create_loopback_reply')).reply;
    assert.equal(lb.retval, 0);
    const created = model.get(lb.sw_if_index)!;
    assert.deepEqual([created.name, created.mac, created.adminUp, created.linkUp], ['loop2', 'de:ad:00:00:00:02', false, false]);
    const inst = (
      await c.call('create_loopback_instance', { mac_address: Buffer.from('020000000042', 'hex'), is_specified: true, user_instance: 42 }, 'create_loopback_instance_reply')
    ).reply;
    assert.equal(inst.retval, 0);
    assert.deepEqual([model.get(inst.sw_if_index)!.name, model.get(inst.sw_if_index)!.mac], ['loop42', '02:00:00:00:00:42']);
    const again = (await c.call('create_loopback_instance', { mac_address: Buffer.alloc(6), is_specified: true, user_instance: 42 }, 'create_loopback_instance_reply')).reply;
    assert.deepEqual([again.retval, again.sw_if_index], [-31, 0xffffffff]);
    const del = async (sw: number): Promise<number> => (await c.call('delete_loopback', { sw_if_index: sw }, 'delete_loopback_reply')).reply.retval;
    assert.equal(await del(1), -2, 'not a loopback');
    assert.equal(await del(inst.sw_if_index), 0);
    assert.equal(model.get(inst.sw_if_index), undefined);
    assert.equal(await del(inst.sw_if_index), -2);
    assertRoundTrip(c.frames);
    c.close();
  });
});

test('routes: tables, add/replace/multipath/delete, dumps with VPP special and interface routes', async () => {
  await withServer(async (server, _model, socketPath) => {
    const c = await RawClient.connect(socketPath);
    await c.create();
    const NO_LABELS = Array.from({ length: 16 }, () => ({ is_uniform: 0, label: 0, ttl: 0, exp: 0 }));
    const path4 = (sw: number, nh: number[], extra: Partial<{ proto: number; table_id: number; weight: number }> = {}) => {
      const address = Buffer.alloc(16);
      address.set(nh);
      return {
        sw_if_index: sw,
        table_id: extra.table_id ?? 0,
        rpf_id: 0,
        weight: extra.weight ?? 1,
        preference: 0,
        type: 0,
        flags: 0,
        proto: extra.proto ?? 0,
        nh: { address, via_label: 0, obj_id: 0, classify_table_index: 0 },
        n_labels: 0,
        label_stack: NO_LABELS,
      };
    };
    const route = async (isAdd: boolean, multipath: boolean, table: number, af: number, addr: number[], len: number, paths: ReturnType<typeof path4>[]) => {
      const un = Buffer.alloc(16);
      un.set(addr);
      return (
        await c.call(
          'ip_route_add_del',
          { is_add: isAdd, is_multipath: multipath, route: { table_id: table, stats_index: 0, prefix: { address: { af, un }, len }, paths } },
          'ip_route_add_del_reply',
        )
      ).reply;
    };
    const dump = async (table: number, v6 = false) =>
      RawClient.decodeAll(
        'ip_route_details',
        (await c.call('ip_route_dump', { table: { table_id: table, is_ip6: v6, name: '' } }, 'ip_route_details', { dump: true })).details,
      ).map((d) => ({
        prefix: `${d.route.prefix.address.un.subarray(0, v6 ? 16 : 4).toString('hex')}/${d.route.prefix.len}`,
        stats: d.route.stats_index,
        paths: d.route.paths.map((p) => `${p.sw_if_index}:${p.type}:${p.nh.address.subarray(0, v6 ? 16 : 4).toString('hex')}:w${p.weight}`),
      }));

    const before = await dump(0);
    // VPP's special entries of table 0, with the stats_index of the capture.
    for (const [p, idx] of [['00000000/0', 1], ['00000000/32', 2], ['f0000000/4', 3], ['e0000000/4', 4], ['ffffffff/32', 5]] as const) {
      const e = before.find((x) => x.prefix === p);
      assert.ok(e, p);
      assert.equal(e.stats, idx, p);
      assert.deepEqual(e.paths, ['4294967295:2:00000000:w1']);
    }
    // Interface routes of GigabitEthernet0/8/0 (10.1.0.1/24, up): connected, local, network and broadcast drops.
    for (const [p, path] of [
      ['0a010001/24', '1:0:00000000:w1'],
      ['0a010001/32', '1:1:0a010001:w1'],
      ['0a010000/32', '4294967295:2:00000000:w1'],
      ['0a0100ff/32', '4294967295:2:00000000:w1'],
    ]) assert.deepEqual(before.find((x) => x.prefix === p)?.paths, [path], p);
    // loop1 is down: VPP adds interface routes on admin up only.
    assert.equal(before.find((x) => x.prefix === '0a070001/24'), undefined);
    const lens = before.map((x) => Number(x.prefix.split('/')[1]));
    assert.deepEqual(lens, [...lens].sort((a, b) => a - b), 'walked by prefix length');

    const r1 = await route(true, false, 0, 0, [10, 99, 0, 0], 16, [path4(1, [10, 1, 0, 2])]);
    assert.equal(r1.retval, 0);
    assert.ok(r1.stats_index > 5);
    assert.equal(server.fib.apiRoutes, 1);
    // Host bits are masked (VPP's key); the same prefix replaces; multipath adds and removes one path.
    const r2 = await route(true, false, 0, 0, [10, 99, 1, 1], 16, [path4(2, [10, 2, 0, 2], { weight: 0 })]);
    assert.equal(r2.stats_index, r1.stats_index);
    assert.deepEqual((await dump(0)).find((x) => x.prefix === '0a630000/16')?.paths, ['2:0:0a020002:w1']);
    await route(true, true, 0, 0, [10, 99, 0, 0], 16, [path4(1, [10, 1, 0, 2])]);
    await route(true, true, 0, 0, [10, 99, 0, 0], 16, [path4(1, [10, 1, 0, 2])]);
    assert.deepEqual((await dump(0)).find((x) => x.prefix === '0a630000/16')?.paths, ['2:0:0a020002:w1', '1:0:0a010002:w1']);
    assert.equal((await route(false, true, 0, 0, [10, 99, 0, 0], 16, [path4(2, [10, 2, 0, 2])])).retval, 0);
    assert.deepEqual((await dump(0)).find((x) => x.prefix === '0a630000/16')?.paths, ['1:0:0a010002:w1']);
    // Delete: reply stats_index ~0; again: still 0 (VPP allows deleting what is not there).
    const d1 = await route(false, false, 0, 0, [10, 99, 0, 0], 16, []);
    assert.deepEqual([d1.retval, d1.stats_index], [0, 0xffffffff]);
    assert.equal((await route(false, false, 0, 0, [10, 99, 0, 0], 16, [])).retval, 0);
    assert.equal(server.fib.apiRoutes, 0);
    assert.deepEqual(await dump(0), before);
    // The freed index is the next one given (a LIFO pool).
    assert.equal((await route(true, false, 0, 0, [10, 98, 0, 0], 16, [path4(1, [10, 1, 0, 2])])).stats_index, r1.stats_index);

    // IPv6 in table 0, with a v6 next hop.
    const v6 = await route(true, false, 0, 1, [0x20, 0x01, 0x0d, 0xb8, 0, 0x99], 48, [path4(1, [0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2], { proto: 1 })]);
    assert.equal(v6.retval, 0);
    const d6 = await dump(0, true);
    assert.deepEqual(d6.find((x) => x.prefix === '20010db8009900000000000000000000/48')?.paths, ['1:0:20010db8000100000000000000000002:w1']);
    assert.deepEqual(d6.find((x) => x.prefix === '00000000000000000000000000000000/0')?.paths, ['4294967295:2:00000000000000000000000000000000:w1']);

    // Errors, as VPP: missing table -3, no paths -52, next-hop interface missing -54, bad next-hop
    // protocol -1, next-hop table missing -3; and the two VPP does not check: -88, -97.
    const nh = [path4(1, [10, 1, 0, 2])];
    const rv = async (...args: Parameters<typeof route>): Promise<[number, number]> => {
      const r = await route(...args);
      return [r.retval, r.stats_index];
    };
    const FAIL = 0xffffffff;
    assert.deepEqual(await rv(true, false, 77, 0, [10, 97, 0, 0], 16, nh), [-3, FAIL]);
    assert.deepEqual(await rv(true, false, 0, 0, [10, 97, 0, 0], 16, []), [-52, FAIL]);
    assert.deepEqual(await rv(true, true, 0, 0, [10, 97, 0, 0], 16, []), [-52, FAIL]);
    assert.deepEqual(await rv(true, false, 0, 0, [10, 97, 0, 0], 16, [path4(9999, [10, 1, 0, 2])]), [-54, FAIL]);
    assert.deepEqual(await rv(true, false, 0, 0, [10, 97, 0, 0], 16, [path4(1, [10, 1, 0, 2], { proto: 9 })]), [-1, FAIL]);
    assert.deepEqual(await rv(true, false, 0, 0, [10, 97, 0, 0], 16, [path4(0xffffffff, [10, 1, 0, 2], { table_id: 55 })]), [-3, FAIL]);
    assert.deepEqual(await rv(true, false, 0, 0, [10, 97, 0, 0], 33, nh), [-88, FAIL]);
    assert.deepEqual(await rv(true, false, 0, 5, [10, 97, 0, 0], 16, nh), [-97, FAIL]);

    // Tables: created with VPP's default name and its special entries, dumped, deleted with their routes.
    const tbl = async (isAdd: boolean, id: number, v6 = false, name = ''): Promise<number> =>
      (await c.call('ip_table_add_del', { is_add: isAdd, table: { table_id: id, is_ip6: v6, name } }, 'ip_table_add_del_reply')).reply.retval;
    assert.equal(await tbl(true, 77), 0);
    assert.equal(await tbl(true, 77), 0, 'adding it again is fine');
    assert.equal(await tbl(true, 78, true, 'blue'), 0);
    assert.deepEqual(await rv(true, false, 77, 0, [10, 97, 0, 0], 16, nh).then((x) => x[0]), 0);
    assert.equal(server.fib.table(0, 77)?.entries.size, 6);
    const tables = RawClient.decodeAll('ip_table_details', (await c.call('ip_table_dump', {}, 'ip_table_details', { dump: true })).details).map(
      (d) => `${d.table.is_ip6 ? 6 : 4}:${d.table.table_id}:${d.table.name}`,
    );
    assert.deepEqual(tables, ['4:0:ipv4-VRF:0', '4:77:ipv4-VRF:77', '6:0:ipv6-VRF:0', '6:78:blue']);
    assert.deepEqual((await dump(77)).map((x) => x.prefix), ['00000000/0', 'e0000000/4', 'f0000000/4', '0a610000/16', '00000000/32', 'ffffffff/32']);
    assert.equal(await tbl(false, 77), 0);
    assert.equal(await tbl(false, 77), 0, 'deleting a missing table is fine');
    assert.equal(await tbl(false, 0), 0, 'table 0 cannot be deleted (ignored)');
    assert.deepEqual(await dump(77), [], 'a missing table dumps nothing');
    assert.ok((await dump(0)).length > 0);
    assertRoundTrip(c.frames);
    c.close();
  });
});

test('garbage is dropped like VPP drops it, and the connection keeps working', async () => {
  await withServer(async (server, _model, socketPath) => {
    const c = await RawClient.connect(socketPath);
    await c.create();
    // Header and body in pieces, down to single bytes; several frames in one write.
    const ping = c.encode('control_ping', { client_index: c.index, context: 900 });
    const framed = Buffer.concat([frameHeader(ping.length), ping]);
    for (const b of framed) c.socket.write(Buffer.from([b]));
    c.socket.write(Buffer.concat([framed, framed, framed]));
    await c.until((f) => f.filter((x) => x.name === 'control_ping_reply_f6b0b8ca').length === 4, '4 ping replies');

    const unknownBefore = server.stats.unknownId;
    c.sendBody(Buffer.from([0, 0, 1, 2, 3, 4, 5, 6, 7, 8])); // id 0
    c.sendBody(Buffer.from([0xff, 0xf0, 0x80, 0, 0, 1, 0, 0, 0, 1])); // an id past the table
    c.sendBody(Buffer.from([0x03])); // not even an id
    await c.expectSilenceThenPing();
    assert.equal(server.stats.unknownId, unknownBefore + 2);

    // A known message without a handler (VPP: "no handler for msg id", no reply).
    c.sendBody(c.encode('sw_interface_set_mtu', { client_index: c.index, context: 5, sw_if_index: 1, mtu: [1500, 0, 0, 0] }));
    // Truncated: show_version without its context; ip_route_add_del shorter than its n_paths.
    c.sendBody(c.encode('show_version', { client_index: c.index, context: 6 }).subarray(0, 8));
    const route = c.encode('ip_route_add_del', {
      client_index: c.index,
      context: 7,
      is_add: true,
      is_multipath: false,
      route: { table_id: 0, stats_index: 0, prefix: { address: { af: 0, un: Buffer.alloc(16) }, len: 8 }, paths: [] },
    });
    route[38] = 3; // n_paths 3, none there
    c.sendBody(route);
    // A client_index that names no client: nowhere to reply.
    c.sendBody(c.encode('show_version', { client_index: 0x8000_0999, context: 8 }));
    c.sendBody(c.encode('show_version', { client_index: 0, context: 9 }));
    await c.expectSilenceThenPing();
    assert.equal(server.stats.unhandledByName.sw_interface_set_mtu_5cbe85e5, 1);
    assert.equal(server.stats.decodeErrors, 3);
    assert.equal(server.stats.badClientIndex, 2);
    // Longer than its fixed size: VPP reads what it needs and answers.
    c.sendBody(Buffer.concat([c.encode('show_version', { client_index: c.index, context: 10 }), Buffer.alloc(7, 0xee)]));
    await c.until((f) => f.some((x) => x.name === 'show_version_reply_c919bde1' && x.body.readUInt32BE(2) === 10), 'show_version_reply');
    assert.equal(server.stats.handlerErrors, 0);
    assertRoundTrip(c.frames);

    // A frame too large to be one: that client is closed, others are not affected.
    const other = await RawClient.connect(socketPath);
    await other.create();
    const huge = Buffer.alloc(16);
    huge.writeUInt32BE(0x7fff_ffff, 8);
    c.socket.write(huge);
    await c.closed;
    assert.equal((await other.call('control_ping', {}, 'control_ping_reply')).reply.retval, 0);
    other.close();
  });
});

test('several clients: own handles, requests routed by client_index, events to each registration', async () => {
  await withServer(async (server, model, socketPath) => {
    const a = await RawClient.connect(socketPath);
    const b = await RawClient.connect(socketPath);
    assert.equal((await a.create('a')).index, 0x8000_0001);
    assert.equal((await b.create('b')).index, 0x8000_0002);
    assert.equal(server.connections, 2);
    // VPP replies to the registration a request names, not to the socket it came on.
    const n = b.frames.length;
    a.sendBody(a.encode('control_ping', { client_index: 0x8000_0002, context: 4242 }));
    await b.until((f) => f.length > n, 'the reply on b');
    assert.equal(b.frames.at(-1)!.body.readUInt32BE(2), 4242);

    const want = async (c: RawClient, enable: boolean, pid: number): Promise<number> =>
      (await c.call('want_interface_events', { enable_disable: enable ? 1 : 0, pid }, 'want_interface_events_reply')).reply.retval;
    assert.equal(await want(a, true, 111), 0);
    assert.equal(await want(a, true, 111), -31, 'already enabled');
    assert.equal(await want(b, true, 222), 0);
    const events = (c: RawClient) => RawClient.decodeAll('sw_interface_event', c.frames.filter((f) => f.name === 'sw_interface_event_2d3d95a7'));

    // Admin down on a port: one event, flags 0 (what happened, not the state); up: ADMIN|LINK.
    await a.call('sw_interface_set_flags', { sw_if_index: 1, flags: 0 }, 'sw_interface_set_flags_reply');
    await a.until(() => events(a).length === 1, 'event');
    await a.call('sw_interface_set_flags', { sw_if_index: 1, flags: 1 }, 'sw_interface_set_flags_reply');
    await a.until(() => events(a).length === 2, 'event');
    assert.deepEqual(events(a), [
      { client_index: 0x8000_0001, pid: 111, sw_if_index: 1, flags: 0, deleted: false },
      { client_index: 0x8000_0001, pid: 111, sw_if_index: 1, flags: 3, deleted: false },
    ]);
    await b.until(() => events(b).length === 2, 'events on b');
    assert.deepEqual(events(b).map((e) => [e.client_index, e.pid, e.flags]), [[0x8000_0002, 222, 0], [0x8000_0002, 222, 3]]);
    // The reply comes before the event it caused.
    const names = a.frames.map((f) => f.name);
    assert.ok(names.lastIndexOf('sw_interface_set_flags_reply_e8d4e804') < names.lastIndexOf('sw_interface_event_2d3d95a7'));

    // Changes made behind the API (the model directly) are events too; a sub-interface's admin
    // change is one, its link following the port is not (link events come from hardware).
    model.setFlags(5, { adminUp: false });
    model.setFlags(2, { linkUp: false });
    await a.until(() => events(a).length === 4, 'events');
    assert.deepEqual(events(a).slice(2).map((e) => [e.sw_if_index, e.flags]), [[2, 0], [5, 0]], 'batched, by sw_if_index');
    model.setFlags(2, { linkUp: true });
    await a.until(() => events(a).length === 5, 'event');
    assert.deepEqual([events(a)[4].sw_if_index, events(a)[4].flags], [2, 2]);

    // Create and delete: an event each, the delete with deleted=true.
    const lb = (await a.call('create_loopback', { mac_address: Buffer.alloc(6) }, 'create_loopback_reply')).reply.sw_if_index;
    await a.until(() => events(a).length === 6, 'create event');
    await a.call('delete_loopback', { sw_if_index: lb }, 'delete_loopback_reply');
    await a.until(() => events(a).length === 7, 'delete event');
    assert.deepEqual(events(a).slice(5).map((e) => [e.sw_if_index, e.flags, e.deleted]), [[lb, 0, false], [lb, 0, true]]);

    // Off, and off again; b closing ends its registration; its handle is reused.
    assert.equal(await want(a, false, 111), 0);
    assert.equal(await want(a, false, 111), -31);
    b.close();
    await b.closed;
    await a.until(() => server.connections === 1, 'b gone');
    const c = await RawClient.connect(socketPath);
    assert.equal((await c.create('c')).index, 0x8000_0002);
    assert.equal(await want(c, false, 1), -31, 'b\'s registration went with it');
    // sockclnt_delete: response 1, then the socket is closed.
    const del = await c.call('sockclnt_delete', { index: c.index }, 'sockclnt_delete_reply');
    assert.equal(del.reply.response, 1);
    await c.closed;
    await a.until(() => server.connections === 1, 'c gone');
    const d = await RawClient.connect(socketPath);
    assert.equal((await d.create('d')).index, 0x8000_0002, 'the handle of a deleted registration is reused');
    assertRoundTrip([...a.frames, ...c.frames, ...d.frames]);
    a.close();
    d.close();
  });
});

test('link flaps: every flapIntervalMs a port goes down and up again, with the events VPP sends', async () => {
  await withServer(
    async (server, model, socketPath) => {
      const c = await RawClient.connect(socketPath);
      await c.create();
      await c.call('want_interface_events', { enable_disable: 1, pid: 1 }, 'want_interface_events_reply');
      const events = () => RawClient.decodeAll('sw_interface_event', c.frames.filter((f) => f.name === 'sw_interface_event_2d3d95a7'));
      await c.until(() => events().length >= 5, 'two flaps', 5000);
      // (A flap that began before the registration may show only its "up".)
      const ev = events();
      const down = ev.findIndex((e) => e.flags === 0);
      const up = ev.findIndex((e, i) => i > down && e.sw_if_index === ev[down].sw_if_index);
      // Down: flags 0; up: LINK_UP only (no admin event in the batch).
      assert.ok(down >= 0 && up > down, JSON.stringify(ev));
      assert.equal(ev[up].flags, 2);
      assert.ok(ev.every((e) => e.flags === 0 || e.flags === 2));
      assert.ok(model.get(ev[down].sw_if_index)!.hwIfIndex !== null);
      assert.ok(server.stats.flaps >= 2);
      c.close();
    },
    12,
    60,
  );
  // flap() by hand: the port named, the link down for downMs, the sub-interfaces with it.
  await withServer(async (server, model) => {
    assert.equal(server.flap({ swIfIndex: 1, downMs: 40 }), 1);
    assert.equal(model.get(1)!.linkUp, false);
    assert.equal(model.get(5)!.linkUp, false);
    assert.equal(server.flap({ swIfIndex: 1 }), undefined, 'already flapping');
    assert.equal(server.flap({ swIfIndex: 5 }), undefined, 'not a port');
    await new Promise((r) => setTimeout(r, 120));
    assert.equal(model.get(1)!.linkUp, true);
    assert.equal(model.get(5)!.linkUp, true);
  });
});

test('startStatsSimulator with apiSocketPath: one model, the stats segment follows API changes', async () => {
  const dir = tmpDir('sim-api-stats-');
  const sim = await startStatsSimulator({ interfaces: 8, workers: 1, rate: 0, seed: 3, socketPath: path.join(dir, 'stats.sock'), apiSocketPath: path.join(dir, 'api.sock') });
  try {
    assert.ok(sim.api);
    assert.equal(sim.api.model, sim.model);
    assert.equal(sim.apiSocketPath, path.join(dir, 'api.sock'));
    const c = await RawClient.connect(sim.apiSocketPath);
    await c.create();
    const lb = (await c.call('create_loopback', { mac_address: Buffer.alloc(6) }, 'create_loopback_reply')).reply;
    assert.equal(lb.retval, 0);
    const name = sim.model.get(lb.sw_if_index)!.name;
    let truth = sim.truth();
    assert.equal((truth.get('/if/names') as (string | null)[])[lb.sw_if_index], name);
    assert.ok(truth.has(`/interfaces/${name}/rx`));
    await c.call('delete_loopback', { sw_if_index: lb.sw_if_index }, 'delete_loopback_reply');
    truth = sim.truth();
    assert.equal((truth.get('/if/names') as (string | null)[])[lb.sw_if_index], 'deleted');
    assert.ok(!truth.has(`/interfaces/${name}/rx`));
    c.close();
  } finally {
    await sim.stop();
  }
  assert.equal(fs.existsSync(path.join(dir, 'api.sock')), false);
  assert.throws(() => createStatsSimulator({ interfaces: 1, workers: 0, rate: 0, seed: 1, apiSocketPath: path.join(dir, 'x.sock') }), /startStatsSimulator/);
  await assert.rejects(startStatsSimulator({ interfaces: 1, workers: 0, rate: 0, seed: 1, apiSocketPath: 'x'.repeat(200) }), /apiSocketPath is longer/);
  await assert.rejects(startStatsSimulator({ interfaces: 1, workers: 0, rate: 0, seed: 1, apiSocketPath: 'a.sock', socketPath: 'a.sock' }), /must differ/);
  await assert.rejects(startStatsSimulator({ interfaces: 1, workers: 0, rate: 0, seed: 1, flapIntervalMs: -1 }), /flapIntervalMs/);
});

test('stop closes every client and removes the socket; a new server on the same path works', async () => {
  const model = new InterfaceModel({ seed: 1 });
  createDefaultTopology(model, 4);
  const socketPath = path.join(tmpDir('sim-api-restart-'), 'api.sock');
  for (let round = 0; round < 3; round++) {
    const server = await startApiServer({ socketPath, model });
    const a = await RawClient.connect(socketPath);
    const b = await RawClient.connect(socketPath);
    assert.equal((await a.create()).index, 0x8000_0001, 'handles start over');
    await b.create();
    await server.stop();
    await Promise.all([a.closed, b.closed]);
    assert.equal(fs.existsSync(socketPath), false);
    await server.stop(); // idempotent
  }
  // A simulator killed with SIGKILL leaves its socket file: the next one replaces it.
  const child = fork(path.join(REPO_ROOT, 'dist', 'src', 'sim', 'run-child.js'), [JSON.stringify({ interfaces: 1, workers: 0, rate: 0, seed: 1, apiSocketPath: socketPath })], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  await new Promise<void>((resolve) => child.once('message', () => resolve()));
  child.kill('SIGKILL');
  await new Promise<void>((resolve) => child.once('exit', () => resolve()));
  assert.ok(fs.lstatSync(socketPath).isSocket(), 'the stale socket is left behind');
  const server = await startApiServer({ socketPath, model });
  const c = await RawClient.connect(socketPath);
  await c.create();
  assert.equal((await c.call('control_ping', {}, 'control_ping_reply')).reply.retval, 0);
  await server.stop();
  // Something that is not a socket is never removed.
  fs.writeFileSync(socketPath, 'not a socket');
  await assert.rejects(startApiServer({ socketPath, model }), /is not a socket/);
  fs.rmSync(socketPath);
  // The failed start left no listener on the model behind.
  assert.equal(model.listenerCount('changed'), 0);
});

test('random frames (seeded) never break the server: every one answered or dropped, no handler fails', async () => {
  await withServer(async (server, _model, socketPath) => {
    const prng = new Prng(20261126);
    const handled = (
      [
        'sockclnt_create', 'control_ping', 'show_version', 'sw_interface_dump', 'sw_interface_set_flags', 'sw_interface_add_del_address',
        'ip_address_dump', 'want_interface_events', 'create_loopback', 'create_loopback_instance', 'delete_loopback', 'ip_table_add_del',
        'ip_table_dump', 'ip_route_add_del', 'ip_route_dump', 'sw_interface_details', 'ip_route_add_del_reply',
      ] as const
    ).map((n) => MESSAGE_TABLE.indexOf(messages[n].nameCrc) + 1);
    assert.ok(!handled.includes(0));
    for (let round = 0; round < 20; round++) {
      const c = await RawClient.connect(socketPath);
      await c.create(`fuzz-${round}`);
      const chunks: Buffer[] = [];
      for (let i = 0; i < 100; i++) {
        const id = prng.next() < 0.7 ? prng.pick(handled) : prng.int(1200);
        const name = MESSAGE_TABLE[id - 1];
        const fixed = name === undefined ? null : (messagesByNameCrc.get(name)?.fixedSize ?? null);
        const len = fixed !== null && prng.next() < 0.6 ? fixed : prng.int(400);
        const body = Buffer.alloc(Math.max(2, len));
        for (let k = 2; k < body.length; k++) body[k] = prng.int(256);
        body.writeUInt16BE(id, 0);
        if (body.length >= 6 && prng.next() < 0.8) body.writeUInt32BE(c.index, 2);
        if (id === 17) continue; // sockclnt_delete would just end this round early
        if (id === 450 && body.length > 38) body[38] = prng.int(3); // plausible n_paths
        chunks.push(Buffer.concat([frameHeader(body.length), body]));
      }
      // Written in random pieces.
      const stream = Buffer.concat(chunks);
      for (let o = 0; o < stream.length; ) {
        const n = 1 + prng.int(700);
        c.socket.write(stream.subarray(o, o + n));
        o += n;
      }
      const { reply } = await c.call('control_ping', {}, 'control_ping_reply');
      assert.equal(reply.retval, 0);
      assertRoundTrip(c.frames);
      c.close();
    }
    assert.equal(server.stats.handlerErrors, 0, JSON.stringify(server.stats));
    assert.ok(server.stats.decodeErrors > 0 && server.stats.unknownId > 0 && server.stats.unhandled > 0);
  });
});
