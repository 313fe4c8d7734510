/** The interface model: VPP's index reuse and naming, events, validation, rollback. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InterfaceModel, ModelError, type InterfaceState } from '../../src/sim/model.js';
import { createDefaultTopology, hardwareInterfaceCount } from '../../src/sim/topology.js';

test('local0 is sw_if_index 0 and cannot be deleted', () => {
  const m = new InterfaceModel();
  assert.deepEqual([m.get(0)?.name, m.get(0)?.hwIfIndex, m.get(0)?.adminUp], ['local0', 0, false]);
  assert.throws(() => m.delete(0), (e: unknown) => e instanceof ModelError && e.code === 'NOT_ALLOWED');
});

test('the churn capture: loop3 deleted and re-created gets sw_if_index 4 and its name back; the next is loop4 at 9', () => {
  const m = new InterfaceModel();
  for (let i = 0; i < 4; i++) m.create({ kind: 'loopback' });
  m.create({ kind: 'af-packet', name: 'host-vpp-veth0' });
  m.create({ kind: 'sub', parent: 5, subId: 100 });
  m.create({ kind: 'memif', name: 'memif1/0' });
  m.create({ kind: 'memif', name: 'memif2/0' });
  assert.deepEqual(m.list().map((i) => i.name), [
    'local0', 'loop0', 'loop1', 'loop2', 'loop3', 'host-vpp-veth0', 'host-vpp-veth0.100', 'memif1/0', 'memif2/0',
  ]);
  m.delete(4);
  const again = m.create({ kind: 'loopback' });
  assert.deepEqual([again.swIfIndex, again.name, again.mac], [4, 'loop3', 'de:ad:00:00:00:03']);
  const loop4 = m.create({ kind: 'loopback' });
  assert.deepEqual([loop4.swIfIndex, loop4.name], [9, 'loop4']);
  // hw_if_index: the sub-interface has none, so memif1/0 is hw 6 though sw 7.
  assert.deepEqual([m.byName('memif1/0')?.swIfIndex, m.byName('memif1/0')?.hwIfIndex], [7, 6]);
  assert.equal(m.byName('host-vpp-veth0.100')?.hwIfIndex, null);
});

test('freed indices are reused most recent first, like vppinfra pools', () => {
  const m = new InterfaceModel();
  for (let i = 0; i < 5; i++) m.create({ kind: 'loopback' });
  m.delete(2);
  m.delete(4);
  assert.equal(m.create({ kind: 'memif', name: 'memif9/0' }).swIfIndex, 4);
  assert.equal(m.create({ kind: 'memif', name: 'memif9/1' }).swIfIndex, 2);
  assert.equal(m.create({ kind: 'memif', name: 'memif9/2' }).swIfIndex, 6);
});

test('events: created, changed with the previous state, deleted (sub-interfaces first); link state follows the port', () => {
  const m = new InterfaceModel();
  const log: string[] = [];
  m.on('created', (i) => log.push(`created ${i.name}`));
  m.on('deleted', (i) => log.push(`deleted ${i.name}`));
  m.on('changed', (i: InterfaceState, prev: InterfaceState) => log.push(`changed ${i.name} link ${prev.linkUp}->${i.linkUp} admin ${prev.adminUp}->${i.adminUp}`));
  const port = m.create({ kind: 'ethernet', name: 'GigabitEthernet0/8/0', linkUp: false });
  m.create({ kind: 'sub', parent: port.swIfIndex, subId: 7 });
  m.setFlags(port.swIfIndex, { adminUp: true, linkUp: true });
  m.setFlags(port.swIfIndex, { adminUp: true }); // no change, no event
  m.delete(port.swIfIndex);
  assert.deepEqual(log, [
    'created GigabitEthernet0/8/0',
    'created GigabitEthernet0/8/0.7',
    'changed GigabitEthernet0/8/0 link false->true admin false->true',
    'changed GigabitEthernet0/8/0.7 link false->true admin false->false',
    'deleted GigabitEthernet0/8/0.7',
    'deleted GigabitEthernet0/8/0',
  ]);
});

test('addresses, MTU and validation', () => {
  const m = new InterfaceModel();
  const l = m.create({ kind: 'loopback' });
  m.addAddress(l.swIfIndex, '10.0.0.1/24');
  m.addAddress(l.swIfIndex, '2001:db8::1/64');
  m.addAddress(l.swIfIndex, '10.0.0.1/24');
  assert.deepEqual(m.get(l.swIfIndex)?.addresses, ['10.0.0.1/24', '2001:db8::1/64']);
  m.deleteAddress(l.swIfIndex, '10.0.0.1/24');
  assert.deepEqual(m.setAddresses(l.swIfIndex, ['10.9.0.1/16']).addresses, ['10.9.0.1/16']);
  assert.equal(m.setMtu(l.swIfIndex, 1500).mtu, 1500);
  const bad = (fn: () => unknown, code: string): void =>
    assert.throws(fn, (e: unknown) => e instanceof ModelError && e.code === code);
  bad(() => m.addAddress(l.swIfIndex, '10.0.0.1/33'), 'INVALID_ARGUMENT');
  bad(() => m.setMtu(l.swIfIndex, 70000), 'INVALID_ARGUMENT');
  bad(() => m.create({ kind: 'memif' }), 'INVALID_ARGUMENT');
  bad(() => m.create({ kind: 'memif', name: 'has space' }), 'INVALID_ARGUMENT');
  bad(() => m.create({ kind: 'loopback', name: 'loop0' }), 'NAME_IN_USE');
  bad(() => m.create({ kind: 'sub', parent: 0, subId: 1 }), 'INVALID_ARGUMENT');
  bad(() => m.create({ kind: 'sub', parent: l.swIfIndex, subId: 0 }), 'INVALID_ARGUMENT');
  bad(() => m.setFlags(99, { adminUp: true }), 'NO_SUCH_INTERFACE');
});

test('a listener that throws on created undoes the creation', () => {
  const m = new InterfaceModel();
  const fail = (): void => {
    throw new Error('no room');
  };
  m.on('created', fail);
  assert.throws(() => m.create({ kind: 'loopback' }), /no room/);
  m.off('created', fail);
  assert.equal(m.count, 1);
  const l = m.create({ kind: 'loopback' });
  assert.deepEqual([l.swIfIndex, l.name], [1, 'loop0'], 'index and instance were given back');
});

test('default topology: a realistic mix, then sub-interfaces of the ethernet ports', () => {
  const m = new InterfaceModel({ seed: 1 });
  createDefaultTopology(m, 30);
  const list = m.list();
  assert.equal(list.length, 31);
  const kinds = new Set(list.map((i) => i.deviceClass));
  for (const k of ['local', 'ethernet', 'loopback', 'af-packet', 'memif']) assert.ok(kinds.has(k as never), k);
  assert.equal(list.filter((i) => i.hwIfIndex !== null).length, hardwareInterfaceCount(30));
  assert.equal(list.at(-1)?.name, 'GigabitEthernet0/9/0.1004', '18 bulk ones round robin over 4 trunks');
  assert.ok(list.slice(1, 13).every((i) => i.addresses.length === 2));
});
