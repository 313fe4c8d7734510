/** Buffers: per pool available/used/cached and the free share, against the 30 % line of the alerts. */
import type { DashboardSpec } from './grafana.js';
import { rate, sel } from './promql.js';

const POOL = 'pool=~"$pool"';
const available = sel('vpp_buffer_pool_available_buffers', POOL);
const used = sel('vpp_buffer_pool_used_buffers', POOL);
const cached = sel('vpp_buffer_pool_cached_buffers', POOL);
const total = `(${available} + ${used} + ${cached})`;
/** Free share as the alerts compute it: available / (available + used + cached). */
export const FREE_PERCENT = `100 * ${available} / ${total}`;

/** Warning and critical lines of VppBufferPoolLow / VppBufferPoolExhausted, in percent. */
export const BUFFER_FREE_WARNING = 30;
export const BUFFER_FREE_CRITICAL = 5;

const freeThresholds = {
  base: 'red',
  steps: [
    { color: 'orange', value: BUFFER_FREE_CRITICAL },
    { color: 'green', value: BUFFER_FREE_WARNING },
  ],
};

export const buffers: DashboardSpec = {
  uid: 'vpp-buffers',
  file: 'vpp-buffers.json',
  title: 'VPP / Buffers',
  description: `VPP buffer pools: available, used and cached buffers per pool and the free share, with the ${BUFFER_FREE_WARNING} % warning line.`,
  tags: ['buffers'],
  variables: [
    {
      name: 'pool',
      label: 'Pool',
      description: 'Buffer pools (pool label), e.g. default-numa-0.',
      query: 'label_values(vpp_buffer_pool_available_buffers{instance=~"$instance"}, pool)',
    },
  ],
  rows: [
    {
      title: 'Free buffers',
      panels: [
        {
          title: 'Free buffers',
          description: `available / (available + used + cached) per pool, now. Below ${BUFFER_FREE_WARNING} % for 5 minutes VppBufferPoolLow fires; below ${BUFFER_FREE_CRITICAL} % VppBufferPoolExhausted.`,
          kind: 'gauge',
          queries: [{ expr: FREE_PERCENT, legend: '{{instance}} {{pool}}' }],
          unit: 'percent',
          min: 0,
          max: 100,
          thresholds: freeThresholds,
          w: 8,
          h: 8,
        },
        {
          title: 'Free buffers over time',
          description: `The free share per pool over time; the dashed lines are the alert thresholds (${BUFFER_FREE_WARNING} % warning, ${BUFFER_FREE_CRITICAL} % critical).`,
          kind: 'timeseries',
          queries: [{ expr: FREE_PERCENT, legend: '{{instance}} {{pool}}' }],
          unit: 'percent',
          min: 0,
          max: 100,
          thresholds: freeThresholds,
          thresholdsStyle: 'dashed',
          w: 16,
        },
      ],
    },
    {
      title: 'Pools',
      panels: [
        {
          title: 'Buffers by state',
          description: 'available, used and cached buffers of the selected pools, stacked: the top of the stack is the pool size.',
          kind: 'timeseries',
          queries: [
            { expr: available, legend: '{{pool}} available' },
            { expr: used, legend: '{{pool}} used' },
            { expr: cached, legend: '{{pool}} cached' },
          ],
          unit: 'short',
          stack: true,
          w: 24,
        },
        {
          title: 'Available buffers',
          description: 'Free buffers in the pool itself (vpp_buffer_pool_available_buffers).',
          kind: 'timeseries',
          queries: [{ expr: available, legend: '{{instance}} {{pool}}' }],
          unit: 'short',
          w: 8,
        },
        {
          title: 'Used buffers',
          description: 'Buffers holding packets or in flight (vpp_buffer_pool_used_buffers). Growth without a matching traffic rise is a buffer leak.',
          kind: 'timeseries',
          queries: [{ expr: used, legend: '{{instance}} {{pool}}' }],
          unit: 'short',
          w: 8,
        },
        {
          title: 'Cached buffers',
          description: "Free buffers held in the workers' per-thread caches (vpp_buffer_pool_cached_buffers); not counted as free above.",
          kind: 'timeseries',
          queries: [{ expr: cached, legend: '{{instance}} {{pool}}' }],
          unit: 'short',
          w: 8,
        },
        {
          title: 'Pool size',
          description: 'available + used + cached: the buffers the pool was created with.',
          kind: 'stat',
          queries: [{ expr: total, legend: '{{instance}} {{pool}}' }],
          unit: 'short',
          w: 12,
        },
        {
          title: 'rx-no-buf (all interfaces)',
          description: 'Packets lost on receive for want of a buffer, all interfaces: what an exhausted pool costs.',
          kind: 'stat',
          queries: [{ expr: `sum by (instance) (${rate('vpp_interface_rx_no_buf_packets_total')})`, legend: '{{instance}}' }],
          unit: 'pps',
          thresholds: { base: 'green', steps: [{ color: 'red', value: 1 }] },
          w: 12,
        },
      ],
    },
  ],
};
