/**
 * The connection layer against the replay server (real VPP frames) made to misbehave: closed
 * sockets, new tables with moved ids on every connection, a frozen (SIGSTOPped) server, garbage
 * and cut-off frames, CRC mismatches in the table, and 10k pipelined requests answered out of
 * order.
 */
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  connectVpp,
  ConnectionError,
  createVppClient,
  fibPath,
  isConnectionError,
  messages,
  prefix,
  services,
  VppApiError,
  type MessageOf,
  type RequestFields,
  type VppClient,
  type VppClientOptions,
} from '../../src/binapi/index.js';
import { ReplayServer, type ReplayOptions } from './replay-server.js';
import { baseName, loadSession } from './session.js';
import { nextEvent, prng, sleep, vppFrame } from './helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(opts: ReplayOptions = {}, client: Partial<VppClientOptions> = {}): Promise<{ server: ReplayServer; vpp: VppClient }> {
  const server = await ReplayServer.start({ sessions: ['api-session-basic'], ...opts });
  cleanups.push(() => server.close());
  const vpp = await connectVpp({ socketPath: server.path, ...client });
  cleanups.push(() => vpp.close());
  return { server, vpp };
}

function routeAdd(n: number): RequestFields<'ip_route_add_del'> {
  return {
    is_add: true,
    is_multipath: false,
    route: { table_id: 0, stats_index: 0, prefix: prefix(`10.0.${n}.0/24`), paths: [fibPath({ via: '192.0.2.1', sw_if_index: 1 })] },
  };
}

/** stats_index VPP gave each of the 100 recorded route adds (10.0.n.0/24). */
const ADD_STATS_INDEX: number[] = loadSession('api-session-basic')
  .filter((f) => f.dir === 's2c' && baseName(f.name) === 'ip_route_add_del_reply')
  .slice(0, 100)
  .map((f) => messages.ip_route_add_del_reply.decode(f.body).stats_index);

describe('reconnect', () => {
  it('20 server-side closes: reconnects each time, reads a new table with moved ids, re-subscribes first', async () => {
    // Connection n gets the same messages under ids rotated by 37*(n-1): an id kept from an
    // old table would name another message, which the server reports as unmatched/violation.
    const { server, vpp } = await setup({ table: (n) => ({ idShift: 37 * (n - 1) }) }, { reconnectInitialMs: 20 });
    const events: MessageOf<'sw_interface_event'>[] = [];
    vpp.subscribe('sw_interface_event', (e) => events.push(e));
    await vpp.wantInterfaceEvents();
    const disconnects: Error[] = [];
    vpp.on('disconnected', (i) => disconnects.push(i.error));
    const ids = new Set<number>();
    for (let i = 1; i <= 20; i++) {
      const connected = nextEvent(vpp, 'connected');
      server.dropAll();
      const info = await connected;
      assert.equal(info.generation, i + 1);
      assert.equal(info.reconnect, true);
      assert.deepEqual(info.resubscribed, ['want_interface_events']);
      assert.deepEqual(info.resubscribeErrors, []);
      const showVersionId = vpp.messageId('show_version');
      assert.ok(showVersionId !== undefined);
      ids.add(showVersionId);
      const v = await vpp.showVersion();
      assert.equal(v.program, 'vpe');
      const before = events.length;
      await vpp.request('sw_interface_set_flags', { sw_if_index: 1, flags: 0 });
      await server.until(() => events.length === before + 1, 2000, `the event after reconnect ${i}`);
    }
    assert.equal(ids.size, 21 - 1, 'show_version had a different id on every new connection');
    assert.equal(server.handshakes, 21);
    assert.equal(vpp.stats.reconnects, 20);
    assert.equal(vpp.stats.connects, 21);
    assert.equal(disconnects.length, 20);
    assert.ok(disconnects.every((e) => isConnectionError(e, 'DISCONNECTED')), disconnects.map((e) => e.message).join('; '));
    assert.deepEqual(server.violations, []);
    assert.deepEqual(server.unmatched, []);
    // On every connection the subscription was the first request, before anything of ours.
    for (let n = 2; n <= 21; n++) {
      const first = server.received.find((r) => r.connection === n && r.name !== null && !/^(sockclnt_create|control_ping)(_|$)/.test(r.name));
      assert.equal(first?.name, 'want_interface_events_476f5a08', `connection ${n}`);
    }
  });

  it('a request in flight when the connection drops fails with DISCONNECTED; while down, NOT_CONNECTED', async () => {
    const { server, vpp } = await setup({}, { reconnectInitialMs: 300 });
    server.freeze();
    const pending = vpp.showVersion();
    await sleep(50);
    const disconnected = nextEvent(vpp, 'disconnected');
    server.dropAll();
    server.thaw();
    await assert.rejects(pending, (e) => isConnectionError(e, 'DISCONNECTED') && /show_version \(context \d+\): VPP closed/.test(e.message));
    const info = await disconnected;
    assert.equal(info.willReconnect, true);
    await assert.rejects(vpp.showVersion(), (e) => isConnectionError(e, 'NOT_CONNECTED') && e.message.includes(server.path));
    await nextEvent(vpp, 'connected');
    assert.equal((await vpp.showVersion()).program, 'vpe');
  });

  it('VPP gone (no socket) for 3 s: backoff grows to its cap, never gives up, reconnects at once when back', async () => {
    const first = await ReplayServer.start({ sessions: ['api-session-basic'] });
    const socketPath = first.path;
    const vpp = await connectVpp({ socketPath, reconnectInitialMs: 50, reconnectMaxMs: 400 });
    cleanups.push(() => vpp.close());
    const disconnected = nextEvent(vpp, 'disconnected');
    await first.close();
    await disconnected;
    await sleep(3000);
    const failures = vpp.stats.connectFailures;
    // 50+100+200+400+400+... ms: about 9 attempts in 3 s, not 60 (no backoff) nor 1 (gave up).
    assert.ok(failures >= 6 && failures <= 12, `connect attempts in 3 s: ${failures}`);
    assert.match(vpp.lastError?.message ?? '', /could not be reached/);
    const back = Date.now();
    const server = await ReplayServer.start({ sessions: ['api-session-basic'] }, socketPath);
    cleanups.push(() => server.close());
    await nextEvent(vpp, 'connected', 2000);
    assert.ok(Date.now() - back <= 400 + 300, `reconnected ${Date.now() - back} ms after VPP came back`);
    assert.equal((await vpp.showVersion()).program, 'vpe');
  });

  it('connectVpp to a socket that does not exist rejects with NOT_CONNECTED and the cause', async () => {
    const t0 = Date.now();
    await assert.rejects(connectVpp({ socketPath: '/nonexistent/vpp/api.sock', waitMs: 300 }), (e) => {
      assert.ok(isConnectionError(e, 'NOT_CONNECTED'));
      assert.match(e.message, /\/nonexistent\/vpp\/api\.sock: not connected after 300 ms; last error: .*ENOENT/);
      return true;
    });
    assert.ok(Date.now() - t0 < 1500);
  });

  it('createVppClient connects in the background; requests before that fail fast with NOT_CONNECTED', async () => {
    const server = await ReplayServer.start({ sessions: ['api-session-basic'] });
    cleanups.push(() => server.close());
    const vpp = createVppClient({ socketPath: server.path });
    cleanups.push(() => vpp.close());
    await assert.rejects(vpp.showVersion(), (e) => isConnectionError(e, 'NOT_CONNECTED'));
    await vpp.waitConnected(2000);
    assert.equal((await vpp.showVersion()).program, 'vpe');
  });
});

describe('health and timeouts', () => {
  it('a frozen (SIGSTOPped) VPP: health down within 3 s, pending requests fail by their 5 s timeout, thaw recovers', async () => {
    const { server, vpp } = await setup();
    await sleep(1200); // a health ping has come and gone
    const healthDown = nextEvent(vpp, 'health', 4000, (h) => h.state === 'down');
    server.freeze();
    const frozenAt = Date.now();
    const pending = Array.from({ length: 10 }, () => {
      const t = Date.now();
      return vpp.showVersion().then(
        () => assert.fail('answered while frozen'),
        (e: unknown) => ({ e, after: Date.now() - t }),
      );
    });
    const down = await healthDown;
    const downAfter = Date.now() - frozenAt;
    assert.ok(downAfter <= 3000, `health went down ${downAfter} ms after the freeze`);
    assert.ok(down.silentMs >= 2500 && down.silentMs < 3600, `silent for ${down.silentMs} ms`);
    assert.equal(vpp.health, 'down');
    assert.equal(vpp.connected, true, 'the connection is kept: a stopped VPP may continue');
    for (const { e, after } of await Promise.all(pending)) {
      assert.ok(isConnectionError(e, 'TIMEOUT'));
      assert.match(e.message, /show_version \(context \d+\): no reply within 5000 ms from /);
      assert.ok(after >= 4990 && after < 5600, `timed out after ${after} ms`);
    }
    const up = nextEvent(vpp, 'health', 3000, (h) => h.state === 'up');
    server.thaw();
    await up;
    assert.equal((await vpp.showVersion()).program, 'vpe');
    const st = vpp.stats;
    assert.equal(st.timeouts, 10);
    assert.ok(st.unsolicited >= 10, 'the late replies were recognised and dropped');
    assert.equal(st.inFlight, 0);
    assert.equal(st.reconnects, 0);
  });

  it('silent longer than unhealthyReconnectMs: the connection is dropped (UNRESPONSIVE) and re-made once VPP answers', async () => {
    const { server, vpp } = await setup({}, { healthIntervalMs: 100, healthTimeoutMs: 300, unhealthyReconnectMs: 600, connectTimeoutMs: 300, reconnectInitialMs: 50, reconnectMaxMs: 200 });
    const disconnected = nextEvent(vpp, 'disconnected');
    server.freeze();
    const info = await disconnected;
    assert.ok(isConnectionError(info.error, 'UNRESPONSIVE'), info.error.message);
    assert.match(info.error.message, /VPP stopped answering; the connection is dropped: no message from VPP for \d+ ms/);
    await sleep(800); // attempts against the frozen server time out in the handshake
    assert.match(vpp.lastError?.message ?? '', /no sockclnt_create_reply .* within 300 ms/);
    const connected = nextEvent(vpp, 'connected', 3000);
    server.thaw();
    await connected;
    assert.equal((await vpp.showVersion()).program, 'vpe');
  });

  it('a request the server never answers times out with its own timeout; a late reply is ignored', async () => {
    const { server, vpp } = await setup();
    const t0 = Date.now();
    await assert.rejects(vpp.request('sw_interface_set_flags', { sw_if_index: 12345, flags: 0 }, { timeoutMs: 300 }), (e) => {
      assert.ok(isConnectionError(e, 'TIMEOUT'));
      assert.equal(e.request, 'sw_interface_set_flags');
      assert.match(e.message, /^no reply from VPP in time: sw_interface_set_flags \(context \d+\): no reply within 300 ms/);
      return true;
    });
    assert.ok(Date.now() - t0 >= 295);
    // The replay server got it and found no such request in the recording (it differs).
    assert.equal(server.unmatched.length, 1);
    assert.equal(server.unmatched[0].name, 'sw_interface_set_flags_f5aec1b8');
    assert.equal((await vpp.showVersion()).program, 'vpe');
  });
});

describe('garbage and cut-off frames from the server', () => {
  const cases: { what: string; bytes: Buffer; close?: boolean; error: RegExp }[] = [
    { what: 'an id outside the table', bytes: vppFrame(Buffer.from('ffff0102030405060708', 'hex')), error: /message id 65535 \(a 10-byte body\) is not in VPP's message table/ },
    { what: 'a 1-byte body', bytes: vppFrame(Buffer.from([7])), error: /a 1-byte frame has no message id/ },
    {
      what: 'a known reply cut short (show_version_reply, 5 bytes)',
      bytes: vppFrame(Buffer.from('0389000000', 'hex')),
      error: /show_version_reply \(id 905, 5 bytes\) does not decode: show_version_reply: the message ends before a field it declares/,
    },
    {
      what: 'a known reply with trailing bytes (control_ping_reply + 3)',
      bytes: vppFrame(Buffer.from('0018000000010000000080000001000052070a0b0c', 'hex')),
      error: /control_ping_reply \(id 24, 21 bytes\) does not decode: .*bytes are left over/,
    },
    {
      what: 'a header promising 1000 bytes, 10 sent, then EOF',
      bytes: vppFrame(Buffer.alloc(10, 0x41), 1000),
      close: true,
      error: /the API socket closed in the middle of a frame: 26 bytes of an unfinished frame/, // 16 header + 10 body
    },
    { what: 'a data_len of 0xfffffff0', bytes: vppFrame(Buffer.alloc(0), 0xfffffff0), error: /a frame is larger than the configured maximum: data_len 4294967280/ },
  ];
  for (const c of cases) {
    it(`${c.what}: clear PROTOCOL error, pending requests fail, the connection is re-made`, async () => {
      const { server, vpp } = await setup({}, { reconnectInitialMs: 20 });
      server.freeze(); // hold the reply so that a request is pending when the garbage arrives
      const pending = vpp.showVersion();
      await sleep(30);
      const disconnected = nextEvent(vpp, 'disconnected');
      const connected = nextEvent(vpp, 'connected');
      server.inject(c.bytes);
      if (c.close === true) setTimeout(() => server.dropAll(), 50);
      const info = await disconnected;
      assert.ok(isConnectionError(info.error, 'PROTOCOL'), `${info.error.name}: ${info.error.message}`);
      assert.match(info.error.message, c.error);
      await assert.rejects(pending, (e) => isConnectionError(e, 'DISCONNECTED') && e.cause === info.error);
      server.thaw();
      await connected;
      assert.equal((await vpp.showVersion()).program, 'vpe');
      assert.equal(vpp.stats.protocolErrors, 1);
    });
  }

  it('fuzz: 60 connections each fed random garbage after the handshake: no crash, always reconnects', async () => {
    const rnd = prng(0x5eed);
    let fuzz = true;
    const blobs: Buffer[] = [];
    const server = await ReplayServer.start({
      sessions: ['api-session-basic'],
      afterHandshake: (conn) => {
        if (!fuzz) return;
        const kind = Math.floor(rnd() * 4);
        const len = Math.floor(rnd() * 300);
        const body = Buffer.from(Array.from({ length: len }, () => Math.floor(rnd() * 256)));
        // Random bytes; a frame of random bytes; a real id with a random body; a lying header.
        const id = [24, 225, 222, 905][Math.floor(rnd() * 4)];
        if (kind === 2 && body.length >= 2) body.writeUInt16BE(id, 0);
        const bytes = kind === 0 ? body : kind === 3 ? vppFrame(body, Math.floor(rnd() * 0xffffffff)) : vppFrame(body);
        blobs.push(bytes);
        conn.write(bytes);
        setTimeout(() => conn.destroy(), 30);
      },
    });
    cleanups.push(() => server.close());
    const vpp = createVppClient({ socketPath: server.path, reconnectInitialMs: 5, reconnectMaxMs: 50, connectTimeoutMs: 500 });
    cleanups.push(() => vpp.close());
    const warnings: Error[] = [];
    vpp.on('warning', (w) => warnings.push(w));
    await server.until(() => server.handshakes >= 60, 20_000, '60 fuzzed connections');
    fuzz = false;
    const ok = await waitFor(async () => (await vpp.showVersion().catch(() => null))?.program === 'vpe', 5000);
    assert.ok(ok, 'the client works again once the garbage stops');
    assert.equal(blobs.length >= 60, true);
    assert.ok(vpp.stats.protocolErrors + vpp.stats.disconnects > 0);
    assert.deepEqual(server.violations, []);
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(20);
  }
  return false;
}

describe('events', () => {
  it('10k recorded sw_interface_event frames in one burst: every one reaches the subscriber, in order', async () => {
    const { server, vpp } = await setup();
    const recordedEvent = loadSession('api-session-basic').find((f) => f.dir === 's2c' && baseName(f.name) === 'sw_interface_event');
    assert.ok(recordedEvent);
    const frames: Buffer[] = [];
    for (let i = 0; i < 10_000; i++) {
      const body = Buffer.from(recordedEvent.body);
      body.writeUInt32BE(i, 10); // sw_if_index: a sequence number to check order and loss
      frames.push(recordedEvent.header, body);
    }
    const got: number[] = [];
    vpp.subscribe('sw_interface_event', (e) => got.push(e.sw_if_index));
    const t0 = Date.now();
    server.inject(Buffer.concat(frames));
    await server.until(() => got.length === 10_000, 5000, '10k events');
    assert.ok(Date.now() - t0 < 1000, `10k events took ${Date.now() - t0} ms`);
    assert.deepEqual(got, Array.from({ length: 10_000 }, (_, i) => i));
    assert.equal(vpp.stats.events, 10_000);
    assert.equal(vpp.stats.protocolErrors, 0);
  });

  it('a throwing subscriber is counted and reported; other subscribers and the connection carry on', async () => {
    const { server, vpp } = await setup();
    const warnings: Error[] = [];
    vpp.on('warning', (w) => warnings.push(w));
    const got: number[] = [];
    vpp.subscribe('sw_interface_event', () => {
      throw new Error('boom');
    });
    const unsubscribe = vpp.subscribe('sw_interface_event', (e) => got.push(e.flags));
    await vpp.wantInterfaceEvents();
    await vpp.request('sw_interface_set_flags', { sw_if_index: 1, flags: 0 });
    await server.until(() => got.length === 1, 2000, 'the event');
    assert.equal(vpp.stats.listenerErrors, 1);
    assert.match(warnings[0]?.message ?? '', /a sw_interface_event subscriber threw: boom/);
    unsubscribe();
    await vpp.request('sw_interface_set_flags', { sw_if_index: 1, flags: 0 });
    await server.until(() => vpp.stats.events === 2, 2000, 'the second event');
    assert.equal(got.length, 1, 'unsubscribed');
    assert.equal(vpp.connected, true);
    // The recordings have no disable, so the replay server does not answer it; the client
    // forgets the subscription anyway, before sending.
    await assert.rejects(vpp.wantInterfaceEvents(false, { timeoutMs: 200 }), (e) => isConnectionError(e, 'TIMEOUT'));
    const connected = nextEvent(vpp, 'connected');
    server.dropAll();
    assert.deepEqual((await connected).resubscribed, [], 'a disabled want is not re-made');
  });
});

describe('message table checks', () => {
  it('a CRC mismatch disables that message with a clear error; nothing is sent for it; the rest works', async () => {
    const warnings: Error[] = [];
    const server = await ReplayServer.start({ sessions: ['api-session-basic'], table: () => ({ rename: { sw_interface_set_flags_f5aec1b8: 'sw_interface_set_flags_deadbeef' } }) });
    cleanups.push(() => server.close());
    const vpp = createVppClient({ socketPath: server.path });
    cleanups.push(() => vpp.close());
    vpp.on('warning', (w) => warnings.push(w));
    await vpp.waitConnected(2000);
    assert.deepEqual(vpp.disabledMessages, [
      { name: 'sw_interface_set_flags', nameCrc: 'sw_interface_set_flags_f5aec1b8', reason: 'crc-mismatch', vppNameCrc: 'sw_interface_set_flags_deadbeef' },
    ]);
    assert.equal(vpp.stats.disabledMessages, 1);
    assert.equal(vpp.messageId('sw_interface_set_flags'), undefined);
    assert.ok(warnings.some((w) => /1 message\(s\) disabled on this connection: sw_interface_set_flags \(we have sw_interface_set_flags_f5aec1b8, VPP has sw_interface_set_flags_deadbeef\)/.test(w.message)));
    await assert.rejects(vpp.request('sw_interface_set_flags', { sw_if_index: 1, flags: 0 }), (e) => {
      assert.ok(isConnectionError(e, 'MESSAGE_UNAVAILABLE'));
      assert.equal(e.retriable, false);
      assert.match(
        e.message,
        /sw_interface_set_flags is disabled: VPP's message table has sw_interface_set_flags_deadbeef where we expect sw_interface_set_flags_f5aec1b8 \(the same message with another definition: CRC mismatch\)/,
      );
      return true;
    });
    assert.equal((await vpp.showVersion()).program, 'vpe');
    assert.equal((await vpp.dump('sw_interface_dump', { sw_if_index: 0xffffffff, name_filter_valid: false, name_filter: '' })).length, 9);
    assert.ok(!server.received.some((r) => r.name?.startsWith('sw_interface_set_flags')), 'no frame was sent for the disabled message');
    assert.deepEqual(server.violations, []);
    assert.equal(vpp.stats.refused, 1);
  });

  it('a reply or an event missing from the table disables the requests that need it', async () => {
    const server = await ReplayServer.start({
      sessions: ['api-session-basic'],
      table: () => ({ remove: ['show_version_reply_c919bde1', 'sw_interface_event_2d3d95a7'] }),
    });
    cleanups.push(() => server.close());
    const vpp = await connectVpp({ socketPath: server.path });
    cleanups.push(() => vpp.close());
    assert.deepEqual(
      vpp.disabledMessages.map((d) => [d.name, d.reason]),
      [
        ['sw_interface_event', 'unknown'],
        ['show_version_reply', 'unknown'],
      ],
    );
    await assert.rejects(vpp.showVersion(), /show_version needs show_version_reply, and that is disabled: VPP's message table has no show_version_reply_c919bde1/);
    await assert.rejects(vpp.wantInterfaceEvents(), /want_interface_events needs sw_interface_event, and that is disabled/);
    assert.equal((await vpp.request('control_ping', {})).retval, 0);
  });

  it('the table is re-read on reconnect: a message disabled on one connection works on the next', async () => {
    const { server, vpp } = await setup({ table: (n) => (n === 1 ? { rename: { show_version_51077d14: 'show_version_00000000' } } : undefined) }, { reconnectInitialMs: 20 });
    await assert.rejects(vpp.showVersion(), (e) => isConnectionError(e, 'MESSAGE_UNAVAILABLE'));
    const connected = nextEvent(vpp, 'connected');
    server.dropAll();
    assert.deepEqual((await connected).disabled, []);
    assert.equal((await vpp.showVersion()).program, 'vpe');
    assert.deepEqual(vpp.disabledMessages, []);
  });
});

describe('pipelining', () => {
  it('10k requests in flight through a 256 window, replies shuffled, each matched by context', async () => {
    const { server, vpp } = await setup({ shuffle: true }, { timeoutMs: 30_000 });
    const t0 = Date.now();
    const all = Array.from({ length: 10_000 }, (_, i) => vpp.request('ip_route_add_del', routeAdd(i % 100)));
    const st = vpp.stats;
    assert.equal(st.inFlight, 256);
    assert.equal(st.queued, 10_000 - 256);
    const replies = await Promise.all(all);
    replies.forEach((r, i) => assert.equal(r.stats_index, ADD_STATS_INDEX[i % 100], `request ${i}`));
    const end = vpp.stats;
    assert.equal(end.maxInFlight, 256);
    assert.equal(end.inFlight, 0);
    assert.equal(end.queued, 0);
    assert.equal(end.replies, 10_000);
    assert.equal(server.received.filter((r) => r.name === 'ip_route_add_del_b8ecfe0d').length, 10_000);
    assert.deepEqual(server.unmatched, []);
    assert.ok(Date.now() - t0 < 20_000);
  });

  it('a small window holds requests back while the server is frozen and lets them go in order after', async () => {
    const { server, vpp } = await setup({}, { maxInFlight: 4 });
    server.freeze();
    const all = Array.from({ length: 20 }, (_, i) => vpp.request('ip_route_add_del', routeAdd(i)));
    await sleep(50);
    assert.equal(vpp.stats.inFlight, 4);
    assert.equal(vpp.stats.queued, 16);
    assert.equal(server.received.filter((r) => r.name === 'ip_route_add_del_b8ecfe0d').length, 0);
    server.thaw();
    const replies = await Promise.all(all);
    replies.forEach((r, i) => assert.equal(r.stats_index, ADD_STATS_INDEX[i]));
    assert.equal(vpp.stats.maxInFlight, 4);
  });
});

describe('requests and close', () => {
  it('misuse is refused before anything is sent', async () => {
    const { vpp } = await setup();
    // Casts: the types already forbid these; the checks are for JavaScript callers.
    const raw = vpp as unknown as { request(n: string, f: object): Promise<unknown>; dump(n: string, f: object): Promise<unknown> };
    await assert.rejects(raw.request('sw_interface_dump', {}), /sw_interface_dump is a dump; use dump\(\)/);
    await assert.rejects(raw.dump('show_version', {}), /show_version is not a dump; use request\(\)/);
    await assert.rejects(raw.request('no_such_message', {}), /no_such_message is not a request of the generated API/);
    await assert.rejects(raw.request('sw_interface_set_flags', { sw_if_index: -1, flags: 0 }), { name: 'CodecError' });
    assert.throws(() => vpp.subscribe('show_version' as 'sw_interface_event', () => undefined), /show_version is not an event/);
    await assert.rejects(
      vpp.request('show_version', {}, { timeoutMs: 0 }),
      (e) => e instanceof TypeError && /timeoutMs must be a positive integer/.test(e.message),
    );
  });

  it('close(): sockclnt_delete, pending requests fail with CLOSED, later requests too, idempotent', async () => {
    const { server, vpp } = await setup({}, { closeTimeoutMs: 200, maxInFlight: 1 });
    server.freeze();
    const inFlight = assert.rejects(vpp.showVersion(), (e) => isConnectionError(e, 'CLOSED') && /show_version \(context \d+\): close\(\) was called$/.test(e.message));
    const queued = assert.rejects(vpp.showVersion(), (e) => isConnectionError(e, 'CLOSED') && /before it was sent/.test(e.message));
    await sleep(30);
    assert.deepEqual([vpp.stats.inFlight, vpp.stats.queued], [1, 1]);
    const disconnected = nextEvent(vpp, 'disconnected');
    const t0 = Date.now();
    await Promise.all([vpp.close(), vpp.close(), queued, inFlight]);
    assert.ok(Date.now() - t0 >= 190, 'close() waited closeTimeoutMs for sockclnt_delete_reply');
    const info = await disconnected;
    assert.equal(info.willReconnect, false);
    await assert.rejects(vpp.showVersion(), (e) => isConnectionError(e, 'CLOSED'));
    server.thaw();
  });

  it('close() on a live VPP waits for sockclnt_delete_reply, with in-flight replies delivered first', async () => {
    const { server, vpp } = await setup();
    const replies = Promise.all(Array.from({ length: 50 }, (_, i) => vpp.request('ip_route_add_del', routeAdd(i))));
    await vpp.close();
    assert.equal((await replies).length, 50);
    assert.equal(server.received.at(-1)?.name, 'sockclnt_delete_8ac76db6');
  });

  it('VppApiError keeps the retval and its name', async () => {
    const server = await ReplayServer.start({ sessions: ['api-session-config'] });
    cleanups.push(() => server.close());
    const vpp = await connectVpp({ socketPath: server.path });
    cleanups.push(() => vpp.close());
    const e = await vpp.request('sw_interface_set_flags', { sw_if_index: 9999, flags: 1 }).then(
      () => assert.fail('no error'),
      (x: unknown) => x,
    );
    assert.ok(e instanceof VppApiError);
    assert.deepEqual([e.retval, e.vppName, e.retriable], [-2, 'INVALID_SW_IF_INDEX', false]);
    assert.ok(!(e instanceof ConnectionError));
  });
});

describe('types and services agree', () => {
  it('every generated service follows the naming the public types rely on', () => {
    for (const [name, s] of Object.entries(services)) {
      if (s.reply === null || s.streamMsg !== null) continue; // not reachable through request()/dump()
      if (s.stream) {
        assert.match(name, /_dump$/, name);
        assert.equal(s.reply, name.replace(/_dump$/, '_details'), name);
      } else {
        assert.equal(s.reply, `${name}_reply`, name);
        assert.doesNotMatch(name, /_dump$/, name);
      }
    }
  });
});
