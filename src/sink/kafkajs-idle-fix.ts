/**
 * A fix for kafkajs 2.2.4 (its last release), applied once when the Kafka transport is loaded.
 *
 * Every broker connection has a request queue whose checkPendingRequests() ends by scheduling
 * itself again; with nothing pending and no client-side throttle the delay it computes is
 * `throttledUntil (-1) - Date.now()`, a large negative number, which Node turns into 1 ms. So each
 * connection runs a timer every millisecond for as long as it is open (kafkajs issues #1704 and
 * #1751; Node >= 24 also prints a TimeoutNegativeWarning for it). Measured here: an idle,
 * connected producer used 128 ms of CPU per 5 s, 20 ms with this fix.
 *
 * The fix: nothing to check while nothing is pending. Every path that queues a request (push)
 * schedules a check itself, and every completion or timeout of an in-flight request runs the
 * check, so no queued request waits on the timer this skips; with requests pending the original
 * code runs unchanged (including its 10 ms retry for a throttle that is about to end).
 */
import { createRequire } from 'node:module';

interface RequestQueuePrototype {
  scheduleCheckPendingRequests: (this: { pending: unknown[] }) => void;
}

const FIXED = Symbol.for('vpp-exporter.kafkajs-idle-fix');

/** Returns whether the fix is in place (false when kafkajs' internals are not the ones it knows). */
export function applyKafkajsIdleFix(): boolean {
  const require = createRequire(import.meta.url);
  let proto: (RequestQueuePrototype & { [FIXED]?: true }) | undefined;
  try {
    const version = (require('kafkajs/package.json') as { version: string }).version;
    if (!version.startsWith('2.')) return false;
    proto = (require('kafkajs/src/network/requestQueue/index.js') as { prototype?: RequestQueuePrototype }).prototype;
  } catch {
    return false;
  }
  if (proto === undefined || typeof proto.scheduleCheckPendingRequests !== 'function') return false;
  if (proto[FIXED] === true) return true;
  const original = proto.scheduleCheckPendingRequests;
  proto.scheduleCheckPendingRequests = function scheduleCheckPendingRequests(this: { pending: unknown[] }): void {
    if (Array.isArray(this.pending) && this.pending.length === 0) return;
    original.call(this);
  };
  proto[FIXED] = true;
  return true;
}
