/**
 * For simulator topologies, every exported value equals the simulator's own truth: interfaces,
 * nodes, errors, buffer pools, memory heaps, system scalars and log2 histograms, summed and per
 * thread.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { createStatsSimulator, DEFAULT_HISTOGRAMS } from '../../src/sim/index.js';
import { splitErrorPath } from '../../src/exporters/catalog.js';
import type { DumpValue } from '../../src/stats/index.js';
import { tmpDir } from '../helpers/paths.js';
import { exporterOn } from '../helpers/exporter.js';
import { parseExposition, lbl } from '../helpers/exposition.js';

const IF_SIMPLE = ['drops', 'punt', 'ip4', 'ip6', 'rx-no-buf', 'rx-miss', 'rx-error', 'tx-error', 'mpls'];
const IF_COMBINED = ['rx', 'rx-unicast', 'rx-multicast', 'rx-broadcast', 'tx', 'tx-unicast', 'tx-multicast', 'tx-broadcast'];

type Rows = DumpValue[][];

function cell(rows: Rows, t: number, i: number, word: number): number {
  const v = rows[t]?.[i];
  if (v === undefined) return 0;
  return Number(Array.isArray(v) ? v[word] : v);
}

function sumCell(rows: Rows, i: number, word: number, threads = rows.length): number {
  let s = 0;
  for (let t = 0; t < threads; t++) s += cell(rows, t, i, word);
  return s;
}

for (const [interfaces, workers, perThread] of [
  [40, 2, false],
  [40, 2, true],
  [12, 0, false],
  [12, 8, true],
] as const) {
  test(`exported values equal the simulator's truth: ${interfaces} interfaces, ${workers} workers, ${perThread ? 'per thread' : 'summed'}`, async () => {
    const socketPath = path.join(tmpDir(), 'stats.sock');
    const histograms = [
      ...DEFAULT_HISTOGRAMS,
      // Threads that disagree on min_exp: summed, the rows are aligned by exponent.
      { name: '/sim/skew', source: 'rx-packet-bytes' as const, minExp: Array.from({ length: workers + 1 }, (_, t) => 3 + ((t * 2) % 5)), bins: 8 },
    ];
    const sim = createStatsSimulator({ interfaces, workers, rate: 0, seed: 5, socketPath, histograms });
    const exporter = await exporterOn({ socketPath }, { 'per-thread': perThread });
    try {
      const got = parseExposition(await (await fetch(exporter.url)).text());
      const truth = sim.truth({ perThread: true });
      const threads = workers + 1;
      const want = new Map<string, number>();
      const put = (name: string, labels: [string, string][], rows: Rows, i: number, word: number, realThreads = threads): void => {
        if (perThread) {
          for (let t = 0; t < realThreads; t++) want.set(`${name}{${lbl([...labels, ['thread', String(t)]])}}`, cell(rows, t, i, word));
        } else want.set(`${name}{${lbl(labels)}}`, sumCell(rows, i, word, rows.length));
      };
      const ifNames = truth.get('/if/names') as (string | null)[];
      let nonZero = 0;
      ifNames.forEach((n, sw) => {
        if (n === null || n === 'deleted') return;
        const labels: [string, string][] = [['interface', n], ['sw_if_index', String(sw)]];
        for (const c of IF_SIMPLE) put(`vpp_interface_${c.replace(/-/g, '_')}_packets_total`, labels, truth.get(`/if/${c}`) as Rows, sw, 0);
        for (const c of IF_COMBINED) {
          const rows = truth.get(`/if/${c}`) as Rows;
          put(`vpp_interface_${c.replace(/-/g, '_')}_packets_total`, labels, rows, sw, 0);
          put(`vpp_interface_${c.replace(/-/g, '_')}_bytes_total`, labels, rows, sw, 1);
          nonZero += sumCell(rows, sw, 0) > 0 ? 1 : 0;
        }
      });
      const nodeNames = truth.get('/sys/node/names') as (string | null)[];
      nodeNames.forEach((n, i) => {
        if (n === null) return;
        for (const x of ['calls', 'vectors', 'suspends', 'clocks']) put(`vpp_node_${x}_total`, [['node', n]], truth.get(`/sys/node/${x}`) as Rows, i, 0);
      });
      const nodes = new Set(nodeNames.filter((n): n is string => n !== null));
      for (const [name, value] of truth) {
        if (!name.startsWith('/err/')) continue;
        const [node, error] = splitErrorPath(name, nodes);
        // A symlink's truth is the linked column per thread: [thread] values.
        const rows = (value as DumpValue[]).map((v) => [v]);
        put('vpp_error_total', [['node', node], ['error', error]], rows, 0, 0);
      }
      const scalar = (name: string, path: string): void => {
        want.set(name, Number(truth.get(path)));
      };
      scalar('vpp_heartbeat', '/sys/heartbeat');
      scalar('vpp_boot_time_seconds', '/sys/boottime');
      scalar('vpp_vector_rate', '/sys/vector_rate');
      scalar('vpp_worker_threads', '/sys/num_worker_threads');
      for (const [name, value] of truth) {
        const pool = /^\/buffer-pools\/(.+)\/(cached|used|available)$/.exec(name);
        if (pool) want.set(`vpp_buffer_pool_${pool[2]}_buffers{${lbl([['pool', pool[1]]])}}`, Number(value));
        const heap = /^\/mem\/([^/]+)$/.exec(name);
        if (heap) {
          const row = (value as Rows)[0];
          want.set(`vpp_memory_used_bytes{${lbl([['heap', heap[1]]])}}`, Number(row[1]));
          want.set(`vpp_memory_total_bytes{${lbl([['heap', heap[1]]])}}`, Number(row[0]));
        }
      }
      // Histograms: from truth's rows ([min_exp, bins...]; summed truth is aligned by exponent),
      // cumulative buckets with le = 2^e - 1 for every bin but the last, +Inf and _count.
      const histogramRow = (name: string, labels: [string, string][], row: bigint[]): void => {
        const minExp = Number(row[0] ?? 0n);
        const bins = row.slice(1).map(Number);
        let cum = 0;
        for (let j = 0; j < bins.length - 1; j++) {
          cum += bins[j];
          assert.ok(minExp + j + 1 < 20, 'small bounds, written as integers with .0');
          want.set(`${name}_bucket{${lbl([...labels, ['le', `${2 ** (minExp + j + 1) - 1}.0`]])}}`, cum);
        }
        const total = bins.reduce((a, b) => a + b, 0);
        want.set(`${name}_bucket{${lbl([...labels, ['le', '+Inf']])}}`, total);
        want.set(labels.length ? `${name}_count{${lbl(labels)}}` : `${name}_count`, total);
      };
      let observed = 0;
      for (const h of histograms) {
        const name = `vpp_${h.name.slice(1).replace(/[/-]/g, '_')}`;
        if (perThread) (truth.get(h.name) as bigint[][]).forEach((row, t) => histogramRow(name, [['thread', String(t)]], row));
        else histogramRow(name, [], (sim.truth({ perThread: false }).get(h.name) as bigint[][])[0]);
        observed += got.get(`${name}_bucket{le="+Inf"}`) ?? 0;
      }
      if (!perThread) assert.ok(observed > 0, 'the histograms have observations');
      assert.ok(nonZero > 0, 'the simulator has non-zero interface counters to compare');
      let compared = 0;
      for (const [series, value] of want) {
        assert.ok(got.has(series), `missing ${series}`);
        assert.equal(got.get(series), value, series);
        compared++;
      }
      // Nothing exported beyond what truth explains, for the catalogued families.
      for (const series of got.keys()) {
        if (/^vpp_(interface|node|error|sim)_/.test(series)) assert.ok(want.has(series), `unexpected ${series}`);
      }
      assert.ok(compared > interfaces * 25, `compared ${compared} series`);
    } finally {
      await exporter.stop();
      await sim.stop();
    }
  });
}
