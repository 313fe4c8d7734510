/**
 * The web configuration file of the Prometheus exporter-toolkit (`--web.config.file`), shared by
 * the metrics and control listeners: TLS (minimum 1.2) and basic auth with bcrypt hashes.
 *
 *   tls_server_config:
 *     cert_file: server.crt
 *     key_file: server.key
 *     min_version: TLS12            # TLS12 (default) or TLS13
 *     max_version: TLS13
 *     client_auth_type: NoClientCert # or RequireAndVerifyClientCert, VerifyClientCertIfGiven, ...
 *     client_ca_file: ca.crt
 *   basic_auth_users:
 *     alice: $2y$10$...              # bcrypt hash
 *   http_server_config:
 *     headers: {X-Frame-Options: deny}
 *
 * A bad file is a ConfigError (exit 2) that says what is wrong.
 */
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type tls from 'node:tls';
import { parse as parseYaml } from 'yaml';
import bcrypt from 'bcryptjs';
import { ConfigError } from '../config.js';

export interface WebConfig {
  tls?: {
    cert: Buffer;
    key: Buffer;
    ca?: Buffer;
    minVersion: tls.SecureVersion;
    maxVersion: tls.SecureVersion;
    requestCert: boolean;
    rejectUnauthorized: boolean;
  };
  users: Map<string, string>;
  headers: Record<string, string>;
}

const TLS_VERSIONS: Record<string, tls.SecureVersion> = { TLS12: 'TLSv1.2', TLS13: 'TLSv1.3' };
const CLIENT_AUTH: Record<string, [boolean, boolean]> = {
  // [requestCert, rejectUnauthorized]
  NoClientCert: [false, false],
  RequestClientCert: [true, false],
  RequireAnyClientCert: [true, false],
  VerifyClientCertIfGiven: [true, false],
  RequireAndVerifyClientCert: [true, true],
};

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function onlyKeys(where: string, o: Record<string, unknown>, allowed: string[]): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) throw new ConfigError(`${where}: unknown key '${k}' (allowed: ${allowed.join(', ')})`);
  }
}

export function loadWebConfig(file: string): WebConfig {
  let doc: unknown;
  try {
    doc = parseYaml(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ConfigError(`--web.config.file: cannot read ${file}: ${(e as Error).message}`);
  }
  const where = `--web.config.file ${file}`;
  if (doc === null || doc === undefined) doc = {};
  if (!isObject(doc)) throw new ConfigError(`${where}: not a YAML mapping`);
  onlyKeys(where, doc, ['tls_server_config', 'basic_auth_users', 'http_server_config']);
  const dir = path.dirname(file);
  const read = (key: string, p: unknown): Buffer => {
    if (typeof p !== 'string' || p === '') throw new ConfigError(`${where}: tls_server_config.${key} must be a file path`);
    try {
      return fs.readFileSync(path.resolve(dir, p));
    } catch (e) {
      throw new ConfigError(`${where}: tls_server_config.${key}: ${(e as Error).message}`);
    }
  };
  const out: WebConfig = { users: new Map(), headers: {} };
  const t = doc.tls_server_config;
  if (t !== undefined && t !== null) {
    if (!isObject(t)) throw new ConfigError(`${where}: tls_server_config must be a mapping`);
    onlyKeys(`${where}: tls_server_config`, t, ['cert_file', 'key_file', 'min_version', 'max_version', 'client_auth_type', 'client_ca_file', 'cipher_suites', 'curve_preferences', 'prefer_server_cipher_suites']);
    const text = (v: unknown, dflt: string): string => (v === undefined || v === null ? dflt : typeof v === 'string' ? v : JSON.stringify(v));
    const min = text(t.min_version, 'TLS12');
    const max = text(t.max_version, 'TLS13');
    if (!TLS_VERSIONS[min]) throw new ConfigError(`${where}: min_version '${min}' is not allowed (TLS12 or TLS13; older versions are insecure)`);
    if (!TLS_VERSIONS[max]) throw new ConfigError(`${where}: max_version '${max}' is not TLS12 or TLS13`);
    if (min === 'TLS13' && max === 'TLS12') throw new ConfigError(`${where}: min_version is above max_version`);
    const authType = text(t.client_auth_type, 'NoClientCert');
    const auth = CLIENT_AUTH[authType];
    if (!auth) throw new ConfigError(`${where}: client_auth_type '${authType}' is not one of ${Object.keys(CLIENT_AUTH).join(', ')}`);
    if (auth[1] && t.client_ca_file === undefined) throw new ConfigError(`${where}: client_auth_type ${authType} needs client_ca_file`);
    out.tls = {
      cert: read('cert_file', t.cert_file),
      key: read('key_file', t.key_file),
      ...(t.client_ca_file !== undefined ? { ca: read('client_ca_file', t.client_ca_file) } : {}),
      minVersion: TLS_VERSIONS[min],
      maxVersion: TLS_VERSIONS[max],
      requestCert: auth[0],
      rejectUnauthorized: auth[1],
    };
    try {
      crypto.createPrivateKey(out.tls.key);
      new crypto.X509Certificate(out.tls.cert);
    } catch (e) {
      throw new ConfigError(`${where}: the certificate or key does not parse: ${(e as Error).message}`);
    }
  }
  const users = doc.basic_auth_users;
  if (users !== undefined && users !== null) {
    if (!isObject(users)) throw new ConfigError(`${where}: basic_auth_users must be a mapping of user: bcrypt hash`);
    for (const [user, hash] of Object.entries(users)) {
      if (typeof hash !== 'string' || !/^\$2[abxy]?\$\d{2}\$[./A-Za-z0-9]{53}$/.test(hash)) {
        throw new ConfigError(`${where}: basic_auth_users.${user} is not a bcrypt hash`);
      }
      out.users.set(user, hash);
    }
  }
  const hs = doc.http_server_config;
  if (hs !== undefined && hs !== null) {
    if (!isObject(hs)) throw new ConfigError(`${where}: http_server_config must be a mapping`);
    onlyKeys(`${where}: http_server_config`, hs, ['headers', 'http2']);
    if (hs.headers !== undefined) {
      if (!isObject(hs.headers)) throw new ConfigError(`${where}: http_server_config.headers must be a mapping`);
      for (const [k, v] of Object.entries(hs.headers)) out.headers[k] = String(v);
    }
  }
  return out;
}

/**
 * Basic auth with bcrypt. Unknown users are checked against a dummy hash so that their answer
 * takes as long as a wrong password; successes are cached (bcrypt is slow by design) keyed by a
 * SHA-256 of the credentials, never the password itself.
 */
export class BasicAuth {
  private static readonly DUMMY = bcrypt.hashSync('vpp-exporter-dummy', 10);
  private readonly ok = new Set<string>();

  constructor(private readonly users: Map<string, string>) {}

  get enabled(): boolean {
    return this.users.size > 0;
  }

  async check(header: string | undefined): Promise<boolean> {
    if (!this.enabled) return true;
    const m = /^Basic ([A-Za-z0-9+/=]+)$/.exec(header ?? '');
    if (!m) return false;
    const decoded = Buffer.from(m[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return false;
    const user = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    const hash = this.users.get(user);
    const key = crypto.createHash('sha256').update(user).update('\0').update(password).update('\0').update(hash ?? '').digest('hex');
    if (hash !== undefined && this.ok.has(key)) return true;
    const match = await bcrypt.compare(password, hash ?? BasicAuth.DUMMY);
    if (match && hash !== undefined) {
      this.ok.add(key);
      return true;
    }
    return false;
  }
}

/** An HTTP or HTTPS server (per the web config) whose requests pass basic auth first. */
export function createWebServer(web: WebConfig | undefined, handler: http.RequestListener): http.Server {
  const auth = new BasicAuth(web?.users ?? new Map<string, string>());
  const headers = web?.headers ?? {};
  const guarded: http.RequestListener = (req, res) => {
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    if (!auth.enabled) {
      handler(req, res);
      return;
    }
    auth.check(req.headers.authorization).then(
      (ok) => {
        if (ok) handler(req, res);
        else res.writeHead(401, { 'www-authenticate': 'Basic realm="vpp-exporter"', 'content-type': 'text/plain' }).end('unauthorized\n');
      },
      () => res.writeHead(500).end(),
    );
  };
  if (!web?.tls) return http.createServer(guarded);
  return https.createServer(
    {
      cert: web.tls.cert,
      key: web.tls.key,
      ...(web.tls.ca ? { ca: web.tls.ca } : {}),
      minVersion: web.tls.minVersion,
      maxVersion: web.tls.maxVersion,
      requestCert: web.tls.requestCert,
      rejectUnauthorized: web.tls.rejectUnauthorized,
    },
    guarded,
  );
}
