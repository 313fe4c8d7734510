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
import { ApiFamilies } from '../exporters/api-families.js';
import os from 'node:os';
import path from 'node:path';
import type { Registry } from 'prom-client';
import { createVppClient, type VppClient } from '../binapi/index.js';
import { startEventPipeline, defaultSpoolDir, kafkaOptionsFromConfig } from '../sink/index.js';
import { startLinkEvents, createConfigActionRecorder, type RecordConfigAction } from '../events/index.js';

export interface RunningExporter {
  server: http.Server;
  stats: StatsClient;
  /** The exporter's own metrics; the event pipeline registers its metrics here too. */
  self: SelfMetrics;
  /** Version and interface state from the binary API; fed by startApiSide. */
  apiFamilies: ApiFamilies;
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
  const apiFamilies = new ApiFamilies();
  const handler = new MetricsHandler({ source, self, log, perThread: config['per-thread'], apiFamilies });
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
        gaugeFamilies: () => apiFamilies.gaugeFamilies(),
      },
      logger('otlp'),
    );
    self.observeOtlp(otlp.counters);
    await otlp.start();
    log.info({ endpoint, protocol: config['otlp.protocol'], intervalMs: config['otlp.interval'] }, 'OTLP push on');
  }
  return {
    server,
    stats,
    self,
    apiFamilies,
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

/**
 * The binary API side beside the exporter: the VPP client, the event pipeline (durable spool ->
 * Kafka, or JSON lines without Kafka) with link events and config-action records, and the REST
 * control API, each when enabled.
 */
export interface RunningApiSide {
  vpp: VppClient;
  /** The control API's base URL when it runs. */
  controlUrl: string | undefined;
  /** Where events go: Kafka brokers or the JSON-lines file (stdout when '-'). */
  eventsTo: string | undefined;
  stop(): Promise<void>;
}

export interface ApiSideOptions {
  control: boolean;
  events: boolean;
  /** A fixed control API token (the demo prints a random one). */
  token?: string;
}

export async function startApiSide(config: Config, exporter: RunningExporter, o: ApiSideOptions): Promise<RunningApiSide> {
  const instance = config.instance ?? os.hostname();
  const vpp = createVppClient({ socketPath: config['api-socket'], clientName: 'vpp-exporter' });
  const apiLog = logger('vpp-api');
  exporter.apiFamilies.attachVpp(vpp, (e) => apiLog.warn({ err: (e as Error).message }, 'show_version failed'));
  const stops: (() => Promise<void>)[] = [
    () => vpp.close(),
    () => {
      exporter.apiFamilies.close();
      return Promise.resolve();
    },
  ];
  const stop = async (): Promise<void> => {
    for (const f of stops.reverse()) await f();
  };
  try {
    let recordConfigAction: RecordConfigAction | undefined;
    let eventsTo: string | undefined;
    if (o.events) {
      const kafka = kafkaOptionsFromConfig(config);
      const file = config['events.file'] as string | undefined;
      const pipeline = await startEventPipeline({
        spoolDir: (config['spool.dir'] as string | undefined) ?? defaultSpoolDir(),
        spool: { maxBytes: config['spool.max-bytes'] as number },
        ...(kafka ? { kafka } : { jsonl: file !== undefined ? { file } : {} }),
        registers: [exporter.self.text, exporter.self.openMetrics as unknown as Registry],
        logger: logger('events'),
      });
      stops.push(() => pipeline.close());
      const spoolDir = (config['spool.dir'] as string | undefined) ?? defaultSpoolDir();
      const links = await startLinkEvents({ vpp, sink: pipeline, instance, stateDir: path.join(spoolDir, 'link-state'), logger: logger('link-events') });
      stops.push(() => links.stop());
      exporter.apiFamilies.attachInterfaces(links);
      recordConfigAction = createConfigActionRecorder({ sink: pipeline, instance, logger: logger('config-actions') });
      eventsTo = kafka ? `Kafka ${String(config['kafka.brokers'])}` : (file ?? 'stdout');
    }
    let controlUrl: string | undefined;
    if (o.control) {
      // Loaded only when the control API runs: fastify and its schemas cost ~20 MB of RSS.
      const { startControlApi, logAuditSink, configActionAuditSink } = await import('../control/index.js');
      const control = await startControlApi({
        config,
        vpp,
        stats: exporter.stats,
        audit: recordConfigAction ? configActionAuditSink(recordConfigAction) : logAuditSink(logger('audit')),
        log: logger('control'),
        ...(o.token !== undefined ? { token: o.token } : {}),
      });
      stops.push(() => control.close());
      controlUrl = control.url;
    }
    return { vpp, controlUrl, eventsTo, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

export async function runExporter(config: Config): Promise<number> {
  const file = config['stats-file'];
  const exporter = await startExporter(config, file !== undefined ? { filePath: file } : { socketPath: config['stats-socket'] });
  process.stdout.write(`vpp-exporter: metrics at ${exporter.url} (stats from ${file ?? config['stats-socket']})\n`);
  let api: RunningApiSide | undefined;
  if ((config.control === true || config.events === true) && file === undefined) {
    try {
      api = await startApiSide(config, exporter, { control: config.control === true, events: config.events === true });
    } catch (e) {
      await exporter.stop(); // a ConfigError (e.g. non-loopback without auth) exits 2
      throw e;
    }
    if (api.controlUrl) process.stdout.write(`vpp-exporter: control API at ${api.controlUrl} (VPP API ${config['api-socket']})\n`);
    if (api.eventsTo) process.stdout.write(`vpp-exporter: link events and config actions to ${api.eventsTo}\n`);
  }
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await api?.stop();
  await exporter.stop();
  return 0;
}
