/**
 * Scenarios: knobs that push the simulated VPP into the states the alert rules and dashboards are
 * about (buffer pools running dry, error bursts, saturated or collapsing input nodes, drops,
 * rx-miss/rx-no-buf, link flaps, a hung stats collector), so that each alert can be made to fire on
 * purpose. A scenario is plain JSON (alerts/scenarios/*.json), checked by parseScenario(), and
 * applied to a running simulator with applyScenario(); stop() puts everything back.
 *
 * It works through StatsSim's public methods and the interface model only: setBufferPool,
 * addErrors, setVectorsPerCall, addInterfaceCounter, setCollectorPaused and model.setFlags.
 * Rates ("perSecond") are added on the scenario's own timer, on top of the simulator's traffic, over
 * the time that really passed (fractions carried), so a frozen simulator (rate 0) moves only where
 * the scenario says.
 *
 * Format (every key optional but name):
 * {
 *   "name": "low-buffers", "description": "...",
 *   "bufferPools": { "default-numa-0": { "freePercent": 20 } },        // or "*": every pool
 *   "errors": [ { "node": "ip4-input", "error": "ip4 ttl <= 1", "perSecond": 5000 } ],
 *   "vectorsPerCall": { "af-packet-input": 250 },                        // null: the model's again
 *   "interfaces": { "GigabitEthernet0/8/0": { "dropsPerSecond": 500, "rxMissPerSecond": 50 } },
 *   "links": { "memif1/0": { "flapPeriodMs": 2000, "downMs": 500 } },   // or { "state": "down" }
 *   "collector": "paused",                                               // or "running"
 *   "steps": [ { "atMs": 30000, "vectorsPerCall": { "af-packet-input": 1 } } ]
 * }
 * The top-level knobs apply at once; each step's knobs at atMs after that, replacing what an
 * earlier step set for the same pool, node, error or interface.
 */
import fs from 'node:fs';
import type { IF_SIMPLE_COUNTERS } from './catalog.js';
import type { InterfaceState } from './model.js';
import type { BufferPoolValues, StatsSim } from './stats-sim.js';

type SimpleCounter = (typeof IF_SIMPLE_COUNTERS)[number];

/** A buffer pool's gauges: either freePercent (available / total, total and cached kept) or absolute values. */
export interface BufferPoolKnob {
  freePercent?: number;
  available?: number;
  used?: number;
  cached?: number;
}

export interface ErrorKnob {
  node: string;
  error: string;
  perSecond: number;
  /** Thread row the errors are counted in; default the first worker. */
  thread?: number;
}

/** Extra interface counters per second, on top of the simulated traffic. */
export interface InterfaceKnob {
  dropsPerSecond?: number;
  rxMissPerSecond?: number;
  rxNoBufPerSecond?: number;
  rxErrorPerSecond?: number;
  txErrorPerSecond?: number;
  puntPerSecond?: number;
  /** Drops are also counted in this error counter (VPP counts a drop at the node that dropped it). */
  dropError?: { node: string; error: string };
}

export interface LinkKnob {
  /** Hold the link up or down. */
  state?: 'up' | 'down';
  /** Take the link down every flapPeriodMs, for downMs (default half the period). */
  flapPeriodMs?: number;
  downMs?: number;
}

export interface ScenarioKnobs {
  bufferPools?: Record<string, BufferPoolKnob>;
  errors?: ErrorKnob[];
  vectorsPerCall?: Record<string, number | null>;
  interfaces?: Record<string, InterfaceKnob>;
  links?: Record<string, LinkKnob>;
  collector?: 'running' | 'paused';
}

export interface ScenarioStep extends ScenarioKnobs {
  atMs: number;
}

export interface Scenario extends ScenarioKnobs {
  name: string;
  description?: string;
  steps?: ScenarioStep[];
}

export interface ScenarioHandle {
  readonly name: string;
  /** Stops the timers and restores pools, vectors per call, links and the collector as they were. */
  stop(): void;
}

export interface ApplyScenarioOptions {
  /** How often rates are added (default 100 ms). */
  tickMs?: number;
}

const KNOB_KEYS = ['bufferPools', 'errors', 'vectorsPerCall', 'interfaces', 'links', 'collector'] as const;
const INTERFACE_RATES: Record<Exclude<keyof InterfaceKnob, 'dropError'>, SimpleCounter> = {
  dropsPerSecond: 'drops',
  rxMissPerSecond: 'rx-miss',
  rxNoBufPerSecond: 'rx-no-buf',
  rxErrorPerSecond: 'rx-error',
  txErrorPerSecond: 'tx-error',
  puntPerSecond: 'punt',
};
const MAX_RATE = 1e9;

// --- parsing --------------------------------------------------------------------------------------

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fail(where: string, what: string): never {
  throw new RangeError(`scenario ${where}: ${what}`);
}

function object(where: string, v: unknown, keys: readonly string[]): Json {
  if (!isObject(v)) fail(where, 'must be an object');
  for (const k of Object.keys(v)) if (!keys.includes(k)) fail(where, `unknown key "${k}" (known: ${keys.join(', ')})`);
  return v;
}

function num(where: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) fail(where, `must be a number from ${min} to ${max}, got ${JSON.stringify(v)}`);
  return v;
}

function optNum(where: string, v: unknown, min: number, max: number): number | undefined {
  return v === undefined ? undefined : num(where, v, min, max);
}

function str(where: string, v: unknown): string {
  if (typeof v !== 'string' || v.length === 0) fail(where, 'must be a non-empty string');
  return v;
}

function record<T>(where: string, v: unknown, each: (w: string, x: unknown) => T): Record<string, T> {
  if (!isObject(v)) fail(where, 'must be an object');
  const out: Record<string, T> = {};
  for (const [k, x] of Object.entries(v)) out[k] = each(`${where}["${k}"]`, x);
  return out;
}

function parseKnobs(prefix: string, o: Json): ScenarioKnobs {
  const where = prefix === '' ? '' : `${prefix}.`;
  const k: ScenarioKnobs = {};
  if (o.bufferPools !== undefined) {
    k.bufferPools = record(`${where}bufferPools`, o.bufferPools, (w, x) => {
      const p = object(w, x, ['freePercent', 'available', 'used', 'cached']);
      const knob: BufferPoolKnob = {};
      if (p.freePercent !== undefined) {
        if (p.available !== undefined || p.used !== undefined) fail(w, 'freePercent goes without available/used');
        knob.freePercent = num(`${w}.freePercent`, p.freePercent, 0, 100);
      }
      for (const key of ['available', 'used', 'cached'] as const) {
        const n = optNum(`${w}.${key}`, p[key], 0, Number.MAX_SAFE_INTEGER);
        if (n !== undefined) {
          if (!Number.isInteger(n)) fail(`${w}.${key}`, 'must be an integer');
          knob[key] = n;
        }
      }
      return knob;
    });
  }
  if (o.errors !== undefined) {
    if (!Array.isArray(o.errors)) fail(`${where}errors`, 'must be an array');
    k.errors = o.errors.map((x: unknown, i) => {
      const w = `${where}errors[${i}]`;
      const e = object(w, x, ['node', 'error', 'perSecond', 'thread']);
      const knob: ErrorKnob = { node: str(`${w}.node`, e.node), error: str(`${w}.error`, e.error), perSecond: num(`${w}.perSecond`, e.perSecond, 0, MAX_RATE) };
      if (e.thread !== undefined) knob.thread = num(`${w}.thread`, e.thread, 0, 256);
      return knob;
    });
  }
  if (o.vectorsPerCall !== undefined) {
    k.vectorsPerCall = record(`${where}vectorsPerCall`, o.vectorsPerCall, (w, x) => (x === null ? null : num(w, x, 1, 256)));
  }
  if (o.interfaces !== undefined) {
    k.interfaces = record(`${where}interfaces`, o.interfaces, (w, x) => {
      const i = object(w, x, [...Object.keys(INTERFACE_RATES), 'dropError']);
      const knob: InterfaceKnob = {};
      for (const key of Object.keys(INTERFACE_RATES) as (keyof typeof INTERFACE_RATES)[]) {
        const n = optNum(`${w}.${key}`, i[key], 0, MAX_RATE);
        if (n !== undefined) knob[key] = n;
      }
      if (i.dropError !== undefined) {
        const d = object(`${w}.dropError`, i.dropError, ['node', 'error']);
        knob.dropError = { node: str(`${w}.dropError.node`, d.node), error: str(`${w}.dropError.error`, d.error) };
      }
      return knob;
    });
  }
  if (o.links !== undefined) {
    k.links = record(`${where}links`, o.links, (w, x) => {
      const l = object(w, x, ['state', 'flapPeriodMs', 'downMs']);
      const knob: LinkKnob = {};
      if (l.state !== undefined) {
        if (l.state !== 'up' && l.state !== 'down') fail(`${w}.state`, 'must be "up" or "down"');
        knob.state = l.state;
      }
      const period = optNum(`${w}.flapPeriodMs`, l.flapPeriodMs, 10, 86_400_000);
      const down = optNum(`${w}.downMs`, l.downMs, 1, 86_400_000);
      if (period !== undefined) {
        if (knob.state !== undefined) fail(w, 'state and flapPeriodMs exclude each other');
        if (down !== undefined && down >= period) fail(`${w}.downMs`, 'must be shorter than flapPeriodMs');
        knob.flapPeriodMs = period;
        if (down !== undefined) knob.downMs = down;
      } else if (down !== undefined) {
        fail(`${w}.downMs`, 'needs flapPeriodMs');
      }
      if (knob.state === undefined && period === undefined) fail(w, 'needs state or flapPeriodMs');
      return knob;
    });
  }
  if (o.collector !== undefined) {
    if (o.collector !== 'running' && o.collector !== 'paused') fail(`${where}collector`, 'must be "running" or "paused"');
    k.collector = o.collector;
  }
  return k;
}

/** Checks a scenario's shape (not yet that its pools, nodes and interfaces exist: applyScenario does). */
export function parseScenario(json: unknown): Scenario {
  const o = object('(top level)', json, ['name', 'description', 'steps', ...KNOB_KEYS]);
  const s: Scenario = { name: str('name', o.name), ...parseKnobs('', o) };
  if (o.description !== undefined) {
    if (typeof o.description !== 'string') fail('description', 'must be a string');
    s.description = o.description;
  }
  if (o.steps !== undefined) {
    if (!Array.isArray(o.steps)) fail('steps', 'must be an array');
    s.steps = o.steps.map((x: unknown, i) => {
      const st = object(`steps[${i}]`, x, ['atMs', ...KNOB_KEYS]);
      return { atMs: num(`steps[${i}].atMs`, st.atMs, 0, 86_400_000), ...parseKnobs(`steps[${i}]`, st) };
    });
  }
  return s;
}

/** Reads and checks a scenario file (JSON). */
export function loadScenario(file: string): Scenario {
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new RangeError(`scenario ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  return parseScenario(json);
}

// --- applying -------------------------------------------------------------------------------------

/** A counter that moves at perSecond, in whole steps, the fraction carried to the next tick. */
interface Rate {
  perSecond: number;
  carry: number;
  add(n: number): void;
}

/** What a scenario changed, to put back on stop(). */
interface Saved {
  pools: Map<string, BufferPoolValues>;
  vectorsPerCall: Set<string>;
  links: Map<number, boolean>;
  collector: boolean;
}

class ScenarioRun implements ScenarioHandle {
  private readonly rates = new Map<string, Rate>();
  private readonly flaps = new Map<number, NodeJS.Timeout[]>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly saved: Saved = { pools: new Map(), vectorsPerCall: new Set(), links: new Map(), collector: false };
  private last = performance.now();
  private stopped = false;

  constructor(
    private readonly sim: StatsSim,
    readonly name: string,
    tickMs: number,
  ) {
    const tick = setInterval(() => this.tick(), tickMs);
    tick.unref();
    this.timers.push(tick);
  }

  /** Checks every name a set of knobs refers to, before anything changes. */
  check(where: string, k: ScenarioKnobs): void {
    for (const pool of Object.keys(k.bufferPools ?? {})) {
      if (pool !== '*' && !this.sim.bufferPoolNames().includes(pool)) fail(`${where}bufferPools`, `no buffer pool "${pool}" (have ${this.sim.bufferPoolNames().join(', ')})`);
    }
    (k.errors ?? []).forEach((e, i) => this.checkError(`${where}errors[${i}]`, e.node, e.error, e.thread));
    for (const node of Object.keys(k.vectorsPerCall ?? {})) {
      if (!this.sim.hasNode(node)) fail(`${where}vectorsPerCall`, `no node "${node}"`);
    }
    for (const [name, knob] of Object.entries(k.interfaces ?? {})) {
      this.interfacesNamed(`${where}interfaces`, name);
      if (knob.dropError) this.checkError(`${where}interfaces["${name}"].dropError`, knob.dropError.node, knob.dropError.error);
    }
    for (const name of Object.keys(k.links ?? {})) {
      const ifs = this.interfacesNamed(`${where}links`, name);
      if (ifs.some((i) => i.swIfIndex === 0)) fail(`${where}links`, 'local0 has no link');
    }
  }

  apply(k: ScenarioKnobs): void {
    if (this.stopped) return;
    for (const [pool, knob] of Object.entries(k.bufferPools ?? {})) {
      for (const name of pool === '*' ? this.sim.bufferPoolNames() : [pool]) this.setPool(name, knob);
    }
    for (const e of k.errors ?? []) {
      this.setRate(`error ${e.node}/${e.error}`, e.perSecond, (n) => this.sim.addErrors(e.node, e.error, n, e.thread));
    }
    for (const [node, vpc] of Object.entries(k.vectorsPerCall ?? {})) {
      this.saved.vectorsPerCall.add(node);
      this.sim.setVectorsPerCall(node, vpc ?? undefined);
    }
    for (const [name, knob] of Object.entries(k.interfaces ?? {})) {
      for (const i of this.interfacesNamed('interfaces', name)) this.setInterfaceRates(i.swIfIndex, knob);
    }
    for (const [name, knob] of Object.entries(k.links ?? {})) {
      for (const i of this.interfacesNamed('links', name)) this.setLink(i.swIfIndex, knob);
    }
    if (k.collector !== undefined) {
      this.saved.collector = true;
      this.sim.setCollectorPaused(k.collector === 'paused');
    }
  }

  later(atMs: number, k: ScenarioKnobs): void {
    const t = setTimeout(() => this.apply(k), atMs);
    t.unref();
    this.timers.push(t);
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    for (const sw of [...this.flaps.keys()]) this.stopFlap(sw);
    this.rates.clear();
    for (const [name, v] of this.saved.pools) this.sim.setBufferPool(name, v);
    for (const node of this.saved.vectorsPerCall) this.sim.setVectorsPerCall(node, undefined);
    for (const [sw, up] of this.saved.links) {
      if (this.sim.model.get(sw) !== undefined) this.sim.model.setFlags(sw, { linkUp: up });
    }
    if (this.saved.collector) this.sim.setCollectorPaused(false);
  }

  private tick(): void {
    const now = performance.now();
    const dt = (now - this.last) / 1000;
    this.last = now;
    for (const r of this.rates.values()) {
      const x = r.perSecond * dt + r.carry;
      const n = Math.floor(x);
      r.carry = x - n;
      if (n > 0) r.add(n);
    }
  }

  private setRate(key: string, perSecond: number, add: (n: number) => void): void {
    if (perSecond <= 0) this.rates.delete(key);
    else this.rates.set(key, { perSecond, carry: this.rates.get(key)?.carry ?? 0, add });
  }

  private setPool(name: string, knob: BufferPoolKnob): void {
    const cur = this.sim.bufferPool(name);
    if (!this.saved.pools.has(name)) this.saved.pools.set(name, cur);
    const next: Partial<BufferPoolValues> = { available: knob.available, used: knob.used, cached: knob.cached };
    if (knob.freePercent !== undefined) {
      const total = cur.available + cur.used + cur.cached;
      const cached = Math.min(knob.cached ?? cur.cached, total);
      next.available = Math.min(total - cached, Math.round((total * knob.freePercent) / 100));
      next.used = total - cached - next.available;
      next.cached = cached;
    }
    this.sim.setBufferPool(name, next);
  }

  private setInterfaceRates(sw: number, knob: InterfaceKnob): void {
    for (const [key, counter] of Object.entries(INTERFACE_RATES) as [keyof typeof INTERFACE_RATES, SimpleCounter][]) {
      const perSecond = knob[key];
      if (perSecond === undefined) continue;
      const drop = counter === 'drops' ? knob.dropError : undefined;
      this.setRate(`if ${sw} ${counter}`, perSecond, (n) => {
        if (this.sim.model.get(sw) === undefined) return; // deleted meanwhile
        this.sim.addInterfaceCounter(sw, counter, n);
        if (drop) this.sim.addErrors(drop.node, drop.error, n);
      });
    }
  }

  private setLink(sw: number, knob: LinkKnob): void {
    const iface = this.sim.model.get(sw);
    if (iface === undefined) return;
    if (!this.saved.links.has(sw)) this.saved.links.set(sw, iface.linkUp);
    this.stopFlap(sw);
    if (knob.state !== undefined) {
      this.sim.model.setFlags(sw, { linkUp: knob.state === 'up' });
      return;
    }
    const period = knob.flapPeriodMs ?? 1000;
    const down = knob.downMs ?? Math.floor(period / 2);
    const up = this.saved.links.get(sw) ?? true;
    const handles: NodeJS.Timeout[] = [];
    const flap = (): void => {
      if (this.sim.model.get(sw) === undefined) return;
      this.sim.model.setFlags(sw, { linkUp: false });
      const back = setTimeout(() => {
        if (this.sim.model.get(sw) !== undefined) this.sim.model.setFlags(sw, { linkUp: up });
      }, down);
      back.unref();
      handles.push(back);
      if (handles.length > 16) handles.splice(0, handles.length - 16);
    };
    flap();
    const every = setInterval(flap, period);
    every.unref();
    handles.push(every);
    this.flaps.set(sw, handles);
  }

  private stopFlap(sw: number): void {
    for (const h of this.flaps.get(sw) ?? []) clearTimeout(h);
    this.flaps.delete(sw);
  }

  private checkError(where: string, node: string, error: string, thread?: number): void {
    try {
      this.sim.addErrors(node, error, 0, thread);
    } catch (e) {
      fail(where, e instanceof Error ? e.message : String(e));
    }
  }

  /** "*": every interface but local0 that is admin and link up now; otherwise the one named. */
  private interfacesNamed(where: string, name: string): InterfaceState[] {
    if (name === '*') return this.sim.model.list().filter((i) => i.swIfIndex !== 0 && i.adminUp && i.linkUp);
    const i = this.sim.model.byName(name);
    if (i === undefined) fail(where, `no interface "${name}"`);
    return [i];
  }
}

/**
 * Applies a scenario (a Scenario, or JSON to be checked as one) to a running simulator: checks every pool, node, error and
 * interface it names first (RangeError, nothing changed), then sets the knobs and starts its timers.
 */
export function applyScenario(sim: StatsSim, scenario: unknown, opts: ApplyScenarioOptions = {}): ScenarioHandle {
  const s = parseScenario(scenario);
  const tickMs = opts.tickMs ?? 100;
  if (!Number.isInteger(tickMs) || tickMs < 1) throw new RangeError(`tickMs must be an integer >= 1, got ${tickMs}`);
  const run = new ScenarioRun(sim, s.name, tickMs);
  try {
    run.check('', s);
    (s.steps ?? []).forEach((st, i) => run.check(`steps[${i}].`, st));
  } catch (e) {
    run.stop();
    throw e;
  }
  run.apply(s);
  for (const st of s.steps ?? []) run.later(st.atMs, st);
  return run;
}
