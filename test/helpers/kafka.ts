/**
 * A real Apache Kafka broker (KRaft, single node: broker + controller in one JVM) for tests.
 * The classpath comes from scripts/peers/install-kafka.sh (Maven Central jars in
 * $VPP_EXPORTER_CACHE/kafka/<version>/libs). Each broker gets a fresh log dir in a temporary
 * folder and two free loopback ports; it can be killed with SIGKILL and restarted on the same
 * ports and log dir. The JVM never outlives the test process: it is killed on exit, and a small
 * watchdog shell kills it should the test process itself die by SIGKILL.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT, tmpDir } from './paths.js';
import { freePort, registerChild, startWatchdog, waitForExit } from './prometheus.js';

const INSTALL_SCRIPT = 'scripts/peers/install-kafka.sh';

export interface KafkaInstall {
  version: string;
  dir: string;
  libs: string;
  log4j: string;
}

export interface StartKafkaOptions {
  /** PLAINTEXT listener port on 127.0.0.1 (default: a free one). */
  port?: number;
  /** CONTROLLER listener port on 127.0.0.1 (default: a free one). */
  controllerPort?: number;
  /** How long to wait for "Kafka Server started" (default 90 s). */
  startTimeoutMs?: number;
  /** Extra server.properties lines, e.g. { 'auto.create.topics.enable': 'false' }. */
  properties?: Record<string, string>;
}

export interface KafkaBroker {
  /** "127.0.0.1:<port>", for a client's brokers list. */
  brokers: string;
  port: number;
  controllerPort: number;
  /** The broker's temporary folder: server.properties, broker.log, data/. */
  dir: string;
  logFile: string;
  version: string;
  /** Milliseconds from spawning the JVM to "Kafka Server started", for the last (re)start. */
  startupMs: number;
  /** The JVM's pid, or undefined when it is not running. */
  pid: () => number | undefined;
  /** Graceful stop (SIGTERM, then SIGKILL after 20 s). Idempotent. */
  stop: () => Promise<void>;
  /** SIGKILL the JVM, as a crash would, and wait until it is gone. */
  kill9: () => Promise<void>;
  /** Start the JVM again on the same ports and log dir (stops it first if it runs). */
  restart: () => Promise<void>;
}

function cacheRoot(): string {
  return (
    process.env.VPP_EXPORTER_CACHE ??
    path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'vpp-exporter')
  );
}

/** Where install-kafka.sh put the broker; throws (naming the script) when it is not there. */
export function kafkaInstall(): KafkaInstall {
  const pom = fs.readFileSync(path.join(REPO_ROOT, 'scripts', 'peers', 'kafka', 'pom.xml'), 'utf8');
  const version = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(pom)?.[1];
  if (!version) throw new Error('no <kafka.version> in scripts/peers/kafka/pom.xml');
  const dir = path.join(cacheRoot(), 'kafka', version);
  const libs = path.join(dir, 'libs');
  const log4j = path.join(dir, 'log4j2.properties');
  if (!fs.existsSync(path.join(dir, '.installed')) || !fs.existsSync(path.join(libs, `kafka_2.13-${version}.jar`))) {
    throw new Error(`Kafka ${version} is not installed in ${dir}: run ${INSTALL_SCRIPT} (or scripts/peers/install-all.sh)`);
  }
  const java = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (java.error || java.status !== 0) {
    throw new Error(`no working java on PATH (Kafka ${version} needs Java 17+): see ${INSTALL_SCRIPT}`);
  }
  return { version, dir, libs, log4j };
}

/**
 * A random cluster id as Kafka's Uuid.toString() makes them: 16 bytes, base64url, unpadded. Like
 * Kafka's own generator, draw again when it starts with '-': StorageTool would read it as a flag.
 */
function clusterId(): string {
  for (;;) {
    const id = crypto.randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

function serverProperties(o: { port: number; cport: number; data: string; extra: Record<string, string> }): string {
  const p: Record<string, string> = {
    'process.roles': 'broker,controller',
    'node.id': '1',
    'controller.quorum.voters': `1@127.0.0.1:${o.cport}`,
    listeners: `PLAINTEXT://127.0.0.1:${o.port},CONTROLLER://127.0.0.1:${o.cport}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${o.port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    'log.dirs': o.data,
    'num.partitions': '1',
    'default.replication.factor': '1',
    'min.insync.replicas': '1',
    'offsets.topic.replication.factor': '1',
    'offsets.topic.num.partitions': '1',
    'transaction.state.log.replication.factor': '1',
    'transaction.state.log.min.isr': '1',
    'transaction.state.log.num.partitions': '1',
    'share.coordinator.state.topic.replication.factor': '1',
    'share.coordinator.state.topic.min.isr': '1',
    'group.initial.rebalance.delay.ms': '0',
    // After a kill -9 the restarted controller still holds the dead incarnation's registration
    // and refuses the new one until that session times out (default 9 s): keep it short.
    'broker.session.timeout.ms': '2500',
    'broker.heartbeat.interval.ms': '500',
    'auto.create.topics.enable': 'true',
    ...o.extra,
  };
  return Object.entries(p).map(([k, v]) => `${k}=${v}`).join('\n') + '\n';
}

function tail(file: string, lines = 40): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Start a single-node KRaft broker on 127.0.0.1 and wait until it serves. */
export async function startKafka(opts: StartKafkaOptions = {}): Promise<KafkaBroker> {
  const inst = kafkaInstall();
  const dir = tmpDir('vpp-exporter-kafka-');
  const data = path.join(dir, 'data');
  const logFile = path.join(dir, 'broker.log');
  const propsFile = path.join(dir, 'server.properties');
  const port = opts.port ?? (await freePort());
  let cport = opts.controllerPort ?? (await freePort());
  while (cport === port) cport = await freePort();
  const startTimeoutMs = opts.startTimeoutMs ?? 90_000;
  fs.writeFileSync(propsFile, serverProperties({ port, cport, data, extra: opts.properties ?? {} }));

  const cp = `${inst.libs}/*`;
  const jvmCommon = ['-Djava.awt.headless=true', `-Dlog4j2.configurationFile=${inst.log4j}`, '-cp', cp];
  const fmt = spawnSync(
    'java',
    ['-Xmx256m', ...jvmCommon, 'kafka.tools.StorageTool', 'format', '-t', clusterId(), '-c', propsFile, '--ignore-formatted'],
    { encoding: 'utf8', timeout: 60_000 },
  );
  if (fmt.status !== 0) {
    throw new Error(`kafka StorageTool format failed (${fmt.status ?? fmt.signal}): ${fmt.stderr}${fmt.stdout}`);
  }

  let child: ChildProcess | undefined;
  let watchdog: (() => void) | undefined;
  let unregister: (() => void) | undefined;

  const broker: KafkaBroker = {
    brokers: `127.0.0.1:${port}`,
    port,
    controllerPort: cport,
    dir,
    logFile,
    version: inst.version,
    startupMs: 0,
    pid: () => (child && child.exitCode === null && child.signalCode === null ? child.pid : undefined),
    stop: async () => {
      const c = child;
      if (!c) return;
      if (c.exitCode === null && c.signalCode === null) {
        c.kill('SIGTERM');
        if (!(await waitForExit(c, 20_000))) {
          c.kill('SIGKILL');
          await waitForExit(c, 10_000);
        }
      }
      cleanup();
    },
    kill9: async () => {
      const c = child;
      if (!c) return;
      if (c.exitCode === null && c.signalCode === null) {
        c.kill('SIGKILL');
        await waitForExit(c, 10_000);
      }
      cleanup();
    },
    restart: async () => {
      await broker.stop();
      await launch();
    },
  };

  function cleanup(): void {
    watchdog?.();
    unregister?.();
    watchdog = undefined;
    unregister = undefined;
    child = undefined;
  }

  async function launch(): Promise<void> {
    const offset = fs.existsSync(logFile) ? fs.statSync(logFile).size : 0;
    const out = fs.openSync(logFile, 'a');
    const t0 = performance.now();
    const c = spawn(
      'java',
      [
        '-Xms256m',
        '-Xmx512m',
        '-XX:+UseG1GC',
        '-XX:MaxGCPauseMillis=20',
        ...jvmCommon,
        'kafka.Kafka',
        propsFile,
      ],
      { stdio: ['ignore', out, out] },
    );
    fs.closeSync(out);
    child = c;
    unregister = registerChild(c);
    if (c.pid !== undefined) watchdog = startWatchdog(c.pid);
    const deadline = Date.now() + startTimeoutMs;
    for (;;) {
      if (c.exitCode !== null || c.signalCode !== null) {
        cleanup();
        throw new Error(`Kafka broker exited during start (${c.exitCode ?? c.signalCode}); log ${logFile}:\n${tail(logFile)}`);
      }
      const fd = fs.openSync(logFile, 'r');
      const size = fs.fstatSync(fd).size;
      const buf = Buffer.alloc(Math.max(0, size - offset));
      fs.readSync(fd, buf, 0, buf.length, offset);
      fs.closeSync(fd);
      if (buf.toString('utf8').includes('Kafka Server started')) break;
      if (Date.now() > deadline) {
        c.kill('SIGKILL');
        await waitForExit(c, 10_000);
        cleanup();
        throw new Error(`Kafka broker not started after ${startTimeoutMs} ms; log ${logFile}:\n${tail(logFile)}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    broker.startupMs = Math.round(performance.now() - t0);
  }

  await launch();
  return broker;
}
