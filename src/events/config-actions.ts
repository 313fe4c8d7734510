/**
 * Config-action audit records: every mutating REST call (interface up/down, addresses, routes)
 * is recorded, with who asked, what, VPP's retval and how long it took, on the config-actions
 * topic (key = request id) through the same durable spool as link events. The REST API awaits
 * recordConfigAction() before it answers (RELIABILITY.md E.24): once it resolves with
 * accepted: true the record is fsynced and will reach Kafka.
 *
 *   const recordConfigAction = createConfigActionRecorder({ sink: pipeline, instance });
 *   const r = await recordConfigAction({ action: 'interface.set', params: { name: 'loop0', admin_up: true },
 *     principal: 'ops', retval: 0, error: null, durationMs: 1.2, requestId: 'req-42' });
 */
import type { Logger } from '../log.js';
import { CE_TYPES, cloudEventHeaders, eventSource, type EventSink } from '../sink/index.js';
import { uuidv7 } from './ids.js';
import type { ConfigActionData } from './types.js';

export interface ConfigAction {
  /** What was done, e.g. "interface.set", "route.add", "route.delete". */
  readonly action: string;
  /** The request's parameters; must be JSON-serialisable (no secrets: they go to Kafka as they are). */
  readonly params: unknown;
  /** Who asked; null when unknown. */
  readonly principal: string | null;
  /** VPP's retval; null when VPP was not asked. */
  readonly retval: number | null;
  /** Error message; null on success. */
  readonly error: string | null;
  readonly durationMs: number;
  /** The request id: the Kafka key. */
  readonly requestId: string;
}

export interface RecordResult {
  /** true: fsynced in the spool (it will reach Kafka); false: the spool was full (counted in vpp_exporter_spool_overflow_dropped_total). */
  readonly accepted: boolean;
  readonly eventId: string;
  readonly data: ConfigActionData;
}

export interface ConfigActionRecorderOptions {
  readonly sink: EventSink;
  readonly instance: string;
  readonly logger?: Logger;
  readonly now?: () => number;
}

export type RecordConfigAction = (action: ConfigAction) => Promise<RecordResult>;

function check(a: ConfigAction): string | null {
  if (typeof a !== 'object' || a === null) return 'a config action must be an object';
  if (typeof a.action !== 'string' || a.action === '') return 'action must be a non-empty string';
  if (typeof a.requestId !== 'string' || a.requestId === '') return 'requestId must be a non-empty string';
  if (a.principal !== null && typeof a.principal !== 'string') return 'principal must be a string or null';
  if (a.retval !== null && !Number.isInteger(a.retval)) return 'retval must be an integer or null';
  if (a.error !== null && typeof a.error !== 'string') return 'error must be a string or null';
  if (typeof a.durationMs !== 'number' || !Number.isFinite(a.durationMs) || a.durationMs < 0) return 'durationMs must be a finite number >= 0';
  return null;
}

/**
 * Returns recordConfigAction(). It rejects with a TypeError for a malformed record (a bug in the
 * caller) and with the spool's error when the disk write failed; it resolves with accepted: false
 * when the spool is full.
 */
export function createConfigActionRecorder(o: ConfigActionRecorderOptions): RecordConfigAction {
  if (o.instance === '') throw new RangeError('instance must not be empty');
  const source = eventSource(o.instance);
  const now = o.now ?? Date.now;
  return async (a: ConfigAction): Promise<RecordResult> => {
    const bad = check(a);
    if (bad !== null) throw new TypeError(`recordConfigAction: ${bad}`);
    const eventId = uuidv7();
    const data: ConfigActionData = {
      event_id: eventId,
      instance: o.instance,
      action: a.action,
      params: a.params ?? null,
      principal: a.principal,
      retval: a.retval,
      error: a.error,
      duration_ms: Math.round(a.durationMs * 1000) / 1000,
      request_id: a.requestId,
      time: new Date(now()).toISOString(),
    };
    let value: string;
    try {
      value = JSON.stringify(data);
    } catch (e) {
      throw new TypeError(`recordConfigAction: params are not JSON-serialisable: ${(e as Error).message}`);
    }
    const r = await o.sink.submit([
      {
        id: eventId,
        messages: [
          {
            stream: 'config-actions',
            key: a.requestId,
            value,
            headers: cloudEventHeaders({ id: eventId, source, type: CE_TYPES.configAction, time: data.time, subject: a.action }),
          },
        ],
      },
    ]);
    const accepted = r.accepted === 1;
    if (accepted) {
      o.sink.metrics.configActions.inc();
      o.logger?.info(
        { action: a.action, principal: a.principal, retval: a.retval, error: a.error, duration_ms: data.duration_ms, request_id: a.requestId, event_id: eventId },
        'config action',
      );
    } else {
      o.logger?.warn({ action: a.action, request_id: a.requestId, event_id: eventId }, 'event spool full: config action record dropped');
    }
    return { accepted, eventId, data };
  };
}
