/**
 * The interfaces a simulated VPP starts with: a small realistic mix of hardware interfaces
 * (DPDK-style GigabitEthernet ports, loopbacks, af_packet host- interfaces, memif, as in the
 * capture) and, past that, VLAN sub-interfaces of the ethernet ports - how a VPP with tens of
 * thousands of interfaces looks (hardware interfaces add nodes; sub-interfaces do not, so the node
 * count stays near the capture's ~460 however many interfaces there are).
 */
import type { CreateInterfaceSpec, InterfaceModel } from './model.js';

type TemplateSpec =
  | { kind: 'ethernet' | 'af-packet' | 'memif'; name: string; adminUp: boolean }
  | { kind: 'loopback'; adminUp: boolean }
  | { kind: 'sub'; parentName: string; subId: number; adminUp: boolean };

/** The first interfaces after local0, in creation order. */
const TEMPLATE: readonly TemplateSpec[] = [
  { kind: 'ethernet', name: 'GigabitEthernet0/8/0', adminUp: true },
  { kind: 'ethernet', name: 'GigabitEthernet0/9/0', adminUp: true },
  { kind: 'loopback', adminUp: true },
  { kind: 'af-packet', name: 'host-vpp-veth0', adminUp: true },
  { kind: 'sub', parentName: 'GigabitEthernet0/8/0', subId: 100, adminUp: true },
  { kind: 'memif', name: 'memif1/0', adminUp: true },
  { kind: 'loopback', adminUp: false },
  { kind: 'ethernet', name: 'GigabitEthernet0/a/0', adminUp: true },
  { kind: 'sub', parentName: 'GigabitEthernet0/9/0', subId: 200, adminUp: true },
  { kind: 'memif', name: 'memif2/0', adminUp: true },
  { kind: 'af-packet', name: 'host-vpp-veth1', adminUp: true },
  { kind: 'ethernet', name: 'GigabitEthernet0/b/0', adminUp: true },
];

/** Ports that carry the bulk sub-interfaces, round robin. */
const TRUNKS = ['GigabitEthernet0/8/0', 'GigabitEthernet0/9/0', 'GigabitEthernet0/a/0', 'GigabitEthernet0/b/0'];
const FIRST_BULK_SUB_ID = 1000;
/** One bulk sub-interface in this many is administratively down. */
const DOWN_EVERY = 50;

/** Hardware interfaces (local0 included) that `count` interfaces after local0 contain. */
export function hardwareInterfaceCount(count: number): number {
  return 1 + TEMPLATE.slice(0, count).filter((t) => t.kind !== 'sub').length;
}

/** Creates `count` interfaces after local0 in `model`; the template ones get addresses. */
export function createDefaultTopology(model: InterfaceModel, count: number): void {
  for (let i = 0; i < count; i++) {
    const iface = model.create(specAt(model, i));
    if (i < TEMPLATE.length) {
      model.addAddress(iface.swIfIndex, `10.${i + 1}.0.1/24`);
      model.addAddress(iface.swIfIndex, `2001:db8:${i + 1}::1/64`);
    }
  }
}

function specAt(model: InterfaceModel, i: number): CreateInterfaceSpec {
  const t = TEMPLATE[i];
  if (t === undefined) {
    // Trunk ports exist once the template got past them; with fewer interfaces there is no bulk.
    const k = i - TEMPLATE.length;
    return {
      kind: 'sub',
      parent: swOf(model, TRUNKS[k % TRUNKS.length]),
      subId: FIRST_BULK_SUB_ID + Math.floor(k / TRUNKS.length),
      adminUp: k % DOWN_EVERY !== DOWN_EVERY - 1,
    };
  }
  switch (t.kind) {
    case 'sub':
      return { kind: 'sub', parent: swOf(model, t.parentName), subId: t.subId, adminUp: t.adminUp };
    case 'loopback':
      return { kind: 'loopback', adminUp: t.adminUp };
    default:
      return { kind: t.kind, name: t.name, adminUp: t.adminUp, linkUp: true };
  }
}

function swOf(model: InterfaceModel, name: string): number {
  const iface = model.byName(name);
  if (iface === undefined) throw new Error(`topology: parent ${name} does not exist`);
  return iface.swIfIndex;
}
