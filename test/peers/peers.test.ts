/**
 * The two independent VPP stats clients used as test peers read the real VPP 26.10 images,
 * served over a SEQPACKET socket exactly as VPP serves its memfd (test/peers/serve_image.py),
 * and print exactly the fixture listings; GoVPP's documented gaps are asserted one by one.
 *
 * The peers are installed by scripts/peers/install-python-peers.sh (vpp-papi in a venv) and
 * scripts/peers/build-govpp.sh (the GoVPP program); `scripts/setup.sh --peers` runs both.
 * A missing peer fails these tests; nothing is skipped.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { FIXTURES, REPO_ROOT, fixtureImage, tmpDir } from '../helpers/paths.js';

const execFileAsync = promisify(execFile);

// The same cache folder as scripts/lib.sh: ${VPP_EXPORTER_CACHE:=${XDG_CACHE_HOME:-$HOME/.cache}/vpp-exporter}
const CACHE =
  process.env.VPP_EXPORTER_CACHE ||
  path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'vpp-exporter');
const VENV_PYTHON = path.join(CACHE, 'venv', 'bin', 'python');
const GOVPP_BIN = path.join(CACHE, 'bin', 'govpp-stats');
const PEERS_DIR = path.join(REPO_ROOT, 'test', 'peers');
const SERVE_IMAGE = path.join(PEERS_DIR, 'serve_image.py');
const PAPI_STATS = path.join(PEERS_DIR, 'papi_stats.py');

/**
 * GoVPP v0.13.0 maps directory types 1-6 only; STAT_DIR_TYPE_GAUGE (9) becomes UnknownStatType and
 * DumpStats returns the entry with Data == nil, printed as null. These are the 10 GAUGE entries of
 * both images (the count is checked against the fixtures' meta.json).
 */
const GAUGES = [
  '/bfd/udp4/sessions',
  '/bfd/udp4/sessions_mh',
  '/bfd/udp6/sessions',
  '/bfd/udp6/sessions_mh',
  '/buffer-pools/default-numa-0/available',
  '/buffer-pools/default-numa-0/cached',
  '/buffer-pools/default-numa-0/used',
  '/sys/input_rate',
  '/sys/num_worker_threads',
  '/sys/vector_rate',
];

/**
 * GoVPP v0.13.0's DumpStats()/ListStats() without a pattern stop at the first directory slot whose
 * name is empty (getStatEntriesOnIndex: `if len(dirName) == 0 { return }`). In the churn image the
 * first EMPTY slot is directory index 4965, so only entries 0..4964 come back.
 */
const CHURN_FIRST_EMPTY_INDEX = 4965;

type Name = 'statseg' | 'statseg-churn';
const NAMES: readonly Name[] = ['statseg', 'statseg-churn'];

interface Meta {
  directory_entries: number;
  entries_by_type: Record<string, number>;
}

function requirePeer(file: string, script: string): void {
  if (!fs.existsSync(file)) {
    assert.fail(`test peer ${file} is missing: run bash scripts/peers/${script} (or scripts/setup.sh --peers)`);
  }
}

const children = new Set<ChildProcess>();

async function stopChildren(): Promise<void> {
  await Promise.all(
    [...children].map(
      (c) =>
        new Promise<void>((resolve) => {
          children.delete(c);
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          const timer = setTimeout(() => c.kill('SIGKILL'), 5000);
          c.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          c.kill('SIGTERM');
        }),
    ),
  );
}
after(stopChildren);
// Last resort if the run is torn down without after() (e.g. an uncaught error).
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

/** Starts serve_image.py on a fixture image and resolves with its socket path once it says "ready". */
async function serve(image: string): Promise<string> {
  requirePeer(VENV_PYTHON, 'install-python-peers.sh');
  const sock = path.join(tmpDir('vpp-exporter-peers-'), 'stats.sock');
  const child = spawn(VENV_PYTHON, [SERVE_IMAGE, image, sock], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`serve_image.py not ready after 10 s: ${stderr}`)), 10_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready\n')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`serve_image.py exited (${code ?? signal}) before it was ready: ${stderr}`));
    });
  });
  return sock;
}

const sockets = new Map<Name, Promise<string>>();
/** One server per image, shared by the tests below. */
function socketFor(name: Name): Promise<string> {
  let s = sockets.get(name);
  if (!s) {
    s = serve(fixtureImage(name));
    sockets.set(name, s);
  }
  return s;
}

async function papi(name: Name, ...args: string[]): Promise<string> {
  requirePeer(VENV_PYTHON, 'install-python-peers.sh');
  const sock = await socketFor(name);
  const { stdout } = await execFileAsync(VENV_PYTHON, [PAPI_STATS, '--socket', sock, ...args], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    timeout: 120_000,
  });
  return stdout;
}

async function govpp(name: Name, ...args: string[]): Promise<string> {
  requirePeer(GOVPP_BIN, 'build-govpp.sh');
  const sock = await socketFor(name);
  const { stdout } = await execFileAsync(GOVPP_BIN, ['--socket', sock, ...args], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    timeout: 120_000,
  });
  return stdout;
}

function expectedText(name: Name): string {
  return fs.readFileSync(path.join(FIXTURES, `${name}.expected.json`), 'utf8');
}

function meta(name: Name): Meta {
  return JSON.parse(fs.readFileSync(path.join(FIXTURES, `${name}.meta.json`), 'utf8')) as Meta;
}

/** The expected listing's text with each gauge's number replaced by null, as GoVPP prints it. */
function expectedWithGaugesNull(name: Name): string {
  let text = expectedText(name);
  for (const g of GAUGES) {
    const re = new RegExp(`${JSON.stringify(g).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: \\d+(?=[,}])`, 'g');
    const hits = text.match(re);
    assert.equal(hits?.length, 1, `${g} appears once with a number in ${name}.expected.json`);
    text = text.replace(re, `${JSON.stringify(g)}: null`);
  }
  return text;
}

const sortedKeys = (o: object): string[] => Object.keys(o).sort();

for (const name of NAMES) {
  test(`vpp-papi: ${name} --json prints exactly ${name}.expected.json`, { timeout: 120_000 }, async () => {
    const out = await papi(name, '--json');
    const want = expectedText(name);
    assert.deepEqual(JSON.parse(out), JSON.parse(want));
    assert.equal(out.length, want.length);
    assert.ok(out === want, 'vpp-papi output is not byte-equal to the expected listing');
  });

  test(`vpp-papi: ${name} --list lists every entry and no EMPTY slot`, { timeout: 120_000 }, async () => {
    const names = (await papi(name, '--list')).split('\n').filter((l) => l !== '');
    const expected = JSON.parse(expectedText(name)) as object;
    assert.deepEqual(names, sortedKeys(expected));
    const m = meta(name);
    assert.equal(names.length, m.directory_entries - (m.entries_by_type.EMPTY ?? 0));
  });

  test(`GoVPP: ${name} --json equals ${name}.expected.json except the gauges (null)`, { timeout: 120_000 }, async () => {
    assert.equal(meta(name).entries_by_type.GAUGE, GAUGES.length, 'the fixture has exactly these gauges');
    const out = await govpp(name, '--json');
    const got = JSON.parse(out) as Record<string, unknown>;
    const expected = JSON.parse(expectedText(name)) as Record<string, unknown>;
    // Same names: every entry, symlinks included (GoVPP resolves them to the target column).
    assert.deepEqual(sortedKeys(got), sortedKeys(expected));
    // The one documented difference: gauges have no value in GoVPP.
    const nulls = Object.keys(got).filter((k) => got[k] === null).sort();
    assert.deepEqual(nulls, GAUGES);
    for (const g of GAUGES) assert.equal(typeof expected[g], 'number', `${g} is a number in the fixture`);
    // Everything else is equal, value by value and byte by byte (Python json.dumps formatting).
    const patched = { ...got };
    for (const g of GAUGES) patched[g] = expected[g];
    assert.deepEqual(patched, expected);
    const want = expectedWithGaugesNull(name);
    assert.equal(out.length, want.length);
    assert.ok(out === want, 'GoVPP output is not byte-equal to the expected listing with gauges as null');
  });

  test(`GoVPP: ${name} --list lists every entry`, { timeout: 120_000 }, async () => {
    const names = (await govpp(name, '--list')).split('\n').filter((l) => l !== '');
    assert.deepEqual(names, sortedKeys(JSON.parse(expectedText(name)) as object));
  });

  test(`both peers select the same entries for ^/if/ on ${name}`, { timeout: 120_000 }, async () => {
    const [p, g] = await Promise.all([papi(name, '--json', '^/if/'), govpp(name, '--json', '^/if/')]);
    const expected = JSON.parse(expectedText(name)) as Record<string, unknown>;
    const want = Object.fromEntries(Object.entries(expected).filter(([k]) => k.startsWith('/if/')));
    assert.ok(Object.keys(want).length > 0);
    assert.deepEqual(JSON.parse(p), want);
    assert.equal(g, p);
  });
}

test('GoVPP without a pattern: complete on statseg, stops at the first EMPTY slot on statseg-churn', { timeout: 120_000 }, async () => {
  // No EMPTY slot: DumpStats() and DumpStats(".*") agree.
  assert.equal(meta('statseg').entries_by_type.EMPTY ?? 0, 0);
  assert.equal(await govpp('statseg', '--json', '--nopattern'), await govpp('statseg', '--json'));

  // Churn: 12 EMPTY slots with empty names from index 4965; everything after the first is lost.
  assert.equal(meta('statseg-churn').entries_by_type.EMPTY, 12);
  const all = JSON.parse(await govpp('statseg-churn', '--json')) as Record<string, unknown>;
  const cut = JSON.parse(await govpp('statseg-churn', '--json', '--nopattern')) as Record<string, unknown>;
  assert.equal(Object.keys(all).length, 5177);
  assert.equal(Object.keys(cut).length, CHURN_FIRST_EMPTY_INDEX, 'entries 0..4964 only');
  for (const [k, v] of Object.entries(cut)) assert.deepEqual(v, all[k], k);
  const listed = (await govpp('statseg-churn', '--list', '--nopattern')).split('\n').filter((l) => l !== '');
  assert.deepEqual(listed, sortedKeys(cut));
});

test('GoVPP --bench N reads every entry N times and reports ns per read', { timeout: 120_000 }, async () => {
  const r = JSON.parse(await govpp('statseg', '--bench', '3')) as { entries: number; ns_per_read: number; reads: number };
  assert.equal(r.entries, 5172);
  assert.equal(r.reads, 3);
  assert.ok(Number.isInteger(r.ns_per_read) && r.ns_per_read > 0, `ns_per_read ${r.ns_per_read}`);
});
