/**
 * The control API's safety (RELIABILITY.md E 20-22): credentials on every mutating route, a
 * closed API when none are configured, no non-loopback bind without auth, TLS and basic auth from
 * the web config, no CORS, body limit (413), rate limit (429), header and request timeouts, and
 * errors that never carry a stack trace.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import { pino } from 'pino';
import { ConfigError, loadConfig } from '../../src/config.js';
import { CONTROL_DEFAULTS, MemoryAuditSink, startControlApi, type VppApi } from '../../src/control/index.js';
import { loadWebConfig } from '../../src/web/web-config.js';
import { tmpDir } from '../helpers/paths.js';
import { dumpRoutes, startControlEnv, TOKEN, type ControlEnv, type ErrorBody } from './env.js';

const MUTATING: [string, string, unknown][] = [
  ['PUT', '/interfaces/loop0', { admin_up: false }],
  ['POST', '/routes', { prefix: '10.250.0.0/16', paths: [{ via: '10.0.0.2' }] }],
  ['POST', '/routes', { routes: [{ prefix: '10.251.0.0/16', paths: [{ via: '10.0.0.2' }] }] }],
  ['DELETE', '/routes/10.1.0.0%2F24', undefined],
  ['DELETE', '/routes/10.1.0.0/24', undefined],
];
const READS = ['/interfaces', '/interfaces/loop0', '/routes'];

function noStack(text: string): void {
  assert.ok(!/\n\s+at |\.js:\d+/.test(text), `no stack trace: ${text}`);
}

describe('credentials', () => {
  let env: ControlEnv;
  before(async () => {
    env = await startControlEnv({ interfaces: 4 });
    await env.call('POST', '/routes', { body: { prefix: '10.1.0.0/24', paths: [{ via: '10.0.0.2' }] } });
    env.audit.records.length = 0;
  });
  after(async () => {
    await env.stop();
  });

  it('401 on every mutating route without a token, with a wrong one, or with another scheme; nothing changes, nothing is audited', async () => {
    const state = JSON.stringify(env.sim.model.list());
    const routes = await dumpRoutes(env);
    const wrong = [null, 'wrong-token-0123456789', `${TOKEN}x`, TOKEN.slice(0, -1), '', TOKEN.toUpperCase()];
    for (const [method, p, body] of MUTATING) {
      for (const token of wrong) {
        const a = await env.call(method, p, { body, token });
        assert.equal(a.status, 401, `${method} ${p} with ${JSON.stringify(token)}: ${a.text}`);
        assert.equal(a.json.error, 'unauthorized');
        assert.match(String(a.headers.get('www-authenticate')), /^Bearer realm=/);
        noStack(a.text);
      }
      for (const header of [`Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}`, `Token ${TOKEN}`, TOKEN, `Bearer  `]) {
        const a = await env.call(method, p, { body, token: null, headers: { authorization: header } });
        assert.equal(a.status, 401, `${method} ${p} with ${header}`);
      }
    }
    assert.equal(JSON.stringify(env.sim.model.list()), state);
    assert.deepEqual(await dumpRoutes(env), routes);
    assert.equal(env.audit.records.length, 0);
  });

  it('reads need the token too (control.public-reads false); health and the document do not', async () => {
    for (const p of READS) {
      assert.equal((await env.call('GET', p, { token: null })).status, 401, p);
      assert.equal((await env.call('GET', p, { token: 'nope-nope-nope-nope' })).status, 401, p);
      assert.equal((await env.call('GET', p)).status, 200, p);
    }
    for (const p of ['/healthz', '/readyz', '/openapi.json']) assert.equal((await env.call('GET', p, { token: null })).status, 200, p);
  });

  it('the right token works on every mutating route, and the principal is its fingerprint', async () => {
    for (const [method, p, body] of MUTATING) {
      const a = await env.call(method, p, { body });
      assert.equal(a.status, 200, `${method} ${p}: ${a.text}`);
    }
    assert.equal(env.audit.records.length, MUTATING.length);
    assert.ok(env.audit.records.every((r) => /^token:[0-9a-f]{8}$/.test(r.principal ?? '')));
  });

  it('no CORS: no Access-Control-* headers on a preflight or a cross-origin request', async () => {
    const pre = await env.call('OPTIONS', '/routes', {
      token: null,
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
    });
    assert.notEqual(pre.status, 204);
    const get = await env.call('GET', '/interfaces', { headers: { origin: 'https://evil.example' } });
    for (const a of [pre, get]) for (const [k] of a.headers) assert.ok(!k.startsWith('access-control-'), k);
  });
});

describe('public reads', () => {
  it('control.public-reads lets GETs through; mutations still need the token', async () => {
    const env = await startControlEnv({ interfaces: 2, options: { publicReads: true } });
    try {
      for (const p of READS.slice(0, 1).concat('/routes')) assert.equal((await env.call('GET', p, { token: null })).status, 200, p);
      for (const [method, p, body] of MUTATING) assert.equal((await env.call(method, p, { body, token: null })).status, 401, `${method} ${p}`);
    } finally {
      await env.stop();
    }
  });
});

describe('no credentials configured', () => {
  it('on loopback it starts closed: everything that needs credentials is 401, saying how to configure them', async () => {
    const env = await startControlEnv({ interfaces: 2, token: null });
    try {
      assert.deepEqual(env.api.auth, { token: false, basic: false });
      for (const [method, p, body] of MUTATING) {
        const a = await env.call<ErrorBody>(method, p, { body, token: null });
        assert.equal(a.status, 401);
        assert.match(a.json.message, /no credentials are configured.*--control\.token-file.*VPP_EXPORTER_CONTROL_TOKEN/);
        // Not even some bearer token opens it.
        assert.equal((await env.call(method, p, { body, token: 'anything-anything-anything' })).status, 401);
      }
      assert.equal((await env.call('GET', '/healthz', { token: null })).status, 200);
    } finally {
      await env.stop();
    }
  });

  it('refuses a non-loopback listen address (ConfigError: exit 2) unless credentials are configured', async () => {
    const config = loadConfig({}, {});
    const vpp = { connected: false, health: 'down' } as unknown as VppApi;
    for (const host of ['0.0.0.0', '', '::', '10.1.2.3', 'example.com']) {
      await assert.rejects(
        startControlApi({ config, vpp, audit: new MemoryAuditSink(), env: {}, options: { listen: { host, port: 0 }, rateLimit: 0 } }),
        (e: unknown) => e instanceof ConfigError && /not a loopback address.*no credentials.*refusing to start/.test(e.message),
        `host ${JSON.stringify(host)}`,
      );
    }
    // The same with a token (here from the environment) starts.
    const api = await startControlApi({ config, vpp, audit: new MemoryAuditSink(), env: { VPP_EXPORTER_CONTROL_TOKEN: TOKEN }, options: { listen: { host: '0.0.0.0', port: 0 } } });
    try {
      assert.equal(api.auth.token, true);
      const r = await fetch(`http://127.0.0.1:${api.port}/interfaces`);
      assert.equal(r.status, 401);
    } finally {
      await api.close();
    }
  });

  it('a bad token is a ConfigError: too short, empty file, both file and environment', async () => {
    const dir = tmpDir();
    const config = loadConfig({}, {});
    const vpp = { connected: false, health: 'down' } as unknown as VppApi;
    const start = (env: NodeJS.ProcessEnv, file?: string): Promise<unknown> =>
      startControlApi({ config: { ...config, 'control.token-file': file }, vpp, audit: new MemoryAuditSink(), env, options: { listen: { host: '127.0.0.1', port: 0 } } });
    fs.writeFileSync(path.join(dir, 'empty'), '\n');
    fs.writeFileSync(path.join(dir, 'good'), `${TOKEN}\n`, { mode: 0o600 });
    await assert.rejects(start({ VPP_EXPORTER_CONTROL_TOKEN: 'short' }), /shorter than 16/);
    await assert.rejects(start({}, path.join(dir, 'empty')), /empty/);
    await assert.rejects(start({}, path.join(dir, 'missing')), /cannot read/);
    await assert.rejects(start({ VPP_EXPORTER_CONTROL_TOKEN: TOKEN }, path.join(dir, 'good')), /both --control.token-file and VPP_EXPORTER_CONTROL_TOKEN/);
    const api = (await start({}, path.join(dir, 'good'))) as { close(): Promise<void>; auth: { token: boolean } };
    assert.equal(api.auth.token, true);
    await api.close();
  });
});

describe('TLS and basic auth from the web config', () => {
  const dir = tmpDir();
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
  const cert = fs.readFileSync(path.join(dir, 'cert.pem'));
  const file = path.join(dir, 'web.yml');
  fs.writeFileSync(file, `tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\nbasic_auth_users:\n  alice: ${bcrypt.hashSync('s3cret', 10)}\nhttp_server_config:\n  headers:\n    X-Frame-Options: deny\n`);

  function request(url: string, method: string, headers: Record<string, string>, body?: string): Promise<{ status: number; body: string; headers: import('node:http').IncomingHttpHeaders }> {
    return new Promise((resolve, reject) => {
      const req = https.request(url, { method, ca: cert, headers }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, headers: res.headers }));
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  it('https only; basic auth and the token both accepted; configured headers sent', async () => {
    const env = await startControlEnv({ interfaces: 4, web: loadWebConfig(file) });
    try {
      assert.match(env.url, /^https:\/\//);
      const basic = `Basic ${Buffer.from('alice:s3cret').toString('base64')}`;
      const bad = `Basic ${Buffer.from('alice:nope').toString('base64')}`;
      assert.equal((await request(`${env.url}/interfaces`, 'GET', { authorization: basic })).status, 200);
      const denied = await request(`${env.url}/interfaces`, 'GET', { authorization: bad });
      assert.equal(denied.status, 401);
      assert.match(String(denied.headers['www-authenticate']), /Bearer realm=.*Basic realm=/);
      assert.equal((await request(`${env.url}/interfaces`, 'GET', { authorization: `Bearer ${TOKEN}` })).status, 200);
      const put = await request(`${env.url}/interfaces/loop0`, 'PUT', { authorization: basic, 'content-type': 'application/json' }, '{"admin_up":true}');
      assert.equal(put.status, 200, put.body);
      assert.equal(put.headers['x-frame-options'], 'deny');
      assert.equal(env.audit.records.at(-1)?.principal, 'basic:alice');
      // Plain HTTP to the TLS port does not get an answer from the API.
      await assert.rejects(fetch(env.url.replace('https:', 'http:') + '/healthz').then(async (r) => {
        if (r.status === 200) throw new Error('unreachable');
        return r.text();
      }).then(() => {
        throw new Error('answered over plain HTTP');
      }));
    } finally {
      await env.stop();
    }
  });

  it('web-config basic auth alone counts as credentials for a non-loopback bind', async () => {
    const vpp = { connected: false, health: 'down' } as unknown as VppApi;
    const api = await startControlApi({
      config: loadConfig({}, {}),
      vpp,
      audit: new MemoryAuditSink(),
      env: {},
      web: loadWebConfig(file),
      options: { listen: { host: '0.0.0.0', port: 0 } },
    });
    try {
      assert.deepEqual(api.auth, { token: false, basic: true });
      assert.equal(api.tls, true);
    } finally {
      await api.close();
    }
  });
});

describe('limits', () => {
  it('oversized body: 413 JSON (after authentication; an unauthenticated one is 401 first)', async () => {
    const env = await startControlEnv({ interfaces: 2, options: { bodyLimit: 4096 } });
    try {
      const routes = Array.from({ length: 100 }, (_, i) => ({ prefix: `10.${i}.0.0/16`, paths: [{ via: '10.0.0.2' }] }));
      const raw = JSON.stringify({ routes });
      assert.ok(raw.length > 4096);
      const a = await env.call('POST', '/routes', { raw });
      assert.equal(a.status, 413, a.text);
      assert.deepEqual(Object.keys(a.json).sort(), ['error', 'message']);
      assert.equal(a.json.error, 'payload_too_large');
      noStack(a.text);
      assert.equal((await env.call('POST', '/routes', { raw, token: null })).status, 401);
      // The attempt is audited (authenticated mutating call), with the reason.
      assert.equal(env.audit.records.length, 1);
      assert.match(env.audit.records[0].error ?? '', /larger than the limit/);
    } finally {
      await env.stop();
    }
  });

  it('the default body limit takes a 10k-route batch with room to spare', () => {
    const routes = Array.from({ length: 10_000 }, (_, i) => ({
      prefix: `2001:db8:${(i >> 8).toString(16)}:${(i & 0xff).toString(16)}::/64`,
      table: 0,
      paths: [{ interface: 'GigabitEthernet0/8/0.100', via: '2001:db8:ffff:ffff:ffff:ffff:ffff:fffe', weight: 1, preference: 0 }],
    }));
    const size = Buffer.byteLength(JSON.stringify({ routes }));
    assert.ok(size * 2 < CONTROL_DEFAULTS.bodyLimit, `${size} bytes`);
  });

  it('rate limit: a token bucket per client IP, 429 JSON with Retry-After, before authentication', async () => {
    const env = await startControlEnv({ interfaces: 2, options: { rateLimit: 2, rateBurst: 5 } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) statuses.push((await env.call('GET', '/healthz', { token: null })).status);
      assert.deepEqual(statuses.slice(0, 5), [200, 200, 200, 200, 200]);
      assert.ok(statuses.slice(5).every((s) => s === 429), String(statuses));
      const a = await env.call('POST', '/routes', { body: { prefix: '10.0.0.0/8', paths: [{ via: '10.0.0.2' }] }, token: 'wrong-wrong-wrong-wrong' });
      assert.equal(a.status, 429);
      assert.equal(a.json.error, 'too_many_requests');
      assert.ok(Number(a.headers.get('retry-after')) >= 1);
      noStack(a.text);
      await new Promise((r) => setTimeout(r, 1100));
      assert.equal((await env.call('GET', '/healthz', { token: null })).status, 200, 'refilled at 2/s');
    } finally {
      await env.stop();
    }
  });

  it('timeouts are set on the server; a client that never finishes its headers or body is dropped', async () => {
    const env = await startControlEnv({ interfaces: 2, options: { headersTimeoutMs: 1000, requestTimeoutMs: 2000 } });
    try {
      const server = env.api.app.server;
      assert.equal(server.headersTimeout, 1000);
      assert.equal(server.requestTimeout, 2000);
      assert.ok(server.keepAliveTimeout > 0);
      const { port } = env.api;
      const slow = (payload: string): Promise<{ ms: number; answer: string }> =>
        new Promise((resolve, reject) => {
          const began = Date.now();
          const s = net.connect(port, '127.0.0.1', () => s.write(payload));
          let answer = '';
          s.on('data', (c: Buffer) => (answer += c.toString()));
          s.on('close', () => resolve({ ms: Date.now() - began, answer }));
          s.on('error', reject);
          setTimeout(() => reject(new Error('not dropped within 6 s')), 6000).unref();
        });
      const h = await slow('GET /healthz HTTP/1.1\r\nHost: x\r\n');
      assert.ok(h.ms < 3500, `headers: dropped after ${h.ms} ms`);
      assert.match(h.answer, /^HTTP\/1\.1 408|^$/);
      const b = await slow(`PUT /interfaces/loop0 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"admin_up"`);
      assert.ok(b.ms < 5000, `body: dropped after ${b.ms} ms`);
    } finally {
      await env.stop();
    }
  });
});

describe('errors', () => {
  it('an unexpected failure is 500 {error, message} without its text or a stack trace, and is logged', async () => {
    const vpp = {
      connected: true,
      health: 'up',
      dump: () => Promise.reject(new Error('secret detail\n    at /some/file.js:1:1')),
      request: () => Promise.reject(new Error('secret detail')),
    } as unknown as VppApi;
    const audit = new MemoryAuditSink();
    const log = pino({ level: 'silent' });
    const api = await startControlApi({ config: loadConfig({}, {}), vpp, audit, log, token: TOKEN, options: { listen: { host: '127.0.0.1', port: 0 }, rateLimit: 0 } });
    try {
      for (const [method, p, body] of [['GET', '/interfaces', undefined], ['POST', '/routes', { prefix: '10.0.0.0/8', paths: [{ via: '10.0.0.2' }] }]] as const) {
        const r = await fetch(`${api.url}${p}`, {
          method,
          headers: { authorization: `Bearer ${TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
          ...(body ? { body: JSON.stringify(body) } : {}),
        });
        const text = await r.text();
        assert.equal(r.status, 500);
        assert.deepEqual(JSON.parse(text), { error: 'internal', message: 'internal error (see the exporter log)' });
        assert.ok(!text.includes('secret'));
      }
      // The failed mutation is audited with its real reason.
      assert.equal(audit.records.length, 1);
      assert.equal(audit.records[0].error, 'secret detail');
    } finally {
      await api.close();
    }
  });
});
