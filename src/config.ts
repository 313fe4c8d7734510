/**
 * The one validated configuration: defaults, then a JSON config file, then environment
 * variables (VPP_EXPORTER_<FLAG>, e.g. VPP_EXPORTER_STATS_SOCKET), then command-line flags.
 * A bad value is a ConfigError, which the CLI turns into exit code 2 with the message.
 */
import fs from 'node:fs';
import { LOG_LEVELS } from './log.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Kind = 'string' | 'int' | 'bool' | 'path' | 'listen' | 'level' | 'regex-list' | 'enum' | 'duration-ms' | 'key-values';

interface OptionSpec {
  kind: Kind;
  default: unknown;
  help: string;
  min?: number;
  max?: number;
  values?: readonly string[];
}

/** Every option, by its flag name (without the leading dashes). */
export const OPTIONS = {
  'config': { kind: 'path', default: undefined, help: 'JSON configuration file' },
  'stats-socket': { kind: 'path', default: '/run/vpp/stats.sock', help: "VPP's stats socket" },
  'stats-file': { kind: 'path', default: undefined, help: 'read a stats segment image file instead of the socket' },
  'api-socket': { kind: 'path', default: '/run/vpp/api.sock', help: "VPP's binary API socket" },
  'web.listen-address': { kind: 'listen', default: ':9482', help: 'address for /metrics' },
  'web.config.file': { kind: 'path', default: undefined, help: 'exporter-toolkit web config (TLS, basic auth)' },
  'control.listen-address': { kind: 'listen', default: '127.0.0.1:9483', help: 'address of the REST control API' },
  'control.token-file': { kind: 'path', default: undefined, help: 'file holding the control API bearer token' },
  'control.public-reads': { kind: 'bool', default: false, help: 'allow GET /interfaces and /routes without credentials' },
  'control.rate-limit': { kind: 'int', default: 100, min: 0, max: 1_000_000, help: 'control API requests per second per client IP (0: no limit)' },
  'control.rate-burst': { kind: 'int', default: 200, min: 1, max: 1_000_000, help: 'control API burst per client IP' },
  'control.body-limit': { kind: 'int', default: 8 * 1024 * 1024, min: 1024, max: 1024 * 1024 * 1024, help: 'largest control API request body (bytes)' },
  'control.request-timeout': { kind: 'duration-ms', default: 30_000, min: 1000, help: 'time to receive a whole control API request' },
  'control.url': { kind: 'string', default: undefined, help: 'control API base URL for the routes/interfaces commands (default http://<control.listen-address>)' },
  'direct': { kind: 'bool', default: false, help: "routes/interfaces: use VPP's API socket directly instead of the control API" },
  'control': { kind: 'bool', default: true, help: 'run the REST control API (run: needs a token or basic auth to accept requests)' },
  'kafka.brokers': { kind: 'string', default: undefined, help: 'comma-separated Kafka bootstrap brokers' },
  'kafka.topic.link-events': { kind: 'string', default: 'vpp.link-events', help: 'topic for link events' },
  'kafka.topic.config-actions': { kind: 'string', default: 'vpp.config-actions', help: 'topic for config actions' },
  'kafka.client-id': { kind: 'string', default: 'vpp-exporter', help: 'Kafka client id' },
  'kafka.topic.interface-state': { kind: 'string', default: 'vpp.interface-state', help: 'compacted topic with the latest state per interface' },
  'kafka.tls': { kind: 'bool', default: false, help: 'connect to Kafka over TLS (implied by any kafka.tls.* option)' },
  'kafka.tls.ca-file': { kind: 'path', default: undefined, help: 'PEM CA bundle for the Kafka brokers (default: system CAs)' },
  'kafka.tls.cert-file': { kind: 'path', default: undefined, help: 'PEM client certificate for Kafka (mutual TLS)' },
  'kafka.tls.key-file': { kind: 'path', default: undefined, help: 'PEM private key of kafka.tls.cert-file' },
  'kafka.tls.insecure-skip-verify': { kind: 'bool', default: false, help: "do not verify the Kafka brokers' certificates (testing only)" },
  'kafka.sasl.mechanism': { kind: 'enum', default: undefined, values: ['plain', 'scram-sha-256', 'scram-sha-512'], help: 'Kafka SASL mechanism (none when unset)' },
  'kafka.sasl.username': { kind: 'string', default: undefined, help: 'Kafka SASL user name' },
  'kafka.sasl.password-file': { kind: 'path', default: undefined, help: 'file holding the Kafka SASL password' },
  'kafka.compression': { kind: 'enum', default: 'none', values: ['none', 'gzip'], help: 'compression of produced Kafka batches' },
  'kafka.create-topics': { kind: 'bool', default: true, help: 'create missing Kafka topics (partitions and configs in docs/events.md)' },
  'kafka.partitions': { kind: 'int', default: 6, min: 1, max: 10000, help: 'partitions of the Kafka topics the exporter creates' },
  'kafka.replication-factor': { kind: 'int', default: -1, min: -1, max: 32767, help: "replication factor of created topics (-1: the broker's default)" },
  'spool.max-bytes': { kind: 'int', default: 268435456, min: 65536, max: 2 ** 40, help: 'bound of the event spool on disk (bytes)' },
  'events.file': { kind: 'path', default: undefined, help: 'without Kafka: append events as JSON lines to this file (default stdout)' },
  'events': { kind: 'bool', default: true, help: 'forward link events and config actions (Kafka when kafka.brokers is set, else JSON lines); --no-events turns it off' },
  'spool.dir': { kind: 'path', default: undefined, help: 'directory of the durable event spool' },
  'otlp.endpoint': { kind: 'string', default: undefined, help: 'OTLP collector endpoint' },
  'otlp.protocol': { kind: 'enum', default: 'http/protobuf', values: ['http/protobuf', 'grpc'], help: 'OTLP protocol' },
  'otlp.interval': { kind: 'duration-ms', default: 15000, min: 50, help: 'OTLP push interval (ms, or 15s/1m); also the time an export may take, retries included (at most 30 s)' },
  'otlp.headers': { kind: 'key-values', default: {}, help: 'OTLP request headers, k=v,k2=v2' },
  'otlp.resource-attributes': { kind: 'key-values', default: {}, help: 'extra OTLP resource attributes, k=v,k2=v2' },
  'instance': { kind: 'string', default: undefined, help: 'name of this VPP instance in events and OTLP (default: host name)' },
  'per-thread': { kind: 'bool', default: false, help: 'export per-thread series with a thread label' },
  'stats.include': { kind: 'regex-list', default: [], help: 'only stat paths matching one of these regexes' },
  'stats.exclude': { kind: 'regex-list', default: [], help: 'leave out stat paths matching one of these regexes' },
  'log.level': { kind: 'level', default: 'info', help: 'log level' },
  // Simulator
  'interfaces': { kind: 'int', default: 8, min: 0, max: 1_000_000, help: 'simulated interfaces' },
  'workers': { kind: 'int', default: 1, min: 0, max: 64, help: 'simulated worker threads' },
  'rate': { kind: 'int', default: 1000, min: 0, max: 1e9, help: 'packets/s per interface; 0 freezes every counter' },
  'seed': { kind: 'int', default: 1, min: 0, max: 2 ** 31 - 1, help: 'seed for a repeatable simulation' },
  'flap-interval': { kind: 'duration-ms', default: 0, min: 0, max: 86_400_000, help: 'simulated link flap interval (0: none)' },
  'histograms': { kind: 'bool', default: false, help: 'simulated log2 histograms of rx packet sizes and vector sizes (/sim/rx-*; the demo always has them)' },
  'json': { kind: 'bool', default: false, help: 'print JSON' },
} as const satisfies Record<string, OptionSpec>;

export type OptionName = keyof typeof OPTIONS;

export interface ListenAddress {
  host: string;
  port: number;
}

export interface Config {
  readonly [key: string]: unknown;
  readonly 'stats-socket': string;
  readonly 'stats-file': string | undefined;
  readonly 'api-socket': string;
  readonly 'web.listen-address': ListenAddress;
  readonly 'control.listen-address': ListenAddress;
  readonly 'per-thread': boolean;
  readonly 'stats.include': RegExp[];
  readonly 'stats.exclude': RegExp[];
  readonly 'log.level': (typeof LOG_LEVELS)[number];
  readonly interfaces: number;
  readonly workers: number;
  readonly rate: number;
  readonly seed: number;
  readonly 'flap-interval': number;
  readonly histograms: boolean;
  readonly json: boolean;
  readonly 'otlp.endpoint': string | undefined;
  readonly 'otlp.protocol': 'http/protobuf' | 'grpc';
  readonly 'otlp.interval': number;
  readonly 'otlp.headers': Record<string, string>;
  readonly 'otlp.resource-attributes': Record<string, string>;
  readonly instance: string | undefined;
}

export function envName(flag: string): string {
  return 'VPP_EXPORTER_' + flag.toUpperCase().replace(/[.-]/g, '_');
}

export function parseListen(v: string, flag: string): ListenAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(v);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new ConfigError(`--${flag}: '${v}' is not host:port (e.g. :9482, 127.0.0.1:9483, [::1]:9483)`);
  return { host: m[1] ?? m[2] ?? '', port };
}

function parseDuration(v: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(v.trim());
  if (!m) throw new ConfigError(`--${flag}: '${v}' is not a duration (e.g. 500, 500ms, 15s, 1m)`);
  const n = Number(m[1]);
  return Math.round(m[2] === 's' ? n * 1000 : m[2] === 'm' ? n * 60_000 : n);
}

function convert(flag: string, spec: OptionSpec, raw: unknown): unknown {
  const str = (): string => {
    if (typeof raw === 'string') return raw;
    if (typeof raw === 'number' || typeof raw === 'boolean') return String(raw);
    throw new ConfigError(`--${flag}: expected a string, got ${JSON.stringify(raw)}`);
  };
  const bounded = (n: number): number => {
    if (spec.min !== undefined && n < spec.min) throw new ConfigError(`--${flag}: ${n} is below the minimum ${spec.min}`);
    if (spec.max !== undefined && n > spec.max) throw new ConfigError(`--${flag}: ${n} is above the maximum ${spec.max}`);
    return n;
  };
  switch (spec.kind) {
    case 'string':
    case 'path': {
      const s = str();
      if (s === '') throw new ConfigError(`--${flag}: must not be empty`);
      return s;
    }
    case 'int': {
      const s = str();
      if (!/^-?\d+$/.test(s)) throw new ConfigError(`--${flag}: '${s}' is not an integer`);
      return bounded(Number(s));
    }
    case 'duration-ms':
      return bounded(typeof raw === 'number' ? raw : parseDuration(str(), flag));
    case 'bool': {
      if (typeof raw === 'boolean') return raw;
      const s = str().toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(s)) return true;
      if (['0', 'false', 'no', 'off'].includes(s)) return false;
      throw new ConfigError(`--${flag}: '${s}' is not a boolean`);
    }
    case 'listen':
      return parseListen(str(), flag);
    case 'level': {
      const s = str();
      if (!(LOG_LEVELS as readonly string[]).includes(s)) throw new ConfigError(`--${flag}: '${s}' is not one of ${LOG_LEVELS.join(', ')}`);
      return s;
    }
    case 'enum': {
      const s = str();
      if (!spec.values!.includes(s)) throw new ConfigError(`--${flag}: '${s}' is not one of ${spec.values!.join(', ')}`);
      return s;
    }
    case 'key-values': {
      if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) {
        return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, String(v)]));
      }
      const out: Record<string, string> = {};
      for (const pair of str().split(',').filter((x) => x.trim() !== '')) {
        const eq = pair.indexOf('=');
        if (eq <= 0) throw new ConfigError(`--${flag}: '${pair}' is not key=value`);
        out[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
      }
      return out;
    }
    case 'regex-list': {
      const list = Array.isArray(raw) ? raw.map(String) : str().split(',').filter((x) => x !== '');
      return list.map((r) => {
        try {
          return new RegExp(r);
        } catch (e) {
          throw new ConfigError(`--${flag}: '${r}' is not a valid regex: ${(e as Error).message}`);
        }
      });
    }
  }
}

/**
 * Build the frozen configuration. `flags` are parsed command-line values (strings or booleans)
 * by option name; `env` is usually process.env.
 */
export function loadConfig(flags: Partial<Record<string, string | boolean | string[]>>, env: NodeJS.ProcessEnv = process.env): Config {
  const specs = OPTIONS as Record<string, OptionSpec>;
  for (const k of Object.keys(flags)) {
    if (!(k in specs)) throw new ConfigError(`unknown option --${k}`);
  }
  let file: Record<string, unknown> = {};
  const configPath = (flags.config as string | undefined) ?? env[envName('config')];
  if (configPath !== undefined) {
    let text: string;
    try {
      text = fs.readFileSync(configPath, 'utf8');
    } catch (e) {
      throw new ConfigError(`--config: cannot read ${configPath}: ${(e as Error).message}`);
    }
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
      file = parsed as Record<string, unknown>;
    } catch (e) {
      throw new ConfigError(`--config: ${configPath} is not valid: ${(e as Error).message}`);
    }
    for (const k of Object.keys(file)) {
      if (!(k in specs) || k === 'config') throw new ConfigError(`${configPath}: unknown option '${k}'`);
    }
  }
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs)) {
    let raw: unknown = spec.default;
    let from = 'default';
    if (file[name] !== undefined) [raw, from] = [file[name], 'file'];
    const e = env[envName(name)];
    if (e !== undefined && e !== '') [raw, from] = [e, 'env'];
    if (flags[name] !== undefined) [raw, from] = [flags[name], 'flag'];
    if (raw === undefined) {
      out[name] = undefined;
      continue;
    }
    out[name] = from === 'default' && spec.kind !== 'listen' ? raw : convert(name, spec, raw);
  }
  return Object.freeze(out) as unknown as Config;
}
