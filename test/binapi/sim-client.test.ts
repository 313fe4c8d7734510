/**
 * Our client against the simulator's binary API in its own process (RELIABILITY.md C.12-C.14):
 * 20 kills and restarts with reconnect and re-subscription (an event arrives after each), and
 * SIGSTOP/SIGCONT: health goes down within 3 s, a pending request fails by its timeout, and the
 * client recovers after SIGCONT.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createVppClient, IfStatusFlags, ConnectionError } from '../../src/binapi/index.js';
import { startSimProcess } from '../helpers/sim-process.js';
import { tmpDir } from '../helpers/paths.js';

const RESTARTS = 20;

function simArgs(apiSocket: string, seed: number): string[] {
  return ['--api-socket', apiSocket, '--interfaces', '4', '--workers', '1', '--rate', '0', '--seed', String(seed)];
}

test('20 simulator restarts: the client reconnects, re-subscribes, and gets events again', { timeout: 240_000 }, async () => {
  const dir = tmpDir();
  const statsSocket = path.join(dir, 'stats.sock');
  const apiSocket = path.join(dir, 'api.sock');
  let sim = await startSimProcess(statsSocket, simArgs(apiSocket, 1));
  const vpp = createVppClient({ socketPath: apiSocket, reconnectInitialMs: 50, reconnectMaxMs: 1000, timeoutMs: 3000 });
  const events: { sw_if_index: number; flags: number }[] = [];
  vpp.subscribe('sw_interface_event', (e) => events.push({ sw_if_index: e.sw_if_index, flags: e.flags }));
  try {
    await vpp.waitConnected(10_000);
    await vpp.wantInterfaceEvents();
    for (let i = 0; i <= RESTARTS; i++) {
      if (i > 0) {
        const reconnected = new Promise<void>((resolve) => vpp.once('connected', () => resolve()));
        await sim.kill('SIGKILL');
        sim = await startSimProcess(statsSocket, simArgs(apiSocket, i + 1));
        const t0 = Date.now();
        await Promise.race([reconnected, sleep(5000).then(() => assert.fail(`restart ${i}: not reconnected within 5 s`))]);
        assert.ok(Date.now() - t0 < 5000);
      }
      // The subscription was re-made before 'connected': a flag change now brings an event.
      const ifs = await vpp.dump('sw_interface_dump', { sw_if_index: 0xffffffff, name_filter_valid: false, name_filter: '' });
      const loop = ifs.find((x) => x.sw_if_index !== 0)!;
      const before = events.length;
      await vpp.request('sw_interface_set_flags', { sw_if_index: loop.sw_if_index, flags: 0 });
      await vpp.request('sw_interface_set_flags', { sw_if_index: loop.sw_if_index, flags: IfStatusFlags.IF_STATUS_API_FLAG_ADMIN_UP });
      const deadline = Date.now() + 3000;
      while (events.length < before + 2 && Date.now() < deadline) await sleep(10);
      assert.ok(events.length >= before + 2, `restart ${i}: ${events.length - before} events after two flag changes`);
      assert.equal(events.at(-1)!.sw_if_index, loop.sw_if_index);
    }
    assert.equal(vpp.stats.reconnects, RESTARTS);
  } finally {
    await vpp.close();
    await sim.kill('SIGKILL');
  }
});

test('SIGSTOP: health down within 3 s, pending requests time out; SIGCONT recovers', { timeout: 60_000 }, async () => {
  const dir = tmpDir();
  const apiSocket = path.join(dir, 'api.sock');
  const sim = await startSimProcess(path.join(dir, 'stats.sock'), simArgs(apiSocket, 7));
  const vpp = createVppClient({ socketPath: apiSocket, timeoutMs: 2000 });
  try {
    await vpp.waitConnected(10_000);
    assert.match((await vpp.showVersion()).version, /26\.10/);
    sim.child.kill('SIGSTOP');
    const stoppedAt = Date.now();
    const pending = vpp.showVersion({ timeoutMs: 1500 });
    await assert.rejects(pending, (e: unknown) => e instanceof ConnectionError && e.code === 'TIMEOUT');
    while (vpp.health !== 'down') {
      assert.ok(Date.now() - stoppedAt < 3000, 'health still up 3 s after SIGSTOP');
      await sleep(20);
    }
    sim.child.kill('SIGCONT');
    const t0 = Date.now();
    while ((vpp.health as string) !== 'up') {
      assert.ok(Date.now() - t0 < 5000, 'health not back up 5 s after SIGCONT');
      await sleep(20);
    }
    assert.match((await vpp.showVersion()).version, /26\.10/);
  } finally {
    sim.child.kill('SIGCONT');
    await vpp.close();
    await sim.kill('SIGKILL');
  }
});
