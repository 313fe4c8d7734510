/**
 * The Prometheus alert rules (alerts/vpp-exporter.rules.yml) and their runbooks (docs/alerts.md),
 * from one list: every rule has a summary, a description, a runbook_url pointing at its section of
 * docs/alerts.md, and a scenario (alerts/scenarios/) that makes it fire on the simulator.
 *
 * Counters are summed `without (thread)` so that the rules hold with --per-thread too. Thresholds
 * are starting points; docs/alerts.md says what to tune.
 */
import { stringify } from 'yaml';
import { BUFFER_FREE_CRITICAL, BUFFER_FREE_WARNING } from './buffers.js';
import { INPUT_NODES } from './promql.js';

/** Where docs/alerts.md is published; runbook_url is this plus '#' and the alert's name in lower case. */
/**
 * Where runbook_url annotations point. The project has no public home yet, so the committed rules
 * use the path of docs/alerts.md inside a release; operators regenerate with their own docs URL:
 * VPP_EXPORTER_RUNBOOK_BASE_URL=https://docs.example.net/vpp-exporter/alerts node scripts/gen-dashboards.mjs
 */
export const RUNBOOK_BASE_URL = process.env.VPP_EXPORTER_RUNBOOK_BASE_URL ?? 'docs/alerts.md';
/** The job name the scrape config must give the exporter (VppExporterDown looks for it). */
export const EXPORTER_JOB = 'vpp-exporter';

export type Severity = 'warning' | 'critical';

export interface Runbook {
  /** What the alert means. */
  meaning: string;
  /** What it costs when ignored. */
  impact: string;
  diagnosis: string[];
  mitigation: string[];
  /** How to make it fire on the simulator: a file under alerts/scenarios/, or what to do. */
  reproduce: string;
}

export interface AlertSpec {
  alert: string;
  expr: string;
  for: string;
  severity: Severity;
  summary: string;
  description: string;
  runbook: Runbook;
}

export interface AlertGroupSpec {
  name: string;
  rules: AlertSpec[];
}

const sumRate = (metric: string, window: string, matchers = ''): string => `sum without (thread) (rate(${metric}${matchers}[${window}]))`;
const bufferFree =
  'vpp_buffer_pool_available_buffers\n  / (vpp_buffer_pool_available_buffers + vpp_buffer_pool_used_buffers + vpp_buffer_pool_cached_buffers)';
const inputVectorsPerCall = (window: string): string =>
  `${sumRate('vpp_node_vectors_total', window, `{node=~"${INPUT_NODES}"}`)}\n  / ${sumRate('vpp_node_calls_total', window, `{node=~"${INPUT_NODES}"}`)}`;

export function runbookAnchor(alert: string): string {
  return alert.toLowerCase();
}

export const ALERT_GROUPS: AlertGroupSpec[] = [
  {
    name: 'vpp-availability',
    rules: [
      {
        alert: 'VppExporterDown',
        expr: `up{job="${EXPORTER_JOB}"} == 0`,
        for: '2m',
        severity: 'critical',
        summary: 'vpp-exporter on {{ $labels.instance }} cannot be scraped',
        description: 'Prometheus has failed to scrape vpp-exporter at {{ $labels.instance }} for 2 minutes: no VPP metrics and no exporter metrics from it.',
        runbook: {
          meaning: `Prometheus cannot scrape the exporter target (its own \`up\` series is 0). The rule matches the job \`${EXPORTER_JOB}\`: name the scrape job so, or change the rule.`,
          impact: 'Every other VPP alert for this instance goes silent: they have no data.',
          diagnosis: [
            'Is the process running? `systemctl status vpp-exporter` (or the container).',
            "Does it answer? `curl -s http://<instance>/metrics | head` from the Prometheus host; a TLS or basic-auth error means the web config and the scrape config disagree.",
            "Prometheus' target page (Status > Targets) shows the scrape error: refused, timeout (see VppExporterScrapeSlow), or HTTP 503 (too many scrapes in flight).",
          ],
          mitigation: ['Restart the exporter; check its log (pino JSON on stdout) for the reason it stopped.', 'If scrapes time out, raise scrape_timeout or reduce what is exported (--stats.exclude).'],
          reproduce: 'Stop the exporter (the live test stops it and waits for this alert).',
        },
      },
      {
        alert: 'VppDown',
        expr: 'vpp_up == 0',
        for: '1m',
        severity: 'critical',
        summary: "VPP on {{ $labels.instance }} is down or its stats segment is unreadable",
        description: "The exporter on {{ $labels.instance }} has not been able to read VPP's stats segment for 1 minute (vpp_up is 0).",
        runbook: {
          meaning: "The exporter is up but could not connect to VPP's stats socket or read the segment in its scrapes.",
          impact: 'No VPP metrics from this instance; if VPP itself is down, it forwards no traffic.',
          diagnosis: [
            'Is VPP running? `systemctl status vpp`, `vppctl show version`.',
            'Does the stats socket exist where the exporter looks (`--stats-socket`, default /run/vpp/stats.sock) and may the exporter user open it?',
            "The exporter's log says why each connect failed (ENOENT, EACCES, a bad segment).",
            'vpp_exporter_reconnects_total rising means VPP restarts again and again.',
          ],
          mitigation: ['Start or restart VPP; fix the socket path or its permissions (statseg { socket-name ... } in startup.conf).'],
          reproduce: 'Stop the simulator (the live test stops it and waits for this alert).',
        },
      },
      {
        alert: 'VppStatsStale',
        expr: 'changes(vpp_heartbeat[2m]) == 0\nand on (instance, job)\nvpp_up == 1',
        for: '1m',
        severity: 'critical',
        summary: "VPP's stats on {{ $labels.instance }} are stale: the heartbeat stopped",
        description: "/sys/heartbeat on {{ $labels.instance }} has not moved for 3 minutes although the segment is readable: VPP's stats collector (main thread) is stuck, so every counter shown is frozen.",
        runbook: {
          meaning: "VPP's stats collector bumps /sys/heartbeat on every run (every 10 s). The segment is still readable, but nothing updates it: VPP's main thread is hung or starved.",
          impact: 'Dashboards show frozen values; node counters, rates and buffer gauges are wrong. A hung main thread also stops the CLI and the binary API.',
          diagnosis: [
            '`vppctl show version` hangs or answers? `vppctl show threads`, `show runtime` on the main thread.',
            'CPU of the main thread (top -H): 100 % means a busy loop; 0 % a deadlock.',
            'VPP logs (journalctl -u vpp) and any core files.',
          ],
          mitigation: ['Restart VPP when the main thread does not recover; keep a core (gcore) for the bug report.'],
          reproduce: 'alerts/scenarios/stats-stale.json (pauses the simulated collector).',
        },
      },
      {
        alert: 'VppExporterScrapeSlow',
        expr: 'avg_over_time(vpp_exporter_scrape_duration_seconds[5m]) > 2',
        for: '10m',
        severity: 'warning',
        summary: 'vpp-exporter on {{ $labels.instance }} takes {{ $value | humanizeDuration }} per scrape',
        description: 'Reading and formatting the VPP stats took {{ $value | humanizeDuration }} on average over 5 minutes on {{ $labels.instance }}; scrapes risk timing out.',
        runbook: {
          meaning: "The exporter's own time to read the segment and write /metrics has averaged over 2 s for 10 minutes.",
          impact: 'Scrapes near scrape_timeout fail (gaps, VppExporterDown); a slow exporter also delays everything else it does.',
          diagnosis: [
            'Exporter dashboard: which collector is slow (vpp_exporter_collector_duration_seconds), stats read retries, event loop lag, CPU.',
            'How many series? `curl -s http://<instance>/metrics | wc -l`: tens of thousands of interfaces make large answers.',
            'vpp_exporter_stats_retries_total rising: VPP restructures the segment during reads.',
          ],
          mitigation: ['Exclude what nobody uses (--stats.exclude), drop --per-thread, give the exporter a less loaded CPU, raise scrape_interval/scrape_timeout.'],
          reproduce: 'Run the simulator with many interfaces and a small host (e.g. `vpp-exporter sim --interfaces 100000`).',
        },
      },
      {
        alert: 'VppExporterCollectorFailing',
        expr: 'vpp_exporter_collector_success == 0',
        for: '5m',
        severity: 'warning',
        summary: 'vpp-exporter collector {{ $labels.collector }} fails on {{ $labels.instance }}',
        description: 'The {{ $labels.collector }} collector of vpp-exporter on {{ $labels.instance }} has failed every scrape for 5 minutes; its metrics are missing while the rest are exported.',
        runbook: {
          meaning: 'One part of the scrape fails every time; the exporter keeps answering with the rest (a failing part never fails the whole scrape).',
          impact: "The failing collector's metrics are missing, and alerts built on them are silent.",
          diagnosis: ["The exporter's log names the collector and the error.", 'Exporter dashboard: Collector success.'],
          mitigation: ['Fix what the log says (permissions, a VPP version the catalog does not know); report a bug with the log and `vpp-exporter stats ls` output.'],
          reproduce: 'Not with the simulator: it needs a failing collector (promtool unit tests cover the rule).',
        },
      },
    ],
  },
  {
    name: 'vpp-buffers',
    rules: [
      {
        alert: 'VppBufferPoolLow',
        expr: `${bufferFree}\n< ${BUFFER_FREE_WARNING / 100}`,
        for: '5m',
        severity: 'warning',
        summary: 'VPP buffer pool {{ $labels.pool }} on {{ $labels.instance }} is {{ $value | humanizePercentage }} free',
        description: `Only {{ $value | humanizePercentage }} of buffer pool {{ $labels.pool }} on {{ $labels.instance }} has been free for 5 minutes (warning below ${BUFFER_FREE_WARNING} %).`,
        runbook: {
          meaning: `available / (available + used + cached) of the pool has stayed below ${BUFFER_FREE_WARNING} % for 5 minutes. Cached buffers (per-thread caches) are not counted as free.`,
          impact: 'When the pool runs dry, input nodes cannot allocate buffers and packets are lost as rx-no-buf.',
          diagnosis: [
            'Buffers dashboard: is used growing with traffic (too small a pool) or without it (a leak)?',
            '`vppctl show buffers`; `show hardware-interfaces` for rx/tx queue and descriptor sizes (each descriptor holds a buffer).',
            'A feature that queues packets (reassembly, a handoff queue, a slow tx interface) holds buffers.',
          ],
          mitigation: [
            'Raise buffers-per-numa in startup.conf (buffers { buffers-per-numa N }) and restart VPP.',
            'Reduce rx/tx descriptors per queue (dpdk { dev default { num-rx-desc ... } }) if many queues share the pool.',
            'A leak: find the node holding buffers (`show buffers`, `show trace`) and report it.',
          ],
          reproduce: 'alerts/scenarios/low-buffers.json (20 % free).',
        },
      },
      {
        alert: 'VppBufferPoolExhausted',
        expr: `${bufferFree}\n< ${BUFFER_FREE_CRITICAL / 100}`,
        for: '1m',
        severity: 'critical',
        summary: 'VPP buffer pool {{ $labels.pool }} on {{ $labels.instance }} is nearly exhausted ({{ $value | humanizePercentage }} free)',
        description: `Buffer pool {{ $labels.pool }} on {{ $labels.instance }} is below ${BUFFER_FREE_CRITICAL} % free: packets are about to be (or are being) dropped for want of buffers.`,
        runbook: {
          meaning: `The pool is below ${BUFFER_FREE_CRITICAL} % free for a minute: near exhaustion.`,
          impact: 'Packet loss on receive (rx-no-buf), failed allocations in nodes that copy or fragment.',
          diagnosis: ['As for VppBufferPoolLow; check vpp_interface_rx_no_buf_packets_total (VppInterfaceRxNoBuffer).'],
          mitigation: ['As for VppBufferPoolLow. When a leak fills the pool, restarting VPP frees it for a while; keep `show buffers` output first.'],
          reproduce: 'alerts/scenarios/buffers-exhausted.json (2 % free, with rx-no-buf).',
        },
      },
    ],
  },
  {
    name: 'vpp-dataplane',
    rules: [
      {
        alert: 'VppErrorRateHigh',
        expr: `${sumRate('vpp_error_total', '5m')} > 100`,
        for: '5m',
        severity: 'warning',
        summary: 'VPP node {{ $labels.node }} counts {{ $value | humanize }}/s "{{ $labels.error }}" on {{ $labels.instance }}',
        description: 'Error counter {{ $labels.node }}/{{ $labels.error }} on {{ $labels.instance }} has moved at {{ $value | humanize }} per second for 5 minutes (threshold 100/s).',
        runbook: {
          meaning: "One of VPP's error counters (`show errors`: node and error) has risen faster than 100 per second for 5 minutes.",
          impact: 'Most error counters count dropped packets; which traffic is lost depends on the node and error (no route, TTL expired, no listener, bad checksum...).',
          diagnosis: [
            'Errors dashboard: the top counters, and whether drops by interface match.',
            '`vppctl show errors`, then `trace add <input-node> 50` and `show trace` to see the packets and their path.',
            "Some counters are informational (VPP's severity info: e.g. NAT 'good in2out packets processed'): such a counter moving fast is normal.",
          ],
          mitigation: [
            'Fix the cause the error names (a missing route or neighbour, a peer sending bad traffic, an ACL).',
            'For an informational counter, exclude it from the rule: add `{error!~"..."}` to vpp_error_total in the expression.',
          ],
          reproduce: 'alerts/scenarios/error-burst.json (5000/s ip4-input "time_expired").',
        },
      },
      {
        alert: 'VppInputNodeSaturated',
        expr: `${inputVectorsPerCall('5m')}\n> 200`,
        for: '5m',
        severity: 'warning',
        summary: 'VPP input node {{ $labels.node }} on {{ $labels.instance }} is saturated ({{ $value | humanize }} vectors/call)',
        description: 'Input node {{ $labels.node }} on {{ $labels.instance }} has averaged {{ $value | humanize }} packets per poll for 5 minutes (a frame holds 256): its workers are at capacity.',
        runbook: {
          meaning: `A polling input node (${INPUT_NODES}) returns nearly full frames (over 200 of 256 packets) on average: the workers polling it have no spare cycles.`,
          impact: 'Any more traffic is lost as rx-miss (the NIC ring overflows); latency rises.',
          diagnosis: [
            'Nodes dashboard: vectors per call of the input node and per worker; clocks per vector of the nodes after it (what got expensive?).',
            '`vppctl show runtime`, `show interface rx-placement`: are queues spread over all workers?',
            'VppInterfaceRxMiss firing too confirms loss.',
          ],
          mitigation: ['Spread receive queues over more workers (RSS, more rx queues, set interface rx-placement), add workers, or cut per-packet cost (features on the path).'],
          reproduce: 'alerts/scenarios/saturated-input.json (af-packet-input at 250 vectors/call).',
        },
      },
      {
        alert: 'VppInputNodeVectorsCollapsed',
        expr: `(\n  ${inputVectorsPerCall('5m').replaceAll('\n', '\n  ')}\n)\n< 0.25 * (\n  ${inputVectorsPerCall('1h').replaceAll('\n', '\n  ')}\n)\nand\n(\n  ${inputVectorsPerCall('1h').replaceAll('\n', '\n  ')}\n)\n> 16`,
        for: '10m',
        severity: 'warning',
        summary: 'VPP input node {{ $labels.node }} on {{ $labels.instance }}: vectors/call collapsed to {{ $value | humanize }}',
        description: 'Packets per poll on input node {{ $labels.node }} on {{ $labels.instance }} fell below a quarter of their 1-hour average (which was above 16) and stayed there for 10 minutes.',
        runbook: {
          meaning: 'A busy input node (over 16 packets per poll on average for the last hour) now sees less than a quarter of that: its traffic collapsed.',
          impact: 'Traffic that used to arrive on this input no longer does: an upstream link, a receive queue moved to another worker, an RSS change, or a peer that stopped sending.',
          diagnosis: [
            'Overview dashboard: rx packets per interface; which interface of this driver fell?',
            '`vppctl show interface`, `show hardware-interfaces` (link state, errors), `show interface rx-placement`.',
          ],
          mitigation: ['Restore the upstream path or the queue placement; if the change is intended, the alert resolves once the hour-long average follows.'],
          reproduce: 'alerts/scenarios/collapsed-input.json (af-packet-input saturated, then down to 1 vector/call; needs an hour of history, or the shortened windows of the tests).',
        },
      },
    ],
  },
  {
    name: 'vpp-interfaces',
    rules: [
      {
        alert: 'VppInterfaceDropRateHigh',
        expr: `${sumRate('vpp_interface_drops_packets_total', '5m')} > 10\nand\n${sumRate('vpp_interface_drops_packets_total', '5m')}\n  / ${sumRate('vpp_interface_rx_packets_total', '5m')}\n> 0.01`,
        for: '5m',
        severity: 'warning',
        summary: 'VPP interface {{ $labels.interface }} on {{ $labels.instance }} drops {{ $value | humanize }} packets/s',
        description: 'Interface {{ $labels.interface }} on {{ $labels.instance }} has dropped {{ $value | humanize }} packets per second, over 1 % of what it receives, for 5 minutes.',
        runbook: {
          meaning: 'More than 1 % of the packets received on the interface (and over 10 per second) are dropped by the graph.',
          impact: 'Traffic through this interface is lost.',
          diagnosis: [
            'Errors dashboard: the error counters that move with it say why (no route, ACL deny, TTL, unknown protocol...).',
            '`vppctl show interface <name>`, `show errors`, `trace add <input-node> 50; show trace`.',
          ],
          mitigation: ['Fix the cause the error counters name; expected drops (an ACL deny) may call for a higher threshold on this interface.'],
          reproduce: 'alerts/scenarios/interface-drops.json (500 drops/s on GigabitEthernet0/8/0).',
        },
      },
      {
        alert: 'VppInterfaceRxMiss',
        expr: `${sumRate('vpp_interface_rx_miss_packets_total', '5m')} > 1`,
        for: '5m',
        severity: 'warning',
        summary: 'VPP interface {{ $labels.interface }} on {{ $labels.instance }} misses {{ $value | humanize }} packets/s (rx-miss)',
        description: 'The NIC of {{ $labels.interface }} on {{ $labels.instance }} has dropped {{ $value | humanize }} packets per second because its receive ring was full, for 5 minutes.',
        runbook: {
          meaning: 'The receive ring of the interface overflowed: packets arrived faster than the worker polling it took them.',
          impact: 'Packet loss before VPP sees the packets (no error counter in VPP counts them).',
          diagnosis: [
            'Nodes dashboard: vectors per call of the input node (saturated near 256?) and of its worker.',
            '`vppctl show interface rx-placement`, `show hardware-interfaces <name>` (ring sizes), `show runtime`.',
          ],
          mitigation: ['Larger rx rings (num-rx-desc), more rx queues spread over more workers, or less per-packet work.'],
          reproduce: 'alerts/scenarios/rx-miss.json (50 rx-miss/s on GigabitEthernet0/9/0).',
        },
      },
      {
        alert: 'VppInterfaceRxNoBuffer',
        expr: `${sumRate('vpp_interface_rx_no_buf_packets_total', '5m')} > 1`,
        for: '5m',
        severity: 'warning',
        summary: 'VPP interface {{ $labels.interface }} on {{ $labels.instance }} loses {{ $value | humanize }} packets/s for want of buffers',
        description: 'Interface {{ $labels.interface }} on {{ $labels.instance }} has lost {{ $value | humanize }} packets per second on receive because no buffer was available, for 5 minutes.',
        runbook: {
          meaning: 'The driver could not allocate buffers to refill its receive ring.',
          impact: 'Packet loss on receive; usually every interface on the same NUMA node suffers.',
          diagnosis: ['Buffers dashboard: is the pool of this NUMA node low (VppBufferPoolLow / VppBufferPoolExhausted)?', '`vppctl show buffers`.'],
          mitigation: ['As for VppBufferPoolLow: more buffers per NUMA node, fewer descriptors, find a leak.'],
          reproduce: 'alerts/scenarios/rx-no-buf.json (20 rx-no-buf/s on every interface that is up).',
        },
      },
      {
        alert: 'VppInterfaceLinkDown',
        expr: 'vpp_interface_admin_up == 1\nand on (instance, job, sw_if_index)\nvpp_interface_link_up == 0',
        for: '1m',
        severity: 'warning',
        summary: 'VPP interface {{ $labels.interface }} on {{ $labels.instance }} is admin up but has no link',
        description: 'Interface {{ $labels.interface }} on {{ $labels.instance }} is administratively up but its link has been down for 1 minute.',
        runbook: {
          meaning: 'The interface is configured up (admin up) but the link is down: cable, optics, the peer, or the driver.',
          impact: 'No traffic through this interface.',
          diagnosis: [
            '`vppctl show hardware-interfaces <name>` (link state, speed, errors), the peer port, optics (`show hardware-interfaces <name> detail`).',
            'Exporter dashboard: link events per second (a flapping link comes and goes).',
          ],
          mitigation: ['Fix the physical path or the peer; set the interface admin down if it is not meant to be in use.'],
          reproduce: 'alerts/scenarios/link-flap.json (memif1/0 down, GigabitEthernet0/a/0 flapping).',
        },
      },
    ],
  },
  {
    name: 'vpp-exporter-events',
    rules: [
      {
        alert: 'VppExporterSpoolGrowing',
        expr: 'sum by (instance, job) (vpp_exporter_spool_events) > 100\nand\nsum by (instance, job) (deriv(vpp_exporter_spool_events[10m])) > 0',
        for: '15m',
        severity: 'warning',
        summary: 'vpp-exporter spool on {{ $labels.instance }} keeps growing ({{ $value | humanize }} events)',
        description: 'The event spool of vpp-exporter on {{ $labels.instance }} holds {{ $value | humanize }} events and has grown for 15 minutes: events are not reaching Kafka.',
        runbook: {
          meaning: 'Events (link events, config actions) are written to the durable spool faster than they are published to Kafka, for 15 minutes.',
          impact: 'Consumers of the Kafka topics see events late; when the spool reaches its bound, the oldest events are lost (counted).',
          diagnosis: ["VppExporterKafkaPublishFailing too? The exporter's log (sink component) says why publishing fails.", 'Kafka broker health, topic existence, ACLs, network from the exporter host.'],
          mitigation: ['Restore Kafka; the spool drains in order by itself. Give the spool more room (--spool.dir on a larger disk) if the outage lasts.'],
          reproduce: 'Stop Kafka while link events flow: alerts/scenarios/link-storm.json (every interface flapping) makes more than 100 events in seconds.',
        },
      },
      {
        alert: 'VppExporterKafkaPublishFailing',
        expr: 'sum by (instance, job) (rate(vpp_exporter_kafka_publish_failures_total[5m])) > 0',
        for: '10m',
        severity: 'warning',
        summary: 'vpp-exporter on {{ $labels.instance }} fails to publish to Kafka',
        description: 'vpp-exporter on {{ $labels.instance }} has failed {{ $value | humanize }} Kafka publishes per second for 10 minutes; events wait in the spool.',
        runbook: {
          meaning: 'Publishing to Kafka keeps failing for 10 minutes.',
          impact: 'Events stay in the spool (VppExporterSpoolGrowing follows); nothing is lost until the spool is full.',
          diagnosis: ["The exporter's log (sink component): connection refused, authentication, unknown topic, not enough replicas (acks=all)."],
          mitigation: ['Fix the broker, the topic or the credentials; the exporter retries by itself.'],
          reproduce: 'Stop Kafka while the exporter runs with --kafka.brokers; any link event (alerts/scenarios/link-flap.json) then fails to publish.',
        },
      },
    ],
  },
];

export const ALERTS: AlertSpec[] = ALERT_GROUPS.flatMap((g) => g.rules);

/** alerts/vpp-exporter.rules.yml */
export function rulesYaml(): string {
  const doc = {
    groups: ALERT_GROUPS.map((g) => ({
      name: g.name,
      rules: g.rules.map((r) => ({
        alert: r.alert,
        expr: r.expr,
        for: r.for,
        labels: { severity: r.severity },
        annotations: {
          summary: r.summary,
          description: r.description,
          runbook_url: `${RUNBOOK_BASE_URL}#${runbookAnchor(r.alert)}`,
        },
      })),
    })),
  };
  const header =
    '# Prometheus alert rules for vpp-exporter. Generated by scripts/gen-dashboards.mjs from\n' +
    '# src/dashboards/alerts.ts: edit that file and regenerate. Runbooks: docs/alerts.md.\n';
  return header + stringify(doc, { lineWidth: 0 });
}
