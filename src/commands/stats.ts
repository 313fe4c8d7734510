/**
 * `vpp-exporter stats ls|dump`: like VPP's vpp_get_stats, from the stats socket or an image.
 * `dump --json` prints one object, name -> value in vpp-papi's shapes (see dump.ts), so that it
 * compares byte for byte with a file made by vpp-papi.
 */
import { StatsClient, type Snapshot } from '../stats/client.js';
import { dumpValue, pythonJson, type DumpValue } from '../stats/dump.js';
import { StatType, statTypeLabel } from '../stats/types.js';

export interface DumpCommandOptions {
  socketPath?: string;
  filePath?: string;
  patterns: RegExp[];
  json: boolean;
  perThread?: boolean;
}

export class StatsUnavailableError extends Error {
  override name = 'StatsUnavailableError';
}

async function read(opts: DumpCommandOptions): Promise<Snapshot> {
  const client = new StatsClient({ socketPath: opts.socketPath, filePath: opts.filePath });
  try {
    const snap = await client.snapshot(
      (index) =>
        index.entries
          .filter((e) => opts.patterns.length === 0 || opts.patterns.some((p) => p.test(e.name)))
          .map((e) => e.index),
      { perThread: true },
    );
    if (!snap) {
      throw new StatsUnavailableError(
        `cannot read stats from ${opts.filePath ?? opts.socketPath}: ${client.lastError?.message ?? 'unknown error'}`,
      );
    }
    return snap;
  } finally {
    client.close();
  }
}

function entriesOf(snap: Snapshot): { name: string; type: number; k: number }[] {
  const bySlot = new Map(snap.index.entries.map((e) => [e.index, e]));
  return Array.from(snap.slots, (slot, k) => {
    const e = bySlot.get(slot)!;
    return { name: e.name, type: e.type, k };
  }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export async function statsLs(opts: DumpCommandOptions, out: (s: string) => void): Promise<void> {
  const snap = await read({ ...opts, patterns: opts.patterns });
  for (const e of entriesOf(snap)) out(`${e.name}\t${statTypeLabel(e.type)}\n`);
}

function sumRows(rows: DumpValue[]): DumpValue {
  // rows: [thread][index] of bigint or [packets, bytes]
  const total: DumpValue[] = [];
  for (const row of rows as DumpValue[][]) {
    row.forEach((v, i) => {
      if (Array.isArray(v)) {
        const t = (total[i] ??= v.map(() => 0n)) as bigint[];
        v.forEach((x, j) => (t[j] = t[j] + (x as bigint)));
      } else total[i] = ((total[i] as bigint | undefined) ?? 0n) + (v as bigint);
    });
  }
  return total;
}

function text(v: DumpValue): string {
  if (v === null) return 'null';
  if (typeof v === 'bigint' || typeof v === 'string') return v.toString();
  if (Array.isArray(v)) return '[' + v.map(text).join(' ') + ']';
  return Object.entries(v).map(([k, x]) => `${k}=${text(x)}`).join(' ');
}

export async function statsDump(opts: DumpCommandOptions, out: (s: string) => void): Promise<void> {
  const snap = await read(opts);
  const entries = entriesOf(snap);
  if (opts.json) {
    const obj: Record<string, DumpValue> = {};
    for (const e of entries) {
      if (e.type === StatType.EMPTY) continue;
      obj[e.name] = dumpValue(snap.view, e.k, e.type);
    }
    out(pythonJson(obj) + '\n');
    return;
  }
  for (const e of entries) {
    const v = dumpValue(snap.view, e.k, e.type);
    const label = statTypeLabel(e.type);
    const status = snap.view.status(e.k);
    if (status !== 0) {
      out(`${e.name}\t${label}\terror ${snap.view.statusName(e.k)}\n`);
      continue;
    }
    switch (e.type) {
      case StatType.COUNTER_VECTOR_SIMPLE:
      case StatType.COUNTER_VECTOR_COMBINED:
      case StatType.HISTOGRAM_LOG2: {
        const rows = v as DumpValue[];
        const perThread = rows.map((r, t) => `thread ${t}: ${text(r)}`).join('; ');
        out(`${e.name}\t${label}\t${perThread}; total: ${text(sumRows(rows))}\n`);
        break;
      }
      case StatType.SYMLINK: {
        const rows = v as DumpValue[];
        const total = sumRows(rows.map((x) => [x]));
        out(`${e.name}\t${label}\t${rows.map((r, t) => `thread ${t}: ${text(r)}`).join('; ')}; total: ${text((total as DumpValue[])[0] ?? 0n)}\n`);
        break;
      }
      default:
        out(`${e.name}\t${label}\t${text(v)}\n`);
    }
  }
}
