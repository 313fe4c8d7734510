/**
 * The control API's endpoints against the VPP simulator, happy and unhappy paths, each checked
 * against the simulator's own state (its interface model, and its ip_route_dump / ip_address_dump
 * read with the binary API client directly, not through the API under test).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DumpValue } from '../../src/stats/index.js';
import type { InterfaceView, ProgramResult, RouteView } from '../../src/control/index.js';
import { dumpRoutes, startControlEnv, type Answer, type ControlEnv, type ErrorBody } from './env.js';

function assertError(a: Answer<ErrorBody>, status: number, error: string | RegExp): void {
  assert.equal(a.status, status, a.text);
  assert.match(String(a.headers.get('content-type')), /^application\/json/);
  assert.equal(typeof a.json.message, 'string');
  if (typeof error === 'string') assert.equal(a.json.error, error, a.text);
  else assert.match(a.json.error, error);
  assert.ok(!/\n\s+at /.test(a.text), 'no stack trace in an answer');
}

function sumRows(v: DumpValue | undefined, sw: number, word: number): number {
  if (!Array.isArray(v)) return 0;
  let s = 0;
  for (const row of v) {
    if (!Array.isArray(row)) continue;
    const cell = row[sw];
    s += Number(Array.isArray(cell) ? cell[word] : (cell ?? 0n));
  }
  return s;
}

describe('control API on the simulator', () => {
  let env: ControlEnv;
  before(async () => {
    env = await startControlEnv({ interfaces: 8 });
  });
  after(async () => {
    await env.stop();
  });

  it('GET /healthz and /readyz', async () => {
    const h = await env.call('GET', '/healthz', { token: null });
    assert.equal(h.status, 200);
    assert.deepEqual(h.json, { status: 'ok' });
    const r = await env.call('GET', '/readyz', { token: null });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, { status: 'ready', vpp_api: 'up', stats: 'up' });
    assert.match(String(h.headers.get('x-request-id')), /^[0-9a-f-]{36}$/);
  });

  it('GET /interfaces: every interface of the model, with its state, addresses and counters equal to the segment', async () => {
    const a = await env.call<{ interfaces: InterfaceView[] }>('GET', '/interfaces');
    assert.equal(a.status, 200, a.text);
    const model = env.sim.model.list();
    assert.equal(a.json.interfaces.length, model.length);
    const truth = env.sim.truth({ perThread: true });
    let nonZero = 0;
    for (const m of model) {
      const got = a.json.interfaces.find((i) => i.sw_if_index === m.swIfIndex);
      assert.ok(got, `interface ${m.name}`);
      assert.equal(got.name, m.name);
      assert.equal(got.admin_up, m.adminUp, m.name);
      assert.equal(got.link_up, m.linkUp, m.name);
      assert.equal(got.mac, m.subId !== 0 ? '00:00:00:00:00:00' : m.mac);
      assert.equal(got.mtu, m.mtu);
      // local0 takes no addresses; the others show exactly the model's.
      assert.deepEqual(new Set(got.addresses), new Set(m.addresses), m.name);
      assert.ok(got.counters, `${m.name} has counters`);
      for (const [path, names] of [
        ['/if/rx', ['rx_packets', 'rx_bytes']],
        ['/if/tx', ['tx_packets', 'tx_bytes']],
        ['/if/rx-multicast', ['rx_multicast_packets', 'rx_multicast_bytes']],
        ['/if/drops', ['drops']],
        ['/if/rx-no-buf', ['rx_no_buf']],
        ['/if/tx-error', ['tx_error']],
      ] as const) {
        names.forEach((n, word) => assert.equal(got.counters![n], sumRows(truth.get(path), m.swIfIndex, word), `${m.name} ${n}`));
      }
      if (got.counters.rx_packets > 0) nonZero++;
    }
    assert.ok(nonZero > 0, 'some interface has traffic');
  });

  it('GET /interfaces/{name}: URL-encoded names; 404 for an unknown one', async () => {
    const memif = env.sim.model.list().find((i) => i.name.includes('/') && i.deviceClass === 'memif');
    assert.ok(memif, 'the topology has a memif');
    const a = await env.call<InterfaceView>('GET', `/interfaces/${encodeURIComponent(memif.name)}`);
    assert.equal(a.status, 200, a.text);
    assert.equal(a.json.name, memif.name);
    assert.equal(a.json.sw_if_index, memif.swIfIndex);
    // A name that is a substring of others (VPP's name filter matches substrings) is exact here.
    assertError(await env.call('GET', `/interfaces/${encodeURIComponent(memif.name.slice(0, -1))}`), 404, 'not_found');
    assertError(await env.call('GET', '/interfaces/no-such-if'), 404, 'not_found');
  });

  it('PUT /interfaces/{name}: admin state and addresses really change; replace makes the list exact', async () => {
    const loop = env.sim.model.list().find((i) => i.deviceClass === 'loopback' && !i.adminUp) ?? env.sim.model.list().find((i) => i.deviceClass === 'loopback')!;
    const sw = loop.swIfIndex;
    const before = [...loop.addresses];
    let a = await env.call<{ interface: InterfaceView; added: string[]; removed: string[]; admin_changed: boolean }>('PUT', `/interfaces/${loop.name}`, {
      body: { admin_up: true, addresses: ['10.200.0.1/24', '2001:db8:200::1/64'] },
    });
    assert.equal(a.status, 200, a.text);
    assert.deepEqual(a.json.added, ['10.200.0.1/24', '2001:db8:200::1/64']);
    assert.equal(env.sim.model.get(sw)!.adminUp, true);
    assert.deepEqual(new Set(env.sim.model.get(sw)!.addresses), new Set([...before, '10.200.0.1/24', '2001:db8:200::1/64']));
    const v4 = await env.vpp.dump('ip_address_dump', { sw_if_index: sw, is_ipv6: false });
    assert.ok(v4.some((d) => d.prefix.len === 24 && d.prefix.address.un.subarray(0, 4).equals(Buffer.from([10, 200, 0, 1]))));
    assert.equal(a.json.interface.admin_up, true);

    // The same again changes nothing (idempotent).
    a = await env.call('PUT', `/interfaces/${loop.name}`, { body: { admin_up: true, addresses: ['10.200.0.1/24'] } });
    assert.equal(a.status, 200, a.text);
    assert.deepEqual(a.json.added, []);
    assert.equal(a.json.admin_changed, false);

    a = await env.call('PUT', `/interfaces/${loop.name}`, { body: { addresses: ['10.201.0.1/24'], replace_addresses: true } });
    assert.equal(a.status, 200, a.text);
    assert.deepEqual(env.sim.model.get(sw)!.addresses, ['10.201.0.1/24']);
    assert.deepEqual(new Set(a.json.removed), new Set([...before, '10.200.0.1/24', '2001:db8:200::1/64']));

    a = await env.call('PUT', `/interfaces/${loop.name}`, { body: { admin_up: false } });
    assert.equal(a.status, 200, a.text);
    assert.equal(env.sim.model.get(sw)!.adminUp, false);
    const d = await env.vpp.dump('sw_interface_dump', { sw_if_index: sw, name_filter_valid: false, name_filter: '' });
    assert.equal(d[0].flags & 1, 0);
  });

  it('PUT /interfaces/{name}: unhappy paths leave the interface alone', async () => {
    const loop = env.sim.model.list().find((i) => i.deviceClass === 'loopback')!;
    const other = env.sim.model.list().find((i) => i.swIfIndex !== loop.swIfIndex && i.addresses.some((x) => x.startsWith('10.')))!;
    const state = JSON.stringify(env.sim.model.get(loop.swIfIndex));
    assertError(await env.call('PUT', '/interfaces/no-such-if', { body: { admin_up: true } }), 404, 'not_found');
    assertError(await env.call('PUT', `/interfaces/${loop.name}`, { body: {} }), 400, 'bad_request');
    assertError(await env.call('PUT', `/interfaces/${loop.name}`, { body: { admin_up: 'yes' } }), 400, 'bad_request');
    assertError(await env.call('PUT', `/interfaces/${loop.name}`, { body: { admin_up: true, mtu: 1500 } }), 400, 'bad_request');
    assertError(await env.call('PUT', `/interfaces/${loop.name}`, { body: { addresses: ['10.0.0.01/24'] } }), 400, 'bad_request');
    assertError(await env.call('PUT', `/interfaces/${loop.name}`, { body: { addresses: ['10.0.0.1'] } }), 400, 'bad_request');
    assertError(await env.call('PUT', `/interfaces/${loop.name}`, { body: { replace_addresses: true } }), 400, 'bad_request');
    assertError(await env.call('PUT', `/interfaces/${loop.name}`, { raw: '{"admin_up": tru' }), 400, 'bad_request');
    assertError(
      await env.call('PUT', `/interfaces/${loop.name}`, { raw: 'admin_up=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
      415,
      'unsupported_media_type',
    );
    assert.equal(JSON.stringify(env.sim.model.get(loop.swIfIndex)), state);
    // VPP refuses an address in another interface's subnet: 409 with VPP's name for it.
    const theirs = other.addresses.find((x) => x.startsWith('10.'))!;
    const clash = theirs.replace(/\.1\/(\d+)$/, '.77/$1');
    const a = await env.call('PUT', `/interfaces/${loop.name}`, { body: { addresses: [clash] } });
    assertError(a, 409, 'ADDRESS_IN_USE');
    assert.equal(a.json.retval, -105);
    assert.ok(!env.sim.model.get(loop.swIfIndex)!.addresses.includes(clash));
  });

  it('POST /routes (one route), GET /routes, DELETE /routes/{prefix}: really in ip_route_dump, then gone', async () => {
    const loop = env.sim.model.list().find((i) => i.name === 'loop0')!;
    let a = await env.call<ProgramResult>('POST', '/routes', {
      body: { prefix: '10.99.0.0/16', table: 0, paths: [{ interface: 'loop0', via: '10.0.0.2', weight: 3, preference: 1 }] },
    });
    assert.equal(a.status, 200, a.text);
    assert.equal(a.json.programmed, 1);
    assert.deepEqual(a.json.failed, []);
    assert.ok(a.json.routes_per_second > 0);
    let dump = await dumpRoutes(env);
    assert.deepEqual(dump.get('10.99.0.0/16'), [`10.0.0.2@${loop.swIfIndex}/3/1/0`]);

    const list = await env.call<{ routes: RouteView[] }>('GET', '/routes?table=0');
    assert.equal(list.status, 200);
    const r = list.json.routes.find((x) => x.prefix === '10.99.0.0/16');
    assert.deepEqual(r?.paths.map((p) => [p.interface, p.via, p.weight, p.preference, p.type]), [['loop0', '10.0.0.2', 3, 1, 'normal']]);
    assert.equal(list.json.routes.length, dump.size + (await dumpRoutes(env, 6)).size);
    const only4 = await env.call<{ routes: RouteView[] }>('GET', '/routes?family=ip4');
    assert.equal(only4.json.routes.length, dump.size);

    // Posting the route again with another path replaces its paths (is_multipath false).
    a = await env.call('POST', '/routes', { body: { prefix: '10.99.0.0/16', paths: [{ via: '10.0.0.3' }, { via: '10.0.0.4', weight: 2 }] } });
    assert.equal(a.status, 200, a.text);
    dump = await dumpRoutes(env);
    assert.deepEqual(new Set(dump.get('10.99.0.0/16')), new Set(['10.0.0.3@4294967295/1/0/0', '10.0.0.4@4294967295/2/0/0']));

    // IPv6, an attached route (interface only), and a drop route.
    a = await env.call('POST', '/routes', {
      body: { routes: [{ prefix: '2001:db8:99::/48', paths: [{ interface: 'loop0' }] }, { prefix: '192.0.2.0/24', paths: [{ type: 'drop' }] }] },
    });
    assert.equal(a.status, 200, a.text);
    assert.deepEqual((await dumpRoutes(env, 6)).get('2001:db8:99::/48'), [`::@${loop.swIfIndex}/1/0/0`]);
    assert.deepEqual((await dumpRoutes(env)).get('192.0.2.0/24'), ['0.0.0.0@4294967295/1/0/2']);

    let d = await env.call<{ deleted: string; table: number }>('DELETE', `/routes/${encodeURIComponent('10.99.0.0/16')}`);
    assert.equal(d.status, 200, d.text);
    assert.deepEqual(d.json, { deleted: '10.99.0.0/16', table: 0 });
    assert.equal((await dumpRoutes(env)).has('10.99.0.0/16'), false);
    d = await env.call('DELETE', `/routes/${encodeURIComponent('2001:DB8:99::/48')}?table=0`);
    assert.equal(d.status, 200, d.text);
    assert.equal(d.json.deleted, '2001:db8:99::/48');
    assert.equal((await dumpRoutes(env, 6)).has('2001:db8:99::/48'), false);
    // The slash may also be left unencoded.
    d = await env.call('DELETE', '/routes/192.0.2.0/24');
    assert.equal(d.status, 200, d.text);
    assert.equal((await dumpRoutes(env)).has('192.0.2.0/24'), false);
  });

  it('routes in another table: 422 NO_SUCH_FIB until VPP has the table, 404 on GET', async () => {
    const body = { prefix: '10.98.0.0/16', table: 55, paths: [{ via: '10.0.0.2' }] };
    const no = await env.call('POST', '/routes', { body });
    assertError(no, 422, 'NO_SUCH_FIB');
    assert.equal(no.json.retval, -3);
    assertError(await env.call('GET', '/routes?table=55'), 404, 'not_found');
    await env.vpp.request('ip_table_add_del', { is_add: true, table: { table_id: 55, is_ip6: false, name: '' } });
    const yes = await env.call('POST', '/routes', { body });
    assert.equal(yes.status, 200, yes.text);
    assert.ok((await dumpRoutes(env, 4, 55)).has('10.98.0.0/16'));
    const list = await env.call<{ routes: RouteView[] }>('GET', '/routes?table=55');
    assert.ok(list.json.routes.some((r) => r.prefix === '10.98.0.0/16' && r.table === 55));
    assertError(await env.call('DELETE', '/routes/10.98.0.0%2F16?table=56'), 422, 'NO_SUCH_FIB');
    assert.equal((await env.call('DELETE', '/routes/10.98.0.0%2F16?table=55')).status, 200);
    assert.equal((await dumpRoutes(env, 4, 55)).has('10.98.0.0/16'), false);
  });

  it('POST /routes: invalid routes are refused before anything reaches VPP', async () => {
    const before = await dumpRoutes(env);
    const cases: [unknown, number, string][] = [
      [{ prefix: '10.97.1.0/16', paths: [{ via: '10.0.0.2' }] }, 400, 'bad_request'], // host bits
      [{ prefix: '10.97.0.0/33', paths: [{ via: '10.0.0.2' }] }, 400, 'bad_request'],
      [{ prefix: '010.97.0.0/16', paths: [{ via: '10.0.0.2' }] }, 400, 'bad_request'],
      [{ prefix: '10.97.0.0/16', paths: [{ via: '10.0.0.256' }] }, 400, 'bad_request'],
      [{ prefix: '10.97.0.0/16', paths: [] }, 400, 'bad_request'],
      [{ prefix: '10.97.0.0/16' }, 400, 'bad_request'],
      [{ prefix: '10.97.0.0/16', paths: [{}] }, 400, 'bad_request'],
      [{ prefix: '10.97.0.0/16', paths: [{ via: '10.0.0.2', weight: 0 }] }, 400, 'bad_request'],
      [{ prefix: '10.97.0.0/16', paths: [{ via: '10.0.0.2', type: 'local' }] }, 400, 'bad_request'],
      [{ prefix: '10.97.0.0/16', table: -1, paths: [{ via: '10.0.0.2' }] }, 400, 'bad_request'],
      [{ prefix: '10.97.0.0/16', paths: [{ via: '10.0.0.2' }], command: 'ip route flush' }, 400, 'bad_request'],
      [{ prefix: '10.97.0.0/16', paths: [{ interface: 'nope0' }] }, 404, 'not_found'],
      [{ routes: [] }, 400, 'bad_request'],
      [[{ prefix: '10.97.0.0/16', paths: [{ via: '10.0.0.2' }] }], 400, 'bad_request'],
    ];
    for (const [body, status, error] of cases) {
      const a = await env.call('POST', '/routes', { body });
      assertError(a, status, error);
    }
    // A batch with one bad route: 400 naming it, nothing programmed.
    const batch = { routes: [{ prefix: '10.97.0.0/16', paths: [{ via: '10.0.0.2' }] }, { prefix: '10.97.0.1/16', paths: [{ via: '10.0.0.2' }] }] };
    const a = await env.call<ErrorBody & { failed: { index: number; error: string }[] }>('POST', '/routes', { body: batch });
    assertError(a, 400, 'bad_request');
    assert.deepEqual(a.json.failed.map((f) => [f.index, f.error]), [[1, 'bad_request']]);
    assert.deepEqual(await dumpRoutes(env), before);
  });

  it("POST /routes batch: VPP's failures are listed per route, the rest is programmed", async () => {
    const routes = [
      { prefix: '10.96.1.0/24', paths: [{ via: '10.0.0.2' }] },
      { prefix: '10.96.2.0/24', table: 77, paths: [{ via: '10.0.0.2' }] },
      { prefix: '10.96.3.0/24', paths: [{ via: '10.0.0.2' }] },
    ];
    const a = await env.call<ProgramResult>('POST', '/routes', { body: { routes } });
    assert.equal(a.status, 200, a.text);
    assert.equal(a.json.programmed, 2);
    assert.equal(a.json.failed.length, 1);
    assert.equal(a.json.failed[0].index, 1);
    assert.equal(a.json.failed[0].error, 'NO_SUCH_FIB');
    assert.equal(a.json.failed[0].retval, -3);
    assert.deepEqual(a.json.failed[0].route, routes[1]);
    const dump = await dumpRoutes(env);
    assert.ok(dump.has('10.96.1.0/24') && dump.has('10.96.3.0/24'));
  });

  it('GET /routes and DELETE: bad parameters', async () => {
    assertError(await env.call('GET', '/routes?table=01'), 400, 'bad_request');
    assertError(await env.call('GET', '/routes?table=x'), 400, 'bad_request');
    assertError(await env.call('GET', '/routes?table=4294967296'), 400, 'bad_request');
    assertError(await env.call('GET', '/routes?family=ip5'), 400, 'bad_request');
    assertError(await env.call('GET', '/routes?cmd=show'), 400, 'bad_request');
    assertError(await env.call('DELETE', '/routes/10.0.0.0%2F33'), 400, 'bad_request');
    assertError(await env.call('DELETE', '/routes/10.1.2.3%2F24'), 400, 'bad_request');
    assertError(await env.call('DELETE', '/routes/fe80%3A%3A%25eth0%2F64'), 400, 'bad_request');
    assertError(await env.call('DELETE', '/routes/10.0.0.0%2F8?table=-1'), 400, 'bad_request');
  });

  it('unknown paths and methods are 404 JSON; there is no command pass-through', async () => {
    for (const [m, p] of [
      ['GET', '/'],
      ['POST', '/cli'],
      ['POST', '/exec'],
      ['GET', '/api/cli_inband'],
      ['PATCH', '/interfaces/loop0'],
      ['DELETE', '/interfaces/loop0'],
      ['PUT', '/routes'],
    ] as const) {
      assertError(await env.call(m, p, { body: m === 'GET' ? undefined : {} }), 404, 'not_found');
    }
  });

  it('GET /openapi.json: OpenAPI 3 with exactly the contract paths, security schemes, refs that resolve', async () => {
    const a = await env.call<{ openapi: string; paths: Record<string, Record<string, { security?: unknown; responses: Record<string, unknown> }>>; components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> } }>(
      'GET',
      '/openapi.json',
      { token: null },
    );
    assert.equal(a.status, 200);
    assert.match(a.json.openapi, /^3\./);
    const ops = Object.entries(a.json.paths).flatMap(([p, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${p}`));
    assert.deepEqual(new Set(ops), new Set([
      'GET /healthz', 'GET /readyz', 'GET /interfaces', 'GET /interfaces/{name}', 'PUT /interfaces/{name}',
      'GET /routes', 'POST /routes', 'DELETE /routes/{prefix}',
    ]));
    assert.deepEqual(Object.keys(a.json.components.securitySchemes).sort(), ['basicAuth', 'bearerAuth']);
    assert.ok(a.json.paths['/routes'].post.security, 'POST /routes names its security');
    assert.ok(a.json.paths['/routes'].post.responses['200']);
    const refs = [...a.text.matchAll(/"\$ref":"([^"]+)"/g)].map((m) => m[1]);
    assert.ok(refs.length > 0);
    for (const r of refs) {
      const name = /^#\/components\/schemas\/(.+)$/.exec(r)?.[1];
      assert.ok(name !== undefined && name in a.json.components.schemas, `unresolved $ref ${r}`);
    }
  });
});

describe('control API readiness', () => {
  it('/readyz is 503 when the VPP API connection is gone; /healthz stays 200', async () => {
    const env = await startControlEnv({ interfaces: 2 });
    try {
      await env.vpp.close();
      const r = await env.call<ErrorBody & { vpp_api: string }>('GET', '/readyz', { token: null });
      assertError(r, 503, 'not_ready');
      assert.equal(r.json.vpp_api, 'disconnected');
      assert.equal((await env.call('GET', '/healthz', { token: null })).status, 200);
      // Reads need VPP: 503 with the connection's reason.
      assertError(await env.call('GET', '/interfaces'), 503, 'vpp_unavailable');
      // A batch that cannot be sent at all: every route listed with the reason, nothing programmed.
      const routes = [1, 2].map((n) => ({ prefix: `10.95.${n}.0/24`, paths: [{ via: '10.0.0.2' }] }));
      const batch = await env.call<ErrorBody & { failed: { index: number; error: string; message: string }[] }>('POST', '/routes', { body: { routes } });
      assertError(batch, 503, 'vpp_unavailable');
      assert.deepEqual(
        batch.json.failed.map((f) => [f.index, f.error]),
        [
          [0, 'vpp_unavailable'],
          [1, 'vpp_unavailable'],
        ],
      );
      assert.match(batch.json.failed[0].message, /client is closed/);
    } finally {
      await env.stop();
    }
  });

  it('without a stats client, counters are null and readiness needs only the API', async () => {
    const env = await startControlEnv({ interfaces: 2, withStats: false });
    try {
      const r = await env.call<{ stats: string }>('GET', '/readyz', { token: null });
      assert.equal(r.status, 200);
      assert.equal(r.json.stats, 'not configured');
      const a = await env.call<{ interfaces: InterfaceView[] }>('GET', '/interfaces');
      assert.ok(a.json.interfaces.every((i) => i.counters === null));
    } finally {
      await env.stop();
    }
  });
});
