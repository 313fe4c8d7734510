/**
 * Metrics that dashboards and alert rules already use but the exporter does not emit yet. A panel or
 * rule that refers to one is "pending": it is generated and documented like the others, its
 * description says what it waits for, and the live tests list it instead of requiring data from it
 * (and check it like any other the day the exporter emits the metric).
 */
export interface PendingMetric {
  /** What will bring it. */
  from: string;
  /** Its type and labels as the dashboards and rules expect them. */
  shape: string;
}

export const EVENTS_PIPELINE = 'the events pipeline (Kafka issue: src/events, src/sink)';

export const PENDING_METRICS: Readonly<Record<string, PendingMetric>> = {
  vpp_exporter_spool_events: { from: EVENTS_PIPELINE, shape: 'gauge: events waiting in the durable spool' },
  vpp_exporter_kafka_publish_failures_total: { from: EVENTS_PIPELINE, shape: 'counter: failed Kafka publish attempts' },
  vpp_exporter_link_events_total: { from: EVENTS_PIPELINE, shape: 'counter: link events emitted' },
  vpp_interface_admin_up: {
    from: `${EVENTS_PIPELINE}, from the link state it tracks`,
    shape: 'gauge 0/1 {interface, sw_if_index}: the interface is administratively up',
  },
  vpp_interface_link_up: {
    from: `${EVENTS_PIPELINE}, from the link state it tracks`,
    shape: 'gauge 0/1 {interface, sw_if_index}: the interface has link',
  },
  vpp_version_info: {
    from: 'the binary API client (show_version), not the stats segment',
    shape: 'gauge, value 1 {version, build_date}: the VPP version',
  },
};

/** The pending metrics an expression refers to. */
export function pendingIn(metricNames: Iterable<string>): string[] {
  return [...new Set([...metricNames].filter((m) => m in PENDING_METRICS))].sort();
}

export function pendingNote(metrics: readonly string[]): string {
  const from = [...new Set(metrics.map((m) => PENDING_METRICS[m]?.from ?? 'a later issue'))];
  return `Pending: needs ${metrics.map((m) => `\`${m}\``).join(', ')}, which the exporter does not emit yet (comes with ${from.join('; ')}); empty until then.`;
}
