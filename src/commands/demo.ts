/**
 * `vpp-exporter demo`: the built-in VPP simulator and the exporter against it (/metrics on the
 * usual port), plus a live summary every few seconds read through the same stats client. No
 * outside service is needed.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Config } from '../config.js';
import { logger } from '../log.js';
import { startStatsSimulator } from '../sim/index.js';
import { StatsClient, type DirectoryIndex, type Snapshot } from '../stats/index.js';
import { startApiSide, startExporter } from './run.js';

const SUMMARY_INTERVAL_MS = 5000;

interface Totals {
  at: number;
  rxPackets: bigint;
  txPackets: bigint;
  rxBytes: bigint;
  drops: bigint;
}

const PATHS = ['/if/names', '/if/rx', '/if/tx', '/if/drops', '/sys/heartbeat', '/sys/vector_rate', '/sys/num_worker_threads'];

function select(index: DirectoryIndex): number[] {
  return PATHS.flatMap((p) => {
    const e = index.get(p);
    return e ? [e.index] : [];
  });
}

function totals(snap: Snapshot): Totals & { interfaces: number; heartbeat: bigint; vectorRate: bigint } {
  const v = snap.view;
  const k = (p: string): number => {
    const e = snap.index.get(p);
    return e ? snap.slots.indexOf(e.index) : -1;
  };
  const sum = (p: string, word: number): bigint => {
    const i = k(p);
    if (i < 0) return 0n;
    const e = v.entry(i);
    let t = 0n;
    for (let j = 0; j < e.rowLengths[0]; j++) t += v.values[e.rowStarts[0] + j * e.width + word];
    return t;
  };
  const scalar = (p: string): bigint => (k(p) < 0 ? 0n : v.values[v.firstValueIndex(k(p))]);
  const names = k('/if/names') < 0 ? [] : (v.strings(k('/if/names')) ?? []);
  return {
    at: Date.now(),
    interfaces: names.filter((n) => n !== null && n !== 'deleted').length,
    rxPackets: sum('/if/rx', 0),
    rxBytes: sum('/if/rx', 1),
    txPackets: sum('/if/tx', 0),
    drops: sum('/if/drops', 0),
    heartbeat: scalar('/sys/heartbeat'),
    vectorRate: scalar('/sys/vector_rate'),
  };
}

export async function runDemo(config: Config, statsSocketGiven: boolean): Promise<number> {
  const log = logger('demo');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vpp-exporter-demo-'));
  const socketPath = statsSocketGiven ? config['stats-socket'] : path.join(dir, 'stats.sock');
  const apiSocketPath = path.join(dir, 'api.sock');
  const sim = await startStatsSimulator({
    interfaces: config.interfaces,
    workers: config.workers,
    rate: config.rate,
    seed: config.seed,
    // Log2 histograms (rx packet sizes, vectors per dispatch), which VPP 26.10 itself does not register.
    histograms: true,
    socketPath,
    apiSocketPath,
    flapIntervalMs: config['flap-interval'],
  });
  const exporter = await startExporter(config, { socketPath });
  // The demo's control API talks to the simulator, with a fresh random token printed below.
  const token = crypto.randomBytes(24).toString('base64url');
  // Events as JSON lines into a file beside the sockets (stdout carries the summary), unless
  // Kafka or a file is configured; the spool lives there too.
  const eventsFile = (config['events.file'] as string | undefined) ?? path.join(dir, 'events.jsonl');
  const api = await startApiSide(
    { ...config, 'api-socket': apiSocketPath, 'events.file': eventsFile, 'spool.dir': (config['spool.dir']) ?? path.join(dir, 'spool') },
    exporter,
    { control: true, events: true, token },
  );
  const client = new StatsClient({ socketPath, log: logger('stats') });
  process.stdout.write(
    `vpp-exporter demo\n` +
      `  simulated VPP: ${config.interfaces} interfaces, ${config.workers} worker(s), ${config.rate} packets/s per interface\n` +
      `  metrics:       ${exporter.url}   (try: curl -s ${exporter.url} | grep vpp_interface_rx_packets_total)\n` +
      `                 (a log2 histogram: curl -s ${exporter.url} | grep vpp_sim_rx_packet_bytes)\n` +
      `  control API:   ${api.controlUrl}   token ${token}\n` +
      `                 (try: curl -s -H 'Authorization: Bearer ${token}' ${api.controlUrl}/interfaces)\n` +
      `  link events:   ${api.eventsTo}   (flap a link: --flap-interval 5s, or PUT /interfaces/loop0 {"admin_up": false})\n` +
      `  stats socket:  ${socketPath}   (try: vpp-exporter stats dump --stats-socket ${socketPath} /if/rx)\n` +
      `  API socket:    ${apiSocketPath}\n` +
      (exporter.otlp ? `  OTLP push:     ${String(config['otlp.endpoint'])} every ${config['otlp.interval'] / 1000} s\n` : '') +
      `  a summary read through the stats client follows every ${SUMMARY_INTERVAL_MS / 1000} s; Ctrl-C stops.\n`,
  );
  let last: Totals | undefined;
  const tick = async (): Promise<void> => {
    const snap = await client.snapshot(select);
    if (!snap) {
      process.stdout.write(`stats: VPP not reachable (${client.lastError?.message ?? 'unknown'})\n`);
      return;
    }
    const t = totals(snap);
    const secs = last ? (t.at - last.at) / 1000 : 0;
    const rate = (now: bigint, before: bigint | undefined): string =>
      secs > 0 && before !== undefined ? (Number(now - before) / secs).toFixed(0) : '-';
    process.stdout.write(
      `epoch ${snap.index.epoch}  heartbeat ${t.heartbeat}  interfaces ${t.interfaces}  ` +
        `rx ${t.rxPackets} pkts (${rate(t.rxPackets, last?.rxPackets)}/s)  tx ${t.txPackets} pkts (${rate(t.txPackets, last?.txPackets)}/s)  ` +
        `drops ${t.drops}  vector rate ${t.vectorRate}\n`,
    );
    last = t;
  };
  await tick();
  const timer = setInterval(() => {
    tick().catch((e: unknown) => log.error({ err: e }, 'summary failed'));
  }, SUMMARY_INTERVAL_MS);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  clearInterval(timer);
  client.close();
  await api.stop();
  await exporter.stop();
  await sim.stop();
  fs.rmSync(dir, { recursive: true, force: true });
  return 0;
}
