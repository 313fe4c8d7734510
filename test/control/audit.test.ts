/**
 * RELIABILITY.md E 24: every mutating call writes exactly one audit record (principal, action,
 * params, VPP's retval, duration, request id), and writes it before it answers. Successes, VPP
 * errors, validation failures and limits are all audited; unauthenticated calls are not (there is
 * no principal, and nothing was attempted).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { AuditRecord, AuditSink } from '../../src/control/index.js';
import { startControlEnv } from './env.js';

describe('audit records', () => {
  it('exactly one per mutating call, with its request id, principal, params, retval and error', async () => {
    const env = await startControlEnv({ interfaces: 4, options: { bodyLimit: 64 * 1024 } });
    try {
      const calls: { method: string; path: string; body?: unknown; raw?: string; status: number; action: string; retval: number | null; error: RegExp | null }[] = [
        { method: 'POST', path: '/routes', body: { prefix: '10.90.0.0/16', paths: [{ via: '10.0.0.2' }] }, status: 200, action: 'route.add', retval: 0, error: null },
        { method: 'POST', path: '/routes', body: { prefix: '10.90.0.0/16', table: 9, paths: [{ via: '10.0.0.2' }] }, status: 422, action: 'route.add', retval: -3, error: /NO_SUCH_FIB/ },
        { method: 'POST', path: '/routes', body: { prefix: '10.90.0.1/16', paths: [{ via: '10.0.0.2' }] }, status: 400, action: 'route.add', retval: null, error: /host bits/ },
        { method: 'POST', path: '/routes', body: { prefix: '10.90.0.0/16', paths: [{ via: '10.0.0.2', weight: 999 }] }, status: 400, action: 'route.add', retval: null, error: /weight/ },
        { method: 'POST', path: '/routes', raw: '{', status: 400, action: 'route.add', retval: null, error: /not valid JSON/ },
        { method: 'POST', path: '/routes', raw: JSON.stringify({ routes: Array.from({ length: 2000 }, () => ({ prefix: '10.0.0.0/8', paths: [{ via: '10.0.0.2' }] })) }), status: 413, action: 'route.add', retval: null, error: /larger than the limit/ },
        {
          method: 'POST',
          path: '/routes',
          body: { routes: [{ prefix: '10.91.0.0/16', paths: [{ via: '10.0.0.2' }] }, { prefix: '10.92.0.0/16', table: 9, paths: [{ via: '10.0.0.2' }] }] },
          status: 200,
          action: 'route.add',
          retval: -3,
          error: /1 of 2 routes failed/,
        },
        { method: 'DELETE', path: '/routes/10.90.0.0%2F16', status: 200, action: 'route.delete', retval: 0, error: null },
        { method: 'DELETE', path: '/routes/10.90.0.0%2F16?table=9', status: 422, action: 'route.delete', retval: -3, error: /NO_SUCH_FIB/ },
        { method: 'DELETE', path: '/routes/10.90.0.0%2F99', status: 400, action: 'route.delete', retval: null, error: /prefix length/ },
        { method: 'PUT', path: '/interfaces/loop0', body: { admin_up: true, addresses: ['10.93.0.1/24'] }, status: 200, action: 'interface.set', retval: 0, error: null },
        { method: 'PUT', path: '/interfaces/nope0', body: { admin_up: true }, status: 404, action: 'interface.set', retval: null, error: /no interface/ },
        { method: 'PUT', path: '/interfaces/loop0', body: { addresses: ['10.1.0.9/24'] }, status: 409, action: 'interface.set', retval: -105, error: /ADDRESS_IN_USE/ },
        { method: 'PUT', path: '/interfaces/loop0', body: { bogus: 1 }, status: 400, action: 'interface.set', retval: null, error: /unknown field/ },
      ];
      for (const c of calls) {
        const before = env.audit.records.length;
        const a = await env.call(c.method, c.path, { body: c.body, raw: c.raw });
        assert.equal(a.status, c.status, `${c.method} ${c.path}: ${a.text.slice(0, 300)}`);
        // Written before the answer: it is there as soon as the answer is.
        assert.equal(env.audit.records.length, before + 1, `${c.method} ${c.path}: one record`);
        const r = env.audit.records[before];
        assert.equal(r.action, c.action);
        assert.equal(r.requestId, a.headers.get('x-request-id'));
        assert.match(r.principal ?? '', /^token:[0-9a-f]{8}$/);
        assert.equal(r.retval, c.retval, `${c.method} ${c.path} retval`);
        if (c.error === null) assert.equal(r.error, null);
        else assert.match(r.error ?? '', c.error);
        assert.ok(r.durationMs >= 0 && r.durationMs < 10_000);
      }
      assert.equal(env.audit.records.length, calls.length);
      assert.deepEqual(env.audit.records[0].params, { prefix: '10.90.0.0/16', paths: [{ via: '10.0.0.2' }] });
      assert.deepEqual(env.audit.records[7].params, { prefix: '10.90.0.0/16', table: 0 });
      assert.deepEqual(env.audit.records[10].params, { name: 'loop0', admin_up: true, addresses: ['10.93.0.1/24'] });
      assert.equal(new Set(env.audit.records.map((r) => r.requestId)).size, calls.length);
      // Reads and unauthenticated calls write nothing.
      await env.call('GET', '/interfaces');
      await env.call('GET', '/routes');
      await env.call('POST', '/routes', { body: { prefix: '10.90.0.0/16', paths: [{ via: '10.0.0.2' }] }, token: null });
      assert.equal(env.audit.records.length, calls.length);
    } finally {
      await env.stop();
    }
  });

  it('the answer waits for the sink; a failing sink turns the answer into 500 audit_failed', async () => {
    const written: AuditRecord[] = [];
    let delayMs = 300;
    let fail = false;
    const slow: AuditSink = {
      async record(r) {
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        if (fail) throw new Error('spool full');
        written.push(r);
      },
    };
    const env = await startControlEnv({ interfaces: 4, audit: slow, log: pino({ level: 'silent' }) });
    try {
      const began = performance.now();
      const a = await env.call('POST', '/routes', { body: { prefix: '10.94.0.0/16', paths: [{ via: '10.0.0.2' }] } });
      assert.equal(a.status, 200);
      assert.ok(performance.now() - began >= delayMs - 5, 'answered only after the record was written');
      assert.equal(written.length, 1);

      delayMs = 0;
      fail = true;
      const b = await env.call('POST', '/routes', { body: { prefix: '10.95.0.0/16', paths: [{ via: '10.0.0.2' }] } });
      assert.equal(b.status, 500);
      assert.equal(b.json.error, 'audit_failed');
      assert.match(b.json.message, /change was made/);
      const c = await env.call('POST', '/routes', { body: { prefix: '10.95.0.1/16', paths: [{ via: '10.0.0.2' }] } });
      assert.equal(c.status, 500);
      assert.equal(c.json.error, 'audit_failed');
      assert.match(c.json.message, /host bits/);
      const d = await env.call('PUT', '/interfaces/loop0', { body: { nope: true } });
      assert.equal(d.status, 500);
      assert.equal(d.json.error, 'audit_failed');
    } finally {
      await env.stop();
    }
  });
});
