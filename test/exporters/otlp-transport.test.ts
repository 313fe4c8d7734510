/**
 * The OTLP transports' retry policy against real local servers (node:http and a @grpc/grpc-js
 * server that answer as a struggling collector would): only 429/502/503/504 and connection
 * failures are retried over HTTP, only UNAVAILABLE and RESOURCE_EXHAUSTED with a RetryInfo over
 * gRPC; Retry-After and RetryInfo delays are honoured; nothing waits past the deadline or an
 * abort; partial success is read from the answer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import * as grpc from '@grpc/grpc-js';
import { GrpcTransport, HttpTransport, RAW_METRICS_SERVICE, sendWithRetry, parseRetryAfter, type OtlpTransport } from '../../src/exporters/otlp-transport.js';
import { freePort } from '../helpers/prometheus.js';

interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: Uint8Array;
}

/** An HTTP server that answers the i-th request with answers[i] (the last one repeats). */
async function httpPeer(answers: Answer[]): Promise<{ url: string; seen: { at: number; headers: http.IncomingHttpHeaders; bytes: number }[]; close: () => Promise<void> }> {
  const seen: { at: number; headers: http.IncomingHttpHeaders; bytes: number }[] = [];
  const server = http.createServer((req, res) => {
    let bytes = 0;
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => {
      const a = answers[Math.min(seen.length, answers.length - 1)];
      seen.push({ at: Date.now(), headers: req.headers, bytes });
      res.writeHead(a.status, { 'content-type': 'application/x-protobuf', ...a.headers });
      res.end(a.body ? Buffer.from(a.body) : undefined);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/v1/metrics`,
    seen,
    close: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

const BODY = Uint8Array.from([0x0a, 0x00]); // an ExportMetricsServiceRequest with one empty ResourceMetrics
const never = new AbortController().signal;

async function timed(t: OtlpTransport, deadlineMs: number, signal = never): Promise<Awaited<ReturnType<typeof sendWithRetry>> & { ms: number }> {
  const t0 = Date.now();
  const r = await sendWithRetry(t, BODY, Date.now() + deadlineMs, signal);
  return { ...r, ms: Date.now() - t0 };
}

test('HTTP: 503 with Retry-After is retried after that delay (not the backoff), headers and body go out', async () => {
  const peer = await httpPeer([{ status: 503, headers: { 'retry-after': '2' } }, { status: 200 }]);
  const t = new HttpTransport(peer.url, { 'x-tenant': 'a' });
  try {
    const r = await timed(t, 10_000);
    assert.equal(r.outcome.ok, true);
    assert.equal(r.retries, 1);
    assert.equal(peer.seen.length, 2);
    assert.ok(peer.seen[1].at - peer.seen[0].at >= 1900, `retried after ${peer.seen[1].at - peer.seen[0].at} ms`);
    assert.equal(peer.seen[0].headers['x-tenant'], 'a');
    assert.equal(peer.seen[0].headers['content-type'], 'application/x-protobuf');
    assert.equal(peer.seen[0].bytes, BODY.length);
  } finally {
    t.close();
    await peer.close();
  }
});

test('HTTP: 429 without Retry-After is retried after a backoff of about a second', async () => {
  const peer = await httpPeer([{ status: 429 }, { status: 502 }, { status: 200 }]);
  const t = new HttpTransport(peer.url, {});
  try {
    const r = await timed(t, 20_000);
    assert.equal(r.outcome.ok, true);
    assert.equal(r.retries, 2);
    const gap = peer.seen[1].at - peer.seen[0].at;
    assert.ok(gap >= 750 && gap < 3000, `first backoff ${gap} ms`);
  } finally {
    t.close();
    await peer.close();
  }
});

for (const status of [400, 401, 413, 500]) {
  test(`HTTP: ${status} is not retried`, async () => {
    const peer = await httpPeer([{ status }, { status: 200 }]);
    const t = new HttpTransport(peer.url, {});
    try {
      const r = await timed(t, 10_000);
      assert.equal(r.outcome.ok, false);
      assert.equal(!r.outcome.ok && r.outcome.retryable, false);
      assert.equal(peer.seen.length, 1);
    } finally {
      t.close();
      await peer.close();
    }
  });
}

test('HTTP: a Retry-After past the deadline ends the export at once; retries stop at the deadline', async () => {
  const peer = await httpPeer([{ status: 503, headers: { 'retry-after': '30' } }]);
  const t = new HttpTransport(peer.url, {});
  try {
    const r = await timed(t, 3000);
    assert.equal(r.outcome.ok, false);
    assert.equal(peer.seen.length, 1);
    assert.ok(r.ms < 1000, `gave up after ${r.ms} ms`);
  } finally {
    t.close();
    await peer.close();
  }
  // Nobody listening: connection refused is retried, with backoff, until the deadline.
  const closed = new HttpTransport(`http://127.0.0.1:${await freePort()}/v1/metrics`, {});
  try {
    const r = await timed(closed, 2500);
    assert.equal(r.outcome.ok, false);
    assert.equal(!r.outcome.ok && r.outcome.retryable, true);
    assert.ok(r.retries >= 1, `${r.retries} retries`);
    assert.ok(r.ms < 3500, `bounded by the deadline: ${r.ms} ms`);
  } finally {
    closed.close();
  }
});

test('HTTP: an abort ends a retry wait at once', async () => {
  const peer = await httpPeer([{ status: 503, headers: { 'retry-after': '5' } }]);
  const t = new HttpTransport(peer.url, {});
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 300);
  try {
    const r = await timed(t, 20_000, ac.signal);
    assert.equal(r.outcome.ok, false);
    assert.ok(r.ms < 2000, `returned after ${r.ms} ms`);
  } finally {
    t.close();
    await peer.close();
  }
});

test('HTTP: partial success in the answer is reported', async () => {
  // ExportMetricsServiceResponse{partial_success{rejected_data_points: 3, error_message: "bad"}}
  const body = Uint8Array.from([0x0a, 0x07, 0x08, 0x03, 0x12, 0x03, 0x62, 0x61, 0x64]);
  const peer = await httpPeer([{ status: 200, body }]);
  const t = new HttpTransport(peer.url, {});
  try {
    const r = await timed(t, 5000);
    assert.deepEqual(r.outcome, { ok: true, rejectedDataPoints: 3, message: 'bad' });
  } finally {
    t.close();
    await peer.close();
  }
});

test('Retry-After takes seconds or an HTTP date', () => {
  assert.equal(parseRetryAfter('3'), 3000);
  const d = parseRetryAfter(new Date(Date.now() + 10_000).toUTCString())!;
  assert.ok(d > 8000 && d <= 10_000, String(d));
  assert.equal(parseRetryAfter('soon'), undefined);
  assert.equal(parseRetryAfter(undefined), undefined);
});

/** google.rpc.Status{code 8, details: [Any{RetryInfo{retry_delay: Duration{seconds, nanos}}}]}. */
function retryInfoStatus(seconds: number, nanos: number): Buffer {
  const varint = (n: number): number[] => {
    const out: number[] = [];
    while (n >= 0x80) {
      out.push((n & 0x7f) | 0x80);
      n = Math.floor(n / 128);
    }
    out.push(n);
    return out;
  };
  const len = (field: number, b: number[]): number[] => [(field << 3) | 2, ...varint(b.length), ...b];
  const duration = [0x08, ...varint(seconds), 0x10, ...varint(nanos)];
  const retryInfo = len(1, duration);
  const any = [...len(1, [...Buffer.from('type.googleapis.com/google.rpc.RetryInfo')]), ...len(2, retryInfo)];
  return Buffer.from([0x08, 8, ...len(3, any)]);
}

async function grpcPeer(answers: (grpc.ServiceError | null)[]): Promise<{ endpoint: string; seen: number[]; close: () => Promise<void> }> {
  const seen: number[] = [];
  const server = new grpc.Server();
  server.addService(
    RAW_METRICS_SERVICE,
    {
      Export: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, done: grpc.sendUnaryData<Buffer>) => {
        const a = answers[Math.min(seen.length, answers.length - 1)];
        seen.push(Date.now());
        if (a) done(a);
        else done(null, Buffer.alloc(0));
      },
    },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  return { endpoint: `http://127.0.0.1:${port}`, seen, close: () => new Promise((r) => server.tryShutdown(() => r())) };
}

function grpcError(code: grpc.status, details?: Buffer): grpc.ServiceError {
  const metadata = new grpc.Metadata();
  if (details) metadata.set('grpc-status-details-bin', details);
  return Object.assign(new Error('peer'), { code, details: 'peer says so', metadata });
}

test('gRPC: RESOURCE_EXHAUSTED with a RetryInfo is retried after its delay; without one it is not', async () => {
  const peer = await grpcPeer([grpcError(grpc.status.RESOURCE_EXHAUSTED, retryInfoStatus(1, 500_000_000)), null]);
  const t = new GrpcTransport(peer.endpoint, {});
  try {
    const r = await timed(t, 10_000);
    assert.equal(r.outcome.ok, true, JSON.stringify(r.outcome));
    assert.equal(peer.seen.length, 2);
    assert.ok(peer.seen[1] - peer.seen[0] >= 1400, `retried after ${peer.seen[1] - peer.seen[0]} ms`);
  } finally {
    t.close();
    await peer.close();
  }
  const plain = await grpcPeer([grpcError(grpc.status.RESOURCE_EXHAUSTED), null]);
  const t2 = new GrpcTransport(plain.endpoint, {});
  try {
    const r = await timed(t2, 10_000);
    assert.equal(r.outcome.ok, false);
    assert.equal(plain.seen.length, 1);
  } finally {
    t2.close();
    await plain.close();
  }
});

test('gRPC: UNAVAILABLE is retried, INVALID_ARGUMENT is not', async () => {
  const peer = await grpcPeer([grpcError(grpc.status.UNAVAILABLE), null]);
  const t = new GrpcTransport(peer.endpoint, {});
  try {
    const r = await timed(t, 10_000);
    assert.equal(r.outcome.ok, true);
    assert.equal(r.retries, 1);
  } finally {
    t.close();
    await peer.close();
  }
  const bad = await grpcPeer([grpcError(grpc.status.INVALID_ARGUMENT), null]);
  const t2 = new GrpcTransport(bad.endpoint, {});
  try {
    const r = await timed(t2, 10_000);
    assert.equal(r.outcome.ok, false);
    assert.equal(!r.outcome.ok && r.outcome.retryable, false);
    assert.equal(bad.seen.length, 1);
  } finally {
    t2.close();
    await bad.close();
  }
});
