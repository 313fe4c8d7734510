/**
 * The seed's check: 1000 routes programmed through POST /routes (routes/s reported), every one
 * present in the simulator's ip_route_dump with its path, then each deleted through
 * DELETE /routes/{prefix}, and all gone. Then a 10k-route batch in one request (inside the
 * default body limit), IPv4 and IPv6 mixed.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatPrefix, prefix } from '../../src/binapi/index.js';
import type { ProgramResult } from '../../src/control/index.js';
import { dumpRoutes, startControlEnv, type ControlEnv } from './env.js';

function routes4(n: number, via: string, iface?: string): { prefix: string; paths: { via: string; interface?: string }[] }[] {
  return Array.from({ length: n }, (_, i) => ({
    prefix: `172.${16 + (i >> 16)}.${(i >> 8) & 0xff}.${i & 0xff}/32`,
    paths: [{ via, ...(iface !== undefined ? { interface: iface } : {}) }],
  }));
}

describe('route batches on the simulator', () => {
  let env: ControlEnv;
  before(async () => {
    env = await startControlEnv({ interfaces: 8 });
  });
  after(async () => {
    await env.stop();
  });

  it('1000 routes: POST /routes programs them all (routes/s reported), all in ip_route_dump; DELETE each, all gone', async () => {
    const loop0 = env.sim.model.list().find((i) => i.name === 'loop0')!;
    const routes = routes4(1000, '10.0.0.2', 'loop0');
    const before = await dumpRoutes(env);
    const a = await env.call<ProgramResult>('POST', '/routes', { body: { routes } });
    assert.equal(a.status, 200, a.text.slice(0, 500));
    assert.equal(a.json.programmed, 1000);
    assert.deepEqual(a.json.failed, []);
    assert.ok(a.json.routes_per_second > 0);
    process.stdout.write(`# POST /routes, 1000 routes: ${a.json.routes_per_second} routes/s (${a.json.duration_ms} ms in VPP calls)\n`);
    const dump = await dumpRoutes(env);
    for (const r of routes) assert.deepEqual(dump.get(r.prefix), [`10.0.0.2@${loop0.swIfIndex}/1/0/0`], r.prefix);
    assert.equal(dump.size, before.size + 1000);

    const began = performance.now();
    for (const r of routes) {
      const d = await env.call('DELETE', `/routes/${encodeURIComponent(r.prefix)}`);
      assert.equal(d.status, 200, d.text);
    }
    const ms = performance.now() - began;
    process.stdout.write(`# DELETE /routes/{prefix} x 1000, one request each: ${Math.round((1000 * 1000) / ms)} requests/s\n`);
    const afterDelete = await dumpRoutes(env);
    for (const r of routes) assert.equal(afterDelete.has(r.prefix), false, r.prefix);
    assert.deepEqual(afterDelete, before);
    // One audit record per call: the POST and the 1000 DELETEs.
    assert.equal(env.audit.records.length, 1001);
  });

  it('10k routes (IPv4 and IPv6) in one request, within the default body limit', async () => {
    const v4 = routes4(5000, '10.0.0.2');
    const v6 = Array.from({ length: 5000 }, (_, i) => ({ prefix: `fd00:${(i >> 8).toString(16)}:${(i & 0xff).toString(16)}:0::/64`, paths: [{ via: '2001:db8::2' }] }));
    const routes = [...v4, ...v6];
    const a = await env.call<ProgramResult>('POST', '/routes', { body: { routes } });
    assert.equal(a.status, 200, a.text.slice(0, 500));
    assert.equal(a.json.programmed, 10_000);
    process.stdout.write(`# POST /routes, 10000 routes (${Buffer.byteLength(JSON.stringify({ routes }))} bytes): ${a.json.routes_per_second} routes/s\n`);
    const d4 = await dumpRoutes(env, 4);
    const d6 = await dumpRoutes(env, 6);
    for (const r of v4) assert.ok(d4.has(r.prefix), r.prefix);
    for (const r of v6) assert.ok(d6.has(formatPrefix(prefix(r.prefix))), r.prefix);
    // The audit record summarises the batch instead of carrying 10k routes.
    const rec = env.audit.records.at(-1)!;
    assert.equal(rec.action, 'route.add');
    const params = rec.params as { count: number; routes: unknown[]; truncated: boolean; sha256: string };
    assert.equal(params.count, 10_000);
    assert.equal(params.routes.length, 100);
    assert.equal(params.truncated, true);
    assert.match(params.sha256, /^[0-9a-f]{64}$/);
  });
});
