/** Nodes: vectors per call (the 32-256 band), clocks per vector, calls, the nodes that cost most. */
import type { DashboardSpec, PanelSpec } from './grafana.js';
import { INPUT_NODES, rate, sel } from './promql.js';

const NODE = 'node=~"$node"';
const byNode = (metric: string, ...m: string[]): string => `sum by (instance, node) (${rate(metric, ...m)})`;
/** Per node: vectors / calls, only where the node was called. */
const vectorsPerCall = (...m: string[]): string => `${byNode('vpp_node_vectors_total', ...m)} / (${byNode('vpp_node_calls_total', ...m)} > 0)`;

/** The band vectors per call is drawn against: below 32 light load, 32-256 busy, 256 full frames. */
const band: Pick<PanelSpec, 'thresholds' | 'thresholdsStyle' | 'softMax'> = {
  thresholds: { base: 'transparent', steps: [{ color: 'rgba(115, 191, 105, 0.15)', value: 32 }, { color: 'red', value: 256 }] },
  thresholdsStyle: 'line+area',
  softMax: 256,
};

export const nodes: DashboardSpec = {
  uid: 'vpp-nodes',
  file: 'vpp-nodes.json',
  title: 'VPP / Nodes',
  description: "VPP's graph nodes (show runtime): vectors per call per node and per worker against the 32-256 band, clocks per vector, calls per second, the nodes that take most CPU.",
  tags: ['nodes'],
  variables: [
    {
      name: 'node',
      label: 'Node',
      description: 'Graph nodes (node label of vpp_node_calls_total).',
      query: 'label_values(vpp_node_calls_total{instance=~"$instance"}, node)',
    },
  ],
  rows: [
    {
      title: 'Vectors per call',
      panels: [
        {
          title: 'Vectors per call by node',
          description:
            'rate(vectors) / rate(calls) per node, the 15 highest. A node handles up to 256 packets per call: the shaded band (32-256) is a busy node amortising its cost well; at 256 frames are full and the node is saturated.',
          kind: 'timeseries',
          queries: [{ expr: `topk(15, ${vectorsPerCall(NODE)})`, legend: '{{node}}' }],
          ...band,
          w: 24,
          h: 10,
        },
        {
          title: 'Vectors per call by worker',
          description: 'Average vectors per dispatch per thread (vpp_worker_vector_rate); thread 0 is the main thread.',
          kind: 'timeseries',
          queries: [{ expr: sel('vpp_worker_vector_rate'), legend: '{{instance}} thread {{thread}}' }],
          ...band,
        },
        {
          title: 'Input nodes: vectors per call',
          description: `Polling input nodes (${INPUT_NODES}): packets per poll. Near 256 the input is saturated (VppInputNodeSaturated); a sudden fall is VppInputNodeVectorsCollapsed.`,
          kind: 'timeseries',
          queries: [{ expr: vectorsPerCall(`node=~"${INPUT_NODES}"`), legend: '{{instance}} {{node}}' }],
          ...band,
        },
      ],
    },
    {
      title: 'Cost',
      panels: [
        {
          title: 'Clocks per vector by node',
          description: 'CPU cycles per packet per node, the 15 highest among nodes that handled packets: what each node costs per packet.',
          kind: 'timeseries',
          queries: [{ expr: `topk(15, ${byNode('vpp_node_clocks_total', NODE)} / (${byNode('vpp_node_vectors_total', NODE)} > 0))`, legend: '{{node}}' }],
          unit: 'short',
        },
        {
          title: 'Calls per second by node',
          description: 'How often each node ran, the 15 highest. Polling input nodes run on every main-loop turn.',
          kind: 'timeseries',
          queries: [{ expr: `topk(15, ${byNode('vpp_node_calls_total', NODE)})`, legend: '{{node}}' }],
          unit: 'ops',
        },
        {
          title: 'Top nodes by clocks',
          description: 'CPU cycles per second spent in each node over the last 5 minutes, the 10 highest: where the CPU goes.',
          kind: 'bargauge',
          queries: [{ expr: `topk(10, sum by (node) (rate(${sel('vpp_node_clocks_total', NODE)}[5m])))`, legend: '{{node}}', instant: true }],
          unit: 'hertz',
        },
        {
          title: 'Worker loops per second',
          description: "Main-loop turns per second per thread (vpp_worker_loops_per_second): falls as a worker gets busier.",
          kind: 'timeseries',
          queries: [{ expr: sel('vpp_worker_loops_per_second'), legend: '{{instance}} thread {{thread}}' }],
          unit: 'short',
        },
      ],
    },
  ],
};
