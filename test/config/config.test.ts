/** One validated configuration: defaults < file < environment < flags; bad values exit 2. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { loadConfig, ConfigError, envName } from '../../src/config.js';
import { CLI, REPO_ROOT, tmpDir } from '../helpers/paths.js';

test('precedence: flag over environment over file over default', () => {
  const file = path.join(tmpDir(), 'c.json');
  fs.writeFileSync(file, JSON.stringify({ 'stats-socket': '/file.sock', 'api-socket': '/file-api.sock', 'per-thread': true }));
  const c = loadConfig({ config: file, 'stats-socket': '/flag.sock' }, { [envName('stats-socket')]: '/env.sock', [envName('api-socket')]: '/env-api.sock' });
  assert.equal(c['stats-socket'], '/flag.sock');
  assert.equal(c['api-socket'], '/env-api.sock');
  assert.equal(c['per-thread'], true);
  assert.deepEqual(c['web.listen-address'], { host: '', port: 9482 });
  assert.deepEqual(c['control.listen-address'], { host: '127.0.0.1', port: 9483 });
  assert.ok(Object.isFrozen(c));
});

test('values are parsed: durations, key=value lists, regex lists, listen addresses', () => {
  const c = loadConfig({ 'otlp.interval': '1m', 'otlp.headers': 'a=1, b = 2', 'stats.include': '^/if/,^/err/', 'web.listen-address': '[::1]:9000' }, {});
  assert.equal(c['otlp.interval'], 60_000);
  assert.deepEqual(c['otlp.headers'], { a: '1', b: '2' });
  assert.deepEqual(c['stats.include'].map(String), ['/^\\/if\\//', '/^\\/err\\//']);
  assert.deepEqual(c['web.listen-address'], { host: '::1', port: 9000 });
});

for (const [flags, message] of [
  [{ interfaces: '-1' }, /below the minimum/],
  [{ interfaces: 'ten' }, /not an integer/],
  [{ 'web.listen-address': '9482' }, /not host:port/],
  [{ 'log.level': 'loud' }, /not one of/],
  [{ 'otlp.protocol': 'udp' }, /not one of/],
  [{ 'stats.include': '(' }, /not a valid regex/],
  [{ 'otlp.headers': 'novalue' }, /not key=value/],
  [{ 'otlp.interval': '10' }, /below the minimum 50/],
] as const) {
  test(`bad value ${JSON.stringify(flags)} is a ConfigError`, () => {
    assert.throws(() => loadConfig(flags, {}), (e: unknown) => e instanceof ConfigError && message.test(e.message));
  });
}

test('unknown keys in a config file and bad JSON are refused', () => {
  const dir = tmpDir();
  fs.writeFileSync(path.join(dir, 'u.json'), '{"stats-sockett": "/x"}');
  fs.writeFileSync(path.join(dir, 'b.json'), '{nope');
  assert.throws(() => loadConfig({ config: path.join(dir, 'u.json') }, {}), /unknown option 'stats-sockett'/);
  assert.throws(() => loadConfig({ config: path.join(dir, 'b.json') }, {}), /is not valid/);
});

test('the CLI exits 2 with a message on bad usage and bad values, 0 on --help', () => {
  const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  let r = run('run', '--interfaces', '5');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /Unknown option '--interfaces'/);
  r = run('sim', '--interfaces', 'many');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--interfaces: 'many' is not an integer/);
  r = run('nope');
  assert.equal(r.status, 2);
  r = run('stats', 'dump', '--stats-socket', '/nonexistent/stats.sock');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /cannot read stats/);
  r = run('run', '--help');
  assert.equal(r.status, 0);
  assert.match(r.stdout, /--web\.listen-address/);
});

test('the example systemd configuration loads', () => {
  const c = loadConfig({ config: path.join(REPO_ROOT, 'examples', 'systemd', 'config.json') }, {});
  assert.equal(c['otlp.interval'], 15_000);
});
