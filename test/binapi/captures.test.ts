/**
 * Every frame of the two real VPP 26.10 sessions: the 16-byte header is as documented, the
 * message is found by its recorded `<name>_<crc>`, its id matches VPP's own message table from
 * sockclnt_create_reply, the body decodes to plausible values and encodes back to exactly the
 * same bytes.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readMsgId } from '../../src/binapi/codec/index.js';
import { messages, messagesByNameCrc, type MessageOf } from '../../src/binapi/generated/index.js';
import { AddressFamily, AddressUnion, type Prefix } from '../../src/binapi/generated/ip_types.js';
import { IfStatusFlags } from '../../src/binapi/generated/interface_types.js';
import { retvalName } from '../../src/binapi/errors.js';
import { baseName, loadSession, SESSIONS, type Frame } from './session.js';

function prefixText(p: Prefix): string {
  const a = p.address;
  if (a.af === AddressFamily.ADDRESS_IP4) return `${[...AddressUnion.ip4(a.un)].join('.')}/${p.len}`;
  const b = AddressUnion.ip6(a.un);
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
  return `${groups.join(':')}/${p.len}`;
}

function decodeAs<N extends keyof typeof messages>(name: N, f: Frame): MessageOf<N> {
  assert.equal(baseName(f.name), name);
  return messages[name].decode(f.body) as MessageOf<N>;
}

function framesOf(frames: readonly Frame[], name: string): Frame[] {
  return frames.filter((f) => baseName(f.name) === name);
}

for (const session of SESSIONS) {
  describe(`${session}: every frame`, () => {
    const frames = loadSession(session);

    it('has the 16-byte header VPP documents: big-endian data_len = body length, gc mark 0', () => {
      for (const f of frames) {
        assert.equal(f.header.length, 16, `frame ${f.index}`);
        assert.equal(f.header.readUInt32BE(8), f.body.length, `frame ${f.index} data_len`);
        assert.equal(f.header.readUInt32BE(12), 0, `frame ${f.index} gc_mark_timestamp`);
        // Clients send q = 0; VPP sends a pointer of its own there (ignored by readers).
        if (f.dir === 'c2s') assert.equal(f.header.readBigUInt64BE(0), 0n, `frame ${f.index} q`);
        assert.equal(readMsgId(f.body), f.msgId, `frame ${f.index} msg id`);
      }
    });

    it('resolves every message id from the session\'s own message table', () => {
      const reply = frames.find((f) => baseName(f.name) === 'sockclnt_create_reply');
      assert.ok(reply);
      const table = new Map(decodeAs('sockclnt_create_reply', reply).message_table.map((e) => [e.name, e.index]));
      for (const f of frames) {
        // sockclnt_create/_reply ids are fixed (15/16): the client needs them before the table.
        assert.equal(table.get(f.name), f.msgId, `frame ${f.index} ${f.name}`);
      }
    });

    it('decodes every frame and encodes it back to the same bytes', () => {
      const counts = new Map<string, number>();
      for (const f of frames) {
        const d = messagesByNameCrc.get(f.name);
        assert.ok(d, `no generated message for ${f.name}`);
        assert.equal(d.nameCrc, f.name);
        const value = d.decode(f.body);
        const again = d.encode(value, f.msgId);
        assert.ok(again.equals(f.body), `frame ${f.index} ${f.name}: re-encoded bytes differ`);
        if (d.fixedSize !== null) assert.equal(f.body.length, d.fixedSize, `frame ${f.index} size`);
        counts.set(d.name, (counts.get(d.name) ?? 0) + 1);
      }
      assert.equal([...counts.values()].reduce((a, b) => a + b, 0), frames.length);
    });

    it('routes by header: events have no context, replies an i32 retval (or response)', () => {
      for (const f of frames) {
        const d = messagesByNameCrc.get(f.name);
        assert.ok(d);
        if (d.name === 'sw_interface_event') assert.equal(d.hasContext, false);
        else assert.equal(d.hasContext, true, d.name);
        if (f.dir === 'c2s' && d.name !== 'sockclnt_create') assert.equal(d.hasClientIndex, true, d.name);
      }
    });

    it('sockclnt_create_reply: 974 {index, name} entries, ids 1..974 unique, names unique', () => {
      const [req] = framesOf(frames, 'sockclnt_create');
      assert.ok(req);
      const create = decodeAs('sockclnt_create', req);
      assert.equal(create.context, 124);
      assert.ok(create.name.length > 0);
      assert.equal(req.msgId, 15);
      const [f] = framesOf(frames, 'sockclnt_create_reply');
      assert.ok(f);
      assert.equal(f.msgId, 16);
      assert.equal(f.body.length, 64304);
      const r = decodeAs('sockclnt_create_reply', f);
      assert.equal(r.context, 124);
      assert.equal(r.response, 0);
      assert.equal(r.index, 0x80000001);
      assert.equal(r.count, 974);
      assert.equal(r.message_table.length, 974);
      const ids = new Set(r.message_table.map((e) => e.index));
      const names = new Set(r.message_table.map((e) => e.name));
      assert.equal(ids.size, 974);
      assert.equal(names.size, 974);
      assert.equal(Math.min(...ids), 1);
      assert.equal(Math.max(...ids), 974);
      for (const e of r.message_table) assert.match(e.name, /^[a-z0-9_]+_[0-9a-f]{8}$/);
      const byName = new Map(r.message_table.map((e) => [e.name, e.index]));
      assert.equal(byName.get('show_version_51077d14'), 904);
      assert.equal(byName.get('control_ping_51077d14'), 23);
      assert.equal(byName.get('control_ping_reply_f6b0b8ca'), 24);
      assert.equal(byName.get('sw_interface_dump_aa610c27'), 226);
      assert.equal(byName.get('sw_interface_details_6c221fc7'), 225);
      assert.equal(byName.get('sw_interface_event_2d3d95a7'), 222);
      // Every generated message of the core modules VPP loaded is in its table with the same CRC.
      for (const d of messagesByNameCrc.values()) {
        if (['memclnt', 'vpe', 'interface', 'ip', 'vlib'].includes(d.module)) {
          assert.ok(byName.has(d.nameCrc), `${d.nameCrc} (${d.module}) is not in VPP's table`);
        }
      }
    });

    it('show_version_reply: vpe 26.10', () => {
      const [f] = framesOf(frames, 'show_version_reply');
      assert.ok(f);
      const r = decodeAs('show_version_reply', f);
      assert.equal(r.retval, 0);
      assert.equal(r.program, 'vpe');
      assert.ok(r.version.startsWith('26.10'), r.version);
      assert.equal(r.version, '26.10-rc0~374-gb575ec2c56d');
      assert.match(r.build_date, /^\d{4}-\d\d-\d\dT/);
    });

    it('control_ping_reply and sockclnt_delete_reply', () => {
      for (const f of framesOf(frames, 'control_ping_reply')) {
        const r = decodeAs('control_ping_reply', f);
        assert.equal(r.retval, 0);
        assert.equal(r.client_index, 0x80000001);
        assert.equal(r.vpe_pid, 20999);
      }
      const [del] = framesOf(frames, 'sockclnt_delete');
      assert.ok(del);
      assert.equal(decodeAs('sockclnt_delete', del).index, 0x80000001);
      const [f] = framesOf(frames, 'sockclnt_delete_reply');
      assert.ok(f);
      assert.equal(decodeAs('sockclnt_delete_reply', f).response, 1);
    });

    it('requests after connect carry the registration handle as client_index', () => {
      for (const f of frames) {
        if (f.dir !== 'c2s' || f.msgId === 15) continue;
        assert.equal(f.body.readUInt32BE(2), 0x80000001, `frame ${f.index}`);
      }
    });
  });
}

describe('api-session-basic: values', () => {
  const frames = loadSession('api-session-basic');

  it('sw_interface_dump of all interfaces, answered by 9 details including loop0', () => {
    const [dump] = framesOf(frames, 'sw_interface_dump');
    assert.ok(dump);
    const q = decodeAs('sw_interface_dump', dump);
    assert.equal(q.sw_if_index, 0xffffffff);
    assert.equal(q.name_filter_valid, false);
    assert.equal(q.name_filter, '');
    const details = framesOf(frames, 'sw_interface_details').map((f) => decodeAs('sw_interface_details', f));
    assert.equal(details.length, 9);
    const names = details.map((d) => d.interface_name);
    assert.deepEqual(names, ['local0', 'loop0', 'loop2', 'loop3', 'host-vpp-veth0', 'host-vpp-veth0.100', 'memif1/0', 'memif2/0', 'loop4']);
    for (const d of details) assert.equal(d.context, q.context);
    const loop0 = details.find((d) => d.interface_name === 'loop0');
    assert.ok(loop0);
    assert.equal(loop0.sw_if_index, 1);
    assert.equal(loop0.flags, IfStatusFlags.IF_STATUS_API_FLAG_ADMIN_UP | IfStatusFlags.IF_STATUS_API_FLAG_LINK_UP);
    assert.equal(loop0.l2_address.toString('hex'), 'dead00000000');
    assert.equal(loop0.interface_dev_type, 'Loopback');
    assert.equal(loop0.link_mtu, 9000);
    assert.deepEqual(loop0.mtu, [9000, 0, 0, 0]);
    const sub = details.find((d) => d.interface_name === 'host-vpp-veth0.100');
    assert.ok(sub);
    assert.equal(sub.sub_id, 100);
    assert.equal(sub.sub_outer_vlan_id, 100);
    assert.equal(sub.sup_sw_if_index, 5);
  });

  it('want_interface_events and the sw_interface_event each set_flags caused', () => {
    const [want] = framesOf(frames, 'want_interface_events');
    assert.ok(want);
    const w = decodeAs('want_interface_events', want);
    assert.equal(w.enable_disable, 1);
    const events = framesOf(frames, 'sw_interface_event').map((f) => decodeAs('sw_interface_event', f));
    const sets = framesOf(frames, 'sw_interface_set_flags').map((f) => decodeAs('sw_interface_set_flags', f));
    assert.equal(events.length, 2);
    assert.deepEqual(sets.map((s) => [s.sw_if_index, s.flags]), [[1, 0], [1, 1]]);
    for (const e of events) {
      assert.equal(e.client_index, 0x80000001);
      assert.equal(e.pid, w.pid);
      assert.equal(e.sw_if_index, 1);
      assert.equal(e.deleted, false);
    }
    // Admin down gives flags 0; admin up gives ADMIN_UP|LINK_UP (a loopback's link follows).
    assert.deepEqual(events.map((e) => e.flags), [0, 3]);
  });

  it('100 routes 10.0.N.0/24 via 192.0.2.1 added, dumped, deleted', () => {
    const adds = framesOf(frames, 'ip_route_add_del').map((f) => decodeAs('ip_route_add_del', f));
    assert.equal(adds.length, 200);
    const added = adds.filter((a) => a.is_add);
    const deleted = adds.filter((a) => !a.is_add);
    assert.equal(added.length, 100);
    assert.equal(deleted.length, 100);
    const expected = Array.from({ length: 100 }, (_, n) => `10.0.${n}.0/24`);
    assert.deepEqual(added.map((a) => prefixText(a.route.prefix)), expected);
    assert.deepEqual(new Set(deleted.map((a) => prefixText(a.route.prefix))), new Set(expected));
    for (const a of adds) {
      assert.equal(a.route.table_id, 0);
      assert.equal(a.route.n_paths, 1);
      assert.equal(a.route.paths.length, 1);
      const p = a.route.paths[0];
      assert.ok(p);
      assert.equal(p.sw_if_index, 1);
      assert.equal([...AddressUnion.ip4(p.nh.address)].join('.'), '192.0.2.1');
      assert.equal(p.label_stack.length, 16);
    }
    const replies = framesOf(frames, 'ip_route_add_del_reply').map((f) => decodeAs('ip_route_add_del_reply', f));
    assert.equal(replies.length, 200);
    for (const r of replies) assert.equal(r.retval, 0);

    const details = framesOf(frames, 'ip_route_details').map((f) => decodeAs('ip_route_details', f));
    assert.equal(details.length, 125);
    const dumped = new Set(details.map((d) => prefixText(d.route.prefix)));
    for (const p of expected) assert.ok(dumped.has(p), `${p} not in the dump`);
    assert.ok(dumped.has('0.0.0.0/0'));
    for (const d of details) assert.equal(d.route.n_paths, d.route.paths.length);
  });
});

describe('api-session-config: values', () => {
  const frames = loadSession('api-session-config');
  const byContext = (ctx: number, name: string): Frame => {
    const f = frames.find((x) => baseName(x.name) === name && x.body.readUInt32BE(x.dir === 'c2s' && name !== 'sockclnt_create' ? 6 : 2) === ctx);
    assert.ok(f, `${name} ctx ${ctx}`);
    return f;
  };

  it('create_loopback -> sw_if_index 2, set up, address 10.77.0.1/24', () => {
    const [c] = framesOf(frames, 'create_loopback');
    assert.ok(c);
    const req = decodeAs('create_loopback', c);
    assert.equal(req.mac_address.toString('hex'), 'dead00000042');
    const rep = decodeAs('create_loopback_reply', byContext(req.context, 'create_loopback_reply'));
    assert.equal(rep.retval, 0);
    assert.equal(rep.sw_if_index, 2);
    const [a] = framesOf(frames, 'sw_interface_add_del_address');
    assert.ok(a);
    const add = decodeAs('sw_interface_add_del_address', a);
    assert.equal(add.sw_if_index, 2);
    assert.equal(add.is_add, true);
    assert.equal(prefixText(add.prefix), '10.77.0.1/24');
    const [addr] = framesOf(frames, 'ip_address_details');
    assert.ok(addr);
    const details = decodeAs('ip_address_details', addr);
    assert.equal(details.sw_if_index, 2);
    assert.equal(prefixText(details.prefix), '10.77.0.1/24');
    const [one] = framesOf(frames, 'sw_interface_details');
    assert.ok(one);
    const d = decodeAs('sw_interface_details', one);
    assert.equal(d.sw_if_index, 2);
    assert.equal(d.interface_name, 'loop1');
    assert.equal(d.l2_address.toString('hex'), 'dead00000042');
  });

  it('set flags on a missing interface answers -2 (INVALID_SW_IF_INDEX)', () => {
    const sets = framesOf(frames, 'sw_interface_set_flags').map((f) => decodeAs('sw_interface_set_flags', f));
    const missing = sets.find((s) => s.sw_if_index === 9999);
    assert.ok(missing);
    const r = decodeAs('sw_interface_set_flags_reply', byContext(missing.context, 'sw_interface_set_flags_reply'));
    assert.equal(r.retval, -2);
    assert.equal(retvalName(r.retval), 'INVALID_SW_IF_INDEX');
    const ok = sets.find((s) => s.sw_if_index === 2);
    assert.ok(ok);
    assert.equal(decodeAs('sw_interface_set_flags_reply', byContext(ok.context, 'sw_interface_set_flags_reply')).retval, 0);
  });

  it('IPv4 and IPv6 routes, and -3 (NO_SUCH_FIB) for a missing table', () => {
    const adds = framesOf(frames, 'ip_route_add_del').map((f) => decodeAs('ip_route_add_del', f));
    const text = adds.map((a) => `${a.is_add ? 'add' : 'del'} ${prefixText(a.route.prefix)} table ${a.route.table_id}`);
    assert.deepEqual(text, ['add 10.78.0.0/16 table 0', 'add 2001:db8:78:0:0:0:0:0/48 table 0', 'add 10.79.0.0/16 table 77', 'del 10.78.0.0/16 table 0']);
    const v6 = adds[1];
    assert.ok(v6);
    assert.equal(v6.route.prefix.address.af, AddressFamily.ADDRESS_IP6);
    assert.equal(v6.route.paths[0]?.proto, 1);
    const results = adds.map((a) => decodeAs('ip_route_add_del_reply', byContext(a.context, 'ip_route_add_del_reply')).retval);
    assert.deepEqual(results, [0, 0, -3, 0]);
    assert.equal(retvalName(-3), 'NO_SUCH_FIB');
    const details = framesOf(frames, 'ip_route_details').map((f) => decodeAs('ip_route_details', f));
    assert.equal(details.length, 30);
    const dumped = details.map((d) => prefixText(d.route.prefix));
    assert.ok(dumped.includes('10.78.0.0/16'));
    assert.ok(dumped.includes('10.77.0.1/32'));
    assert.ok(!dumped.includes('10.79.0.0/16'));
  });

  it('delete_loopback succeeds', () => {
    const [f] = framesOf(frames, 'delete_loopback');
    assert.ok(f);
    const req = decodeAs('delete_loopback', f);
    assert.equal(req.sw_if_index, 2);
    assert.equal(decodeAs('delete_loopback_reply', byContext(req.context, 'delete_loopback_reply')).retval, 0);
  });
});
