/** The address builders: strict parsing, RFC 5952 formatting, and values equal to papi's on the wire. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { address, fibPath, formatAddress, formatPrefix, ipBytes, macAddress, messages, prefix } from '../../src/binapi/index.js';
import { baseName, loadSession } from './session.js';

describe('address helpers', () => {
  it('parses IPv4 and IPv6 into the 16-byte union, af 0/1', () => {
    assert.deepEqual(address('192.0.2.1'), { af: 0, un: Buffer.from('c0000201000000000000000000000000', 'hex') });
    assert.deepEqual(address('2001:db8:77::2'), { af: 1, un: Buffer.from('20010db8007700000000000000000002', 'hex') });
    assert.deepEqual(ipBytes('::'), Buffer.alloc(16));
    assert.deepEqual(ipBytes('::1'), Buffer.from('00000000000000000000000000000001', 'hex'));
    assert.deepEqual(ipBytes('1::'), Buffer.from('00010000000000000000000000000000', 'hex'));
    assert.deepEqual(ipBytes('::ffff:192.0.2.1'), Buffer.from('00000000000000000000ffffc0000201', 'hex'));
    assert.deepEqual(ipBytes('1:2:3:4:5:6:7:8'), Buffer.from('00010002000300040005000600070008', 'hex'));
    assert.deepEqual(ipBytes('1:2:3:4:5:6:7::'), Buffer.from('00010002000300040005000600070000', 'hex'));
    assert.deepEqual(prefix('10.77.0.1/24'), { address: address('10.77.0.1'), len: 24 });
    assert.deepEqual(prefix('::/0').len, 0);
    assert.deepEqual(macAddress('de:ad:00:00:00:42'), Buffer.from('dead00000042', 'hex'));
  });

  it('refuses anything else', () => {
    const bad = [
      '', '1.2.3', '1.2.3.4.5', '01.2.3.4', '1.2.3.04', '256.1.1.1', '1.2.3.4 ', ' 1.2.3.4', '1.2.3.4x', '0x1.2.3.4',
      '1..2.3', '.1.2.3', '1.2.3.', '1.2.3.4.', '1.2.3.1000', '1.2.3.255x', '00.1.2.3', '1.2.3.00', '1.2.3.4/24',
      ':::', '1::2::3', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7:8::', '12345::', 'fe80::1%eth0', 'g::1', '1.2.3.4::', '::1.2.3',
    ];
    for (const b of bad) assert.throws(() => ipBytes(b), TypeError, JSON.stringify(b));
    for (const b of ['10.0.0.0', '10.0.0.0/33', '10.0.0.0/00', '10.0.0.0/1000', '10.0.0.0/2a', '/24', '1..2.3/8', '10.0.0.0/024', '10.0.0.0/ 24', '10.0.0.0/24/1', '::/129', '10.0.0.0/-1', '10.0.0.0/']) {
      assert.throws(() => prefix(b), TypeError, JSON.stringify(b));
    }
    for (const b of ['de:ad:00:00:00', 'de-ad-00-00-00-42', 'de:ad:00:00:00:4g']) assert.throws(() => macAddress(b), TypeError, b);
  });

  it('formats IPv6 as the WHATWG URL parser does (RFC 5952 compression), and parses it back (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff })), { minLength: 8, maxLength: 8 }),
        (groups) => {
          const b = Buffer.alloc(16);
          groups.forEach((g, i) => b.writeUInt16BE(g, i * 2));
          const text = formatAddress({ af: 1, un: b });
          assert.equal(text, new URL(`http://[${text}]`).hostname.slice(1, -1));
          assert.deepEqual(ipBytes(text), b);
        },
      ),
      { numRuns: 2000 },
    );
    assert.equal(formatPrefix(prefix('2001:db8:78::/48')), '2001:db8:78::/48');
    assert.equal(formatPrefix(prefix('10.0.7.0/24')), '10.0.7.0/24');
  });

  it('fibPath() equals the path papi sent in the recorded route adds', () => {
    const frames = loadSession('api-session-config').filter((f) => f.dir === 'c2s' && baseName(f.name) === 'ip_route_add_del');
    const v4 = messages.ip_route_add_del.decode(frames[0].body);
    const v6 = messages.ip_route_add_del.decode(frames[1].body);
    assert.deepEqual(fibPath({ via: '10.77.0.2', sw_if_index: 2 }), v4.route.paths[0]);
    assert.deepEqual(fibPath({ via: '2001:db8:77::2', sw_if_index: 2 }), v6.route.paths[0]);
    assert.deepEqual(prefix('10.78.0.0/16'), v4.route.prefix);
    assert.deepEqual(prefix('2001:db8:78::/48'), v6.route.prefix);
  });

  it('fibPath() labels: given ones fill the stack from the bottom and set n_labels; without, the stack is shared and frozen; more than 16 are refused', () => {
    const labels = [
      { is_uniform: 1, label: 100, ttl: 64, exp: 0 },
      { is_uniform: 0, label: 200, ttl: 0, exp: 3 },
    ];
    const p = fibPath({ via: '10.77.0.2', sw_if_index: 2, labels });
    assert.equal(p.n_labels, 2);
    assert.equal(p.label_stack.length, 16);
    assert.deepEqual(p.label_stack.slice(0, 2), labels);
    for (const l of p.label_stack.slice(2)) assert.deepEqual(l, { is_uniform: 0, label: 0, ttl: 0, exp: 0 });
    const value = {
      client_index: 0,
      context: 7,
      is_add: true,
      is_multipath: false,
      route: { table_id: 0, stats_index: 0, prefix: prefix('10.78.0.0/16'), paths: [p] },
    };
    assert.deepEqual(messages.ip_route_add_del.decode(messages.ip_route_add_del.encode(value, 450)).route.paths[0], p);
    const a = fibPath({ via: '10.77.0.2' });
    const b = fibPath({ via: '2001:db8::1' });
    assert.equal(a.label_stack, b.label_stack);
    assert.ok(Object.isFrozen(a.label_stack) && Object.isFrozen(a.label_stack[0]));
    assert.throws(() => {
      (a.label_stack[0] as { label: number }).label = 5;
    }, TypeError);
    assert.throws(() => fibPath({ labels: new Array(17).fill(labels[0]) }), /at most 16 labels, not 17/);
  });
});
