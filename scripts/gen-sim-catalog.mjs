// Writes src/sim/catalog-data.ts: the names the simulator uses, taken from a real VPP 26.10 stats
// segment (../shared/fixtures/vpp-26.10). The image (statseg.bin.gz) gives what only it has: the
// directory order, the /node/errors column of every /err/ symlink and the node index of every node
// name; statseg.expected.json gives the values (buffer pools, memory heaps, /net/* lengths).
// Run: node scripts/gen-sim-catalog.mjs [fixture-dir]   (the output is committed; the simulator
// must work without ../shared).
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

const root = path.resolve(import.meta.dirname, '..');
const fixtures = process.argv[2] ?? path.resolve(root, '..', 'shared', 'fixtures', 'vpp-26.10');
const out = path.join(root, 'src', 'sim', 'catalog-data.ts');

const image = zlib.gunzipSync(fs.readFileSync(path.join(fixtures, 'statseg.bin.gz')));
const expected = JSON.parse(fs.readFileSync(path.join(fixtures, 'statseg.expected.json'), 'utf8'));
const meta = JSON.parse(fs.readFileSync(path.join(fixtures, 'statseg.meta.json'), 'utf8'));

// --- a minimal reader of the image (layout: ../shared/vpp/STATS-SEGMENT.md) ---
const base = image.readBigUInt64LE(8);
const off = (ptr) => Number(ptr - base);
const dir = off(image.readBigUInt64LE(32));
const dirLen = image.readUInt32LE(dir - 8);
const TYPE = { SIMPLE: 2, COMBINED: 3, NAME: 4, SYMLINK: 6, GAUGE: 9, SCALAR: 1 };

function entry(i) {
  const eo = dir + i * 144;
  const nameBytes = image.subarray(eo + 16, eo + 144);
  const nul = nameBytes.indexOf(0);
  return {
    index: i,
    type: image.readUInt32LE(eo),
    value: image.readBigUInt64LE(eo + 8),
    target: image.readUInt32LE(eo + 8),
    column: image.readUInt32LE(eo + 12),
    name: nameBytes.subarray(0, nul < 0 ? 128 : nul).toString('utf8'),
  };
}
const entries = Array.from({ length: dirLen }, (_, i) => entry(i));
const byName = new Map(entries.map((e) => [e.name, e]));

function nameVector(name) {
  const e = byName.get(name);
  const data = off(e.value);
  const n = image.readUInt32LE(data - 8);
  const list = [];
  for (let i = 0; i < n; i++) {
    const p = image.readBigUInt64LE(data + i * 8);
    if (p === 0n) { list.push(null); continue; }
    const s = off(p);
    const len = image.readUInt32LE(s - 8);
    list.push(image.subarray(s, s + len - 1).toString('utf8')); // the vec includes the NUL
  }
  return list;
}

const nodeNames = nameVector('/sys/node/names');
const ifNames = nameVector('/if/names');
const interfaceNodes = new Set(ifNames.flatMap((n) => [`${n}-tx`, `${n}-output`]));
const baseNodes = nodeNames.filter((n) => !interfaceNodes.has(n));
const local0At = nodeNames.indexOf('local0-tx');
if (local0At < 0 || nodeNames[local0At + 1] !== 'local0-output') throw new Error('local0 nodes not found');
const nodeIndex = new Map(baseNodes.map((n, i) => [n, i]));

// /err/<node>/<error>: both parts may contain '/', so the node is the longest known node name that
// prefixes the rest.
const allNodes = [...nodeNames].sort((a, b) => b.length - a.length);
function splitError(name) {
  const rest = name.slice('/err/'.length);
  const node = allNodes.find((n) => rest.startsWith(n + '/'));
  if (node === undefined) throw new Error(`no node for ${name}`);
  return [node, rest.slice(node.length + 1)];
}
const errorsEntry = byName.get('/node/errors');
const errorSymlinks = entries
  .filter((e) => e.type === TYPE.SYMLINK && e.target === errorsEntry.index)
  .sort((a, b) => a.column - b.column);
const baseErrors = [];
const errorsOf = new Map();
for (const e of errorSymlinks) {
  const [node, error] = splitError(e.name);
  if (!errorsOf.has(node)) errorsOf.set(node, []);
  errorsOf.get(node).push(error);
  if (interfaceNodes.has(node)) continue;
  if (baseErrors.length !== e.column) throw new Error(`base error columns are not dense at ${e.name}`);
  baseErrors.push([nodeIndex.get(node), error]);
}
const outputErrors = errorsOf.get('local0-output');
const txErrors = {
  'af-packet': errorsOf.get(`${ifNames.find((n) => n.startsWith('host-') && !n.includes('.'))}-tx`) ?? [],
  memif: errorsOf.get(`${ifNames.find((n) => n.startsWith('memif'))}-tx`) ?? [],
  loopback: errorsOf.get('loop0-tx') ?? [],
  local: errorsOf.get('local0-tx') ?? [],
};

const nInterfaces = ifNames.length;
const netVectors = entries
  .filter((e) => e.name.startsWith('/net/') && (e.type === TYPE.SIMPLE || e.type === TYPE.COMBINED))
  .map((e) => {
    const len = expected[e.name][0].length;
    return {
      name: e.name,
      type: e.type === TYPE.SIMPLE ? 'simple' : 'combined',
      // Vectors indexed by sw_if_index have one column per interface; the others (load-balance,
      // adjacency, punt reason indices) keep the capture's length.
      length: len === nInterfaces ? null : len,
    };
  });

const pools = [];
for (const e of entries) {
  const m = /^\/buffer-pools\/(.+)\/cached$/.exec(e.name);
  if (m) {
    const p = m[1];
    pools.push({ name: p, cached: expected[e.name], used: expected[`/buffer-pools/${p}/used`],
      available: expected[`/buffer-pools/${p}/available`] });
  }
}
const heaps = entries
  .filter((e) => e.name.startsWith('/mem/') && e.type === TYPE.SIMPLE)
  .map((e) => ({ name: e.name.slice('/mem/'.length), row: expected[e.name][0] }));
const bfd = entries.filter((e) => e.name.startsWith('/bfd/')).map((e) => e.name);

const q = (s) => JSON.stringify(s);
const lines = [];
lines.push(`// GENERATED by scripts/gen-sim-catalog.mjs: do not edit by hand; re-run the script.`);
lines.push(`// Source: ../shared/fixtures/vpp-26.10 (statseg.bin.gz for directory order, node indices and`);
lines.push(`// /node/errors columns; statseg.expected.json for values), a stats segment of a real`);
lines.push(`// ${meta.vpp_version.split(' built')[0]} (main thread + 1 worker) captured ${meta.captured_at_utc}.`);
lines.push(`// These are facts of VPP (its node and error counter names), kept here so that the simulator`);
lines.push(`// runs without ../shared.`);
lines.push('');
lines.push(`export const SOURCE_VPP_VERSION = ${q(meta.vpp_version.split(' built')[0])};`);
lines.push('');
lines.push(`/** /sys/node/names of the capture without interface nodes (<ifname>-tx, <ifname>-output). */`);
lines.push(`export const BASE_NODES: readonly string[] = [`);
for (const n of baseNodes) lines.push(`  ${q(n)},`);
lines.push(`];`);
lines.push('');
lines.push(`/** local0's tx and output nodes take node indices ${local0At} and ${local0At + 1}: after the static nodes, before the CLI process nodes. */`);
lines.push(`export const LOCAL0_NODES_AT = ${local0At};`);
lines.push('');
lines.push(`/** Error counters of the base nodes in /node/errors column order: [index into BASE_NODES, counter name]. */`);
lines.push(`export const BASE_ERRORS: readonly (readonly [number, string])[] = [`);
for (const [n, e] of baseErrors) lines.push(`  [${n}, ${q(e)}],`);
lines.push(`];`);
lines.push('');
lines.push(`/** Errors every interface output node registers (<ifname>-output). */`);
lines.push(`export const OUTPUT_NODE_ERRORS: readonly string[] = ${q(outputErrors)};`);
lines.push('');
lines.push(`/** Errors of the tx node (<ifname>-tx) per device class seen in the capture. */`);
lines.push(`export const TX_NODE_ERRORS = {`);
for (const [k, v] of Object.entries(txErrors)) lines.push(`  ${q(k)}: ${q(v)},`);
lines.push(`} as const satisfies Record<string, readonly string[]>;`);
lines.push('');
lines.push(`/** /net/* counter vectors in directory order; length null = one column per sw_if_index. */`);
lines.push(`export const NET_VECTORS: readonly { name: string; type: 'simple' | 'combined'; length: number | null }[] = [`);
for (const v of netVectors) lines.push(`  { name: ${q(v.name)}, type: ${q(v.type)}, length: ${v.length} },`);
lines.push(`];`);
lines.push('');
lines.push(`/** Buffer pools and their gauges in the capture. */`);
lines.push(`export const BUFFER_POOLS: readonly { name: string; cached: number; used: number; available: number }[] = [`);
for (const p of pools) lines.push(`  { name: ${q(p.name)}, cached: ${p.cached}, used: ${p.used}, available: ${p.available} },`);
lines.push(`];`);
lines.push('');
lines.push(`/** /mem/<heap> rows in the capture: total, used, free, used_mmap, total_alloc, free_chunks, releasable. */`);
lines.push(`export const MEMORY_HEAPS: readonly { name: string; row: readonly number[] }[] = [`);
for (const h of heaps) lines.push(`  { name: ${q(h.name)}, row: ${q(h.row)} },`);
lines.push(`];`);
lines.push('');
lines.push(`/** BFD session gauges. */`);
lines.push(`export const BFD_GAUGES: readonly string[] = ${q(bfd)};`);
lines.push('');
fs.writeFileSync(out, lines.join('\n'));
console.log(`wrote ${path.relative(root, out)}: ${baseNodes.length} base nodes, ${baseErrors.length} base errors, ` +
  `${netVectors.length} /net vectors, ${pools.length} buffer pools, ${heaps.length} heaps`);
