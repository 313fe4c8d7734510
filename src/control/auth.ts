/**
 * Who may call the control API. Two ways to authenticate, either one is enough:
 *
 * - a bearer token (`Authorization: Bearer <token>`) read from --control.token-file or from
 *   VPP_EXPORTER_CONTROL_TOKEN (never from a flag: a flag shows in `ps`). There is no default
 *   token. It is compared in constant time (SHA-256 of both sides, then timingSafeEqual, so the
 *   length does not leak either). Principal: `token:<first 8 hex of its SHA-256>`.
 * - basic auth with the users of the web config file (bcrypt, shared with /metrics).
 *   Principal: `basic:<user>`.
 *
 * With neither configured every authenticated route answers 401 (the API is closed, not open),
 * and a non-loopback listen address is refused at start-up.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { ConfigError } from '../config.js';
import type { Logger } from '../log.js';
import { BasicAuth } from '../web/web-config.js';

export const TOKEN_ENV = 'VPP_EXPORTER_CONTROL_TOKEN';
/** A shorter token is refused: it could be guessed through the API within the rate limit. */
export const MIN_TOKEN_LENGTH = 16;
const MAX_TOKEN_LENGTH = 4096;

function sha256(s: string): Buffer {
  return crypto.createHash('sha256').update(s, 'utf8').digest();
}

/** Checks a token's text; returns it or throws ConfigError naming where it came from. */
export function validateToken(token: string, from: string): string {
  if (token.length === 0) throw new ConfigError(`${from}: the control API token is empty`);
  if (token.length < MIN_TOKEN_LENGTH) throw new ConfigError(`${from}: the control API token is shorter than ${MIN_TOKEN_LENGTH} characters`);
  if (token.length > MAX_TOKEN_LENGTH) throw new ConfigError(`${from}: the control API token is longer than ${MAX_TOKEN_LENGTH} characters`);
  if (!/^[\x21-\x7e]+$/.test(token)) throw new ConfigError(`${from}: the control API token must be printable ASCII without spaces`);
  return token;
}

/**
 * The token from --control.token-file or VPP_EXPORTER_CONTROL_TOKEN; undefined when neither is
 * set. Both set is a ConfigError (which one wins would be a guess). A token file readable by
 * group or others is logged as a warning.
 */
export function loadToken(tokenFile: string | undefined, env: NodeJS.ProcessEnv, log?: Logger): string | undefined {
  const fromEnv = env[TOKEN_ENV];
  if (tokenFile !== undefined && fromEnv !== undefined && fromEnv !== '') {
    throw new ConfigError(`both --control.token-file and ${TOKEN_ENV} are set; give the token one way`);
  }
  if (tokenFile !== undefined) {
    let text: string;
    let mode = 0;
    try {
      text = fs.readFileSync(tokenFile, 'utf8');
      mode = fs.statSync(tokenFile).mode;
    } catch (e) {
      throw new ConfigError(`--control.token-file: cannot read ${tokenFile}: ${(e as Error).message}`);
    }
    if ((mode & 0o077) !== 0) log?.warn({ tokenFile, mode: (mode & 0o777).toString(8) }, 'the control token file is readable by group or others');
    return validateToken(text.replace(/\r?\n$/, '').trim(), `--control.token-file ${tokenFile}`);
  }
  if (fromEnv !== undefined && fromEnv !== '') return validateToken(fromEnv, TOKEN_ENV);
  return undefined;
}

export class TokenAuth {
  private readonly digest: Buffer;
  readonly principal: string;

  constructor(token: string) {
    this.digest = sha256(token);
    this.principal = `token:${this.digest.subarray(0, 4).toString('hex')}`;
  }

  /** Constant-time: the same work for a wrong token of any length. */
  check(given: string): boolean {
    return crypto.timingSafeEqual(sha256(given), this.digest);
  }
}

export type AuthResult = { ok: true; principal: string } | { ok: false; reason: string };

export class ControlAuth {
  private readonly token: TokenAuth | undefined;
  private readonly basic: BasicAuth;

  constructor(token: string | undefined, basicUsers: Map<string, string>) {
    this.token = token === undefined ? undefined : new TokenAuth(token);
    this.basic = new BasicAuth(basicUsers);
  }

  /** Whether any way to authenticate is configured. */
  get configured(): boolean {
    return this.token !== undefined || this.basic.enabled;
  }

  get schemes(): string[] {
    return [...(this.token ? ['Bearer'] : []), ...(this.basic.enabled ? ['Basic'] : [])];
  }

  /** The WWW-Authenticate header of a 401. */
  get challenge(): string {
    const s = this.schemes.length > 0 ? this.schemes : ['Bearer'];
    return s.map((x) => `${x} realm="vpp-exporter-control"`).join(', ');
  }

  async check(header: string | undefined): Promise<AuthResult> {
    if (!this.configured) {
      return { ok: false, reason: `no credentials are configured for the control API (set --control.token-file or ${TOKEN_ENV})` };
    }
    if (header === undefined || header === '') return { ok: false, reason: 'credentials required (Authorization header)' };
    const space = header.indexOf(' ');
    const scheme = space < 0 ? header : header.slice(0, space);
    const value = space < 0 ? '' : header.slice(space + 1).trim();
    if (scheme.toLowerCase() === 'bearer') {
      if (this.token?.check(value)) return { ok: true, principal: this.token.principal };
      return { ok: false, reason: 'invalid credentials' };
    }
    if (scheme.toLowerCase() === 'basic' && this.basic.enabled) {
      if (await this.basic.check(`Basic ${value}`)) {
        const decoded = Buffer.from(value, 'base64').toString('utf8');
        return { ok: true, principal: `basic:${decoded.slice(0, decoded.indexOf(':'))}` };
      }
      return { ok: false, reason: 'invalid credentials' };
    }
    return { ok: false, reason: `unsupported authorization scheme (use ${this.schemes.join(' or ')})` };
  }
}
