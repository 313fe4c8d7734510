/** Web config (exporter-toolkit format): TLS and basic auth, good and bad cases. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import https from 'node:https';
import { execFileSync, spawnSync } from 'node:child_process';
import bcrypt from 'bcryptjs';
import { CLI, fixtureImage, tmpDir } from '../helpers/paths.js';
import { exporterOn } from '../helpers/exporter.js';
import { loadWebConfig, BasicAuth } from '../../src/web/web-config.js';
import { ConfigError } from '../../src/config.js';

const dir = tmpDir();
execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
const cert = fs.readFileSync(path.join(dir, 'cert.pem'));
const hash = bcrypt.hashSync('s3cret', 10);

function webFile(name: string, text: string): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, text);
  return p;
}

function request(url: string, opts: https.RequestOptions = {}): Promise<{ status: number; body: string; tlsVersion?: string }> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca: cert, ...opts }, (res) => {
        let body = '';
        const tlsVersion = (res.socket as import('node:tls').TLSSocket).getProtocol() ?? undefined;
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, tlsVersion }));
      })
      .on('error', reject);
  });
}

const basic = (user: string, pass: string): string => 'Basic ' + Buffer.from(`${user}:${pass}`).toString('base64');

test('TLS and basic auth: right password 200, wrong or none 401, TLS 1.1 refused', async () => {
  const file = webFile('web.yml', `tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\nbasic_auth_users:\n  alice: ${hash}\n`);
  const exporter = await exporterOn({ filePath: fixtureImage('statseg') }, { 'web.config.file': file });
  try {
    assert.match(exporter.url, /^https:/);
    const ok = await request(exporter.url, { headers: { authorization: basic('alice', 's3cret') } });
    assert.equal(ok.status, 200);
    assert.match(ok.body, /^vpp_up 1$/m);
    assert.ok(ok.tlsVersion === 'TLSv1.3' || ok.tlsVersion === 'TLSv1.2');
    assert.equal((await request(exporter.url, { headers: { authorization: basic('alice', 'wrong') } })).status, 401);
    assert.equal((await request(exporter.url, { headers: { authorization: basic('bob', 's3cret') } })).status, 401);
    assert.equal((await request(exporter.url)).status, 401);
    await assert.rejects(request(exporter.url, { maxVersion: 'TLSv1.1', minVersion: 'TLSv1' }));
  } finally {
    await exporter.stop();
  }
});

test('unknown users take about as long as wrong passwords (a bcrypt compare each)', async () => {
  const auth = new BasicAuth(new Map([['alice', hash]]));
  const time = async (h: string): Promise<number> => {
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) assert.equal(await auth.check(h), false);
    return performance.now() - t0;
  };
  const unknown = await time(basic('mallory', 'x'));
  const wrong = await time(basic('alice', 'x'));
  // Both do five bcrypt compares at cost 10; a short-cut for unknown users would be ~1000x faster.
  assert.ok(unknown > wrong / 3 && unknown < wrong * 3, `unknown ${unknown.toFixed(1)} ms vs wrong ${wrong.toFixed(1)} ms`);
});

for (const [name, text, message] of [
  ['not yaml', 'tls_server_config: [', /cannot read/],
  ['unknown key', 'tls_server_confg: {}\n', /unknown key 'tls_server_confg'/],
  ['old TLS', 'tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n  min_version: TLS10\n', /min_version 'TLS10' is not allowed/],
  ['missing cert', 'tls_server_config:\n  cert_file: nope.pem\n  key_file: key.pem\n', /cert_file/],
  ['not a hash', 'basic_auth_users:\n  alice: plaintext\n', /not a bcrypt hash/],
  ['verify without CA', 'tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n  client_auth_type: RequireAndVerifyClientCert\n', /needs client_ca_file/],
] as const) {
  test(`bad web config (${name}) is a ConfigError, and the CLI exits 2`, () => {
    const file = webFile(`bad-${name.replace(/ /g, '-')}.yml`, text);
    assert.throws(() => loadWebConfig(file), (e: unknown) => e instanceof ConfigError && message.test(e.message));
    const r = spawnSync(process.execPath, [CLI, 'run', '--stats-file', fixtureImage('statseg'), '--web.listen-address', '127.0.0.1:0', '--web.config.file', file], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, message);
  });
}
