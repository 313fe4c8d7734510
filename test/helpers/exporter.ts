/** Starts the exporter in-process on a free port, for HTTP-level tests. */
import { loadConfig } from '../../src/config.js';
import { startExporter, type RunningExporter, type StatsOrigin } from '../../src/commands/run.js';

export async function exporterOn(origin: StatsOrigin, flags: Record<string, string | boolean> = {}): Promise<RunningExporter> {
  const config = loadConfig({ 'web.listen-address': '127.0.0.1:0', ...flags }, {});
  return startExporter(config, origin);
}

/** Lines whose values change from run to run (process and timing metrics). */
export function stableLines(body: string): string {
  return body
    .split('\n')
    .filter((l) => !/^(# (HELP|TYPE) )?(process_|nodejs_)/.test(l))
    .filter((l) => !/^(# (HELP|TYPE) )?vpp_exporter_(scrape_duration_seconds|collector_duration_seconds|build_info)/.test(l))
    .join('\n');
}
