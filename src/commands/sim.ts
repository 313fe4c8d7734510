/** `vpp-exporter sim`: the VPP simulator alone, until SIGINT/SIGTERM. */
import type { Config } from '../config.js';
import { logger } from '../log.js';
import { startStatsSimulator } from '../sim/index.js';

export async function runSimCommand(config: Config): Promise<number> {
  const log = logger('sim');
  const sim = await startStatsSimulator({
    interfaces: config.interfaces,
    workers: config.workers,
    rate: config.rate,
    seed: config.seed,
    socketPath: config['stats-socket'],
  });
  log.info({ statsSocket: sim.socketPath, interfaces: config.interfaces, workers: config.workers }, 'simulator running');
  process.stdout.write(`simulator: stats socket ${sim.socketPath}\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await sim.stop();
  return 0;
}
