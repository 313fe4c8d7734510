/**
 * What goes through the spool: one spooled event per accepted event (a link event, a config
 * action), each carrying the destination messages it turns into (a link event also updates the
 * compacted interface-state topic). Messages name a stream, not a topic: topic names are
 * configuration and may change between runs while events wait in the spool.
 *
 * CloudEvents 1.0 in binary mode (the Kafka protocol binding): the attributes are Kafka headers
 * (ce_specversion, ce_id, ce_source, ce_type, ce_time, ce_subject) plus content-type, and the
 * message value is the event's data itself.
 */

export const STREAMS = ['link-events', 'config-actions', 'interface-state'] as const;
export type StreamName = (typeof STREAMS)[number];

/** Default topic per stream (DESIGN.md "Events"). */
export const DEFAULT_TOPICS: Readonly<Record<StreamName, string>> = Object.freeze({
  'link-events': 'vpp.link-events',
  'config-actions': 'vpp.config-actions',
  'interface-state': 'vpp.interface-state',
});

export interface OutboundMessage {
  readonly stream: StreamName;
  readonly key: string;
  /** JSON text; null is a tombstone (compacted topics). */
  readonly value: string | null;
  readonly headers: Readonly<Record<string, string>>;
}

export interface SpooledEvent {
  /** The event's id (also ce_id): stays the same when the event is sent again after a crash. */
  readonly id: string;
  readonly messages: readonly OutboundMessage[];
}

export const CE_SPECVERSION = '1.0';
export const CE_TYPES = {
  linkEvent: 'io.fd.vpp.link-event.v1',
  interfaceState: 'io.fd.vpp.interface-state.v1',
  configAction: 'io.fd.vpp.config-action.v1',
} as const;

export interface CloudEventAttributes {
  readonly id: string;
  readonly source: string;
  readonly type: string;
  /** RFC 3339. */
  readonly time: string;
  readonly subject?: string;
  /** false for a tombstone (no data, no content-type). */
  readonly hasData?: boolean;
}

/** Kafka headers of a binary-mode CloudEvent. */
export function cloudEventHeaders(a: CloudEventAttributes): Record<string, string> {
  const h: Record<string, string> = {
    ce_specversion: CE_SPECVERSION,
    ce_id: a.id,
    ce_source: a.source,
    ce_type: a.type,
    ce_time: a.time,
  };
  if (a.subject !== undefined) h.ce_subject = a.subject;
  if (a.hasData !== false) h['content-type'] = 'application/json';
  return h;
}

/** ce_source of everything one exporter instance sends. */
export function eventSource(instance: string): string {
  return `/vpp-exporter/${encodeURIComponent(instance)}`;
}

// ---- spool encoding --------------------------------------------------------------------------

interface WireMessage {
  s: StreamName;
  k: string;
  v: string | null;
  h: Record<string, string>;
}

interface WireEvent {
  id: string;
  m: WireMessage[];
}

export function encodeSpooledEvent(e: SpooledEvent): Buffer {
  const wire: WireEvent = { id: e.id, m: e.messages.map((m) => ({ s: m.stream, k: m.key, v: m.value, h: { ...m.headers } })) };
  return Buffer.from(JSON.stringify(wire));
}

export class SpooledEventError extends Error {
  override name = 'SpooledEventError';
}

const STREAM_SET = new Set<string>(STREAMS);

function isStringRecord(v: unknown): v is Record<string, string> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string');
}

/** Decodes and checks a spool record; throws SpooledEventError when it is not one. */
export function decodeSpooledEvent(buf: Buffer): SpooledEvent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(buf.toString('utf8'));
  } catch (e) {
    throw new SpooledEventError(`spool record is not JSON: ${(e as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null) throw new SpooledEventError('spool record is not an object');
  const { id, m } = parsed as { id?: unknown; m?: unknown };
  if (typeof id !== 'string' || !Array.isArray(m)) throw new SpooledEventError('spool record lacks id or messages');
  const messages: OutboundMessage[] = [];
  for (const x of m as unknown[]) {
    const w = x as Partial<Record<keyof WireMessage, unknown>>;
    if (
      typeof w !== 'object' ||
      w === null ||
      typeof w.s !== 'string' ||
      !STREAM_SET.has(w.s) ||
      typeof w.k !== 'string' ||
      (w.v !== null && typeof w.v !== 'string') ||
      !isStringRecord(w.h)
    ) {
      throw new SpooledEventError(`spool record ${id} has a malformed message`);
    }
    messages.push({ stream: w.s as StreamName, key: w.k, value: w.v, headers: w.h });
  }
  return { id, messages };
}
