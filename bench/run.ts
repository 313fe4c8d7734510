/**
 * `npm run bench [-- --quick] [suite...]`: benchmarks that print ratios against peers or floors
 * measured side by side in the same run (the machines are shared and noisy: trust the ratios).
 * Suites: snapshot (native stats snapshot vs a C loop; directory re-index), scrape (full
 * /metrics vs prom-client objects, a GoVPP + client_golang exporter and a C formatting floor;
 * event-loop delay while scraping), routes (route programming through the binary API vs GoVPP,
 * vpp-papi and the simulator's ceiling), events (link event -> Kafka ack latency, a 10k-interface
 * flap storm; starts its own broker), otlp (OTLP export per data point: direct encoder and send
 * vs @opentelemetry/sdk-metrics with its protobuf serializer and exporter).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { benchSnapshot, snapshotTable, type SnapshotRow } from './snapshot.js';
import { benchScrape, scrapeTable, benchEventLoop, type ScrapeRow } from './scrape.js';
import { benchRoutes, routesTable, type RoutesRow } from './routes.js';
import { EXPORTER_NODE_FLAGS } from './util.js';
import { benchOtlp, otlpTable, type OtlpRow } from './otlp.js';

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

if (want('scrape')) {
  const sizes = quick ? [1000, 10000] : [1000, 10000, 100000];
  const rows: ScrapeRow[] = [];
  for (const n of sizes) {
    for (const t of [2, 9]) {
      const reps = n >= 100000 ? 5 : 15;
      // prom-client objects at 100k interfaces take minutes and gigabytes: measured up to 10k.
      rows.push(await benchScrape(n, t, reps, n <= 10000, n === 10000 ? 60_000 : 0));
      process.stderr.write(`scrape ${n} x ${t} done\n`);
    }
  }
  process.stdout.write(`## Full scrape, summed over threads (node ${process.version})\n\n${scrapeTable(rows)}\n`);
  const eld = await benchEventLoop(10000, 20);
  process.stdout.write(
    `## Event-loop delay of the exporter while curl scrapes 10k interfaces back to back\n\n| scrape (median) | loop delay p50 | p99 | max |\n|---|---|---|---|\n` +
      `| ${eld.scrapeMs.toFixed(1)} ms | ${eld.p50.toFixed(2)} ms | ${eld.p99.toFixed(2)} ms | ${eld.max.toFixed(2)} ms |\n\n`,
  );
}

if (want('routes')) {
  const rows: RoutesRow[] = [];
  const reps = quick ? 1 : 3;
  for (const n of quick ? [1000, 10000] : [1000, 10000, 100000]) {
    rows.push(await benchRoutes(n, reps));
    process.stderr.write(`routes ${n} done\n`);
  }
  process.stdout.write(`## Route programming through the binary API (simulator in its own process; medians of ${reps} round(s))\n\n${routesTable(rows)}\n`);
}

if (want('events')) {
  // The exporter's side of these runs in the benchmark's process: in a child with the V8 flags
  // the exporter's command runs with (src/cli.ts), not this process's.
  const r = spawnSync(process.execPath, [...EXPORTER_NODE_FLAGS, fileURLToPath(new URL('./events.js', import.meta.url)), ...(quick ? ['--quick'] : [])], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`events benchmark failed (${r.status ?? r.signal})`);
}

if (want('otlp')) {
  const rows: OtlpRow[] = [];
  for (const [n, perThread] of [[1000, false], [10000, false], [10000, true]] as const) {
    rows.push(await benchOtlp(n, 2, perThread, n >= 10000 ? (quick ? 3 : 5) : quick ? 5 : 11));
    process.stderr.write(`otlp ${n} x 2${perThread ? ' per thread' : ''} done\n`);
  }
  process.stdout.write(`## OTLP export (node ${process.version})\n\n${otlpTable(rows)}\n`);
}
