/** VPP overview: is it up, what runs, how much traffic, where packets are lost. */
import type { DashboardSpec } from './grafana.js';
import { rate as rawRate, sel, threadsSummed } from './promql.js';

/** Per interface, threads summed (with --per-thread too). */
const rate = (metric: string, ...m: string[]): string => threadsSummed(rawRate(metric, ...m));

const IF = 'interface=~"$interface"';

export const overview: DashboardSpec = {
  uid: 'vpp-overview',
  file: 'vpp-overview.json',
  title: 'VPP / Overview',
  description: 'FD.io VPP at a glance: up, version and uptime, vector rate, interface packet and bit rates, drops, rx-miss and rx-no-buf.',
  tags: ['overview'],
  variables: [
    {
      name: 'interface',
      label: 'Interface',
      description: 'VPP interface names (interface label).',
      query: 'label_values(vpp_interface_rx_packets_total{instance=~"$instance"}, interface)',
    },
  ],
  rows: [
    {
      title: 'Health',
      panels: [
        {
          title: 'VPP up',
          description: "1 when the exporter read VPP's stats segment in its last scrape (vpp_up); 0 when VPP is down or its stats socket is unreachable.",
          kind: 'stat',
          queries: [{ expr: sel('vpp_up'), legend: '{{instance}}' }],
          mappings: { '0': { text: 'DOWN', color: 'red' }, '1': { text: 'UP', color: 'green' } },
          thresholds: { base: 'red', steps: [{ color: 'green', value: 1 }] },
          w: 4,
        },
        {
          title: 'Exporter target up',
          description: "Prometheus' own `up` for the exporter target: 0 when Prometheus cannot scrape vpp-exporter at all.",
          kind: 'stat',
          queries: [{ expr: sel('up'), legend: '{{instance}}' }],
          mappings: { '0': { text: 'DOWN', color: 'red' }, '1': { text: 'UP', color: 'green' } },
          thresholds: { base: 'red', steps: [{ color: 'green', value: 1 }] },
          w: 4,
        },
        {
          title: 'Stats collector runs (1m)',
          description:
            "How often /sys/heartbeat moved in the last minute: VPP's stats collector bumps it every run (every 10 s by default). 0 means the segment is stale: VPP's main thread is stuck.",
          kind: 'stat',
          queries: [{ expr: `changes(${sel('vpp_heartbeat')}[1m])`, legend: '{{instance}}' }],
          thresholds: { base: 'red', steps: [{ color: 'green', value: 1 }] },
          decimals: 0,
          w: 4,
        },
        {
          title: 'VPP uptime',
          description: 'Time since VPP started (now - vpp_boot_time_seconds). A reset means VPP restarted.',
          kind: 'stat',
          queries: [{ expr: `time() - ${sel('vpp_boot_time_seconds')}`, legend: '{{instance}}' }],
          unit: 's',
          thresholds: { base: 'orange', steps: [{ color: 'green', value: 600 }] },
          w: 4,
        },
        {
          title: 'VPP started',
          description: 'When VPP started (vpp_boot_time_seconds, /sys/boottime).',
          kind: 'stat',
          queries: [{ expr: `${sel('vpp_boot_time_seconds')} * 1000`, legend: '{{instance}}' }],
          unit: 'dateTimeAsIso',
          w: 4,
        },
        {
          title: 'Worker threads',
          description: 'VPP worker threads (vpp_worker_threads); 0 means everything runs on the main thread.',
          kind: 'stat',
          queries: [{ expr: sel('vpp_worker_threads'), legend: '{{instance}}' }],
          w: 4,
        },
        {
          title: 'VPP version',
          description: "VPP's version, from the binary API's show_version (the stats segment does not carry it).",
          kind: 'stat',
          queries: [{ expr: sel('vpp_version_info'), legend: '{{version}}' }],
          showName: true,
          w: 6,
        },
        {
          title: 'Exporter version',
          description: 'vpp-exporter version and the Node.js it runs on (vpp_exporter_build_info).',
          kind: 'stat',
          queries: [{ expr: sel('vpp_exporter_build_info'), legend: '{{version}} (Node.js {{nodejs}})' }],
          showName: true,
          w: 6,
        },
        {
          title: 'Interfaces',
          description: 'Interfaces VPP has (local0 and sub-interfaces included).',
          kind: 'stat',
          queries: [{ expr: `count by (instance) (${threadsSummed(sel('vpp_interface_rx_packets_total'))})`, legend: '{{instance}}' }],
          w: 3,
        },
        {
          title: 'Links down',
          description:
            'Interfaces that are administratively up but have no link (vpp_interface_admin_up, vpp_interface_link_up: the binary API side, with --events). VppInterfaceLinkDown fires when one stays so for a minute.',
          kind: 'stat',
          queries: [
            {
              expr: `count by (instance) (${sel('vpp_interface_admin_up')} == 1 and on (instance, job, sw_if_index) vpp_interface_link_up == 0) or on (instance) (0 * count by (instance) (${sel('vpp_interface_admin_up')}))`,
              legend: '{{instance}}',
            },
          ],
          thresholds: { base: 'green', steps: [{ color: 'red', value: 1 }] },
          w: 3,
        },
        {
          title: 'Input rate',
          description: 'Packets per second received by input nodes, as VPP computes it (vpp_input_rate, /sys/input_rate).',
          kind: 'stat',
          queries: [{ expr: sel('vpp_input_rate'), legend: '{{instance}}' }],
          unit: 'pps',
          w: 6,
        },
      ],
    },
    {
      title: 'Throughput',
      panels: [
        {
          title: 'Vector rate',
          description:
            'Average vectors (packets) per graph dispatch: all workers (vpp_vector_rate) and per thread (vpp_worker_vector_rate). Low values mean light load; near 256 the workers are saturated.',
          kind: 'timeseries',
          queries: [
            { expr: sel('vpp_vector_rate'), legend: '{{instance}} all workers' },
            { expr: sel('vpp_worker_vector_rate'), legend: '{{instance}} thread {{thread}}' },
          ],
          thresholds: { base: 'transparent', steps: [{ color: 'green', value: 32 }, { color: 'red', value: 256 }] },
          thresholdsStyle: 'dashed',
          softMax: 256,
        },
        {
          title: 'Input rate',
          description: 'Packets per second received by input nodes (vpp_input_rate).',
          kind: 'timeseries',
          queries: [{ expr: sel('vpp_input_rate'), legend: '{{instance}}' }],
          unit: 'pps',
        },
        {
          title: 'Received packets/s by interface',
          description: 'rate(vpp_interface_rx_packets_total) per interface.',
          kind: 'timeseries',
          queries: [{ expr: rate('vpp_interface_rx_packets_total', IF), legend: '{{interface}}' }],
          unit: 'pps',
        },
        {
          title: 'Transmitted packets/s by interface',
          description: 'rate(vpp_interface_tx_packets_total) per interface.',
          kind: 'timeseries',
          queries: [{ expr: rate('vpp_interface_tx_packets_total', IF), legend: '{{interface}}' }],
          unit: 'pps',
        },
        {
          title: 'Received bits/s by interface',
          description: '8 x rate(vpp_interface_rx_bytes_total) per interface.',
          kind: 'timeseries',
          queries: [{ expr: `8 * ${rate('vpp_interface_rx_bytes_total', IF)}`, legend: '{{interface}}' }],
          unit: 'bps',
        },
        {
          title: 'Transmitted bits/s by interface',
          description: '8 x rate(vpp_interface_tx_bytes_total) per interface.',
          kind: 'timeseries',
          queries: [{ expr: `8 * ${rate('vpp_interface_tx_bytes_total', IF)}`, legend: '{{interface}}' }],
          unit: 'bps',
        },
      ],
    },
    {
      title: 'Losses',
      panels: [
        {
          title: 'Drops by interface',
          description: 'Packets dropped per second, by the interface they came in on (vpp_interface_drops_packets_total). The Errors dashboard tells why.',
          kind: 'timeseries',
          queries: [{ expr: rate('vpp_interface_drops_packets_total', IF), legend: '{{interface}}' }],
          unit: 'pps',
          w: 8,
        },
        {
          title: 'rx-miss by interface',
          description:
            'Packets the NIC dropped because its receive ring was full (vpp_interface_rx_miss_packets_total): the worker polling it did not keep up.',
          kind: 'timeseries',
          queries: [{ expr: rate('vpp_interface_rx_miss_packets_total', IF), legend: '{{interface}}' }],
          unit: 'pps',
          w: 8,
        },
        {
          title: 'rx-no-buf by interface',
          description: 'Packets lost on receive because no buffer was available (vpp_interface_rx_no_buf_packets_total): see the Buffers dashboard.',
          kind: 'timeseries',
          queries: [{ expr: rate('vpp_interface_rx_no_buf_packets_total', IF), legend: '{{interface}}' }],
          unit: 'pps',
          w: 8,
        },
        {
          title: 'Receive and transmit errors',
          description: 'Packets received with errors and packets that failed to transmit, per interface.',
          kind: 'timeseries',
          queries: [
            { expr: rate('vpp_interface_rx_error_packets_total', IF), legend: '{{interface}} rx-error' },
            { expr: rate('vpp_interface_tx_error_packets_total', IF), legend: '{{interface}} tx-error' },
          ],
          unit: 'pps',
          w: 24,
        },
      ],
    },
  ],
};
