/**
 * The replay server itself, driven with raw recorded bytes over a plain socket (no client code):
 * it answers with the recorded frames re-stamped to the sender's context, and it notices the
 * mistakes the client tests rely on it to notice (a stale or disabled id, a changed request).
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { ReplayServer, type ReplayOptions } from './replay-server.js';
import { baseName, loadSession } from './session.js';
import { vppFrame } from './helpers.js';

const basic = loadSession('api-session-basic');
const recordedC2s = (name: string): Buffer => {
  const f = basic.find((x) => x.dir === 'c2s' && baseName(x.name) === name);
  assert.ok(f, name);
  return Buffer.from(f.body);
};
const recordedS2c = (name: string): Buffer => {
  const f = basic.find((x) => x.dir === 's2c' && baseName(x.name) === name);
  assert.ok(f, name);
  return Buffer.from(f.body);
};

/** A raw client: sends bodies, collects bodies. */
async function raw(path: string): Promise<{ send(body: Buffer): void; next(n?: number): Promise<Buffer[]>; close(): void }> {
  const s = net.createConnection({ path });
  await new Promise<void>((resolve, reject) => {
    s.once('connect', resolve);
    s.once('error', reject);
  });
  let buf = Buffer.alloc(0);
  const bodies: Buffer[] = [];
  let wake: () => void = () => undefined;
  s.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 16 && buf.length >= 16 + buf.readUInt32BE(8)) {
      const len = buf.readUInt32BE(8);
      bodies.push(buf.subarray(16, 16 + len));
      buf = buf.subarray(16 + len);
    }
    wake();
  });
  return {
    send: (body) => s.write(vppFrame(body)),
    next: async (n = 1) => {
      const deadline = Date.now() + 2000;
      while (bodies.length < n) {
        if (Date.now() > deadline) throw new Error(`got ${bodies.length} of ${n} frames`);
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, 20);
        });
      }
      return bodies.splice(0, n);
    },
    close: () => s.destroy(),
  };
}

function withContext(body: Buffer, ctx: number, offset = 6): Buffer {
  const b = Buffer.from(body);
  b.writeUInt32BE(ctx, offset);
  return b;
}

describe('replay server', () => {
  const servers: ReplayServer[] = [];
  after(async () => {
    for (const s of servers) await s.close();
  });
  async function start(opts: ReplayOptions = {}): Promise<ReplayServer> {
    const s = await ReplayServer.start({ sessions: ['api-session-basic'], ...opts });
    servers.push(s);
    return s;
  }

  it('answers sockclnt_create with the recorded table and a request with its recorded reply, re-stamped', async () => {
    const server = await start();
    const c = await raw(server.path);
    c.send(withContext(recordedC2s('sockclnt_create'), 4242, 2));
    const [table] = await c.next();
    assert.equal(table.length, 64304);
    assert.equal(table.readUInt32BE(6), 4242);
    assert.deepEqual(table.subarray(10), recordedS2c('sockclnt_create_reply').subarray(10));
    c.send(withContext(recordedC2s('show_version'), 77));
    const [reply] = await c.next();
    assert.deepEqual(reply, withContext(recordedS2c('show_version_reply'), 77, 2));
    c.close();
    assert.deepEqual(server.violations, []);
  });

  it('reports an id whose table entry was renamed, and gives no reply', async () => {
    const server = await start({ table: () => ({ rename: { sw_interface_set_flags_f5aec1b8: 'sw_interface_set_flags_deadbeef' } }) });
    const c = await raw(server.path);
    c.send(recordedC2s('sockclnt_create'));
    await c.next();
    c.send(recordedC2s('sw_interface_set_flags'));
    c.send(recordedC2s('show_version'));
    const [reply] = await c.next();
    assert.equal(reply.readUInt16BE(0), 905, 'only show_version was answered');
    assert.deepEqual(server.violations, ['connection 1: id 212 sent, whose table entry is sw_interface_set_flags_deadbeef (a message the client must not use)']);
    c.close();
  });

  it('with rotated ids, an id from the recorded table names another message: not answered as the old one', async () => {
    const server = await start({ table: () => ({ idShift: 5 }) });
    const c = await raw(server.path);
    c.send(recordedC2s('sockclnt_create'));
    await c.next();
    c.send(recordedC2s('show_version')); // id 904, which is now another message's
    const moved = recordedC2s('show_version');
    moved.writeUInt16BE(909, 0);
    c.send(moved);
    const [reply] = await c.next();
    assert.equal(reply.readUInt16BE(0), 910, 'show_version_reply under its rotated id');
    assert.equal(server.unmatched.length, 1);
    assert.equal(server.unmatched[0].id, 904);
    assert.notEqual(server.unmatched[0].name, 'show_version_51077d14');
    c.close();
  });

  it('a request that differs from every recording gets no reply', async () => {
    const server = await start();
    const c = await raw(server.path);
    c.send(recordedC2s('sockclnt_create'));
    await c.next();
    const changed = recordedC2s('sw_interface_set_flags');
    changed.writeUInt32BE(12345, 10); // sw_if_index
    c.send(changed);
    c.send(recordedC2s('show_version'));
    const [reply] = await c.next();
    assert.equal(reply.readUInt16BE(0), 905);
    assert.deepEqual(
      server.unmatched.map((u) => u.name),
      ['sw_interface_set_flags_f5aec1b8'],
    );
    c.close();
  });
});
