/**
 * Our client's side of the route programming benchmark (bench/routes.ts), as a program of its
 * own: bench/routes.ts starts it as a fresh Node process for each pass, as it starts the GoVPP
 * peer (test/peers/govpp-api --bench-routes), so that neither client carries the heap, the
 * garbage or the JIT state of the passes before it.
 *
 *   node dist/bench/routes-client.js --socket PATH --bench-routes N --how batch|promises
 *        [--values lazy|array] [--warmup M] [--passes P] [--nh-sw-if-index I] [--window W]
 *
 * Mirrors govpp-api's --bench-routes step by step: connect; M routes (100.32.0.0 + i) pipelined
 * and untimed; N routes (100.64.0.0 + i) one request at a time; N more (100.96.0.0 + i)
 * pipelined, by requestBatch (`batch`, values from valueAt) or request() per route under
 * Promise.all (`promises`). With --passes P the pipelined pass runs P times, pass p on
 * 100.96.0.0 + p*N + i, and "async" gives the median rate (every pass's in "passes"), as the peer's
 * --passes does.
 * The clocks start and stop where GoVPP's do: each pass's clock covers building the request
 * values, sending them and reading every reply. Prints one JSON object on stdout, in the peer's
 * shape: {"routes", "window", "warmup", "how", "sync": {"routes_per_s", "seconds", "errors"},
 * "async": {...}}. A route answered with a non-zero retval fails the run (exit 1), so every rate
 * is of routes the simulator took.
 */
import { parseArgs } from 'node:util';
import { createVppClient, prefix, fibPath, type RequestFields, type VppClient } from '../src/binapi/index.js';

type Route = RequestFields<'ip_route_add_del'>;

/** 100.32.0.0, 100.64.0.0, 100.96.0.0: the peer's warm-up, one-at-a-time and pipelined bases. */
const WARMUP_BASE = 0x64200000;
const SYNC_BASE = 0x64400000;
const PIPELINED_BASE = 0x64600000;

/** An IPv4 /32 (base + i) via 10.1.0.2 on interface `sw`: the peer's benchRoute. */
function route(base: number, i: number, sw: number): Route {
  const a = (base + i) >>> 0;
  return {
    is_add: true,
    is_multipath: false,
    route: {
      table_id: 0,
      stats_index: 0,
      prefix: prefix(`${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}/32`),
      paths: [fibPath({ sw_if_index: sw, via: '10.1.0.2' })],
    },
  };
}

function rate(n: number, ms: number): { routes_per_s: number; seconds: number; errors: number } {
  return { routes_per_s: n / (ms / 1000), seconds: ms / 1000, errors: 0 };
}

/**
 * n routes (base + i) pipelined. By default each value is made as its request goes out, as the
 * peer's sender makes each request right before SendMsg: requestBatch takes them from valueAt,
 * and request() encodes its value when it is called. With `array`, the n values are made first
 * (inside the clock too) and passed as an array, for comparison.
 */
async function pipelined(vpp: VppClient, how: 'batch' | 'promises', values: 'lazy' | 'array', base: number, n: number, sw: number): Promise<void> {
  const make = (i: number): Route => route(base, i, sw);
  const routes = values === 'array' ? Array.from({ length: n }, (_, i) => make(i)) : null;
  if (how === 'batch') {
    const r = await vpp.requestBatch('ip_route_add_del', routes ?? { count: n, valueAt: make });
    if (r.failed > 0) throw new Error(`${r.failed} of ${n} routes failed; the first: ${r.errors.find((e) => e !== undefined)?.message}`);
  } else {
    const replies: Promise<unknown>[] = new Array<Promise<unknown>>(n);
    for (let i = 0; i < n; i++) replies[i] = vpp.request('ip_route_add_del', routes !== null ? routes[i] : make(i));
    await Promise.all(replies);
  }
}

async function main(): Promise<void> {
  const { values: args } = parseArgs({
    options: {
      socket: { type: 'string' },
      'bench-routes': { type: 'string' },
      how: { type: 'string', default: 'batch' },
      warmup: { type: 'string', default: '0' },
      'nh-sw-if-index': { type: 'string', default: '1' },
      window: { type: 'string', default: '256' },
      values: { type: 'string', default: 'lazy' },
      passes: { type: 'string', default: '1' },
    },
    strict: true,
  });
  const n = Number(args['bench-routes']);
  const warmup = Number(args.warmup);
  const sw = Number(args['nh-sw-if-index']);
  const window = Number(args.window);
  const how = args.how;
  const form = args.values;
  const passes = Number(args.passes);
  if (!args.socket || !(n > 0) || !(warmup >= 0) || !(sw >= 0) || !(window >= 1) || !Number.isInteger(passes) || passes < 1 || (how !== 'batch' && how !== 'promises') || (form !== 'lazy' && form !== 'array')) {
    throw new Error('usage: routes-client --socket PATH --bench-routes N --how batch|promises [--values lazy|array] [--warmup M] [--passes P] [--nh-sw-if-index I] [--window W]');
  }

  const vpp = createVppClient({ socketPath: args.socket, timeoutMs: 60_000, maxInFlight: window });
  try {
    await vpp.waitConnected(10_000);
    if (warmup > 0) await pipelined(vpp, how, form, WARMUP_BASE, warmup, sw);

    let t0 = performance.now();
    for (let i = 0; i < n; i++) await vpp.request('ip_route_add_del', route(SYNC_BASE, i, sw));
    const sync = rate(n, performance.now() - t0);

    const rates: number[] = [];
    for (let p = 0; p < passes; p++) {
      t0 = performance.now();
      await pipelined(vpp, how, form, PIPELINED_BASE + p * n, n, sw);
      rates.push(rate(n, performance.now() - t0).routes_per_s);
    }
    const median = [...rates].sort((a, b) => a - b)[Math.floor(rates.length / 2)];
    const async = { routes_per_s: median, seconds: n / median, errors: 0, passes: rates };

    process.stdout.write(JSON.stringify({ routes: n, window, warmup, how, values: form, sync, async }) + '\n');
  } finally {
    await vpp.close();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`routes-client: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
