/**
 * Reads one `.api.json` file (vppapigen's JSON output, as VPP installs it under
 * /usr/share/vpp/api) into a typed model, validating its shape. The JSON's layout:
 *
 *   { "module": "ip", "vl_api_version": "0x...", "options": {"version": "3.2.0"},
 *     "imports": ["vnet/ip/ip_types.api", ...],
 *     "types":    [[name, field..., {comment}?], ...]        typedefs
 *     "unions":   [[name, field..., {comment}?], ...]
 *     "messages": [[name, field..., {crc, options, comment}], ...]
 *     "enums":    [[name, [VALUE_NAME, n]..., {enumtype}], ...]   (enumflags likewise)
 *     "aliases":  {name: {type, length?}},
 *     "services": {request: {reply, stream?, stream_msg?, events?}} }
 *
 *   field := [type, name]                     scalar
 *          | [type, name, N]                  fixed array (string: NUL-padded string[N]);
 *                                             N = 0: `string x[]` or a legacy trailing array
 *          | [type, name, 0, "count_field"]   variable-length array counted by count_field
 *          (each optionally followed by {default | limit | discriminator | case})
 *
 * A type is `u8`..`u64`, `i8`..`i64`, `f64`, `bool`, `string`, or `vl_api_<name>_t`. The file
 * also repeats every type it imports (fib_types.api.json carries ip_types' types); model.ts
 * decides which module owns each.
 */
export interface ApiField {
  readonly type: string;
  readonly name: string;
  /** null for a scalar; N for `x[N]`; 0 for `x[]` (variable). */
  readonly length: number | null;
  /** The count field of a variable-length array. */
  readonly lengthField: string | null;
  readonly options: Readonly<Record<string, unknown>>;
}

export interface ApiStruct {
  readonly name: string;
  readonly fields: readonly ApiField[];
  /** Messages only. */
  readonly crc: string | null;
}

export type EnumType = 'u8' | 'u16' | 'u32';

export interface ApiEnum {
  readonly name: string;
  readonly enumtype: EnumType;
  readonly values: readonly (readonly [string, number])[];
  readonly flags: boolean;
}

export interface ApiAlias {
  readonly name: string;
  readonly type: string;
  readonly length: number | null;
}

export interface ApiService {
  readonly request: string;
  readonly reply: string | null;
  readonly stream: boolean;
  readonly streamMsg: string | null;
  readonly events: readonly string[];
}

export interface ApiFile {
  /** Path relative to the input folder, with forward slashes (e.g. `core/ip.api.json`). */
  readonly file: string;
  readonly module: string;
  /** The module's API version from `options.version`, e.g. `3.2.0`. */
  readonly version: string;
  /** `vl_api_version`: vppapigen's CRC of the whole .api file, e.g. `0xc55aec44`. */
  readonly vlApiVersion: string;
  /** Imported module names (`vnet/ip/ip_types.api` -> `ip_types`), unique, in file order. */
  readonly imports: readonly string[];
  readonly types: readonly ApiStruct[];
  readonly unions: readonly ApiStruct[];
  readonly messages: readonly ApiStruct[];
  readonly enums: readonly ApiEnum[];
  readonly aliases: readonly ApiAlias[];
  readonly services: readonly ApiService[];
}

export class ApiJsonError extends Error {
  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'ApiJsonError';
  }
}

type Json = unknown;

function isObject(v: Json): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseField(file: string, owner: string, raw: Json): ApiField {
  if (!Array.isArray(raw) || raw.length < 2 || typeof raw[0] !== 'string' || typeof raw[1] !== 'string') {
    throw new ApiJsonError(file, `${owner}: a field must be [type, name, ...], got ${JSON.stringify(raw)}`);
  }
  let length: number | null = null;
  let lengthField: string | null = null;
  let options: Record<string, unknown> = {};
  for (const extra of raw.slice(2) as Json[]) {
    if (typeof extra === 'number' && Number.isInteger(extra) && extra >= 0 && length === null) length = extra;
    else if (typeof extra === 'string' && length !== null && lengthField === null) lengthField = extra;
    else if (isObject(extra)) options = { ...options, ...extra };
    else throw new ApiJsonError(file, `${owner}.${raw[1]}: unexpected ${JSON.stringify(extra)} in a field`);
  }
  if (lengthField !== null && length !== 0) {
    throw new ApiJsonError(file, `${owner}.${raw[1]}: a counted array must have length 0`);
  }
  return { type: raw[0], name: raw[1], length, lengthField, options };
}

function parseStruct(file: string, kind: string, raw: Json): ApiStruct {
  if (!Array.isArray(raw) || typeof raw[0] !== 'string') {
    throw new ApiJsonError(file, `${kind}: expected [name, field...], got ${JSON.stringify(raw).slice(0, 80)}`);
  }
  const name = raw[0];
  const fields: ApiField[] = [];
  let crc: string | null = null;
  for (const item of raw.slice(1) as Json[]) {
    if (isObject(item)) {
      if (typeof item.crc === 'string') crc = item.crc.toLowerCase();
      continue;
    }
    fields.push(parseField(file, name, item));
  }
  if (kind === 'messages') {
    if (crc === null || !/^0x[0-9a-f]{8}$/.test(crc)) throw new ApiJsonError(file, `message ${name}: missing or bad crc`);
    const first = fields[0];
    if (first === undefined || first.name !== '_vl_msg_id' || first.type !== 'u16' || first.length !== null) {
      throw new ApiJsonError(file, `message ${name}: the first field must be u16 _vl_msg_id`);
    }
  }
  const seen = new Set<string>();
  for (const f of fields) {
    if (seen.has(f.name)) throw new ApiJsonError(file, `${name}: duplicate field ${f.name}`);
    seen.add(f.name);
  }
  return { name, fields, crc };
}

function parseEnum(file: string, raw: Json, flags: boolean): ApiEnum {
  if (!Array.isArray(raw) || typeof raw[0] !== 'string') {
    throw new ApiJsonError(file, `enum: expected [name, [VALUE, n]...], got ${JSON.stringify(raw).slice(0, 80)}`);
  }
  const name = raw[0];
  let enumtype: EnumType = 'u32';
  const values: [string, number][] = [];
  for (const item of raw.slice(1) as Json[]) {
    if (isObject(item)) {
      const t = item.enumtype;
      if (t !== undefined) {
        if (t !== 'u8' && t !== 'u16' && t !== 'u32') throw new ApiJsonError(file, `enum ${name}: enumtype ${JSON.stringify(t)}`);
        enumtype = t;
      }
      continue;
    }
    if (!Array.isArray(item) || typeof item[0] !== 'string' || typeof item[1] !== 'number' || !Number.isInteger(item[1])) {
      throw new ApiJsonError(file, `enum ${name}: bad value ${JSON.stringify(item)}`);
    }
    values.push([item[0], item[1]]);
  }
  return { name, enumtype, values, flags };
}

function parseAliases(file: string, raw: Json): ApiAlias[] {
  if (raw === undefined) return [];
  if (!isObject(raw)) throw new ApiJsonError(file, 'aliases must be an object');
  return Object.entries(raw).map(([name, def]) => {
    if (!isObject(def) || typeof def.type !== 'string') throw new ApiJsonError(file, `alias ${name}: no type`);
    const length = def.length;
    if (length !== undefined && (typeof length !== 'number' || !Number.isInteger(length) || length <= 0)) {
      throw new ApiJsonError(file, `alias ${name}: bad length`);
    }
    return { name, type: def.type, length: length ?? null };
  });
}

function parseServices(file: string, raw: Json): ApiService[] {
  if (raw === undefined) return [];
  if (!isObject(raw)) throw new ApiJsonError(file, 'services must be an object');
  return Object.entries(raw).map(([request, def]) => {
    if (!isObject(def) || typeof def.reply !== 'string') throw new ApiJsonError(file, `service ${request}: no reply`);
    const events = def.events ?? [];
    if (!Array.isArray(events) || !events.every((e): e is string => typeof e === 'string')) {
      throw new ApiJsonError(file, `service ${request}: bad events`);
    }
    return {
      request,
      reply: def.reply === 'null' ? null : def.reply,
      stream: def.stream === true,
      streamMsg: typeof def.stream_msg === 'string' ? def.stream_msg : null,
      events,
    };
  });
}

function list(file: string, d: Record<string, Json>, key: string): Json[] {
  const v = d[key];
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new ApiJsonError(file, `${key} must be an array`);
  return v;
}

/** `vnet/ip/ip_types.api` -> `ip_types`. */
export function importModuleName(path: string): string {
  const base = path.split('/').pop() ?? path;
  return base.replace(/\.api(\.json)?$/, '');
}

export function parseApiJson(file: string, text: string): ApiFile {
  let raw: Json;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ApiJsonError(file, `not JSON: ${(e as Error).message}`);
  }
  if (!isObject(raw)) throw new ApiJsonError(file, 'not a JSON object');
  const module = raw.module;
  if (typeof module !== 'string' || !/^[a-z_][a-z0-9_]*$/.test(module)) throw new ApiJsonError(file, 'no valid "module"');
  const options = raw.options;
  const version = isObject(options) && typeof options.version === 'string' ? options.version : 'unversioned';
  const vlApiVersion = typeof raw.vl_api_version === 'string' ? raw.vl_api_version : 'unknown';
  const imports: string[] = [];
  for (const i of list(file, raw, 'imports')) {
    if (typeof i !== 'string') throw new ApiJsonError(file, 'imports must be strings');
    const m = importModuleName(i);
    if (!imports.includes(m)) imports.push(m);
  }
  return {
    file,
    module,
    version,
    vlApiVersion,
    imports,
    types: list(file, raw, 'types').map((t) => parseStruct(file, 'types', t)),
    unions: list(file, raw, 'unions').map((t) => parseStruct(file, 'unions', t)),
    messages: list(file, raw, 'messages').map((t) => parseStruct(file, 'messages', t)),
    enums: [
      ...list(file, raw, 'enums').map((e) => parseEnum(file, e, false)),
      ...list(file, raw, 'enumflags').map((e) => parseEnum(file, e, true)),
    ],
    aliases: parseAliases(file, raw.aliases),
    services: parseServices(file, raw.services),
  };
}
