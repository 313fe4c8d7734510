/**
 * The client completes both recorded VPP 26.10 sessions against the replay server, which answers
 * with the real VPP frames. Every request the recording made is made again through the public
 * API; the server checks each one byte for byte against papi's (client_index, context and pid
 * masked), so the encoding, the ids from the table, the client_index and the context handling
 * are all proven on real bytes. At the end no recorded client frame is left unmatched.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  connectVpp,
  fibPath,
  formatPrefix,
  IfStatusFlags,
  macAddress,
  messages,
  prefix,
  VppApiError,
  type MessageOf,
  type RequestFields,
  type VppClient,
} from '../../src/binapi/index.js';
import { ReplayServer } from './replay-server.js';
import { baseName, loadSession, type SessionName } from './session.js';

/** The recorded server messages of one kind, decoded (expected values for the assertions). */
function recorded<N extends keyof typeof messages>(session: SessionName, name: N): MessageOf<N>[] {
  const d = messages[name];
  return loadSession(session)
    .filter((f) => f.dir === 's2c' && baseName(f.name) === name)
    .map((f) => d.decode(f.body) as MessageOf<N>);
}

function withoutContext<T extends { context: number }>(v: T): Omit<T, 'context'> {
  const { context: _context, ...rest } = v;
  return rest;
}

function route(isAdd: boolean, dst: string, via: string, swIfIndex: number, tableId = 0): RequestFields<'ip_route_add_del'> {
  return {
    is_add: isAdd,
    is_multipath: false,
    route: { table_id: tableId, stats_index: 0, prefix: prefix(dst), paths: [fibPath({ via, sw_if_index: swIfIndex })] },
  };
}

function checkServer(server: ReplayServer, session: SessionName): void {
  assert.deepEqual(server.violations, []);
  assert.deepEqual(server.unmatched, []);
  assert.deepEqual(server.unusedRecordings(session), [], 'every request of the recording was made');
}

describe('replay: api-session-basic (show_version, interface dump, events, 100 routes)', () => {
  let server: ReplayServer;
  let vpp: VppClient;
  const S: SessionName = 'api-session-basic';

  before(async () => {
    server = await ReplayServer.start({ sessions: [S] });
    vpp = await connectVpp({ socketPath: server.path, clientName: 'replay-basic' });
  });
  after(async () => {
    await vpp.close();
    await server.close();
  });

  it('connects with the 974-entry table and the recorded client index', () => {
    assert.equal(vpp.connected, true);
    assert.equal(vpp.clientIndex, 0x80000001);
    assert.equal(vpp.messageId('show_version'), 904);
    assert.equal(vpp.messageId('sw_interface_dump'), 226);
    assert.equal(vpp.messageId('control_ping'), 23);
    assert.deepEqual(vpp.disabledMessages, []);
    assert.equal(vpp.health, 'up');
  });

  it('show_version', async () => {
    const v = await vpp.showVersion();
    assert.equal(v.retval, 0);
    assert.equal(v.program, 'vpe');
    assert.equal(v.version, '26.10-rc0~374-gb575ec2c56d');
    assert.deepEqual(withoutContext(v), withoutContext(recorded(S, 'show_version_reply')[0]));
  });

  it('sw_interface_dump: 9 details ended by the control_ping_reply', async () => {
    const ifs = await vpp.dump('sw_interface_dump', { sw_if_index: 0xffffffff, name_filter_valid: false, name_filter: '' });
    assert.equal(ifs.length, 9);
    assert.equal(ifs[0].interface_name, 'local0');
    assert.deepEqual(ifs.map(withoutContext), recorded(S, 'sw_interface_details').map(withoutContext));
  });

  it('want_interface_events, then set flags: the recorded sw_interface_event reaches the subscriber', async () => {
    const events: MessageOf<'sw_interface_event'>[] = [];
    const unsubscribe = vpp.subscribe('sw_interface_event', (e) => events.push(e));
    const w = await vpp.wantInterfaceEvents();
    assert.equal(w.retval, 0);
    const down = await vpp.request('sw_interface_set_flags', { sw_if_index: 1, flags: 0 });
    assert.equal(down.retval, 0);
    await vpp.request('sw_interface_set_flags', { sw_if_index: 1, flags: IfStatusFlags.IF_STATUS_API_FLAG_ADMIN_UP });
    await server.until(() => events.length === 2, 2000, 'two events');
    assert.deepEqual(
      events.map((e) => [e.sw_if_index, e.flags, e.deleted]),
      [
        [1, 0, false],
        [1, IfStatusFlags.IF_STATUS_API_FLAG_ADMIN_UP | IfStatusFlags.IF_STATUS_API_FLAG_LINK_UP, false],
      ],
    );
    assert.deepEqual(events, recorded(S, 'sw_interface_event'));
    unsubscribe();
  });

  it('100 route adds in flight at once, each reply matched by context', async () => {
    const expected = recorded(S, 'ip_route_add_del_reply').slice(0, 100).map((r) => r.stats_index);
    const replies = await Promise.all(Array.from({ length: 100 }, (_, n) => vpp.request('ip_route_add_del', route(true, `10.0.${n}.0/24`, '192.0.2.1', 1))));
    assert.deepEqual(
      replies.map((r) => r.stats_index),
      expected,
    );
  });

  it('ip_route_dump: 125 routes', async () => {
    const routes = await vpp.dump('ip_route_dump', { table: { table_id: 0, is_ip6: false, name: '' } });
    assert.equal(routes.length, 125);
    const prefixes = new Set(routes.map((r) => formatPrefix(r.route.prefix)));
    for (let n = 0; n < 100; n++) assert.ok(prefixes.has(`10.0.${n}.0/24`), `10.0.${n}.0/24`);
  });

  it('100 route deletes', async () => {
    for (let n = 0; n < 100; n++) {
      const r = await vpp.request('ip_route_add_del', route(false, `10.0.${n}.0/24`, '192.0.2.1', 1));
      assert.equal(r.retval, 0);
    }
  });

  it('close sends sockclnt_delete; the whole recording was replayed', async () => {
    await vpp.close();
    assert.equal(vpp.connected, false);
    const last = server.received.filter((r) => r.name !== null && !r.name.startsWith('control_ping')).at(-1);
    assert.equal(last?.name, 'sockclnt_delete_8ac76db6');
    checkServer(server, S);
    const st = vpp.stats;
    assert.equal(st.inFlight, 0);
    assert.equal(st.timeouts, 0);
    assert.equal(st.protocolErrors, 0);
    assert.equal(st.unsolicited, 0);
    assert.equal(st.requests, 1 + 1 + 1 + 2 + 100 + 1 + 100);
  });
});

describe('replay: api-session-config (loopback, address, routes, errors -2 and -3)', () => {
  let server: ReplayServer;
  let vpp: VppClient;
  const S: SessionName = 'api-session-config';

  before(async () => {
    server = await ReplayServer.start({ sessions: [S] });
    vpp = await connectVpp({ socketPath: server.path });
  });
  after(async () => {
    await vpp.close();
    await server.close();
  });

  it('runs the recorded configuration session', async () => {
    const v = await vpp.showVersion();
    assert.equal(v.version, '26.10-rc0~374-gb575ec2c56d');

    const lo = await vpp.request('create_loopback', { mac_address: macAddress('de:ad:00:00:00:42') });
    assert.equal(lo.sw_if_index, 2);

    await vpp.request('sw_interface_set_flags', { sw_if_index: lo.sw_if_index, flags: IfStatusFlags.IF_STATUS_API_FLAG_ADMIN_UP });
    await vpp.request('sw_interface_add_del_address', { sw_if_index: lo.sw_if_index, is_add: true, del_all: false, prefix: prefix('10.77.0.1/24') });

    await assert.rejects(vpp.request('sw_interface_set_flags', { sw_if_index: 9999, flags: 1 }), (e) => {
      assert.ok(e instanceof VppApiError);
      assert.equal(e.retval, -2);
      assert.equal(e.vppName, 'INVALID_SW_IF_INDEX');
      assert.equal(e.request, 'sw_interface_set_flags');
      assert.match(e.message, /sw_interface_set_flags: Invalid sw_if_index \(VNET_API_ERROR_INVALID_SW_IF_INDEX, -2\)/);
      return true;
    });

    const r4 = await vpp.request('ip_route_add_del', route(true, '10.78.0.0/16', '10.77.0.2', 2));
    assert.equal(r4.stats_index, 138);
    const r6 = await vpp.request('ip_route_add_del', route(true, '2001:db8:78::/48', '2001:db8:77::2', 2));
    assert.equal(r6.stats_index, 137);

    await assert.rejects(vpp.request('ip_route_add_del', route(true, '10.79.0.0/16', '10.77.0.2', 2, 77)), (e) => {
      assert.ok(e instanceof VppApiError);
      assert.equal(e.retval, -3);
      assert.equal(e.vppName, 'NO_SUCH_FIB');
      assert.match(e.message, /No such FIB \/ VRF/);
      return true;
    });

    const routes = await vpp.dump('ip_route_dump', { table: { table_id: 0, is_ip6: false, name: '' } });
    assert.equal(routes.length, 30);
    assert.ok(routes.some((r) => formatPrefix(r.route.prefix) === '10.78.0.0/16'));

    const one = await vpp.dump('sw_interface_dump', { sw_if_index: 2, name_filter_valid: false, name_filter: '' });
    assert.equal(one.length, 1);
    assert.equal(one[0].interface_name, 'loop1');
    assert.equal(one[0].flags, 3);

    const addrs = await vpp.dump('ip_address_dump', { sw_if_index: 2, is_ipv6: false });
    assert.deepEqual(
      addrs.map((a) => formatPrefix(a.prefix)),
      ['10.77.0.1/24'],
    );

    await vpp.request('ip_route_add_del', route(false, '10.78.0.0/16', '10.77.0.2', 2));
    await vpp.request('delete_loopback', { sw_if_index: 2 });
    await vpp.close();

    checkServer(server, S);
    assert.equal(vpp.stats.apiErrors, 2);
  });
});
