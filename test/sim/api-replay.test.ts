/**
 * The simulator answers the client side of the real VPP 26.10 sessions (../shared/fixtures/
 * vpp-26.10/api-session-*.json, recorded with vpp-papi) the way VPP did: the captured request
 * bytes are sent unchanged (VPP's message ids and client handle work as they are), and every
 * reply has VPP's message, context and retval; the ones that do not depend on the topology or on
 * VPP's internal indices are byte-identical. Every frame the simulator sends is decoded and
 * re-encoded by the generated codecs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { messagesByNameCrc } from '../../src/binapi/generated/index.js';
import { FrameReader, frameHeader } from '../../src/binapi/transport.js';
import { InterfaceModel, createDefaultTopology } from '../../src/sim/index.js';
import { startApiServer, MESSAGE_TABLE } from '../../src/sim/api/index.js';
import { FIXTURES, tmpDir } from '../helpers/paths.js';

interface CaptureFrame {
  dir: 'c2s' | 's2c';
  header: string;
  body: string;
  msg_id: number;
  name: string;
}

interface Got {
  id: number;
  name: string;
  body: Buffer;
}

function load(file: string): CaptureFrame[] {
  return (JSON.parse(fs.readFileSync(path.join(FIXTURES, file), 'utf8')) as { frames: CaptureFrame[] }).frames;
}

const nameOfId = (id: number): string => MESSAGE_TABLE[id - 1] ?? `#${id}`;
const ctxOf = (b: Buffer): number => b.readUInt32BE(2);
/** The fields every reply of these sessions starts with: context, then retval (or response). */
const retvalOf = (b: Buffer): number => b.readInt32BE(6);
const isEvent = (name: string): boolean => name.startsWith('sw_interface_event_');
const isDetails = (name: string): boolean => /_details_[0-9a-f]{8}$/.test(name);

/**
 * Sends the capture's client frames one exchange at a time (a request, or a dump and its
 * control_ping, then waiting for the answer, as papi did) and returns everything received.
 */
async function replay(frames: CaptureFrame[], socketPath: string): Promise<Got[]> {
  const got: Got[] = [];
  let wake: () => void = () => undefined;
  const sock = net.createConnection(socketPath);
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  const reader = new FrameReader(64 * 1024 * 1024, (body) => {
    const id = body.readUInt16BE(0);
    got.push({ id, name: nameOfId(id), body: Buffer.from(body) });
    wake();
  });
  sock.on('data', (c: Buffer) => reader.push(c));
  const closed = new Promise<void>((resolve) => sock.once('close', () => resolve()));
  const waitFor = async (pred: () => boolean, what: string): Promise<void> => {
    const end = Date.now() + 5000;
    while (!pred()) {
      if (Date.now() > end) throw new Error(`no ${what}; got ${got.map((g) => g.name).join(', ')}`);
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 50);
      });
    }
  };
  const c2s = frames.filter((f) => f.dir === 'c2s');
  for (let i = 0; i < c2s.length; i++) {
    const f = c2s[i];
    const body = Buffer.from(f.body, 'hex');
    const batch = [body];
    // sockclnt_create has no client_index: its context is at 2, everyone else's at 6.
    const context = f.msg_id === 15 ? body.readUInt32BE(2) : body.readUInt32BE(6);
    const next = c2s[i + 1];
    const dump = next !== undefined && next.name.startsWith('control_ping_') && Buffer.from(next.body, 'hex').readUInt32BE(6) === context && !f.name.startsWith('control_ping_');
    if (dump) {
      batch.push(Buffer.from(next.body, 'hex'));
      i++;
    }
    for (const b of batch) sock.write(Buffer.concat([frameHeader(b.length), b]));
    await waitFor(
      () => got.some((g) => !isEvent(g.name) && !isDetails(g.name) && (g.id === 16 ? g.body.readUInt32BE(6) : ctxOf(g.body)) === context),
      `the reply to ${f.name} (context ${context})`,
    );
  }
  await closed;
  return got;
}

function roundTrip(got: Got[]): void {
  for (const g of got) {
    const d = messagesByNameCrc.get(g.name);
    assert.ok(d, `no generated codec for ${g.name}`);
    assert.deepEqual(d.encode(d.decode(g.body), g.id), g.body, `${g.name} does not round-trip`);
  }
}

/** Replies (no details, no events) by context: [name, retval]. */
function replies(list: { name: string; body: Buffer; id: number }[]): [number, string, number][] {
  return list
    .filter((g) => !isEvent(g.name) && !isDetails(g.name) && g.id !== 16)
    .map((g): [number, string, number] => [ctxOf(g.body), g.name, retvalOf(g.body)])
    .sort((a, b) => a[0] - b[0]);
}

function captured(frames: CaptureFrame[]): { name: string; body: Buffer; id: number }[] {
  return frames.filter((f) => f.dir === 's2c').map((f) => ({ name: f.name, body: Buffer.from(f.body, 'hex'), id: f.msg_id }));
}

async function server(interfaces: number): Promise<{ socketPath: string; model: InterfaceModel; stop: () => Promise<void> }> {
  const model = new InterfaceModel({ seed: 1 });
  createDefaultTopology(model, interfaces);
  const socketPath = path.join(tmpDir('sim-api-replay-'), 'api.sock');
  const s = await startApiServer({ socketPath, model });
  return { socketPath, model, stop: () => s.stop() };
}

test('the config session (create_loopback, flags, address, routes, errors -2/-3, dumps, delete)', async () => {
  const frames = load('api-session-config.json');
  // One port at sw_if_index 1, so the loopback gets 2 as it did on the real VPP.
  const sim = await server(1);
  try {
    const got = await replay(frames, sim.socketPath);
    roundTrip(got);
    const vpp = captured(frames);
    assert.deepEqual(replies(got), replies(vpp));
    const byCtx = (list: { name: string; body: Buffer }[], name: string, ctx: number): Buffer[] =>
      list.filter((g) => g.name === name && ctxOf(g.body) === ctx).map((g) => g.body);
    // Byte-identical where nothing depends on the topology or on VPP's pools: the set_flags and
    // address replies, the -3 route reply, the delete's reply, ip_address_details, delete_loopback,
    // sockclnt_delete; create_loopback_reply (sw_if_index 2 both).
    for (const [name, ctx] of [
      ['create_loopback_reply_5383d31f', 2],
      ['sw_interface_set_flags_reply_e8d4e804', 3],
      ['sw_interface_add_del_address_reply_e8d4e804', 4],
      ['sw_interface_set_flags_reply_e8d4e804', 5],
      ['ip_route_add_del_reply_1992deab', 8],
      ['ip_address_details_ee29b797', 11],
      ['ip_route_add_del_reply_1992deab', 12],
      ['delete_loopback_reply_e8d4e804', 13],
      ['sockclnt_delete_reply_8f38b1ee', 14],
    ] as const) {
      const mine = byCtx(got, name, ctx);
      assert.equal(mine.length, 1, `${name} ctx ${ctx}`);
      assert.deepEqual(mine, byCtx(vpp, name, ctx), `${name} ctx ${ctx}`);
    }
    // The loopback's sw_interface_details: VPP's, but for its name (VPP had a loop0 already).
    const details = (list: { name: string; body: Buffer }[]) => messagesByNameCrc.get('sw_interface_details_6c221fc7')!.decode(byCtx(list, 'sw_interface_details_6c221fc7', 10)[0]);
    assert.deepEqual({ ...(details(got) as object), interface_name: 'loop1' }, details(vpp));
    // The API routes of the session are in the route dump, as VPP showed them.
    // ip_route_details: 6 table_id, 10 stats_index, 14 prefix, 32 n_paths, 33 paths.
    const routes = (list: { name: string; body: Buffer }[]) =>
      byCtx(list, 'ip_route_details_bda8f315', 9).map((b) => b.subarray(6, 10).toString('hex') + b.subarray(14).toString('hex'));
    const vppRoutes = new Set(routes(vpp));
    const api = routes(got).filter((r) => vppRoutes.has(r));
    assert.ok(api.length >= 1, 'the 10.78.0.0/16 route, paths and all');
  } finally {
    await sim.stop();
  }
});

test('the basic session (version, dump, events, 100 routes added, dumped and deleted)', async () => {
  const frames = load('api-session-basic.json');
  const sim = await server(12);
  try {
    const got = await replay(frames, sim.socketPath);
    roundTrip(got);
    const vpp = captured(frames);
    // Same replies, contexts and retvals (stats_index and pids are VPP's own).
    assert.deepEqual(replies(got), replies(vpp));
    // The same events: admin down -> flags 0, admin up -> flags 3, for sw_if_index 1, pid echoed.
    const events = (list: { name: string; body: Buffer }[]) => list.filter((g) => isEvent(g.name)).map((g) => g.body.toString('hex'));
    assert.deepEqual(events(got), events(vpp));
    const vppRoutes = vpp.filter((g) => g.name === 'ip_route_details_bda8f315');
    const ourRoutes = got.filter((g) => g.name === 'ip_route_details_bda8f315');
    // The 100 routes of the session are in both dumps (prefix and paths; stats_index differs).
    const apiRoute = (b: Buffer): string | null => {
      const path0 = b.subarray(33, 33 + 167);
      return b[32] === 1 && path0.readUInt32BE(0) === 1 && path0.readUInt32BE(14) === 0 && path0[26] === 192 ? b.subarray(14, 32).toString('hex') + path0.toString('hex') : null;
    };
    const want = new Set(vppRoutes.map((g) => apiRoute(g.body)).filter((x) => x !== null));
    assert.equal(want.size, 100);
    const have = new Set(ourRoutes.map((g) => apiRoute(g.body)).filter((x) => x !== null));
    assert.deepEqual(have, want);
  } finally {
    await sim.stop();
  }
});
