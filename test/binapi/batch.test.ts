/**
 * requestBatch against the simulator in its own process, over its real API socket: every request
 * answered and programmed, per-request retvals and encode errors for their entries only, the
 * window kept, requests made meanwhile still answered, and a batch cut short (VPP killed, VPP
 * frozen past the timeout, close()) failing exactly its unanswered requests, none lost.
 */
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  CodecError,
  ConnectionError,
  createVppClient,
  fibPath,
  formatPrefix,
  prefix,
  VppApiError,
  type BatchResult,
  type RequestFields,
  type VppClient,
  type VppClientOptions,
} from '../../src/binapi/index.js';
import { startSimProcess, type SimProcess } from '../helpers/sim-process.js';
import { tmpDir } from '../helpers/paths.js';
import { sleep } from './helpers.js';

type RouteAdd = RequestFields<'ip_route_add_del'>;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(client: Partial<VppClientOptions> = {}): Promise<{ sim: SimProcess; vpp: VppClient; sw: number }> {
  const dir = tmpDir();
  const apiSocket = path.join(dir, 'api.sock');
  const sim = await startSimProcess(path.join(dir, 'stats.sock'), ['--api-socket', apiSocket, '--interfaces', '4', '--rate', '0']);
  cleanups.push(() => sim.kill('SIGKILL'));
  const vpp = createVppClient({ socketPath: apiSocket, timeoutMs: 30_000, ...client });
  cleanups.push(() => vpp.close());
  await vpp.waitConnected(10_000);
  const ifs = await vpp.dump('sw_interface_dump', { sw_if_index: 0xffffffff, name_filter_valid: false, name_filter: '' });
  return { sim, vpp, sw: ifs.find((x) => x.sw_if_index !== 0)!.sw_if_index };
}

/** 10.(i >> 16).(i >> 8).i/32 via 10.0.0.2 on `sw`; the routes share one path list. */
function routes(n: number, sw: number, firstOctet = 10): RouteAdd[] {
  const paths = [fibPath({ sw_if_index: sw, via: '10.0.0.2' })];
  return Array.from({ length: n }, (_, i) => ({
    is_add: true,
    is_multipath: false,
    route: { table_id: 0, stats_index: 0, prefix: prefix(`${firstOctet}.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32`), paths },
  }));
}

async function ipv4Routes(vpp: VppClient): Promise<Map<string, number>> {
  const dump = await vpp.dump('ip_route_dump', { table: { table_id: 0, is_ip6: false, name: '' } });
  return new Map(dump.map((d) => [formatPrefix(d.route.prefix), d.route.stats_index]));
}

/** Every entry settled once: a success has no error and retval 0, a failure has its error. */
function assertAccounted(r: BatchResult, n: number): void {
  assert.equal(r.count, n);
  assert.equal(r.retvals.length, n);
  let errors = 0;
  for (let i = 0; i < n; i++) {
    const e = r.errors[i];
    if (e === undefined) assert.equal(r.retvals[i], 0, `entry ${i}`);
    else errors++;
  }
  assert.equal(errors, r.failed);
  assert.equal(r.succeeded + r.failed, n);
}

describe('requestBatch on the simulator', { timeout: 120_000 }, () => {
  it('20k routes: every one answered with its own reply and in the FIB; the window is kept; a request made meanwhile is answered', async () => {
    const { vpp, sw } = await setup();
    const n = 20_000;
    const values = routes(n, sw);
    const before = vpp.stats;
    const batch = vpp.requestBatch('ip_route_add_del', values, { replies: true });
    const queuedNow = vpp.stats;
    assert.equal(queuedNow.inFlight, 256);
    assert.equal(queuedNow.queued, n - 256);
    // Queued behind the batch's unsent requests, and its context outside the batch's range.
    const version = vpp.showVersion();
    const r = await batch;
    assert.match((await version).version, /26\.10/);
    assertAccounted(r, n);
    assert.equal(r.succeeded, n);
    assert.equal(r.failed, 0);
    const after = vpp.stats;
    assert.equal(after.maxInFlight, 256);
    assert.equal(after.inFlight, 0);
    assert.equal(after.queued, 0);
    assert.equal(after.requests - before.requests, n + 1);
    assert.equal(after.replies - before.replies, n + 1);
    assert.equal(after.unsolicited, 0);
    // Each reply is the one to its own request: its stats_index is that prefix's in the FIB.
    const fib = await ipv4Routes(vpp);
    const seen = new Set<number>();
    values.forEach((v, i) => {
      const p = formatPrefix(v.route.prefix);
      assert.equal(r.replies![i]?.stats_index, fib.get(p), p);
      seen.add(r.replies![i]!.stats_index);
    });
    assert.equal(seen.size, n);
  });

  it('a route to an unknown table gets its retval (NO_SUCH_FIB) for that entry only; a value that does not encode fails alone, unsent', async () => {
    const { vpp, sw } = await setup();
    const values = routes(1000, sw, 11);
    for (const i of [7, 500, 999]) values[i] = { ...values[i], route: { ...values[i].route, table_id: 4242 } };
    // u8 prefix length 300: refused by the encoder, never sent.
    values[3] = { ...values[3], route: { ...values[3].route, prefix: { ...values[3].route.prefix, len: 300 } } };
    const refused = vpp.stats.refused;
    const sent = vpp.stats.requests;
    const r = await vpp.requestBatch('ip_route_add_del', values);
    assertAccounted(r, 1000);
    assert.equal(r.failed, 4);
    for (const i of [7, 500, 999]) {
      assert.equal(r.retvals[i], -3, `entry ${i}`);
      const e = r.errors[i];
      assert.ok(e instanceof VppApiError, `entry ${i}: ${String(e)}`);
      assert.equal(e.retval, -3);
      assert.equal(e.vppName, 'NO_SUCH_FIB');
    }
    assert.ok(r.errors[3] instanceof CodecError && r.errors[3].code === 'INVALID_VALUE', String(r.errors[3]));
    assert.equal(vpp.stats.refused - refused, 1);
    assert.equal(vpp.stats.requests - sent, 999);
    const fib = await ipv4Routes(vpp);
    values.forEach((v, i) => {
      const bad = [3, 7, 500, 999].includes(i);
      if (i !== 3) assert.equal(fib.has(formatPrefix(v.route.prefix)), !bad, `entry ${i}`);
      if (!bad) assert.equal(r.errors[i], undefined, `entry ${i}`);
    });
  });

  it('{count, valueAt}: each value is made once, in order, only as its request takes a slot; a valueAt that throws fails that request alone', async () => {
    const { vpp, sw } = await setup();
    const n = 5000;
    const made: number[] = [];
    const values = routes(n, sw, 16);
    const refused = vpp.stats.refused;
    const batch = vpp.requestBatch('ip_route_add_del', {
      count: n,
      valueAt(i) {
        made.push(i);
        if (i === 4321) throw new RangeError('no route 4321');
        return values[i];
      },
    });
    // Only the window's worth is made before any reply.
    assert.equal(made.length, 256);
    const r = await batch;
    assert.deepEqual(made, Array.from({ length: n }, (_, i) => i));
    assertAccounted(r, n);
    assert.equal(r.failed, 1);
    assert.ok(r.errors[4321] instanceof RangeError && r.errors[4321].message === 'no route 4321', String(r.errors[4321]));
    assert.equal(vpp.stats.refused - refused, 1);
    const fib = await ipv4Routes(vpp);
    values.forEach((v, i) => assert.equal(fib.has(formatPrefix(v.route.prefix)), i !== 4321, `entry ${i}`));
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 32]) {
      await assert.rejects(vpp.requestBatch('ip_route_add_del', { count: bad, valueAt: (i) => values[i] }), /count must be an integer/, String(bad));
    }
    await assert.rejects(vpp.requestBatch('ip_route_add_del', { count: 1 } as unknown as RouteAdd[]), /values must be an array or \{count, valueAt\}/);
  });

  it('VPP killed mid-batch: the unanswered requests fail with DISCONNECTED, the answered ones keep their result, none is lost', async () => {
    const { sim, vpp, sw } = await setup({ reconnectInitialMs: 50 });
    const n = 100_000;
    const replies0 = vpp.stats.replies;
    const batch = vpp.requestBatch('ip_route_add_del', routes(n, sw, 12));
    while (vpp.stats.replies - replies0 < 1000) await sleep(1);
    // Frozen first, so the batch is surely cut in the middle (part answered, part in flight, part unsent).
    sim.child.kill('SIGSTOP');
    const answered = vpp.stats.replies - replies0;
    await sim.kill('SIGKILL');
    const r = await batch;
    assertAccounted(r, n);
    assert.ok(r.succeeded >= answered && answered >= 1000, `${r.succeeded} succeeded, ${answered} answered when frozen`);
    assert.ok(r.failed > 0, 'nothing failed');
    for (let i = 0; i < n; i++) {
      const e = r.errors[i];
      if (e === undefined) continue;
      assert.ok(e instanceof ConnectionError && e.code === 'DISCONNECTED', `entry ${i}: ${String(e)}`);
    }
    // The failures are one run at the end: replies come in order, the rest never got one.
    const firstFailed = r.errors.findIndex((e) => e !== undefined);
    assert.equal(firstFailed, r.succeeded);
    assert.equal(vpp.stats.inFlight, 0);
    assert.equal(vpp.stats.queued, 0);
  });

  it('VPP frozen past the timeout: what is unanswered fails with TIMEOUT; late replies are dropped; the next batch works', async () => {
    const { sim, vpp, sw } = await setup({ healthIntervalMs: 0 });
    const n = 50_000;
    const replies0 = vpp.stats.replies;
    const t0 = Date.now();
    const batch = vpp.requestBatch('ip_route_add_del', routes(n, sw, 13), { timeoutMs: 400 });
    while (vpp.stats.replies - replies0 < 500) await sleep(1);
    sim.child.kill('SIGSTOP');
    const r = await batch;
    const waited = Date.now() - t0;
    sim.child.kill('SIGCONT');
    assertAccounted(r, n);
    assert.ok(r.succeeded > 0 && r.failed > 0);
    assert.ok(waited >= 400, `settled after ${waited} ms`);
    const timeouts = r.errors.filter((e) => e instanceof ConnectionError && e.code === 'TIMEOUT').length;
    assert.equal(timeouts, r.failed);
    assert.match(String(r.errors[n - 1]?.message), /ip_route_add_del \(batch of 50000, contexts \d+\.\.\d+\): no reply within 400 ms to \d+ in flight; \d+ not sent yet/);
    assert.equal(vpp.stats.timeouts, r.failed);
    assert.equal(vpp.stats.inFlight, 0);
    // The replies VPP still sends after SIGCONT match nothing pending.
    const deadline = Date.now() + 5000;
    while (vpp.stats.unsolicited === 0 && Date.now() < deadline) await sleep(10);
    assert.ok(vpp.stats.unsolicited > 0 && vpp.stats.unsolicited <= 256, `${vpp.stats.unsolicited} unsolicited`);
    const again = await vpp.requestBatch('ip_route_add_del', routes(1000, sw, 14));
    assert.equal(again.succeeded, 1000);
  });

  it('close() mid-batch: unsent requests fail with CLOSED, those on the wire are answered first', async () => {
    const { vpp, sw } = await setup();
    const n = 50_000;
    const replies0 = vpp.stats.replies;
    const batch = vpp.requestBatch('ip_route_add_del', routes(n, sw, 15));
    while (vpp.stats.replies - replies0 < 500) await sleep(1);
    await vpp.close();
    const r = await batch;
    assertAccounted(r, n);
    assert.ok(r.succeeded >= 500 && r.failed > 0);
    for (let i = 0; i < n; i++) {
      const e = r.errors[i];
      if (e !== undefined) assert.ok(e instanceof ConnectionError && e.code === 'CLOSED' && /before they were sent/.test(e.message), `entry ${i}: ${String(e)}`);
    }
    assert.equal(r.errors.findIndex((e) => e !== undefined), r.succeeded);
  });

  it('refusals: nothing is sent for a dump, a bad timeout, when closed; an empty batch resolves at once', async () => {
    const { vpp } = await setup();
    const sent = vpp.stats.requests;
    await assert.rejects(
      vpp.requestBatch('sw_interface_dump' as 'ip_route_add_del', []),
      (e) => e instanceof ConnectionError && e.code === 'BAD_REQUEST' && /is a dump; use dump\(\)/.test(e.message),
    );
    await assert.rejects(vpp.requestBatch('ip_route_add_del', [], { timeoutMs: 0 }), /timeoutMs must be a positive integer/);
    const empty = await vpp.requestBatch('ip_route_add_del', []);
    assert.deepEqual([empty.count, empty.succeeded, empty.failed], [0, 0, 0]);
    assert.equal(vpp.stats.requests, sent);
    await vpp.close();
    await assert.rejects(vpp.requestBatch('ip_route_add_del', []), (e) => e instanceof ConnectionError && e.code === 'CLOSED');
  });
});
