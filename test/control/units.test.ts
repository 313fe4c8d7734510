/** Small parts of the control API: the token bucket, token handling, options, error mapping. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ConnectionError, VppApiError } from '../../src/binapi/index.js';
import { ConfigError, OPTIONS, loadConfig } from '../../src/config.js';
import {
  CONTROL_DEFAULTS,
  CONTROL_OPTION_SPECS,
  ControlAuth,
  HttpError,
  RateLimiter,
  TokenAuth,
  controlOptionsFromConfig,
  errorAnswer,
  loadToken,
  routeAddParams,
  vppStatus,
} from '../../src/control/index.js';
import { tmpDir } from '../helpers/paths.js';

describe('rate limiter', () => {
  it('a token bucket per client: burst, then rate per second, separately per client', () => {
    let now = 0;
    const rl = new RateLimiter({ rate: 2, burst: 3, now: () => now });
    const take = (c: string): boolean => rl.take(c).ok;
    assert.deepEqual([take('a'), take('a'), take('a'), take('a')], [true, true, true, false]);
    assert.equal(take('b'), true, 'another client has its own bucket');
    const d = rl.take('a');
    assert.ok(!d.ok && d.retryAfterSeconds === 1);
    now += 500; // one token back
    assert.deepEqual([take('a'), take('a')], [true, false]);
    now += 10_000; // full again, but no more than the burst
    assert.deepEqual([take('a'), take('a'), take('a'), take('a')], [true, true, true, false]);
  });

  it('rate 0 is off; the client table stays bounded', () => {
    const off = new RateLimiter({ rate: 0, burst: 1 });
    for (let i = 0; i < 100; i++) assert.ok(off.take('x').ok);
    let now = 0;
    const rl = new RateLimiter({ rate: 1, burst: 1, maxClients: 100, now: () => now });
    for (let i = 0; i < 1000; i++) {
      rl.take(`10.0.${i >> 8}.${i & 0xff}`);
      now += 1;
    }
    assert.ok(rl.size <= 100, String(rl.size));
    assert.throws(() => new RateLimiter({ rate: -1, burst: 1 }), RangeError);
    assert.throws(() => new RateLimiter({ rate: 1, burst: 0 }), RangeError);
  });
});

describe('tokens', () => {
  it('TokenAuth: only the exact token; the principal is a fingerprint, never the token', () => {
    const token = crypto.randomBytes(24).toString('base64url');
    const t = new TokenAuth(token);
    assert.ok(t.check(token));
    for (const w of ['', token.slice(1), `${token} `, token.toUpperCase() === token ? token.toLowerCase() : token.toUpperCase(), 'x'.repeat(10_000)]) assert.ok(!t.check(w));
    assert.match(t.principal, /^token:[0-9a-f]{8}$/);
    assert.ok(!t.principal.includes(token.slice(0, 6)));
  });

  it('loadToken: file (trailing newline stripped) or environment; neither is undefined, never a default', () => {
    const dir = tmpDir();
    const file = path.join(dir, 't');
    fs.writeFileSync(file, 'abcdefghijklmnopqrstuvwxyz\n', { mode: 0o600 });
    assert.equal(loadToken(file, {}), 'abcdefghijklmnopqrstuvwxyz');
    assert.equal(loadToken(undefined, { VPP_EXPORTER_CONTROL_TOKEN: '0123456789abcdef' }), '0123456789abcdef');
    assert.equal(loadToken(undefined, {}), undefined);
    assert.equal(loadToken(undefined, { VPP_EXPORTER_CONTROL_TOKEN: '' }), undefined);
    assert.throws(() => loadToken(undefined, { VPP_EXPORTER_CONTROL_TOKEN: 'with space inside it' }), ConfigError);
    assert.throws(() => loadToken(undefined, { VPP_EXPORTER_CONTROL_TOKEN: 'short' }), ConfigError);
  });

  it('ControlAuth: schemes, challenge, and a closed API without credentials', async () => {
    const none = new ControlAuth(undefined, new Map());
    assert.equal(none.configured, false);
    const r = await none.check('Bearer anything-anything');
    assert.ok(!r.ok && /no credentials are configured/.test(r.reason));
    const tok = new ControlAuth('0123456789abcdef', new Map());
    assert.deepEqual(tok.schemes, ['Bearer']);
    assert.ok((await tok.check('Bearer 0123456789abcdef')).ok);
    assert.ok((await tok.check('bearer 0123456789abcdef')).ok, 'the scheme is case-insensitive');
    assert.ok(!(await tok.check('Basic MDEyMzQ1Njc4OWFiY2RlZg==')).ok);
    assert.ok(!(await tok.check(undefined)).ok);
  });
});

describe('options and errors', () => {
  it('defaults when config.ts does not list the options yet; the same specs when it does', () => {
    const o = controlOptionsFromConfig(loadConfig({}, {}));
    assert.deepEqual(o.listen, { host: '127.0.0.1', port: 9483 });
    assert.equal(o.publicReads, false);
    assert.equal(o.rateLimit, CONTROL_DEFAULTS.rateLimit);
    assert.equal(o.bodyLimit, CONTROL_DEFAULTS.bodyLimit);
    const withOwn = controlOptionsFromConfig({ ...loadConfig({}, {}), 'control.public-reads': true, 'control.rate-limit': 7, 'control.body-limit': '2048' });
    assert.equal(withOwn.publicReads, true);
    assert.equal(withOwn.rateLimit, 7);
    assert.equal(withOwn.bodyLimit, 2048);
    assert.throws(() => controlOptionsFromConfig({ ...loadConfig({}, {}), 'control.rate-limit': -1 }), ConfigError);
    const options = OPTIONS as Record<string, unknown>;
    for (const [k, spec] of Object.entries(CONTROL_OPTION_SPECS)) {
      if (k in options) assert.deepEqual(options[k], spec, `config.ts OPTIONS['${k}']`);
    }
  });

  it("VPP's errors map to 409 / 404 / 503 / 422 with VPP's name; connection errors to 503", () => {
    assert.equal(vppStatus(new VppApiError('x', -105)), 409);
    assert.equal(vppStatus(new VppApiError('x', -2)), 404);
    assert.equal(vppStatus(new VppApiError('x', -107)), 503);
    assert.equal(vppStatus(new VppApiError('x', -3)), 422);
    assert.deepEqual(errorAnswer(new VppApiError('ip_route_add_del', -3)).body.error, 'NO_SUCH_FIB');
    const c = errorAnswer(new ConnectionError('TIMEOUT', 'ip_route_add_del'));
    assert.equal(c.status, 503);
    assert.match(c.body.message, /unknown/);
    assert.deepEqual(errorAnswer(new HttpError(404, 'not_found', 'x')), { status: 404, body: { error: 'not_found', message: 'x' } });
    assert.deepEqual(errorAnswer(new Error('boom')), { status: 500, body: { error: 'internal', message: 'internal error (see the exporter log)' } });
  });

  it('audit params of a big batch are a summary', () => {
    const routes = Array.from({ length: 250 }, (_, i) => ({ prefix: `10.${i}.0.0/16` }));
    const p = routeAddParams({ routes }) as { count: number; routes: unknown[]; truncated: boolean };
    assert.equal(p.count, 250);
    assert.equal(p.routes.length, 100);
    assert.equal(p.truncated, true);
    assert.deepEqual(routeAddParams({ routes: routes.slice(0, 2) }), { count: 2, routes: routes.slice(0, 2) });
    assert.deepEqual(routeAddParams({ prefix: '10.0.0.0/8' }), { prefix: '10.0.0.0/8' });
  });
});
