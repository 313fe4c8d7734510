/** Runs `vpp-exporter sim` as a child process, as tests of restarts and concurrent writers need. */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { CLI } from './paths.js';

export interface SimProcess {
  child: ChildProcess;
  socketPath: string;
  /** SIGKILL, like VPP dying; resolves when the process is gone. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export async function startSimProcess(socketPath: string, args: string[] = []): Promise<SimProcess> {
  // A killed simulator leaves its socket behind, and a new socket may even get the same inode
  // number: readiness is the child's own "stats socket" line, not the file.
  fs.rmSync(socketPath, { force: true });
  const child = spawn(process.execPath, [CLI, 'sim', '--stats-socket', socketPath, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, VPP_EXPORTER_LOG_LEVEL: 'warn' },
  });
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (stdout.includes('stats socket')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`simulator exited with ${code}: ${stderr}`)));
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      ready,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`simulator not ready within 30 s: ${stderr}`)), 30_000);
      }),
    ]);
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  } finally {
    clearTimeout(timer);
  }
  return {
    child,
    socketPath,
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

/** Open descriptors and mappings of the stats segment in this process (Linux /proc). */
export function resourceCounts(): { fds: number; segmentMappings: number } {
  const fds = fs.readdirSync('/proc/self/fd').length;
  const maps = fs.readFileSync('/proc/self/maps', 'utf8');
  const segmentMappings = maps.split('\n').filter((l) => l.includes('memfd:stat segment')).length;
  return { fds, segmentMappings };
}
