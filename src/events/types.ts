/**
 * The event payloads as they appear on Kafka (the message value, JSON). Field names are the
 * contract of DESIGN.md "Events"; schemas/*.schema.json describe the same shapes, and a test
 * checks every produced value against them.
 */

/** An interface's state as the exporter last saw it. */
export interface InterfaceSnapshot {
  readonly interface: string;
  readonly admin_up: boolean;
  readonly link_up: boolean;
}

export type LinkChange = 'created' | 'deleted' | 'changed';
export type LinkReason = 'event' | 'resync';

/** vpp.link-events, key `<instance>/<sw_if_index>`. */
export interface LinkEventData {
  /** UUIDv7; also the CloudEvents id (ce_id). Kept when the event is sent again. */
  readonly event_id: string;
  readonly instance: string;
  readonly sw_if_index: number;
  /** VPP's interface name (the last known one for a deletion). */
  readonly interface: string;
  /** State after the change; both false for a deletion. */
  readonly admin_up: boolean;
  readonly link_up: boolean;
  readonly deleted: boolean;
  readonly change: LinkChange;
  /** The state before; null when the interface was created. */
  readonly previous: InterfaceSnapshot | null;
  /** Per instance, strictly increasing (across exporter restarts too; gaps are possible). */
  readonly seq: number;
  /** RFC 3339: when the exporter received VPP's event, or read the state that showed the change. */
  readonly time: string;
  /** event: VPP announced it (sw_interface_event); resync: found by comparing a dump after a (re)connect. */
  readonly reason: LinkReason;
  /**
   * true for a state VPP's event announced but that was already gone when the exporter read
   * the state back (a flap faster than the read): admin_up/link_up are the event's flags.
   */
  readonly transient: boolean;
}

/** vpp.interface-state (compacted), key `<instance>/<sw_if_index>`; a tombstone (null) on deletion. */
export interface InterfaceStateData {
  readonly event_id: string;
  readonly instance: string;
  readonly sw_if_index: number;
  readonly interface: string;
  readonly admin_up: boolean;
  readonly link_up: boolean;
  readonly seq: number;
  readonly time: string;
}

/** vpp.config-actions, key = request id. */
export interface ConfigActionData {
  readonly event_id: string;
  readonly instance: string;
  /** What was done, e.g. "interface.set", "route.add". */
  readonly action: string;
  /** The request's parameters (JSON). */
  readonly params: unknown;
  /** Who asked (token name, user), null when unknown. */
  readonly principal: string | null;
  /** VPP's retval (0 ok), null when VPP was not asked (validation failed, VPP unreachable). */
  readonly retval: number | null;
  /** The error message, null on success. */
  readonly error: string | null;
  readonly duration_ms: number;
  readonly request_id: string;
  /** RFC 3339: when the action finished. */
  readonly time: string;
}
