/**
 * A real OTLP metrics receiver for push tests: Prometheus 3 with --web.enable-otlp-receiver,
 * built from the Go module proxy by scripts/peers/build-otlp-receiver.sh into
 * $VPP_EXPORTER_CACHE/bin/prometheus3. Tests push OTLP/HTTP (protobuf or JSON) to otlpHttpUrl
 * and read the values back with PromQL. Runs on a free loopback port with a temporary config and
 * data dir, and is killed when the test process exits.
 *
 * Prometheus' OTLP translation (translation_strategy UnderscoreEscapingWithSuffixes by default):
 * a monotonic cumulative sum `x` becomes `x_total`, units become suffixes (`By` -> `_bytes`),
 * resource attribute service.name becomes `job` and service.instance.id becomes `instance`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launchPrometheus, type PromSample, type PrometheusServer } from './prometheus.js';

const BUILD_SCRIPT = 'scripts/peers/build-otlp-receiver.sh';

export interface OtlpReceiver {
  /** The OTLP/HTTP metrics endpoint: http://127.0.0.1:<port>/api/v1/otlp/v1/metrics */
  otlpHttpUrl: string;
  /** The Prometheus base URL (PromQL API under /api/v1). */
  url: string;
  prometheus: PrometheusServer;
  query: (promql: string) => Promise<PromSample[]>;
  queryValue: (promql: string) => Promise<number | undefined>;
  waitForSeries: (promql: string, timeoutMs?: number) => Promise<PromSample[]>;
  /** POST one OTLP body (protobuf by default) to otlpHttpUrl; resolves to the HTTP status and body. */
  push: (body: Uint8Array | string, contentType?: string) => Promise<{ status: number; body: string }>;
  stop: () => Promise<void>;
}

export interface StartOtlpReceiverOptions {
  /** The `otlp:` section of prometheus.yml, e.g. { promote_resource_attributes: ['host.name'] }. */
  otlp?: Record<string, unknown>;
  /** Extra command-line flags, e.g. ['--enable-feature=otlp-deltatocumulative']. */
  extraArgs?: string[];
  /** Accept samples up to this old (storage.tsdb.out_of_order_time_window), default 10m. */
  outOfOrderWindow?: string;
}

function cacheRoot(): string {
  return (
    process.env.VPP_EXPORTER_CACHE ??
    path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'vpp-exporter')
  );
}

/** The Prometheus 3 binary; throws (naming the build script) when it is missing. */
export function otlpReceiverBinary(): string {
  const bin = path.join(cacheRoot(), 'bin', 'prometheus3');
  try {
    fs.accessSync(bin, fs.constants.X_OK);
  } catch {
    throw new Error(`the OTLP receiver (Prometheus 3) is not built at ${bin}: run ${BUILD_SCRIPT} (or scripts/peers/install-all.sh)`);
  }
  return bin;
}

/** Start Prometheus 3 as an OTLP receiver and wait until it is ready. */
export async function startOtlpReceiver(o: StartOtlpReceiverOptions = {}): Promise<OtlpReceiver> {
  const bin = otlpReceiverBinary();
  const config: Record<string, unknown> = {
    global: { evaluation_interval: '1s' },
    storage: { tsdb: { out_of_order_time_window: o.outOfOrderWindow ?? '10m' } },
    ...(o.otlp ? { otlp: o.otlp } : {}),
    scrape_configs: [],
  };
  const prometheus = await launchPrometheus({
    bin,
    config,
    extraArgs: ['--web.enable-otlp-receiver', ...(o.extraArgs ?? [])],
    what: 'Prometheus 3 (OTLP receiver)',
  });
  const otlpHttpUrl = `${prometheus.url}/api/v1/otlp/v1/metrics`;
  return {
    otlpHttpUrl,
    url: prometheus.url,
    prometheus,
    query: prometheus.query,
    queryValue: prometheus.queryValue,
    waitForSeries: prometheus.waitForSeries,
    push: async (body, contentType = 'application/x-protobuf') => {
      const r = await fetch(otlpHttpUrl, {
        method: 'POST',
        headers: { 'content-type': contentType },
        body: typeof body === 'string' ? body : Buffer.from(body),
        signal: AbortSignal.timeout(10_000),
      });
      return { status: r.status, body: await r.text() };
    },
    stop: prometheus.stop,
  };
}
