/**
 * The control API's settings, read from the one Config. Options that config.ts does not list
 * yet fall back to their defaults here, so this works before and after they are added there.
 *
 *   control.listen-address   127.0.0.1:9483
 *   control.token-file       (none; or VPP_EXPORTER_CONTROL_TOKEN)
 *   control.public-reads     false: GET /interfaces and /routes need credentials too
 *   control.rate-limit       100 requests/s per client IP (0: off)
 *   control.rate-burst       200
 *   control.body-limit       8 MiB (a 10k-route IPv6 batch with long names is about 1.7 MB)
 *   control.request-timeout  30 s to receive a whole request (headers: 10 s)
 *   web.config.file          TLS and basic auth, shared with /metrics
 */
import { ConfigError, type Config, type ListenAddress } from '../config.js';

export interface ControlOptions {
  listen: ListenAddress;
  tokenFile: string | undefined;
  publicReads: boolean;
  rateLimit: number;
  rateBurst: number;
  bodyLimit: number;
  requestTimeoutMs: number;
  headersTimeoutMs: number;
  keepAliveTimeoutMs: number;
  webConfigFile: string | undefined;
}

export const CONTROL_DEFAULTS = {
  listen: { host: '127.0.0.1', port: 9483 },
  publicReads: false,
  rateLimit: 100,
  rateBurst: 200,
  bodyLimit: 8 * 1024 * 1024,
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
} as const;

/** The OPTIONS entries config.ts should carry (kept here so that a test can compare). */
export const CONTROL_OPTION_SPECS = {
  'control.public-reads': { kind: 'bool', default: false, help: 'allow GET /interfaces and /routes without credentials' },
  'control.rate-limit': { kind: 'int', default: 100, min: 0, max: 1_000_000, help: 'control API requests per second per client IP (0: no limit)' },
  'control.rate-burst': { kind: 'int', default: 200, min: 1, max: 1_000_000, help: 'control API burst per client IP' },
  'control.body-limit': { kind: 'int', default: 8 * 1024 * 1024, min: 1024, max: 1024 * 1024 * 1024, help: 'largest control API request body (bytes)' },
  'control.request-timeout': { kind: 'duration-ms', default: 30_000, min: 1000, help: 'time to receive a whole control API request' },
  // The routes/interfaces commands (src/commands/control-cli.ts).
  'control.url': { kind: 'string', default: undefined, help: 'control API base URL for the routes/interfaces commands (default http://<control.listen-address>)' },
  'direct': { kind: 'bool', default: false, help: "routes/interfaces: use VPP's API socket directly instead of the control API" },
} as const;

function num(config: Config, key: string, dflt: number, min: number, max: number): number {
  const v = config[key];
  if (v === undefined) return dflt;
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) throw new ConfigError(`--${key}: ${JSON.stringify(v)} is not an integer from ${min} to ${max}`);
  return n;
}

function bool(config: Config, key: string, dflt: boolean): boolean {
  const v = config[key];
  if (v === undefined) return dflt;
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new ConfigError(`--${key}: ${JSON.stringify(v)} is not a boolean`);
}

function str(config: Config, key: string): string | undefined {
  const v = config[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v === '') throw new ConfigError(`--${key}: must be a non-empty string`);
  return v;
}

export function controlOptionsFromConfig(config: Config): ControlOptions {
  const listen = (config['control.listen-address'] as ListenAddress | undefined) ?? CONTROL_DEFAULTS.listen;
  const rateLimit = num(config, 'control.rate-limit', CONTROL_DEFAULTS.rateLimit, 0, 1_000_000);
  return {
    listen,
    tokenFile: str(config, 'control.token-file'),
    publicReads: bool(config, 'control.public-reads', CONTROL_DEFAULTS.publicReads),
    rateLimit,
    rateBurst: num(config, 'control.rate-burst', Math.max(CONTROL_DEFAULTS.rateBurst, rateLimit), 1, 1_000_000),
    bodyLimit: num(config, 'control.body-limit', CONTROL_DEFAULTS.bodyLimit, 1024, 1024 * 1024 * 1024),
    requestTimeoutMs: num(config, 'control.request-timeout', CONTROL_DEFAULTS.requestTimeoutMs, 1000, 3_600_000),
    headersTimeoutMs: CONTROL_DEFAULTS.headersTimeoutMs,
    keepAliveTimeoutMs: CONTROL_DEFAULTS.keepAliveTimeoutMs,
    webConfigFile: str(config, 'web.config.file'),
  };
}
