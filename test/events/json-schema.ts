/**
 * A small JSON Schema (2020-12) validator for the keywords schemas/*.schema.json use: type (with
 * "integer" and type lists), enum, const, properties, required, additionalProperties, items,
 * pattern, minLength, minimum, maximum, format "date-time" (RFC 3339). An unknown keyword is an
 * error, so that a schema never silently asks for more than is checked.
 */
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../helpers/paths.js';

type Schema = { readonly [k: string]: unknown } | boolean;

const ANNOTATIONS = new Set(['$schema', '$id', 'title', 'description', '$comment', 'examples']);
const KEYWORDS = new Set([
  'type',
  'enum',
  'const',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'pattern',
  'minLength',
  'minimum',
  'maximum',
  'format',
]);

/** RFC 3339 date-time (section 5.6), with the range checks a regex can do. */
const RFC3339 = /^(\d{4})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[Tt]([01]\d|2[0-3]):([0-5]\d):([0-5]\d|60)(\.\d+)?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)$/;

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

function hasType(v: unknown, t: string): boolean {
  if (t === 'integer') return typeof v === 'number' && Number.isInteger(v);
  if (t === 'number') return typeof v === 'number' && Number.isFinite(v);
  return typeOf(v) === t;
}

export function validate(schema: Schema, value: unknown, at = '$'): string[] {
  if (schema === true) return [];
  if (schema === false) return [`${at}: no value allowed`];
  const errors: string[] = [];
  for (const k of Object.keys(schema)) {
    if (!ANNOTATIONS.has(k) && !KEYWORDS.has(k)) throw new Error(`schema keyword '${k}' at ${at} is not supported by this validator`);
  }
  const s = schema as Record<string, unknown>;
  if (s.type !== undefined) {
    const types = Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
    if (!types.some((t) => hasType(value, t))) {
      errors.push(`${at}: expected ${types.join(' or ')}, got ${typeOf(value)}`);
      return errors;
    }
  }
  if (s.enum !== undefined && !(s.enum as unknown[]).some((e) => e === value)) errors.push(`${at}: ${JSON.stringify(value)} not in ${JSON.stringify(s.enum)}`);
  if (s.const !== undefined && s.const !== value) errors.push(`${at}: expected ${JSON.stringify(s.const)}`);
  if (typeof value === 'string') {
    if (typeof s.minLength === 'number' && [...value].length < s.minLength) errors.push(`${at}: shorter than ${s.minLength}`);
    if (typeof s.pattern === 'string' && !new RegExp(s.pattern, 'u').test(value)) errors.push(`${at}: '${value}' does not match ${s.pattern}`);
    if (s.format === 'date-time' && !RFC3339.test(value)) errors.push(`${at}: '${value}' is not an RFC 3339 date-time`);
  }
  if (typeof value === 'number') {
    if (typeof s.minimum === 'number' && value < s.minimum) errors.push(`${at}: ${value} < ${s.minimum}`);
    if (typeof s.maximum === 'number' && value > s.maximum) errors.push(`${at}: ${value} > ${s.maximum}`);
  }
  if (Array.isArray(value) && s.items !== undefined) value.forEach((v, i) => errors.push(...validate(s.items as Schema, v, `${at}[${i}]`)));
  if (typeOf(value) === 'object') {
    const obj = value as Record<string, unknown>;
    const props = (s.properties ?? {}) as Record<string, Schema>;
    for (const r of (s.required ?? []) as string[]) if (!(r in obj)) errors.push(`${at}: missing '${r}'`);
    for (const [k, v] of Object.entries(obj)) {
      if (k in props) errors.push(...validate(props[k], v, `${at}.${k}`));
      else if (s.additionalProperties !== undefined) errors.push(...validate(s.additionalProperties as Schema, v, `${at}.${k}`));
    }
  }
  return errors;
}

export type SchemaName = 'link-event' | 'interface-state' | 'config-action';

const cache = new Map<SchemaName, Schema>();

export function loadSchema(name: SchemaName): Schema {
  let s = cache.get(name);
  if (s === undefined) {
    s = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'schemas', `${name}.schema.json`), 'utf8')) as Schema;
    cache.set(name, s);
  }
  return s;
}

/** Throws with every violation when `value` does not match schemas/<name>.schema.json. */
export function assertValid(name: SchemaName, value: unknown): void {
  const errors = validate(loadSchema(name), value);
  if (errors.length > 0) throw new Error(`${name}: ${errors.join('; ')}\nvalue: ${JSON.stringify(value)}`);
}

/** The schema a message on `stream` must match (null for a tombstone). */
export function schemaForStream(stream: string): SchemaName {
  if (stream === 'link-events') return 'link-event';
  if (stream === 'interface-state') return 'interface-state';
  if (stream === 'config-actions') return 'config-action';
  throw new Error(`no schema for stream ${stream}`);
}
