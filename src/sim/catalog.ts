/**
 * The names a VPP 26.10 stats segment uses, and how VPP forms the per-object ones. The long lists
 * (nodes, their error counters, /net vectors, pools, heaps) are generated from a real segment into
 * catalog-data.ts; the short ones here are from VPP's sources as cited.
 */
import { TX_NODE_ERRORS } from './catalog-data.js';

export {
  BASE_ERRORS,
  BASE_NODES,
  BFD_GAUGES,
  BUFFER_POOLS,
  LOCAL0_NODES_AT,
  MEMORY_HEAPS,
  NET_VECTORS,
  OUTPUT_NODE_ERRORS,
  SOURCE_VPP_VERSION,
} from './catalog-data.js';

/** /if/<counter> simple vectors, in registration order (vnet/interface.h:1030-1049). */
export const IF_SIMPLE_COUNTERS = ['drops', 'punt', 'ip4', 'ip6', 'rx-no-buf', 'rx-miss', 'rx-error', 'tx-error', 'mpls'] as const;
/** /if/<counter> combined vectors, registered after the simple ones. */
export const IF_COMBINED_COUNTERS = [
  'rx', 'rx-unicast', 'rx-multicast', 'rx-broadcast', 'tx', 'tx-unicast', 'tx-multicast', 'tx-broadcast',
] as const;
/** All 17, in the order VPP creates the /interfaces/<name>/<counter> symlinks. */
export const IF_COUNTERS = [...IF_SIMPLE_COUNTERS, ...IF_COMBINED_COUNTERS] as const;
export type InterfaceCounter = (typeof IF_COUNTERS)[number];

/** /sys/node/<x> vectors and the order of the /nodes/<node>/<x> symlinks (vlib/stats/collector.c:81-89). */
export const NODE_COUNTERS = ['clocks', 'vectors', 'calls', 'suspends'] as const;

/** /mem/<heap> row columns (vlib/stats/provider_mem.c:11-20) and the symlinks made to some of them. */
export const MEM_HEAP_COLUMNS = ['total', 'used', 'free', 'used_mmap', 'total_alloc', 'free_chunks', 'releasable'] as const;
export const MEM_HEAP_SYMLINKS = [['used', 1], ['total', 0], ['free', 2]] as const;

/** Device classes the simulator knows; they decide the tx node's error counters and the input node. */
export type DeviceClass = 'local' | 'loopback' | 'ethernet' | 'af-packet' | 'memif';

/**
 * Errors of an interface's tx node. The capture had af_packet, memif and loopback interfaces; it had
 * no DPDK port, so "ethernet" (GigabitEthernetX/Y/Z) gets none rather than invented names.
 */
export function txNodeErrors(cls: DeviceClass): readonly string[] {
  return cls === 'ethernet' ? [] : TX_NODE_ERRORS[cls];
}

/**
 * The input node a device class's received packets pass first (all present in BASE_NODES); the
 * capture has no DPDK input node, so ethernet ports start at ethernet-input.
 */
export const DEVICE_INPUT_NODE: Record<DeviceClass, string | null> = {
  local: null,
  loopback: null,
  ethernet: null,
  'af-packet': 'af-packet-input',
  memif: 'memif-input',
};

/** Symlink names put '_' for '/' in the object name (vlib/stats/format.c:9-21). */
export function symlinkObject(name: string): string {
  return name.replaceAll('/', '_');
}

export function interfaceSymlinkName(ifName: string, counter: string): string {
  return `/interfaces/${symlinkObject(ifName)}/${counter}`;
}

export function nodeSymlinkName(node: string, counter: string): string {
  return `/nodes/${symlinkObject(node)}/${counter}`;
}

/** Error counters keep '/' in the node name (observed: /err/memif1/0-output/interface is down). */
export function errorCounterName(node: string, error: string): string {
  return `/err/${node}/${error}`;
}

export function memHeapName(heap: string): string {
  return `/mem/${heap}`;
}

/** Node names of a hardware interface (vnet_register_interface). */
export function interfaceNodeNames(ifName: string): { tx: string; output: string } {
  return { tx: `${ifName}-tx`, output: `${ifName}-output` };
}

/** What a deleted hardware interface's nodes are renamed to, by hw_if_index (vnet_delete_hw_interface). */
export function deletedInterfaceNodeNames(hwIfIndex: number): { tx: string; output: string } {
  return { tx: `interface-${hwIfIndex}-tx-deleted`, output: `interface-${hwIfIndex}-output-deleted` };
}

/** The /if/names element of a deleted interface (vnet/interface/stats.c:68-75). */
export const DELETED_INTERFACE_NAME = 'deleted';
