/**
 * The simulator's own ceiling for route programming: a raw client (no client library: frames
 * pre-encoded with the generated codec, written back to back, replies only counted) against the
 * simulator's API socket, the simulator in a process of its own (dist/src/sim/run-child.js) so the
 * two do not share a JavaScript thread. Whatever a real client reaches is below this.
 *
 *   node dist/bench/sim-api-ceiling.js [--routes N] [--window W] [--socket PATH]
 *
 * prints {"routes": N, "add": {...}, "del": {...}} where each pass is
 * {"seconds", "frames_per_s", "errors"}: N ip_route_add_del (IPv4 /32s, one path) adding, then N
 * deleting. --window caps the frames in flight (default 0: everything the socket takes);
 * --socket uses a simulator that is already running instead of starting one.
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { messages } from '../src/binapi/generated/index.js';
import { FrameReader, frameHeader } from '../src/binapi/transport.js';

export interface CeilingOptions {
  /** Routes per pass. Default 200000. */
  routes?: number;
  /** Frames in flight at most; 0 = no limit. Default 0. */
  window?: number;
  /** A running simulator's API socket; by default one is started in a child process. */
  socketPath?: string;
}

export interface CeilingPass {
  seconds: number;
  frames_per_s: number;
  /** Replies with a non-zero retval. */
  errors: number;
}

export interface CeilingResult {
  routes: number;
  window: number;
  add: CeilingPass;
  del: CeilingPass;
}

const NO_LABELS = Array.from({ length: 16 }, () => ({ is_uniform: 0, label: 0, ttl: 0, exp: 0 }));

/** Starts the simulator (8 interfaces, frozen counters) with an API socket in a child process. */
async function startChild(socketPath: string): Promise<ChildProcess> {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const script = path.resolve(here, '..', 'src', 'sim', 'run-child.js');
  const opts = { interfaces: 8, workers: 0, rate: 0, seed: 1, apiSocketPath: socketPath };
  const child = fork(script, [JSON.stringify(opts)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`simulator exited with ${String(code)}`)));
  });
  return child;
}

/** A raw connection: frames out as given, every frame in handed to `onBody`. */
function connect(socketPath: string, onBody: (body: Buffer) => void): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.createConnection(socketPath);
    const reader = new FrameReader(64 * 1024 * 1024, onBody);
    s.on('data', (chunk: Buffer) => reader.push(chunk));
    s.once('error', reject);
    s.once('connect', () => resolve(s));
  });
}

function frame(body: Buffer): Buffer {
  return Buffer.concat([frameHeader(body.length), body]);
}

export async function simApiCeiling(opts: CeilingOptions = {}): Promise<CeilingResult> {
  const routes = opts.routes ?? 200_000;
  const window = opts.window ?? 0;
  let child: ChildProcess | undefined;
  let dir: string | undefined;
  let socketPath = opts.socketPath;
  if (socketPath === undefined) {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sim-api-ceiling-'));
    socketPath = path.join(dir, 'api.sock');
    child = await startChild(socketPath);
  }
  try {
    // Connect: sockclnt_create (fixed id 15), then the ids from its reply's table.
    let onBody: (body: Buffer) => void = () => undefined;
    const sock = await connect(socketPath, (b) => onBody(b));
    const table = await new Promise<Map<string, number>>((resolve) => {
      onBody = (b) => {
        const r = messages.sockclnt_create_reply.decode(b);
        resolve(new Map(r.message_table.map((e) => [e.name, e.index])));
      };
      sock.write(frame(messages.sockclnt_create.encode({ context: 1, name: 'sim-api-ceiling' }, 15)));
    });
    const idOf = (nameCrc: string): number => {
      const id = table.get(nameCrc);
      if (id === undefined) throw new Error(`${nameCrc} is not in the table`);
      return id;
    };
    const reqId = idOf(messages.ip_route_add_del.nameCrc);
    const replyId = idOf(messages.ip_route_add_del_reply.nameCrc);
    const clientIndex = 0x8000_0001;

    /** The pass's frames, pre-encoded and joined 1024 to a write. */
    const encodePass = (isAdd: boolean): Buffer[] => {
      const out: Buffer[] = [];
      const addr = Buffer.alloc(16);
      const nh = Buffer.from([10, 1, 0, 2]);
      for (let i = 0; i < routes; i++) {
        addr.writeUInt32BE((0x6440_0000 + i) >>> 0, 0);
        const body = messages.ip_route_add_del.encode(
          {
            client_index: clientIndex,
            context: i + 1,
            is_add: isAdd,
            is_multipath: false,
            route: {
              table_id: 0,
              stats_index: 0,
              prefix: { address: { af: 0, un: addr }, len: 32 },
              paths: [
                {
                  sw_if_index: 1,
                  table_id: 0,
                  rpf_id: 0,
                  weight: 1,
                  preference: 0,
                  type: 0,
                  flags: 0,
                  proto: 0,
                  nh: { address: nh, via_label: 0, obj_id: 0, classify_table_index: 0 },
                  n_labels: 0,
                  label_stack: NO_LABELS,
                },
              ],
            },
          },
          reqId,
        );
        out.push(frame(Buffer.from(body)));
      }
      const writes: Buffer[] = [];
      for (let i = 0; i < out.length; i += 1024) writes.push(Buffer.concat(out.slice(i, i + 1024)));
      return writes;
    };

    /**
     * Writes the pass as fast as the socket takes it (with `window`: at most that many frames
     * ahead of the replies, in whole writes of up to 1024) and counts the replies.
     */
    const runPass = async (writes: Buffer[]): Promise<CeilingPass> => {
      let replies = 0;
      let errors = 0;
      let next = 0;
      let sentFrames = 0;
      let draining = false;
      const started = performance.now();
      await new Promise<void>((resolve) => {
        const pump = (): void => {
          if (draining) return;
          while (next < writes.length && (window === 0 || sentFrames - replies < window)) {
            const ok = sock.write(writes[next]);
            sentFrames += Math.min(1024, routes - next * 1024);
            next++;
            if (!ok) {
              draining = true;
              sock.once('drain', () => {
                draining = false;
                pump();
              });
              return;
            }
          }
        };
        onBody = (b) => {
          if (((b[0] << 8) | b[1]) !== replyId) return;
          replies++;
          if (b.readInt32BE(6) !== 0) errors++;
          if (replies === routes) resolve();
          else if (window > 0 && next < writes.length && sentFrames - replies < window) pump();
        };
        pump();
      });
      const seconds = (performance.now() - started) / 1000;
      return { seconds, frames_per_s: routes / seconds, errors };
    };

    const add = await runPass(encodePass(true));
    const del = await runPass(encodePass(false));
    sock.destroy();
    return { routes, window, add, del };
  } finally {
    if (child) {
      child.kill('SIGTERM');
      await new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) resolve();
        else child.once('exit', () => resolve());
      });
    }
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }
}


if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const arg = (name: string): string | undefined => {
    const i = process.argv.indexOf(name);
    return i >= 0 ? process.argv[i + 1] : undefined;
  };
  const num = (name: string): number | undefined => {
    const v = arg(name);
    return v === undefined ? undefined : Number(v);
  };
  simApiCeiling({ routes: num('--routes'), window: num('--window'), socketPath: arg('--socket') }).then(
    (r) => process.stdout.write(`${JSON.stringify(r)}\n`),
    (e: unknown) => {
      process.stderr.write(`sim-api-ceiling: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
