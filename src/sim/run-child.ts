/**
 * The stats simulator in a process of its own, for tests that must read while it writes (a reader
 * in the writer's JavaScript thread can never observe a write in progress):
 *
 *   node dist/src/sim/run-child.js '<StatsSimulatorOptions as JSON>'
 *
 * Started with an IPC channel (child_process.fork), it reports {type: 'ready', socketPath,
 * segmentSize, epoch, buildMs} and then answers messages:
 *   {type: 'truth', perThread?}  -> {type: 'truth', json}  (pythonJson of name -> value)
 *   {type: 'epoch'}              -> {type: 'epoch', epoch}
 *   {type: 'create', spec}       -> {type: 'created', iface} (spec: CreateInterfaceSpec)
 *   {type: 'delete', swIfIndex}  -> {type: 'deleted', ifaces}
 *   {type: 'stick'}              -> {type: 'stuck'}        (in_progress stays 1, timers stop)
 *   {type: 'stop'}               -> exits 0
 * A request that fails answers {type: 'error', message}. Without IPC it prints the ready object as
 * one JSON line and runs until SIGINT/SIGTERM.
 */
import { pythonJson, type DumpValue } from '../stats/dump.js';
import { startStatsSimulator, type CreateInterfaceSpec, type StatsSimulatorHandle, type StatsSimulatorOptions } from './index.js';

type Request =
  | { type: 'truth'; perThread?: boolean }
  | { type: 'epoch' }
  | { type: 'create'; spec: CreateInterfaceSpec }
  | { type: 'delete'; swIfIndex: number }
  | { type: 'stick' }
  | { type: 'stop' };

function reply(msg: object): void {
  if (process.send) process.send(msg);
  else process.stdout.write(JSON.stringify(msg) + '\n');
}

function handle(sim: StatsSimulatorHandle, req: Request, done: () => void): void {
  switch (req.type) {
    case 'truth': {
      const truth = sim.truth({ perThread: req.perThread ?? true });
      reply({ type: 'truth', json: pythonJson(Object.fromEntries<DumpValue>(truth)) });
      return;
    }
    case 'epoch':
      reply({ type: 'epoch', epoch: sim.stats.epoch });
      return;
    case 'create':
      reply({ type: 'created', iface: sim.model.create(req.spec) });
      return;
    case 'delete':
      reply({ type: 'deleted', ifaces: sim.model.delete(req.swIfIndex) });
      return;
    case 'stick':
      sim.stickInProgress();
      reply({ type: 'stuck' });
      return;
    case 'stop':
      done();
      return;
  }
}

async function main(): Promise<void> {
  const arg = process.argv[2];
  if (arg === undefined) throw new RangeError('usage: run-child.js <options JSON>');
  const sim = await startStatsSimulator(JSON.parse(arg) as StatsSimulatorOptions);
  const done = (): void => {
    void sim.stop().then(() => process.exit(0));
  };
  process.on('message', (m) => {
    try {
      handle(sim, m as Request, done);
    } catch (e) {
      reply({ type: 'error', message: e instanceof Error ? e.message : String(e) });
    }
  });
  process.on('disconnect', done);
  process.once('SIGINT', done);
  process.once('SIGTERM', done);
  reply({ type: 'ready', socketPath: sim.socketPath, segmentSize: sim.segmentSize, epoch: sim.stats.epoch, buildMs: sim.buildMs });
}

main().catch((e: unknown) => {
  process.stderr.write(`run-child: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(2);
});
