// Writes src/sim/api/message-table-data.ts: the `<name>_<crc>` of every message of the VPP 26.10
// .api.json set (../shared/vpp/api/**), in the order the simulator numbers them. The simulator's
// sockclnt_create_reply sends this table, so real clients (vpp-papi, GoVPP) resolve their ids in
// it exactly as against VPP. The output is committed: the simulator must run without ../shared.
//
// Numbering (message id = position + 1; id 0 is unused, as in VPP):
//   1. memclnt first, in its .api order (VPP registers it first, so its ids are fixed:
//      15 sockclnt_create, 16 sockclnt_create_reply, 23/24 control_ping(_reply)),
//   2. then the modules in MODULE_ORDER, the order in which the real VPP 26.10 of the fixtures
//      registered them (api-session-basic.json: with it every one of its 974 ids comes out
//      identical, e.g. sw_interface_dump 226, ip_route_add_del 450, show_version 904),
//   3. then any module not in that list, by file path (26.10's set: plugins/lcp, which that VPP
//      did not load), each module's messages in .api order.
//
// Emission order: VPP sends the table by walking a hash (unordered). The order of the real VPP's
// sockclnt_create_reply in the capture is kept (EMIT_ORDER), the messages it did not have appended
// in id order, so a client that depends on the order (GoVPP picks the id of sockclnt_delete by a
// prefix match over the table, which sockclnt_delete_reply also matches: the later one wins) sees
// what it sees against VPP. The capture also proves the numbering: every id in it must match.
// Run: node scripts/gen-sim-msgtable.mjs [api-dir] [capture.json]
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const apiDir = process.argv[2] ?? path.resolve(root, '..', 'shared', 'vpp', 'api');
const capture = process.argv[3] ?? path.resolve(root, '..', 'shared', 'fixtures', 'vpp-26.10', 'api-session-basic.json');
const out = path.join(root, 'src', 'sim', 'api', 'message-table-data.ts');

// Module registration order of VPP 26.10-rc0~374-gb575ec2c56d (memclnt is always first).
const MODULE_ORDER = [
  'memclnt', 'tm', 'arp', 'ip6_dad', 'ip6_nd', 'rd_cp', 'acl', 'arping', 'lacp', 'memif', 'ping', 'graph',
  'tracedump', 'vlib', 'dev', 'flow', 'interface', 'p2p_ethernet', 'l2', 'bond', 'classify', 'ip', 'punt',
  'ip_neighbor', 'bfd', 'crypto', 'ipsec', 'tcp', 'udp', 'mpls', 'sr', 'sr_pt', 'ipfix_export', 'gso', 'span',
  'pg', 'virtio', 'pipe', 'session', 'feature', 'fib', 'qos', 'bier', 'syslog', 'teib', 'sfdp', 'vpe',
  'af_packet', 'geneve', 'gre', 'ipip', 'tapv2', 'vxlan',
];

function walk(dir) {
  const files = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) files.push(...walk(p));
    else if (e.name.endsWith('.api.json')) files.push(p);
  }
  return files;
}

const modules = walk(apiDir)
  .map((file) => {
    const json = JSON.parse(fs.readFileSync(file, 'utf8'));
    const name = path.basename(file, '.api.json');
    const rel = path.relative(apiDir, file).split(path.sep).join('/');
    const messages = (json.messages ?? []).map((m) => {
      const crc = m[m.length - 1].crc;
      if (!/^0x[0-9a-f]{8}$/.test(crc)) throw new Error(`${rel}: ${m[0]} has crc ${crc}`);
      return `${m[0]}_${crc.slice(2)}`;
    });
    return { name, rel, messages };
  })
  .filter((m) => m.messages.length > 0);

const rank = (m) => {
  const i = MODULE_ORDER.indexOf(m.name);
  return i === -1 ? MODULE_ORDER.length : i;
};
modules.sort((a, b) => rank(a) - rank(b) || (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
if (modules[0]?.name !== 'memclnt') throw new Error('memclnt.api.json not found');

const table = modules.flatMap((m) => m.messages);
const seen = new Set();
for (const n of table) {
  if (seen.has(n)) throw new Error(`duplicate message ${n}`);
  seen.add(n);
}
if (table[14] !== 'sockclnt_create_455fb9c4' || table[15] !== 'sockclnt_create_reply_35166268') {
  throw new Error(`memclnt order changed: id 15 is ${table[14]}, 16 is ${table[15]}`);
}

// The real VPP's table: {index, name} in the order it was sent.
const frames = JSON.parse(fs.readFileSync(capture, 'utf8')).frames;
const replyFrame = frames.find((f) => f.dir === 's2c' && f.msg_id === 16);
if (!replyFrame) throw new Error(`${capture}: no sockclnt_create_reply`);
const body = Buffer.from(replyFrame.body, 'hex');
const vppOrder = [];
for (let i = 0, n = body.readUInt16BE(18); i < n; i++) {
  const o = 20 + 66 * i;
  const id = body.readUInt16BE(o);
  const nul = body.indexOf(0, o + 2);
  const name = body.toString('latin1', o + 2, nul < 0 || nul > o + 66 ? o + 66 : nul);
  if (table[id - 1] !== name) throw new Error(`VPP has ${name} at id ${id}, the table ${table[id - 1]}`);
  vppOrder.push(id);
}
const inVpp = new Set(vppOrder);
const emitOrder = [...vppOrder, ...table.map((_, i) => i + 1).filter((id) => !inVpp.has(id))];

const ranges = [];
let next = 1;
for (const m of modules) {
  ranges.push(`  { module: ${JSON.stringify(m.name)}, first: ${next}, count: ${m.messages.length} },`);
  next += m.messages.length;
}

const text = `// GENERATED by scripts/gen-sim-msgtable.mjs: do not edit by hand; re-run the script.
// Source: every *.api.json of ../shared/vpp/api (VPP 26.10-rc0~374-gb575ec2c56d), ${modules.length} modules
// with messages, ${table.length} messages, and the order of the real VPP's table in
// ../shared/fixtures/vpp-26.10/api-session-basic.json. Message id = index + 1. These are facts of
// VPP (its message names, CRCs and ids), kept here so that the simulator runs without ../shared.

/** \`<name>_<crc>\` of message id i + 1. */
export const MESSAGE_TABLE: readonly string[] = [
${table.map((n) => `  ${JSON.stringify(n)},`).join('\n')}
];

/**
 * The ids in the order sockclnt_create_reply lists them: the real VPP 26.10's order (it walks a
 * hash) for the ${vppOrder.length} messages it had, then the rest by id.
 */
export const EMIT_ORDER: readonly number[] = [
${chunks(emitOrder, 20).map((c) => `  ${c.join(', ')},`).join('\n')}
];

/** The id range of each module. */
export const MODULE_RANGES: readonly { readonly module: string; readonly first: number; readonly count: number }[] = [
${ranges.join('\n')}
];
`;
function chunks(list, n) {
  const outList = [];
  for (let i = 0; i < list.length; i += n) outList.push(list.slice(i, i + n));
  return outList;
}

fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, text);
console.log(`wrote ${path.relative(root, out)}: ${table.length} messages from ${modules.length} modules`);
