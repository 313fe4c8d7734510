/** Runs `vpp-exporter sim` as a child process, as tests of restarts and concurrent writers need. */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { CLI } from './paths.js';

export interface SimProcess {
  child: ChildProcess;
  socketPath: string;
  /** SIGKILL, like VPP dying; resolves when the process is gone. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export async function startSimProcess(socketPath: string, args: string[] = []): Promise<SimProcess> {
  const before = fs.existsSync(socketPath) ? fs.statSync(socketPath).ino : -1;
  const child = spawn(process.execPath, [CLI, 'sim', '--stats-socket', socketPath, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, VPP_EXPORTER_LOG_LEVEL: 'warn' },
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout!.resume();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 30_000;
  // Ready when a socket with a new inode is there (a killed simulator leaves its old one behind).
  while (!(fs.existsSync(socketPath) && fs.statSync(socketPath).ino !== before)) {
    if (child.exitCode !== null) throw new Error(`simulator exited with ${child.exitCode}: ${stderr}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`simulator did not create ${socketPath} within 30 s: ${stderr}`);
    }
    await sleep(10);
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
