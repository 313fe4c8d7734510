/** `vpp-exporter run`: the exporter against a real VPP. */
import type http from 'node:http';
import type { Config, ListenAddress } from '../config.js';
import { logger } from '../log.js';
import { StatsClient } from '../stats/index.js';
import { StatsSource } from '../exporters/stats-source.js';
import { SelfMetrics } from '../exporters/self-metrics.js';
import { MetricsHandler, createMetricsServer } from '../exporters/prometheus.js';
import { loadWebConfig } from '../web/web-config.js';
import { OtlpPusher } from '../exporters/otlp.js';
import os from 'node:os';
import { createVppClient, type VppClient } from '../binapi/index.js';

export interface RunningExporter {
  server: http.Server;
  stats: StatsClient;
  otlp: OtlpPusher | undefined;
  /** The address the metrics listener is bound to. */
  url: string;
  stop(): Promise<void>;
}

/** Symlinks the exporter never needs: interface and node names come from the name vectors. */
export const EXPORTER_SKIPPED_SYMLINKS = ['/interfaces/', '/nodes/'];

/** Where the stats come from: VPP's socket, or a segment image file (for tests and post-mortems). */
export type StatsOrigin = { socketPath: string } | { filePath: string };

export async function startExporter(config: Config, origin: StatsOrigin): Promise<RunningExporter> {
  const log = logger('exporter');
  const webFile = config['web.config.file'] as string | undefined;
  // Read before anything starts: a bad file is a configuration error (exit 2).
  const web = webFile !== undefined ? loadWebConfig(webFile) : undefined;
  const stats = new StatsClient({
    ...origin,
    skipSymlinkPrefixes: EXPORTER_SKIPPED_SYMLINKS,
    heartbeatTimeoutMs: 60_000,
    log: logger('stats'),
  });
  const source = new StatsSource(stats, {
    perThread: config['per-thread'],
    include: config['stats.include'],
    exclude: config['stats.exclude'],
  });
  const self = new SelfMetrics(stats, 'stats');
  const handler = new MetricsHandler({ source, self, log, perThread: config['per-thread'] });
  const server = createMetricsServer(handler, log, web);
  const addr: ListenAddress = config['web.listen-address'];
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(addr.port, addr.host === '' ? undefined : addr.host, () => resolve());
  });
  const bound = server.address();
  const port = typeof bound === 'object' && bound ? bound.port : addr.port;
  const host = addr.host === '' || addr.host === '0.0.0.0' ? 'localhost' : addr.host.includes(':') ? `[${addr.host}]` : addr.host;
  const url = `${web?.tls ? 'https' : 'http'}://${host}:${port}/metrics`;
  log.info({ url, ...origin }, 'metrics listener up');
  // Connect early so that the first scrape finds VPP mapped.
  await stats.connect();
  let otlp: OtlpPusher | undefined;
  const endpoint = config['otlp.endpoint'];
  if (endpoint !== undefined) {
    // Its own source: OTLP and /metrics read independently, neither waits for the other.
    otlp = new OtlpPusher(
      new StatsSource(stats, { perThread: config['per-thread'], include: config['stats.include'], exclude: config['stats.exclude'] }),
      {
        endpoint,
        protocol: config['otlp.protocol'],
        intervalMs: config['otlp.interval'],
        headers: config['otlp.headers'],
        resourceAttributes: config['otlp.resource-attributes'],
        instance: config.instance ?? os.hostname(),
        perThread: config['per-thread'],
      },
      logger('otlp'),
    );
    await otlp.start();
    log.info({ endpoint, protocol: config['otlp.protocol'], intervalMs: config['otlp.interval'] }, 'OTLP push on');
  }
  return {
    server,
    stats,
    otlp,
    url,
    async stop() {
      await otlp?.stop();
      stats.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The binary API client and the REST control API beside the exporter. */
export interface RunningControl {
  vpp: VppClient;
  url: string;
  stop(): Promise<void>;
}

export async function startControl(config: Config, exporter: RunningExporter, token?: string): Promise<RunningControl> {
  // Loaded only when the control API runs: fastify and its schemas cost ~20 MB of RSS.
  const { startControlApi, logAuditSink } = await import('../control/index.js');
  const vpp = createVppClient({ socketPath: config['api-socket'], clientName: 'vpp-exporter' });
  try {
    const control = await startControlApi({
      config,
      vpp,
      stats: exporter.stats,
      // Until the event pipeline is wired here, audit records go to the log (one line each).
      audit: logAuditSink(logger('audit')),
      log: logger('control'),
      ...(token !== undefined ? { token } : {}),
    });
    return {
      vpp,
      url: control.url,
      async stop() {
        await control.close();
        await vpp.close();
      },
    };
  } catch (e) {
    await vpp.close();
    throw e;
  }
}

export async function runExporter(config: Config): Promise<number> {
  const file = config['stats-file'];
  const exporter = await startExporter(config, file !== undefined ? { filePath: file } : { socketPath: config['stats-socket'] });
  process.stdout.write(`vpp-exporter: metrics at ${exporter.url} (stats from ${file ?? config['stats-socket']})\n`);
  let control: RunningControl | undefined;
  if (config.control === true && file === undefined) {
    try {
      control = await startControl(config, exporter);
    } catch (e) {
      await exporter.stop(); // a ConfigError (e.g. non-loopback without auth) exits 2
      throw e;
    }
    process.stdout.write(`vpp-exporter: control API at ${control.url} (VPP API ${config['api-socket']})\n`);
  }
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await control?.stop();
  await exporter.stop();
  return 0;
}
