/**
 * Where the control API writes its audit records: one per mutating request, written (awaited)
 * before the request is answered. The production sink is the config-actions stream (durable spool
 * -> Kafka topic vpp.config-actions); AuditRecord is what src/events' recordConfigAction() takes:
 *
 *   const audit = configActionAuditSink(createConfigActionRecorder({ sink: pipeline, instance }));
 *
 * A sink that rejects makes the request answer 500 audit_failed (the change itself may already
 * be made: the answer says so).
 */
import type { RecordConfigAction } from '../events/index.js';
import type { Logger } from '../log.js';

export interface AuditRecord {
  /** What was done: interface.set, route.add, route.delete. */
  readonly action: string;
  /** The request's parameters (for a big batch a summary; see docs/control-api.md). */
  readonly params: unknown;
  /** Who asked: "token:<fingerprint>" or "basic:<user>"; null when not authenticated. */
  readonly principal: string | null;
  /** VPP's retval (0 ok), null when VPP gave none (validation failed, VPP unreachable). */
  readonly retval: number | null;
  /** The error message; null on success. */
  readonly error: string | null;
  readonly durationMs: number;
  readonly requestId: string;
}

export interface AuditSink {
  record(r: AuditRecord): Promise<void>;
}

/** The event pipeline refused a record (spool full): the record is not on its way to Kafka. */
export class AuditRejectedError extends Error {
  override name = 'AuditRejectedError';
}

/**
 * The production sink: src/events' recordConfigAction (createConfigActionRecorder({sink:
 * pipeline, instance})), which fsyncs the record in the event spool before it resolves. A record
 * the spool refuses (full: accepted false) is an error here, so that the request does not answer
 * as if it had been audited.
 */
export function configActionAuditSink(recordConfigAction: RecordConfigAction): AuditSink {
  return {
    async record(r) {
      const res = await recordConfigAction(r);
      if (!res.accepted) throw new AuditRejectedError('the event spool is full: the audit record was not accepted');
    },
  };
}

/** Keeps records in memory (tests, and the CLI's --direct dry runs). */
export class MemoryAuditSink implements AuditSink {
  readonly records: AuditRecord[] = [];

  record(r: AuditRecord): Promise<void> {
    this.records.push(r);
    return Promise.resolve();
  }
}

/**
 * Writes each record as one log line (level info, `audit: true`): for a deployment without the
 * event pipeline. Pino writes synchronously to its destination, so the line is out before the
 * answer.
 */
export function logAuditSink(log: Logger): AuditSink {
  return {
    record(r) {
      log.info({ audit: true, ...r }, `config action ${r.action}${r.error === null ? '' : ' failed'}`);
      return Promise.resolve();
    },
  };
}

/** Sends every record to each sink in turn (all must succeed). */
export function teeAuditSink(...sinks: AuditSink[]): AuditSink {
  return {
    async record(r) {
      for (const s of sinks) await s.record(r);
    },
  };
}
