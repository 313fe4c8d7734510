/**
 * A client of a child process's V8 inspector (the child runs with --inspect=127.0.0.1:0), for
 * tests that measure another process's memory: a full garbage collection on demand and the
 * child's own memory figures afterwards, i.e. what it really retains, not what its heap happens
 * to hold between collections.
 */
import fs from 'node:fs';
import type { Readable } from 'node:stream';

/** The child's memory right after a full garbage collection. */
export interface MemoryAfterGc {
  /** process.memoryUsage() */
  usage: NodeJS.MemoryUsage;
  /** v8.getHeapSpaceStatistics(): bytes used by space name (old_space, code_space, ...). */
  spaces: Record<string, number>;
}

export interface Inspector {
  /** Collects garbage in the child (every generation), then reads its memory. */
  memoryAfterGc(): Promise<MemoryAfterGc>;
  close(): void;
}

/** The inspector's WebSocket URL from the child's stderr ("Debugger listening on ws://..."). */
export function inspectorUrl(stderr: Readable, timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => {
      stderr.off('data', onData);
      reject(new Error(`no inspector URL within ${timeoutMs} ms: ${text}`));
    }, timeoutMs);
    const onData = (d: Buffer): void => {
      text += d.toString();
      const m = /Debugger listening on (ws:\/\/\S+)/.exec(text);
      if (!m) return;
      clearTimeout(timer);
      stderr.off('data', onData);
      resolve(m[1]);
    };
    stderr.on('data', onData);
  });
}

export async function connectInspector(url: string): Promise<Inspector> {
  const ws = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener('open', () => resolve(), { once: true });
    ws.addEventListener('error', () => reject(new Error(`inspector ${url}: connection failed`)), { once: true });
  });
  let nextId = 1;
  const pending = new Map<number, { resolve: (r: unknown) => void; reject: (e: Error) => void }>();
  ws.addEventListener('message', (ev: MessageEvent) => {
    const msg = JSON.parse(String(ev.data)) as { id?: number; result?: unknown; error?: { message: string } };
    const p = msg.id !== undefined ? pending.get(msg.id) : undefined;
    if (!p) return; // events
    pending.delete(msg.id!);
    if (msg.error) p.reject(new Error(msg.error.message));
    else p.resolve(msg.result);
  });
  ws.addEventListener('close', () => {
    for (const p of pending.values()) p.reject(new Error('inspector connection closed'));
    pending.clear();
  });
  const call = (method: string, params: Record<string, unknown> = {}): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      ws.send(JSON.stringify({ id, method, params }));
    });
  return {
    async memoryAfterGc() {
      await call('HeapProfiler.collectGarbage');
      // The inspector's command line API has require() even when the child's main is a module.
      const expression = `JSON.stringify({
        usage: process.memoryUsage(),
        spaces: Object.fromEntries(require('v8').getHeapSpaceStatistics().map((s) => [s.space_name, s.space_used_size])),
      })`;
      const r = (await call('Runtime.evaluate', { expression, includeCommandLineAPI: true, returnByValue: true })) as {
        result: { value: string };
        exceptionDetails?: { text: string };
      };
      if (r.exceptionDetails) throw new Error(`inspector evaluation failed: ${r.exceptionDetails.text}`);
      return JSON.parse(r.result.value) as MemoryAfterGc;
    },
    close() {
      ws.close();
    },
  };
}

/** A process's resident set in KiB (VmRSS of /proc/<pid>/status; NaN when it cannot be read). */
export function rssKb(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}
