/**
 * Sends encoded OTLP ExportMetricsServiceRequest bodies over http/protobuf (POST, node:http) or
 * grpc (@grpc/grpc-js, unary MetricsService/Export with the bytes passed through untouched), and
 * the retry policy of the OpenTelemetry JS exporters: retry only what the receiver says is
 * transient (HTTP 429/502/503/504 and connection failures; gRPC UNAVAILABLE, and
 * RESOURCE_EXHAUSTED when it carries a RetryInfo), after the receiver's Retry-After / RetryInfo
 * delay or an exponential backoff (1 s, x1.5, at most 5 s, +-20 % jitter), at most 5 retries and
 * never past the export's deadline. Everything can be aborted (shutdown).
 */
import http from 'node:http';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { VERSION } from './self-metrics.js';

export type SendOutcome =
  | { ok: true; rejectedDataPoints: number; message: string }
  | { ok: false; retryable: boolean; retryAfterMs?: number; error: string };

export interface OtlpTransport {
  send(body: Uint8Array, timeoutMs: number, signal: AbortSignal): Promise<SendOutcome>;
  close(): void;
}

const USER_AGENT = `vpp-exporter/${VERSION}`;

// ---- a minimal protobuf reader for the receiver's answers -------------------------------------
/** Calls `field` for each top-level field of a message: varints as numbers, LEN fields as bytes. */
function readFields(b: Uint8Array, field: (no: number, value: number | Uint8Array) => void): void {
  let at = 0;
  const varint = (): number => {
    let v = 0;
    let mul = 1;
    for (;;) {
      if (at >= b.length) throw new RangeError('truncated varint');
      const x = b[at++];
      v += (x & 0x7f) * mul;
      if (x < 0x80) return v;
      mul *= 128;
    }
  };
  while (at < b.length) {
    const key = varint();
    const wire = key & 7;
    const no = Math.floor(key / 8);
    if (wire === 0) field(no, varint());
    else if (wire === 2) {
      const n = varint();
      if (at + n > b.length) throw new RangeError('truncated field');
      field(no, b.subarray(at, at + n));
      at += n;
    } else if (wire === 1) at += 8;
    else if (wire === 5) at += 4;
    else throw new RangeError(`wire type ${wire}`);
  }
}

/** ExportMetricsServiceResponse{1 partial_success{1 rejected_data_points, 2 error_message}}. */
export function parseExportResponse(b: Uint8Array): { rejectedDataPoints: number; message: string } {
  let rejectedDataPoints = 0;
  let message = '';
  readFields(b, (no, v) => {
    if (no !== 1 || typeof v === 'number') return;
    readFields(v, (n2, v2) => {
      if (n2 === 1 && typeof v2 === 'number') rejectedDataPoints = v2;
      if (n2 === 2 && typeof v2 !== 'number') message = Buffer.from(v2).toString('utf8');
    });
  });
  return { rejectedDataPoints, message };
}

/** The retry delay of a google.rpc.Status's RetryInfo detail (grpc-status-details-bin), if any. */
export function retryInfoDelayMs(statusDetails: Uint8Array): number | undefined {
  let delay: number | undefined;
  // Status{3 details: Any{1 type_url, 2 value}}; RetryInfo{1 retry_delay: Duration{1 seconds, 2 nanos}}
  readFields(statusDetails, (no, any) => {
    if (no !== 3 || typeof any === 'number') return;
    let type = '';
    let value: Uint8Array | undefined;
    readFields(any, (n, v) => {
      if (n === 1 && typeof v !== 'number') type = Buffer.from(v).toString('utf8');
      if (n === 2 && typeof v !== 'number') value = v;
    });
    if (!type.endsWith('/google.rpc.RetryInfo') || !value) return;
    readFields(value, (n, d) => {
      if (n !== 1 || typeof d === 'number') return;
      let seconds = 0;
      let nanos = 0;
      readFields(d, (dn, dv) => {
        if (dn === 1 && typeof dv === 'number') seconds = dv;
        if (dn === 2 && typeof dv === 'number') nanos = dv;
      });
      delay = seconds * 1000 + nanos / 1e6;
    });
  });
  return delay;
}

// ---- http/protobuf ----------------------------------------------------------------------------
const RETRYABLE_HTTP = new Set([429, 502, 503, 504]);
const RETRYABLE_NETWORK = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
const MAX_RESPONSE_BYTES = 64 * 1024;

/** Retry-After: delay-seconds or an HTTP date. */
export function parseRetryAfter(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (/^\s*\d+\s*$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

export class HttpTransport implements OtlpTransport {
  private readonly url: URL;
  private readonly agent: http.Agent;
  private readonly request: typeof http.request;

  constructor(
    endpoint: string,
    private readonly headers: Record<string, string>,
  ) {
    this.url = new URL(endpoint);
    const secure = this.url.protocol === 'https:';
    // One connection, kept alive: requests go one at a time.
    this.agent = secure ? new https.Agent({ keepAlive: true, maxSockets: 1 }) : new http.Agent({ keepAlive: true, maxSockets: 1 });
    this.request = secure ? https.request : http.request;
  }

  send(body: Uint8Array, timeoutMs: number, signal: AbortSignal): Promise<SendOutcome> {
    return new Promise((resolve) => {
      const req = this.request(
        this.url,
        {
          method: 'POST',
          agent: this.agent,
          signal,
          headers: { ...this.headers, 'content-type': 'application/x-protobuf', 'content-length': body.length, 'user-agent': USER_AGENT },
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size <= MAX_RESPONSE_BYTES) chunks.push(c);
          });
          res.on('error', (e) => resolve({ ok: false, retryable: true, error: e.message }));
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            const text = Buffer.concat(chunks);
            if (status >= 200 && status < 300) {
              try {
                resolve({ ok: true, ...parseExportResponse(text) });
              } catch {
                resolve({ ok: true, rejectedDataPoints: 0, message: '' });
              }
            } else {
              resolve({
                ok: false,
                retryable: RETRYABLE_HTTP.has(status),
                retryAfterMs: parseRetryAfter(res.headers['retry-after']),
                error: `HTTP ${status}: ${text.toString('utf8', 0, 200)}`,
              });
            }
          });
        },
      );
      req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error(`no answer in ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
      req.on('error', (e: NodeJS.ErrnoException) => resolve({ ok: false, retryable: RETRYABLE_NETWORK.has(e.code ?? ''), error: e.message }));
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

// ---- grpc -------------------------------------------------------------------------------------
const EXPORT_METHOD = '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export';
const rawBuffer = (b: Buffer): Buffer => b;

/**
 * MetricsService/Export with the protobuf bodies passed through as bytes: what a receiver that
 * only counts or decodes the requests itself registers (the benchmark's sink, tests' peers).
 */
export const RAW_METRICS_SERVICE: grpc.ServiceDefinition = {
  Export: {
    path: EXPORT_METHOD,
    requestStream: false,
    responseStream: false,
    requestSerialize: rawBuffer,
    requestDeserialize: rawBuffer,
    responseSerialize: rawBuffer,
    responseDeserialize: rawBuffer,
  },
};

/** `http://host:port` (plaintext), `https://host:port` (TLS) or a bare `host:port` (plaintext). */
export function grpcTarget(endpoint: string): { address: string; secure: boolean } {
  const m = /^(https?):\/\/([^/]+)\/?$/.exec(endpoint);
  if (m) return { address: m[2], secure: m[1] === 'https' };
  if (/^[^/]+:\d+$/.test(endpoint)) return { address: endpoint, secure: false };
  throw new Error(`OTLP/gRPC endpoint ${endpoint}: expected http://host:port, https://host:port or host:port`);
}

const passThrough = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

export class GrpcTransport implements OtlpTransport {
  private readonly client: grpc.Client;
  private readonly metadata = new grpc.Metadata();

  constructor(endpoint: string, headers: Record<string, string>) {
    const { address, secure } = grpcTarget(endpoint);
    this.client = new grpc.Client(address, secure ? grpc.credentials.createSsl() : grpc.credentials.createInsecure(), {
      'grpc.primary_user_agent': USER_AGENT,
      // A collector that restarts is reconnected to within seconds, not after grpc-js' default
      // backoff of up to 2 minutes.
      'grpc.initial_reconnect_backoff_ms': 1000,
      'grpc.max_reconnect_backoff_ms': 5000,
    });
    for (const [k, v] of Object.entries(headers)) this.metadata.set(k.toLowerCase(), v);
  }

  send(body: Uint8Array, timeoutMs: number, signal: AbortSignal): Promise<SendOutcome> {
    return new Promise((resolve) => {
      // grpc-js frames the message into its own buffer; the caller's stays untouched.
      const call = this.client.makeUnaryRequest<Uint8Array, Buffer>(
        EXPORT_METHOD,
        passThrough,
        rawBuffer,
        body,
        this.metadata.clone(),
        { deadline: Date.now() + timeoutMs },
        (err, res) => {
          signal.removeEventListener('abort', cancel);
          if (!err) {
            try {
              resolve({ ok: true, ...parseExportResponse(res ?? Buffer.alloc(0)) });
            } catch {
              resolve({ ok: true, rejectedDataPoints: 0, message: '' });
            }
            return;
          }
          let retryAfterMs: number | undefined;
          const details = err.metadata?.get('grpc-status-details-bin')[0];
          if (details instanceof Buffer) {
            try {
              retryAfterMs = retryInfoDelayMs(details);
            } catch {
              retryAfterMs = undefined;
            }
          }
          const retryable = err.code === grpc.status.UNAVAILABLE || (err.code === grpc.status.RESOURCE_EXHAUSTED && retryAfterMs !== undefined);
          resolve({ ok: false, retryable, retryAfterMs, error: `gRPC ${grpc.status[err.code]}: ${err.details}` });
        },
      );
      const cancel = (): void => call.cancel();
      if (signal.aborted) call.cancel();
      else signal.addEventListener('abort', cancel, { once: true });
    });
  }

  close(): void {
    this.client.close();
  }
}

// ---- the retry policy -------------------------------------------------------------------------
const MAX_RETRIES = 5;
const INITIAL_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 5000;
const BACKOFF_MULTIPLIER = 1.5;
const JITTER = 0.2;

/** Sends one body, retrying transient failures until `deadline` (ms since the epoch). */
export async function sendWithRetry(
  transport: OtlpTransport,
  body: Uint8Array,
  deadline: number,
  signal: AbortSignal,
): Promise<{ outcome: SendOutcome; retries: number }> {
  let backoff = INITIAL_BACKOFF_MS;
  let retries = 0;
  for (;;) {
    const outcome = await transport.send(body, Math.max(1, deadline - Date.now()), signal);
    if (outcome.ok || !outcome.retryable || retries >= MAX_RETRIES || signal.aborted) return { outcome, retries };
    const jittered = Math.min(backoff * (1 + (Math.random() * 2 - 1) * JITTER), MAX_BACKOFF_MS);
    backoff *= BACKOFF_MULTIPLIER;
    const wait = outcome.retryAfterMs ?? jittered;
    if (Date.now() + wait >= deadline) return { outcome, retries };
    try {
      await sleep(wait, undefined, { signal });
    } catch {
      return { outcome, retries }; // aborted: shutting down
    }
    retries++;
  }
}
