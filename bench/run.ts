/**
 * `npm run bench [-- --quick] [suite...]`: benchmarks that print ratios against peers or floors
 * measured side by side in the same run (the machines are shared and noisy: trust the ratios).
 * Suites: snapshot (native stats snapshot vs a C loop; directory re-index).
 */
import { benchSnapshot, snapshotTable, type SnapshotRow } from './snapshot.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const suites = args.filter((a) => !a.startsWith('--'));
const want = (s: string): boolean => suites.length === 0 || suites.includes(s);

if (want('snapshot')) {
  const sizes = quick ? [1000, 10000] : [1000, 10000, 100000];
  const rows: SnapshotRow[] = [];
  for (const n of sizes) {
    for (const t of [2, 9]) {
      const reps = n >= 100000 ? 9 : 31;
      rows.push(benchSnapshot(n, t, reps));
      process.stderr.write(`snapshot ${n} x ${t} done\n`);
    }
  }
  process.stdout.write(`## Native snapshot (node ${process.version})\n\n${snapshotTable(rows)}\n`);
}
