#!/usr/bin/env -S node --max-semi-space-size=4
/**
 * Command line: `vpp-exporter <command> [flags]`. Exit codes: 0 ok, 2 bad usage or
 * configuration (with a message saying what is wrong), 1 runtime failure.
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, OPTIONS, envName, type Config } from './config.js';
import { configureLogging } from './log.js';
import { statsDump, statsLs, StatsUnavailableError } from './commands/stats.js';

const USAGE = `Usage: vpp-exporter <command> [flags]

Commands:
  run                        serve VPP's stats as Prometheus metrics on :9482
  demo                       start the built-in VPP simulator and the exporter against it
  sim                        run the VPP simulator alone (stats socket; --api-socket: the binary API too)
  routes list|add|del ...    show and program VPP routes through the control API (--direct: VPP's API socket)
  interfaces list|set ...    show and configure interfaces through the control API (--direct: VPP's API socket)
  stats ls [REGEX...]        list stat names and types
  stats dump [REGEX...]      dump stat values (--json: one object, vpp-papi shapes)

Stats source: --stats-socket PATH (default /run/vpp/stats.sock) or --stats-file IMAGE.
Every flag can also be set in a JSON --config file or as VPP_EXPORTER_<FLAG> in the environment.
Run 'vpp-exporter <command> --help' for its flags.
`;

const COMMAND_FLAGS: Record<string, (keyof typeof OPTIONS)[]> = {
  run: ['config', 'stats-socket', 'stats-file', 'web.listen-address', 'web.config.file', 'per-thread', 'stats.include', 'stats.exclude',
    'events', 'events.file', 'spool.dir', 'spool.max-bytes', 'kafka.brokers', 'kafka.client-id', 'kafka.topic.link-events', 'kafka.topic.config-actions', 'kafka.topic.interface-state', 'kafka.tls', 'kafka.tls.ca-file', 'kafka.tls.cert-file', 'kafka.tls.key-file', 'kafka.tls.insecure-skip-verify', 'kafka.sasl.mechanism', 'kafka.sasl.username', 'kafka.sasl.password-file', 'kafka.compression', 'kafka.create-topics', 'kafka.partitions', 'kafka.replication-factor',
    'api-socket', 'control', 'control.listen-address', 'control.token-file', 'control.public-reads', 'control.rate-limit', 'control.rate-burst', 'control.body-limit', 'control.request-timeout', 
    'otlp.endpoint', 'otlp.protocol', 'otlp.interval', 'otlp.headers', 'otlp.resource-attributes', 'instance', 'log.level'],
  routes: ['config', 'control.url', 'control.listen-address', 'control.token-file', 'direct', 'api-socket', 'stats-socket', 'json', 'log.level'],
  interfaces: ['config', 'control.url', 'control.listen-address', 'control.token-file', 'direct', 'api-socket', 'stats-socket', 'json', 'log.level'],
  stats: ['config', 'stats-socket', 'stats-file', 'json', 'per-thread', 'log.level'],
  sim: ['config', 'stats-socket', 'api-socket', 'flap-interval', 'interfaces', 'workers', 'rate', 'seed', 'histograms', 'log.level'],
  demo: ['config', 'stats-socket', 'web.listen-address', 'web.config.file', 'per-thread', 'interfaces', 'workers', 'rate', 'seed', 'flap-interval',
    'events', 'events.file', 'spool.dir', 'spool.max-bytes', 'kafka.brokers', 'kafka.client-id', 'kafka.topic.link-events', 'kafka.topic.config-actions', 'kafka.topic.interface-state', 'kafka.tls', 'kafka.tls.ca-file', 'kafka.tls.cert-file', 'kafka.tls.key-file', 'kafka.tls.insecure-skip-verify', 'kafka.sasl.mechanism', 'kafka.sasl.username', 'kafka.sasl.password-file', 'kafka.compression', 'kafka.create-topics', 'kafka.partitions', 'kafka.replication-factor',
    'control.listen-address', 'control.public-reads', 'control.rate-limit', 'control.rate-burst', 'control.body-limit', 'control.request-timeout',
    'otlp.endpoint', 'otlp.protocol', 'otlp.interval', 'otlp.headers', 'otlp.resource-attributes', 'instance', 'log.level'],
};

class UsageError extends Error {}

function flagHelp(command: string): string {
  return COMMAND_FLAGS[command]
    .map((f) => {
      const spec = OPTIONS[f];
      const d: unknown = spec.default;
      const shown = typeof d === 'string' || typeof d === 'number' || typeof d === 'boolean' ? String(d) : '';
      const dflt = shown === '' ? '' : ` (default ${shown})`;
      return `  --${f.padEnd(24)} ${spec.help}${dflt}  [${envName(f)}]`;
    })
    .join('\n');
}

function parse(command: string, argv: string[]): { config: Config; positionals: string[]; given: Set<string> } {
  const names = COMMAND_FLAGS[command];
  const options: Record<string, { type: 'string' | 'boolean' }> = { help: { type: 'boolean' } };
  for (const n of names) options[n] = { type: OPTIONS[n].kind === 'bool' ? 'boolean' : 'string' };
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true, allowNegative: true });
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n\nFlags of '${command}':\n${flagHelp(command)}`);
  }
  if (parsed.values.help) {
    process.stdout.write(`Flags of '${command}':\n${flagHelp(command)}\n`);
    process.exit(0);
  }
  const { help: _help, ...flags } = parsed.values;
  // One-shot commands print results on stdout; routine info lines would only be noise on stderr.
  if ((command === 'stats' || command === 'routes' || command === 'interfaces') && flags['log.level'] === undefined && process.env[envName('log.level')] === undefined) {
    flags['log.level'] = 'warn';
  }
  const config = loadConfig(flags);
  configureLogging(config['log.level']);
  return { config, positionals: parsed.positionals, given: new Set(Object.keys(flags)) };
}

function write(s: string): void {
  process.stdout.write(s);
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE);
    return command === undefined ? 2 : 0;
  }
  switch (command) {
    case 'stats': {
      const [sub, ...args] = rest;
      if (sub !== 'ls' && sub !== 'dump') throw new UsageError(`stats: expected 'ls' or 'dump', got '${sub ?? ''}'`);
      const { config, positionals } = parse('stats', args);
      const patterns = positionals.map((p) => {
        try {
          return new RegExp(p);
        } catch (e) {
          throw new UsageError(`stats ${sub}: '${p}' is not a valid regex: ${(e as Error).message}`);
        }
      });
      const source = config['stats-file'] !== undefined ? { filePath: config['stats-file'] } : { socketPath: config['stats-socket'] };
      const opts = { ...source, patterns, json: config.json };
      await (sub === 'ls' ? statsLs(opts, write) : statsDump(opts, write));
      return 0;
    }
    case 'routes':
    case 'interfaces': {
      const [sub, ...args] = rest;
      const { config, positionals } = parse(command, args);
      const cli = await import('./commands/control-cli.js');
      const ctx = { config, args: positionals, write };
      return command === 'routes' ? cli.runRoutesCommand(sub, ctx) : cli.runInterfacesCommand(sub, ctx);
    }
    case 'run': {
      const { config } = parse('run', rest);
      const { runExporter } = await import('./commands/run.js');
      return runExporter(config);
    }
    case 'sim': {
      const { config, given } = parse('sim', rest);
      const { runSimCommand } = await import('./commands/sim.js');
      return runSimCommand(config, given.has('api-socket') || process.env[envName('api-socket')] !== undefined);
    }
    case 'demo': {
      const { config, given } = parse('demo', rest);
      const { runDemo } = await import('./commands/demo.js');
      return runDemo(config, given.has('stats-socket') || process.env[envName('stats-socket')] !== undefined);
    }
    default:
      throw new UsageError(`unknown command '${command}'\n\n${USAGE}`);
  }
}

/** Daemon commands exit once their shutdown is done: a library's stray retry timer (the OTLP
 * exporter's, against a collector that is down) must not keep a stopped exporter alive. */
const DAEMONS = new Set(['run', 'demo', 'sim']);

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    if (DAEMONS.has(process.argv[2] ?? '')) process.exit(code);
  },
  (e: unknown) => {
    if (e instanceof UsageError || e instanceof ConfigError) {
      process.stderr.write(`vpp-exporter: ${e.message}\n`);
      process.exitCode = 2;
    } else if (e instanceof StatsUnavailableError) {
      process.stderr.write(`vpp-exporter: ${e.message}\n`);
      process.exitCode = 1;
    } else {
      process.stderr.write(`vpp-exporter: ${(e as Error).stack ?? String(e)}\n`);
      process.exitCode = 1;
    }
  },
);
