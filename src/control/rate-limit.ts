/**
 * A token bucket per client IP: `rate` tokens per second, at most `burst` saved; a request takes
 * one. Buckets are kept in a Map in least-recently-used order and bounded: a full bucket is the
 * same as none, so idle ones are dropped first, then the least recently used.
 */

export interface RateLimitOptions {
  /** Tokens per second per client; 0 turns the limit off. */
  readonly rate: number;
  /** Bucket size (the burst a client may send at once). */
  readonly burst: number;
  /** Most clients tracked at once. Default 10000. */
  readonly maxClients?: number;
  /** The clock (ms); tests pass their own. */
  readonly now?: () => number;
}

export type RateDecision = { ok: true } | { ok: false; retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly maxClients: number;
  private readonly now: () => number;

  constructor(private readonly opts: RateLimitOptions) {
    if (!(opts.rate >= 0) || !Number.isFinite(opts.rate)) throw new RangeError(`rate must be a number >= 0, got ${opts.rate}`);
    if (opts.rate > 0 && !(opts.burst >= 1)) throw new RangeError(`burst must be >= 1, got ${opts.burst}`);
    this.maxClients = opts.maxClients ?? 10_000;
    this.now = opts.now ?? (() => performance.now());
  }

  get enabled(): boolean {
    return this.opts.rate > 0;
  }

  /** Clients tracked now. */
  get size(): number {
    return this.buckets.size;
  }

  take(client: string): RateDecision {
    if (!this.enabled) return { ok: true };
    const now = this.now();
    const { rate, burst } = this.opts;
    let b = this.buckets.get(client);
    if (b) {
      b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * rate);
      b.at = now;
      this.buckets.delete(client); // re-insert: most recently used last
    } else {
      b = { tokens: burst, at: now };
      if (this.buckets.size >= this.maxClients) this.evict(now);
    }
    this.buckets.set(client, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - b.tokens) / rate)) };
  }

  private evict(now: number): void {
    const { rate, burst } = this.opts;
    for (const [k, b] of this.buckets) {
      if (b.tokens + ((now - b.at) / 1000) * rate >= burst) this.buckets.delete(k);
    }
    while (this.buckets.size >= this.maxClients) {
      const oldest = this.buckets.keys().next();
      if (oldest.done) break;
      this.buckets.delete(oldest.value);
    }
  }
}
