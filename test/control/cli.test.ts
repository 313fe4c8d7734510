/**
 * src/commands/control-cli.ts: `routes add|del|list` and `interfaces list|set`, through the
 * control API (token from the environment or a token file) and straight to VPP with --direct,
 * each checked against the simulator. Bad usage is a ConfigError (exit 2).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, type Config } from '../../src/config.js';
import {
  controlUrl,
  parseInterfaceSet,
  parseRouteArgs,
  runInterfacesCommand,
  runRoutesCommand,
  type ControlCliContext,
} from '../../src/commands/control-cli.js';
import { tmpDir } from '../helpers/paths.js';
import { dumpRoutes, startControlEnv, TOKEN, type ControlEnv } from './env.js';

interface Run {
  code: number;
  out: string;
  err: string;
}

function runner(env: ControlEnv, base: Record<string, unknown>, procEnv: NodeJS.ProcessEnv) {
  return async (command: 'routes' | 'interfaces', sub: string, args: string[], extra: Record<string, unknown> = {}, readFile?: (p: string) => string): Promise<Run> => {
    let out = '';
    let err = '';
    const ctx: ControlCliContext = {
      config: { ...env.config, ...base, ...extra },
      args,
      write: (s) => (out += s),
      writeErr: (s) => (err += s),
      env: procEnv,
      ...(readFile ? { readFile } : {}),
    };
    const code = command === 'routes' ? await runRoutesCommand(sub, ctx) : await runInterfacesCommand(sub, ctx);
    return { code, out, err };
  };
}

describe('control CLI', () => {
  let env: ControlEnv;
  before(async () => {
    env = await startControlEnv({ interfaces: 6 });
  });
  after(async () => {
    await env.stop();
  });

  for (const mode of ['api', 'direct'] as const) {
    it(`${mode}: routes add / list / del, checked in ip_route_dump`, async () => {
      const run = runner(env, mode === 'api' ? { 'control.url': env.url } : { direct: true }, { VPP_EXPORTER_CONTROL_TOKEN: TOKEN });
      const loop0 = env.sim.model.byName('loop0')!;
      const net = mode === 'api' ? '10.180' : '10.181';
      let r = await run('routes', 'add', [`${net}.0.0/16`, 'via', '10.0.0.2', 'dev', 'loop0', 'weight', '2', 'via', '10.0.0.3']);
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, /^programmed 1 route \(\d+ routes\/s\)\n$/);
      assert.deepEqual(new Set((await dumpRoutes(env)).get(`${net}.0.0/16`)), new Set([`10.0.0.2@${loop0.swIfIndex}/2/0/0`, '10.0.0.3@4294967295/1/0/0']));

      const file = path.join(tmpDir(), 'routes.json');
      fs.writeFileSync(file, JSON.stringify([{ prefix: `${net}.1.0/24`, paths: [{ via: '10.0.0.2' }] }, { prefix: `${net}.2.0/24`, paths: [{ type: 'drop' }] }]));
      r = await run('routes', 'add', ['from', file]);
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, /^programmed 2 routes/);

      r = await run('routes', 'list', ['ip4']);
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, /^PREFIX\s+TABLE\s+PATHS\n/);
      assert.match(r.out, new RegExp(`^${net.replace('.', '\\.')}\\.0\\.0/16\\s+0\\s+via 10\\.0\\.0\\.2 dev loop0 weight 2, via 10\\.0\\.0\\.3$`, 'm'));
      assert.match(r.out, new RegExp(`^${net.replace('.', '\\.')}\\.2\\.0/24\\s+0\\s+drop$`, 'm'));
      r = await run('routes', 'list', [], { json: true });
      const listed = JSON.parse(r.out) as { routes: { prefix: string }[] };
      assert.ok(listed.routes.some((x) => x.prefix === `${net}.1.0/24`));

      r = await run('routes', 'del', [`${net}.0.0/16`, `${net}.1.0/24`, `${net}.2.0/24`]);
      assert.equal(r.code, 0, r.err);
      assert.equal(r.out, `deleted ${net}.0.0/16 (table 0)\ndeleted ${net}.1.0/24 (table 0)\ndeleted ${net}.2.0/24 (table 0)\n`);
      const dump = await dumpRoutes(env);
      for (const p of [`${net}.0.0/16`, `${net}.1.0/24`, `${net}.2.0/24`]) assert.equal(dump.has(p), false);

      // Failures: exit 1 with the API's (or VPP's) reason on stderr.
      r = await run('routes', 'add', [`${net}.0.0/16`, 'via', '10.0.0.2', 'table', '42']);
      assert.equal(r.code, 1);
      assert.match(r.err, /NO_SUCH_FIB/);
      r = await run('routes', 'add', [`${net}.0.1/16`, 'via', '10.0.0.2']);
      assert.equal(r.code, 1);
      assert.match(r.err, /host bits/);
      r = await run('routes', 'add', [`${net}.0.0/16`, 'dev', 'nope0']);
      assert.equal(r.code, 1);
      assert.match(r.err, /not_found: .*nope0/);
    });

    it(`${mode}: interfaces list / set, checked in the model`, async () => {
      const run = runner(env, mode === 'api' ? { 'control.url': env.url } : { direct: true }, { VPP_EXPORTER_CONTROL_TOKEN: TOKEN });
      let r = await run('interfaces', 'list', []);
      assert.equal(r.code, 0, r.err);
      const lines = r.out.trimEnd().split('\n');
      assert.match(lines[0], /^IDX\s+NAME\s+ADMIN\s+LINK\s+MTU\s+MAC\s+RX-PACKETS\s+TX-PACKETS\s+DROPS\s+ADDRESSES$/);
      assert.equal(lines.length, env.sim.model.count + 1);
      r = await run('interfaces', 'list', ['loop0'], { json: true });
      const one = JSON.parse(r.out) as { interfaces: { name: string; counters: Record<string, number> | null }[] };
      assert.equal(one.interfaces[0].name, 'loop0');
      assert.ok(one.interfaces[0].counters !== null, 'counters (the stats socket is there)');

      const loop = env.sim.model.byName('loop0')!;
      const addr = mode === 'api' ? '10.182.0.1/24' : '10.183.0.1/24';
      r = await run('interfaces', 'set', ['loop0', 'down', 'address', addr]);
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, new RegExp(`^loop0: .*\\+${addr.replaceAll('.', '\\.')}`));
      assert.equal(env.sim.model.get(loop.swIfIndex)!.adminUp, false);
      assert.ok(env.sim.model.get(loop.swIfIndex)!.addresses.includes(addr));
      r = await run('interfaces', 'set', ['loop0', 'up', 'address', addr, 'replace']);
      assert.equal(r.code, 0, r.err);
      assert.deepEqual(env.sim.model.get(loop.swIfIndex)!.addresses, [addr]);
      assert.equal(env.sim.model.get(loop.swIfIndex)!.adminUp, true);
      r = await run('interfaces', 'set', ['nope0', 'up']);
      assert.equal(r.code, 1);
      assert.match(r.err, /not_found/);
    });
  }

  it('the token comes from --control.token-file or the environment; without it the API says 401', async () => {
    const file = path.join(tmpDir(), 'token');
    fs.writeFileSync(file, `${TOKEN}\n`, { mode: 0o600 });
    const viaFile = runner(env, { 'control.url': env.url, 'control.token-file': file }, {});
    assert.equal((await viaFile('interfaces', 'list', [])).code, 0);
    const none = runner(env, { 'control.url': env.url }, {});
    const r = await none('interfaces', 'list', []);
    assert.equal(r.code, 1);
    assert.match(r.err, /unauthorized/);
    const wrong = runner(env, { 'control.url': env.url }, { VPP_EXPORTER_CONTROL_TOKEN: 'x'.repeat(20) });
    assert.equal((await wrong('routes', 'del', ['10.0.0.0/8'])).code, 1);
    const unreachable = runner(env, { 'control.url': 'http://127.0.0.1:1' }, {});
    const u = await unreachable('interfaces', 'list', []);
    assert.equal(u.code, 1);
    assert.match(u.err, /cannot reach the control API/);
  });

  it('refuses to send a token in clear text beyond loopback', async () => {
    const run = runner(env, { 'control.url': 'http://192.0.2.1:9483' }, { VPP_EXPORTER_CONTROL_TOKEN: TOKEN });
    await assert.rejects(run('interfaces', 'list', []), (e: unknown) => e instanceof ConfigError && /clear text/.test(e.message));
  });

  it('bad usage is a ConfigError (exit 2)', async () => {
    const run = runner(env, { 'control.url': env.url }, { VPP_EXPORTER_CONTROL_TOKEN: TOKEN });
    for (const [cmd, sub, args] of [
      ['routes', 'add', []],
      ['routes', 'add', ['10.0.0.0/8']],
      ['routes', 'add', ['10.0.0.0/8', 'via']],
      ['routes', 'add', ['10.0.0.0/8', 'via', '1.2.3.4', 'weight', '300']],
      ['routes', 'add', ['10.0.0.0/8', 'flush']],
      ['routes', 'add', ['from']],
      ['routes', 'del', []],
      ['routes', 'list', ['table', 'x']],
      ['routes', 'exec', []],
      ['interfaces', 'set', ['loop0']],
      ['interfaces', 'set', ['loop0', 'sideways']],
      ['interfaces', 'delete', []],
    ] as const) {
      await assert.rejects(run(cmd, sub, [...args]), ConfigError, `${cmd} ${sub} ${args.join(' ')}`);
    }
  });

  it('argument parsing', () => {
    assert.deepEqual(parseRouteArgs(['10.0.0.0/8', 'table', '3', 'via', '1.1.1.1', 'dev', 'eth0', 'preference', '2', 'dev', 'eth1']), {
      prefix: '10.0.0.0/8',
      table: 3,
      paths: [{ via: '1.1.1.1', interface: 'eth0', preference: 2 }, { interface: 'eth1' }],
    });
    assert.deepEqual(parseRouteArgs(['10.0.0.0/8', 'type', 'drop']), { prefix: '10.0.0.0/8', table: 0, paths: [{ type: 'drop' }] });
    assert.deepEqual(parseInterfaceSet(['memif1/0', 'replace']), { name: 'memif1/0', change: { replace_addresses: true, addresses: [] } });
    assert.equal(controlUrl({ 'control.listen-address': { host: '', port: 9483 } } as unknown as Config), 'http://127.0.0.1:9483');
    assert.equal(controlUrl({ 'control.listen-address': { host: '::1', port: 9 } } as unknown as Config), 'http://[::1]:9');
    assert.equal(controlUrl({ 'control.url': 'https://h:1/' } as unknown as Config), 'https://h:1');
  });
});
