/**
 * A batch of requests of one message type (Connection.requestBatch): the record that stands for
 * all of its requests while they are queued, on the wire and answered, and the result it
 * resolves with.
 *
 * Why a record of its own: request() costs a promise, its two resolving functions, a pending
 * entry and a decoded reply object per request, which at a few hundred thousand routes a second
 * is most of the client's time (mostly in the garbage collector). A batch keeps one promise and
 * typed arrays indexed by the request's position: its requests take the consecutive contexts
 * [base, base + count), so a reply finds its entry by subtraction, and a reply that is only a
 * retval is read where it lies in the frame, without decoding it.
 *
 * Each request still is a request of its own on the wire (its own context, frame and reply, its
 * retval checked), and takes a slot of the connection's window like any other.
 *
 * The values come from an array or from a function called for each request as it takes its
 * slot (BatchValues). The second lets a program make its values while VPP answers the ones
 * before, and lets each value die young: an array of 100k routes lives until the batch ends,
 * and the garbage collector copies all of it out of the young generation on the way.
 */
import type { MessageDescriptor } from './codec/index.js';
import type { Timed, TimedList } from './deadlines.js';

export interface BatchOptions {
  /**
   * Fails the requests still unanswered when no reply to any of them has come for this long
   * (ms), counting from when the batch was made; default: the connection's timeoutMs.
   */
  readonly timeoutMs?: number;
  /** Keep every decoded reply in `replies` (default false: only the retvals are kept). */
  readonly replies?: boolean;
}

export interface BatchResult<R = unknown> {
  /** Requests in the batch. */
  readonly count: number;
  /** Requests answered with retval 0. */
  readonly succeeded: number;
  /** The others: `count - succeeded`. */
  readonly failed: number;
  /**
   * Each request's retval as VPP answered it (0: done). 0 also where no reply came: read
   * `errors` for those.
   */
  readonly retvals: Int32Array;
  /**
   * Why each failed request failed, at its index (undefined for the ones that succeeded): a
   * VppApiError (a non-zero retval), a ConnectionError (TIMEOUT, DISCONNECTED, CLOSED,
   * UNEXPECTED_REPLY: no usable reply), or the CodecError/TypeError of a value that does not
   * encode (that request was not sent). Requests that failed for the same reason share one
   * error object.
   */
  readonly errors: readonly (Error | undefined)[];
  /** With `replies: true`, each decoded reply (undefined where none came); else null. */
  readonly replies: readonly (R | undefined)[] | null;
}

/**
 * A batch's request values: an array, or `count` and `valueAt(i)`, called once per request, in
 * order, when request i is about to go out; its value is encoded at once and not kept. A
 * valueAt that throws fails that request alone, as a value that does not encode does.
 */
export type BatchValues<V = unknown> = readonly V[] | BatchSource<V>;

export interface BatchSource<V = unknown> {
  readonly count: number;
  valueAt(i: number): V;
}

export function isValueArray<V>(values: BatchValues<V>): values is readonly V[] {
  return Array.isArray(values);
}

/** The messages a batch needs, resolved on the connection it goes out on. */
export interface BatchPlan {
  readonly request: MessageDescriptor<unknown>;
  readonly requestId: number;
  readonly reply: MessageDescriptor<unknown>;
}

/**
 * One batch. `L` is the connection's link (the socket it was made for): a batch is encoded with
 * that link's ids and fails with it.
 */
export class Batch<L = unknown> implements Timed {
  /** The next request to send; [next, count) wait for window slots. */
  next = 0;
  /** Sent and not answered. */
  outstanding = 0;
  /** Not yet answered or failed; the batch resolves when it reaches 0. */
  unsettled: number;
  succeeded = 0;
  /** Counted in the connection's `queued` while requests wait to be sent. */
  waiting = true;
  done = false;
  /** The transport's receivedAt of the last reply that moved the deadline. */
  progressAt = -1;
  deadline = 0;
  timedPrev: Timed | null = null;
  timedNext: Timed | null = null;
  timedList: TimedList | null = null;
  readonly retvals: Int32Array;
  readonly errors: (Error | undefined)[];
  readonly replies: (unknown[] & { length: number }) | null;
  /** Requests in the batch. */
  readonly count: number;
  /** The values, when given as an array; else valueAt makes them. */
  private readonly values: readonly unknown[] | null;
  private readonly source: BatchSource<unknown> | null;
  /** 1 once a request is answered or failed: a second reply to it is not its answer. */
  private readonly settled: Uint8Array;

  constructor(
    readonly name: string,
    readonly link: L,
    readonly plan: BatchPlan,
    values: BatchValues,
    /** The context of request 0; request i has base + i. */
    readonly base: number,
    readonly seq: number,
    readonly timeoutMs: number,
    wantReplies: boolean,
    private readonly resolve: (r: BatchResult) => void,
  ) {
    if (isValueArray(values)) {
      this.values = values;
      this.source = null;
      this.count = values.length;
    } else {
      this.values = null;
      this.source = values;
      this.count = values.count;
    }
    const n = this.count;
    this.unsettled = n;
    this.retvals = new Int32Array(n);
    this.errors = new Array<Error | undefined>(n);
    this.replies = wantReplies ? new Array<unknown>(n) : null;
    this.settled = new Uint8Array(n);
  }

  /** Request i's value (valueAt is called here, once per request). */
  value(i: number): unknown {
    return this.values !== null ? this.values[i] : this.source!.valueAt(i);
  }

  /** The index of the request with `context`, or -1 when it is not one of this batch's. */
  indexOf(context: number): number {
    const i = context - this.base;
    return i >= 0 && i < this.count ? i : -1;
  }

  /** Whether request i is on the wire and waiting for its reply. */
  awaitingReply(i: number): boolean {
    return i < this.next && this.settled[i] === 0;
  }

  /** Request i was answered: retval (and the decoded reply when replies are kept). */
  answered(i: number, retval: number, error: Error | undefined, reply: unknown): void {
    this.settled[i] = 1;
    this.unsettled--;
    this.retvals[i] = retval;
    if (error === undefined) this.succeeded++;
    else this.errors[i] = error;
    if (this.replies !== null) this.replies[i] = reply;
  }

  /** Request i failed without a usable reply. */
  failed(i: number, error: Error): void {
    this.settled[i] = 1;
    this.unsettled--;
    this.errors[i] = error;
  }

  /** Fails every request not yet sent; returns how many. */
  failUnsent(error: Error): number {
    const from = this.next;
    for (let i = from; i < this.count; i++) this.failed(i, error);
    this.next = this.count;
    return this.count - from;
  }

  /** Fails every request on the wire; returns how many (the window slots they held). */
  failOutstanding(error: Error): number {
    let n = 0;
    for (let i = 0; i < this.next; i++) {
      if (this.settled[i] === 0) {
        this.failed(i, error);
        n++;
      }
    }
    this.outstanding = 0;
    return n;
  }

  /** Resolves the caller's promise (once). */
  settle(): void {
    if (this.done) return;
    this.done = true;
    this.resolve({
      count: this.count,
      succeeded: this.succeeded,
      failed: this.count - this.succeeded,
      retvals: this.retvals,
      errors: this.errors,
      replies: this.replies,
    });
  }
}
