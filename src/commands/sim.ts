/** `vpp-exporter sim`: the VPP simulator alone, until SIGINT/SIGTERM. */
import type { Config } from '../config.js';
import { logger } from '../log.js';
import { startStatsSimulator } from '../sim/index.js';

/** The API socket starts only when asked for: its default is VPP's own /run/vpp/api.sock. */
export async function runSimCommand(config: Config, withApi = false): Promise<number> {
  const log = logger('sim');
  const sim = await startStatsSimulator({
    interfaces: config.interfaces,
    workers: config.workers,
    rate: config.rate,
    seed: config.seed,
    histograms: config.histograms,
    socketPath: config['stats-socket'],
    ...(withApi ? { apiSocketPath: config['api-socket'], flapIntervalMs: config['flap-interval'] } : {}),
  });
  log.info({ statsSocket: sim.socketPath, apiSocket: sim.apiSocketPath, interfaces: config.interfaces, workers: config.workers }, 'simulator running');
  if (sim.apiSocketPath !== undefined) process.stdout.write(`simulator: api socket ${sim.apiSocketPath}\n`);
  process.stdout.write(`simulator: stats socket ${sim.socketPath}\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await sim.stop();
  return 0;
}
