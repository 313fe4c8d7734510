/** Errors: which graph nodes count which errors, and where packets are dropped. */
import type { DashboardSpec } from './grafana.js';
import { rate, sel, threadsSummed } from './promql.js';

const NODE = 'node=~"$node"';
const errors = rate('vpp_error_total', NODE);

export const errorsDashboard: DashboardSpec = {
  uid: 'vpp-errors',
  file: 'vpp-errors.json',
  title: 'VPP / Errors',
  description: "VPP's error counters (show errors) by graph node and error, and packet drops by cause and by interface.",
  tags: ['errors'],
  variables: [
    {
      name: 'node',
      label: 'Node',
      description: 'Graph nodes that have error counters (node label of vpp_error_total).',
      query: 'label_values(vpp_error_total{instance=~"$instance"}, node)',
    },
  ],
  rows: [
    {
      title: 'Error counters',
      panels: [
        {
          title: 'Error rate',
          description: 'All error counters together, per second. Some VPP counters count normal events (informational severity); the table below tells which ones move.',
          kind: 'stat',
          queries: [{ expr: `sum by (instance) (${errors})`, legend: '{{instance}}' }],
          unit: 'pps',
          w: 6,
        },
        {
          title: 'Error counters moving',
          description: 'How many node/error counters moved in the last 5 minutes.',
          kind: 'stat',
          queries: [{ expr: `count by (instance) (${threadsSummed(`increase(${sel('vpp_error_total', NODE)}[5m])`)} > 0)`, legend: '{{instance}}' }],
          w: 6,
        },
        {
          title: 'Error rate by node',
          description: 'Errors per second summed per graph node (top 10).',
          kind: 'timeseries',
          queries: [{ expr: `topk(10, sum by (instance, node) (${errors}))`, legend: '{{node}}' }],
          unit: 'pps',
        },
        {
          title: 'Top error rates by node and error',
          description: 'The 15 fastest-moving error counters (node: error), per second. VppErrorRateHigh fires when one stays above 100/s for 5 minutes.',
          kind: 'timeseries',
          queries: [{ expr: `topk(15, sum by (instance, node, error) (${errors}))`, legend: '{{node}}: {{error}}' }],
          unit: 'pps',
          thresholds: { base: 'transparent', steps: [{ color: 'red', value: 100 }] },
          thresholdsStyle: 'dashed',
          w: 24,
          h: 10,
        },
        {
          title: 'Top errors (last 5 minutes)',
          description: 'The 25 error counters that moved most in the last 5 minutes, per second: what `show errors` would put first.',
          kind: 'table',
          queries: [{ expr: `topk(25, sum by (node, error) (rate(${sel('vpp_error_total', NODE)}[5m])))`, instant: true }],
          unit: 'pps',
          w: 24,
          h: 10,
        },
      ],
    },
    {
      title: 'Drops',
      panels: [
        {
          title: 'Drops by cause',
          description:
            'Where packets are lost, all interfaces: dropped by the graph (drops), missed by the NIC (rx-miss: ring full), no buffer (rx-no-buf), receive and transmit errors, punted to the control plane.',
          kind: 'timeseries',
          queries: [
            { expr: `sum by (instance) (${rate('vpp_interface_drops_packets_total')})`, legend: '{{instance}} drops' },
            { expr: `sum by (instance) (${rate('vpp_interface_rx_miss_packets_total')})`, legend: '{{instance}} rx-miss' },
            { expr: `sum by (instance) (${rate('vpp_interface_rx_no_buf_packets_total')})`, legend: '{{instance}} rx-no-buf' },
            { expr: `sum by (instance) (${rate('vpp_interface_rx_error_packets_total')})`, legend: '{{instance}} rx-error' },
            { expr: `sum by (instance) (${rate('vpp_interface_tx_error_packets_total')})`, legend: '{{instance}} tx-error' },
            { expr: `sum by (instance) (${rate('vpp_interface_punt_packets_total')})`, legend: '{{instance}} punt' },
          ],
          unit: 'pps',
          stack: true,
        },
        {
          title: 'Packets into the drop nodes',
          description: 'Vectors per second entering error-drop and drop, the nodes every dropped packet ends in; the error counters above say which node sent them.',
          kind: 'timeseries',
          queries: [{ expr: `sum by (instance, node) (${rate('vpp_node_vectors_total', 'node=~"error-drop|drop"')})`, legend: '{{instance}} {{node}}' }],
          unit: 'pps',
        },
        {
          title: 'Drops by interface',
          description: 'The 10 interfaces dropping most, per second (vpp_interface_drops_packets_total).',
          kind: 'timeseries',
          queries: [{ expr: `topk(10, ${threadsSummed(rate('vpp_interface_drops_packets_total'))})`, legend: '{{interface}}' }],
          unit: 'pps',
        },
        {
          title: 'Drop share by interface',
          description: 'Drops as a share of received packets, per interface. VppInterfaceDropRateHigh fires above 1 % (and 10 packets/s).',
          kind: 'timeseries',
          queries: [
            {
              expr: `topk(10, ${threadsSummed(rate('vpp_interface_drops_packets_total'))} / (${threadsSummed(rate('vpp_interface_rx_packets_total'))} > 0))`,
              legend: '{{interface}}',
            },
          ],
          unit: 'percentunit',
          thresholds: { base: 'transparent', steps: [{ color: 'red', value: 0.01 }] },
          thresholdsStyle: 'dashed',
        },
      ],
    },
  ],
};
