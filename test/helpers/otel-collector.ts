/**
 * A real OpenTelemetry Collector for OTLP/gRPC tests: the core distribution built with the
 * collector's builder by scripts/peers/build-otelcol.sh into $VPP_EXPORTER_CACHE/bin/otelcol.
 * Its pipeline: otlp receiver (gRPC on a loopback port) -> otlp_http exporter -> a metrics
 * endpoint (Prometheus 3's OTLP receiver in the tests, which answers PromQL). The exporter's
 * sending queue is off, so a gRPC Export returns once the points are in Prometheus (and fails
 * when Prometheus refuses them). With `debug`, the debug exporter (verbosity detailed) also
 * prints every data point as the collector decoded it into logFile, where readDebugExports reads
 * them back. Killed when the test process exits.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { freePort, supervise } from './prometheus.js';
import { tmpDir } from './paths.js';

const BUILD_SCRIPT = 'scripts/peers/build-otelcol.sh';

export interface OtelCollector {
  /** http://127.0.0.1:<port>: the otlp receiver's gRPC endpoint. */
  grpcEndpoint: string;
  grpcPort: number;
  logFile: string;
  /** SIGTERM, then SIGKILL after 10 s. Idempotent. */
  stop: () => Promise<void>;
}

export interface StartCollectorOptions {
  /** Where the otlp_http exporter posts metrics (a full URL, e.g. Prometheus 3's OTLP endpoint). */
  metricsEndpoint?: string;
  /** Print every received data point into logFile (the debug exporter, verbosity detailed). */
  debug?: boolean;
  /** The receiver's gRPC port (default: a free one); the same port lets a test restart it. */
  grpcPort?: number;
}

function cacheRoot(): string {
  return process.env.VPP_EXPORTER_CACHE ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'vpp-exporter');
}

/** The collector binary; throws (naming the build script) when it is missing. */
export function collectorBinary(): string {
  const bin = path.join(cacheRoot(), 'bin', 'otelcol');
  try {
    fs.accessSync(bin, fs.constants.X_OK);
  } catch {
    throw new Error(`the OpenTelemetry Collector is not built at ${bin}: run ${BUILD_SCRIPT} (or scripts/peers/install-all.sh)`);
  }
  return bin;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Start the collector and wait until its receiver accepts connections (receivers start last). */
export async function startCollector(o: StartCollectorOptions): Promise<OtelCollector> {
  const bin = collectorBinary();
  const dir = tmpDir('vpp-exporter-otelcol-');
  const grpcPort = o.grpcPort ?? (await freePort());
  const exporters: Record<string, unknown> = {};
  if (o.metricsEndpoint !== undefined) {
    exporters.otlp_http = {
      metrics_endpoint: o.metricsEndpoint,
      compression: 'none',
      sending_queue: { enabled: false },
      retry_on_failure: { enabled: false },
    };
  }
  // Straight to stdout, unsampled (the internal logger samples after the first messages).
  if (o.debug) exporters.debug = { verbosity: 'detailed', use_internal_logger: false };
  if (Object.keys(exporters).length === 0) throw new Error('startCollector: give metricsEndpoint or debug');
  const config = {
    receivers: { otlp: { protocols: { grpc: { endpoint: `127.0.0.1:${grpcPort}` } } } },
    exporters,
    service: {
      pipelines: { metrics: { receivers: ['otlp'], exporters: Object.keys(exporters) } },
      telemetry: { metrics: { level: 'none' }, logs: { level: 'warn' } },
    },
  };
  const configFile = path.join(dir, 'otelcol.yaml');
  const logFile = path.join(dir, 'otelcol.log');
  fs.writeFileSync(configFile, JSON.stringify(config, null, 2) + '\n');
  const out = fs.openSync(logFile, 'a');
  const child = spawn(bin, [`--config=file:${configFile}`], { stdio: ['ignore', out, out], cwd: dir });
  fs.closeSync(out);
  const stop = supervise(child);
  const logTail = (): string => fs.readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n');
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await stop();
      throw new Error(`${bin} exited during start (${child.exitCode ?? child.signalCode}):\n${logTail()}`);
    }
    if (await accepts(grpcPort)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the collector's otlp receiver on 127.0.0.1:${grpcPort} did not come up:\n${logTail()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { grpcEndpoint: `http://127.0.0.1:${grpcPort}`, grpcPort, logFile, stop };
}

/** A data point as the debug exporter printed it. */
export interface DebugPoint {
  metric: string;
  dataType: string;
  /** StartTimestamp in ns since the epoch; 0 is "not set". */
  startTimeNs: bigint;
  timeNs: bigint;
  /** The Value line of a number point; undefined for histograms. */
  value: string | undefined;
}

/** Go's time.Time text as pdata prints timestamps (UTC), e.g. `2026-07-28 12:46:04.5 +0000 UTC`. */
function parseGoTime(text: string): bigint {
  const m = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(?:\.(\d{1,9}))? \+0000 UTC$/.exec(text);
  if (!m) throw new Error(`not a UTC timestamp: ${text}`);
  const seconds = BigInt(Date.parse(`${m[1]}T${m[2]}Z`) / 1000);
  return seconds * 1_000_000_000n + BigInt((m[3] ?? '').padEnd(9, '0'));
}

/**
 * The requests the debug exporter printed so far (one array of points per request), from its
 * detailed text: `Metrics {...}` opens a request, `-> Name:` and `-> DataType:` a metric, and
 * each point has its StartTimestamp, Timestamp and (number points) Value lines.
 */
export function readDebugExports(logFile: string): DebugPoint[][] {
  const requests: DebugPoint[][] = [];
  let metric = '';
  let dataType = '';
  let point: DebugPoint | undefined;
  // Name and DataType lines count only in a metric's descriptor (an attribute could be called Name).
  let descriptor = false;
  for (const line of fs.readFileSync(logFile, 'utf8').split('\n')) {
    let m: RegExpExecArray | null;
    if (/^Metrics\t\{/.test(line)) requests.push([]);
    else if (line === 'Descriptor:') descriptor = true;
    else if (descriptor && (m = /^ {5}-> Name: (.*)$/.exec(line))) metric = m[1];
    else if (descriptor && (m = /^ {5}-> DataType: (.*)$/.exec(line))) dataType = m[1];
    else if (/^(Number|Histogram)DataPoints #/.test(line)) descriptor = false;
    else if ((m = /^StartTimestamp: (.*)$/.exec(line))) {
      point = { metric, dataType, startTimeNs: parseGoTime(m[1]), timeNs: 0n, value: undefined };
      requests.at(-1)?.push(point);
    } else if ((m = /^Timestamp: (.*)$/.exec(line)) && point) point.timeNs = parseGoTime(m[1]);
    else if ((m = /^Value: (.*)$/.exec(line)) && point) point.value = m[1];
  }
  return requests;
}
