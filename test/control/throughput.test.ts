/**
 * Route programming speed with the simulator in its own process (as VPP would be): 10k routes
 * through POST /routes (HTTP, validation, audit, pipelined ip_route_add_del), and the same
 * through ControlService directly (what --direct does), so the API's own cost shows. Prints
 * routes/s; asserts only that every route arrived and a loose floor.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { connectVpp, fibPath, prefix } from '../../src/binapi/index.js';
import { loadConfig } from '../../src/config.js';
import { ControlService, MemoryAuditSink, startControlApi, type ProgramResult } from '../../src/control/index.js';
import { REPO_ROOT, tmpDir } from '../helpers/paths.js';

const N = 10_000;

function routes(base: number): { prefix: string; paths: { via: string; interface: string }[] }[] {
  return Array.from({ length: N }, (_, i) => ({ prefix: `${base + (i >> 16)}.${(i >> 8) & 0xff}.${i & 0xff}.0/24`, paths: [{ via: '10.0.0.2', interface: 'loop0' }] }));
}

async function simProcess(apiSocket: string): Promise<{ stop(): Promise<void> }> {
  const sim = pathToFileURL(path.join(REPO_ROOT, 'dist', 'src', 'sim', 'index.js')).href;
  const code = `import { startStatsSimulator } from ${JSON.stringify(sim)};
const s = await startStatsSimulator({ interfaces: 8, workers: 1, rate: 0, seed: 1, apiSocketPath: ${JSON.stringify(apiSocket)} });
process.stdout.write('ready\\n');
process.on('SIGTERM', () => s.stop().then(() => process.exit(0)));`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, VPP_EXPORTER_LOG_LEVEL: 'warn' } });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) resolve();
    });
    child.once('exit', (c) => reject(new Error(`simulator exited with ${c}`)));
  });
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

async function withSim<T>(fn: (apiSocket: string) => Promise<T>): Promise<T> {
  const apiSocket = path.join(tmpDir(), 'api.sock');
  const sim = await simProcess(apiSocket);
  try {
    return await fn(apiSocket);
  } finally {
    await sim.stop();
  }
}

describe('route programming throughput (simulator in its own process)', () => {
  it(`${N} routes: POST /routes, ControlService directly, and the bare client pipelined, each on a fresh simulator`, async () => {
    const token = 'throughput-token-0123456789';
    const http = await withSim(async (apiSocket) => {
      const vpp = await connectVpp({ socketPath: apiSocket, timeoutMs: 60_000 });
      const api = await startControlApi({ config: loadConfig({}, {}), vpp, audit: new MemoryAuditSink(), token, options: { listen: { host: '127.0.0.1', port: 0 }, rateLimit: 0 } });
      try {
        const body = JSON.stringify({ routes: routes(11) });
        const began = performance.now();
        const res = await fetch(`${api.url}/routes`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body });
        const wall = performance.now() - began;
        const r = (await res.json()) as ProgramResult;
        assert.equal(res.status, 200);
        assert.equal(r.programmed, N);
        const dump = await vpp.dump('ip_route_dump', { table: { table_id: 0, is_ip6: false, name: '' } });
        assert.ok(dump.length >= N);
        return { inVpp: r.routes_per_second, endToEnd: Math.round((N * 1000) / wall), wall, bytes: body.length };
      } finally {
        await api.close();
        await vpp.close();
      }
    });
    const direct = await withSim(async (apiSocket) => {
      const vpp = await connectVpp({ socketPath: apiSocket, timeoutMs: 60_000 });
      try {
        const service = new ControlService(vpp);
        const { resolved, invalid } = await service.resolveRoutes(routes(11));
        assert.equal(invalid.length, 0);
        const r = await service.programRoutes(resolved);
        assert.equal(r.programmed, N);
        return r.routes_per_second;
      } finally {
        await vpp.close();
      }
    });
    const bare = await withSim(async (apiSocket) => {
      const vpp = await connectVpp({ socketPath: apiSocket, timeoutMs: 60_000 });
      try {
        const sw = (await vpp.dump('sw_interface_dump', { sw_if_index: 0xffffffff, name_filter_valid: false, name_filter: '' })).find((d) => d.interface_name === 'loop0')!.sw_if_index;
        const reqs = routes(11).map((r) => ({
          is_add: true,
          is_multipath: false,
          route: { table_id: 0, stats_index: 0, prefix: prefix(r.prefix), paths: [fibPath({ via: '10.0.0.2', sw_if_index: sw })] },
        }));
        const began = performance.now();
        await Promise.all(reqs.map((q) => vpp.request('ip_route_add_del', q)));
        return Math.round((N * 1000) / (performance.now() - began));
      } finally {
        await vpp.close();
      }
    });
    process.stdout.write(
      `# POST /routes ${N} routes (${http.bytes} bytes): ${http.inVpp} routes/s in VPP calls, ${http.endToEnd} routes/s end to end ` +
        `(${Math.round(http.wall)} ms: HTTP, JSON, validation, audit)\n` +
        `# ControlService.programRoutes (no HTTP): ${direct} routes/s; bare client, Promise.all: ${bare} routes/s\n`,
    );
    assert.ok(http.inVpp > 1000, `${http.inVpp} routes/s`);
  });
});
