/**
 * The API model across modules: which module owns each type, what a field's type resolves to,
 * and wire sizes.
 *
 * Ownership: every .api.json repeats the types of the modules it imports (ip.api.json carries
 * ip_types' `address`, fib_types' `fib_path`, ...). A type belongs to the module that defines it
 * without importing it: owner(T, M) is owner(T, I) for the first import I of M whose JSON also
 * has T, else M itself. Each generated file then holds only the types its module owns and
 * imports the rest from their owners' files.
 */
import type { ApiAlias, ApiEnum, ApiField, ApiFile, ApiStruct } from './apijson.js';

export type Prim = 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32' | 'u64' | 'i64' | 'f64' | 'bool';

export const PRIM_SIZE: Readonly<Record<Prim, number>> = {
  u8: 1,
  i8: 1,
  u16: 2,
  i16: 2,
  u32: 4,
  i32: 4,
  u64: 8,
  i64: 8,
  f64: 8,
  bool: 1,
};

export function isPrim(t: string): t is Prim {
  return Object.prototype.hasOwnProperty.call(PRIM_SIZE, t);
}

export type TypeDef =
  | { readonly kind: 'struct'; readonly module: string; readonly name: string; readonly def: ApiStruct }
  | { readonly kind: 'union'; readonly module: string; readonly name: string; readonly def: ApiStruct }
  | { readonly kind: 'enum'; readonly module: string; readonly name: string; readonly def: ApiEnum }
  | { readonly kind: 'alias'; readonly module: string; readonly name: string; readonly def: ApiAlias };

export type TypeRef = { readonly kind: 'prim'; readonly prim: Prim } | { readonly kind: 'string' } | TypeDef;

export class ModelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelError';
  }
}

type LocalDef =
  | { kind: 'struct'; def: ApiStruct }
  | { kind: 'union'; def: ApiStruct }
  | { kind: 'enum'; def: ApiEnum }
  | { kind: 'alias'; def: ApiAlias };

/** The comparable shape of a definition (names, types, values; not comments). */
function shape(d: LocalDef): string {
  return JSON.stringify([d.kind, d.def]);
}

/** `vl_api_fib_path_t` -> `fib_path`; base types are returned as they are. */
export function typeName(raw: string): string {
  const m = /^vl_api_(.+)_t$/.exec(raw);
  return m?.[1] ?? raw;
}

export class ApiModel {
  private readonly byModule = new Map<string, ApiFile>();
  private readonly locals = new Map<string, Map<string, LocalDef>>();
  private readonly ownerMemo = new Map<string, string>();
  private readonly fixedMemo = new Map<string, number | null>();
  private readonly minMemo = new Map<string, number>();

  constructor(files: readonly ApiFile[]) {
    for (const f of files) {
      const prev = this.byModule.get(f.module);
      if (prev) throw new ModelError(`module ${f.module} is defined by both ${prev.file} and ${f.file}`);
      this.byModule.set(f.module, f);
      const defs = new Map<string, LocalDef>();
      const add = (name: string, d: LocalDef): void => {
        const prevDef = defs.get(name);
        if (prevDef && shape(prevDef) !== shape(d)) {
          throw new ModelError(`${f.file}: ${name} is defined twice, differently`);
        }
        defs.set(name, d);
      };
      for (const t of f.types) add(t.name, { kind: 'struct', def: t });
      for (const t of f.unions) add(t.name, { kind: 'union', def: t });
      for (const e of f.enums) add(e.name, { kind: 'enum', def: e });
      for (const a of f.aliases) add(a.name, { kind: 'alias', def: a });
      this.locals.set(f.module, defs);
    }
  }

  modules(): string[] {
    return [...this.byModule.keys()].sort();
  }

  file(module: string): ApiFile {
    const f = this.byModule.get(module);
    if (!f) throw new ModelError(`no .api.json for module ${module} in the input`);
    return f;
  }

  /** The modules asked for plus everything they import, transitively; sorted. */
  closure(wanted: readonly string[]): string[] {
    const out = new Set<string>();
    const visit = (m: string, from: string | null): void => {
      if (out.has(m)) return;
      if (!this.byModule.has(m)) {
        throw new ModelError(from ? `module ${from} imports ${m}, which is not in the input` : `no .api.json for module ${m}`);
      }
      out.add(m);
      for (const i of this.file(m).imports) visit(i, m);
    };
    for (const m of wanted) visit(m, null);
    return [...out].sort();
  }

  private defines(module: string, name: string): boolean {
    return this.locals.get(module)?.has(name) ?? false;
  }

  /** The module that owns type `name` as seen from `module` (which must define it). */
  owner(name: string, module: string, stack: readonly string[] = []): string {
    const key = `${module}:${name}`;
    const memo = this.ownerMemo.get(key);
    if (memo !== undefined) return memo;
    if (stack.includes(module)) throw new ModelError(`import cycle: ${[...stack, module].join(' -> ')}`);
    let result = module;
    for (const imp of [...this.file(module).imports].sort()) {
      if (this.byModule.has(imp) && this.defines(imp, name)) {
        result = this.owner(name, imp, [...stack, module]);
        break;
      }
    }
    if (result !== module) {
      const here = this.locals.get(module)?.get(name);
      const there = this.locals.get(result)?.get(name);
      if (here && there && shape(here) !== shape(there)) {
        throw new ModelError(`${name} in ${this.file(module).file} differs from its owner's in ${this.file(result).file}`);
      }
    }
    this.ownerMemo.set(key, result);
    return result;
  }

  /** A named type (without vl_api_/_t) as seen from `module`. */
  lookup(name: string, module: string): TypeDef {
    let from: string | null = this.defines(module, name) ? module : null;
    if (from === null) {
      // Not repeated in this module's JSON: look through its imports, nearest first.
      const queue = [...this.file(module).imports];
      const seen = new Set<string>();
      while (queue.length > 0 && from === null) {
        const m = queue.shift() as string;
        if (seen.has(m) || !this.byModule.has(m)) continue;
        seen.add(m);
        if (this.defines(m, name)) from = m;
        else queue.push(...this.file(m).imports);
      }
    }
    if (from === null) throw new ModelError(`${this.file(module).file}: unknown type ${name}`);
    const owner = this.owner(name, from);
    const d = this.locals.get(owner)?.get(name);
    if (!d) throw new ModelError(`${name}: owner ${owner} has no definition`);
    return { ...d, module: owner, name };
  }

  resolve(raw: string, module: string): TypeRef {
    if (isPrim(raw)) return { kind: 'prim', prim: raw };
    if (raw === 'string') return { kind: 'string' };
    const name = typeName(raw);
    if (name === raw) throw new ModelError(`${this.file(module).file}: unknown base type ${raw}`);
    return this.lookup(name, module);
  }

  /** The types `module` owns, by kind, each sorted by name. */
  owned(module: string): TypeDef[] {
    const out: TypeDef[] = [];
    for (const [name, d] of this.locals.get(module) ?? new Map<string, LocalDef>()) {
      if (this.owner(name, module) === module) out.push({ ...d, module, name });
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Wire size of a type when it is fixed, else null. */
  fixedSize(ref: TypeRef): number | null {
    if (ref.kind === 'prim') return PRIM_SIZE[ref.prim];
    if (ref.kind === 'string') return null;
    const key = `${ref.module}:${ref.name}`;
    if (this.fixedMemo.has(key)) return this.fixedMemo.get(key) as number | null;
    let size: number | null;
    switch (ref.kind) {
      case 'enum':
        size = PRIM_SIZE[ref.def.enumtype];
        break;
      case 'alias': {
        const inner = this.fixedSize(this.resolve(ref.def.type, ref.module));
        size = inner === null ? null : inner * (ref.def.length ?? 1);
        break;
      }
      case 'union':
        size = this.unionSize(ref.def, ref.module);
        break;
      case 'struct': {
        let sum: number | null = 0;
        for (const f of ref.def.fields) {
          const s = this.fieldFixedSize(f, ref.module);
          sum = sum === null || s === null ? null : sum + s;
        }
        size = sum;
        break;
      }
    }
    this.fixedMemo.set(key, size);
    return size;
  }

  /** A union is as big as its largest member; members must be fixed-size. */
  unionSize(def: ApiStruct, module: string): number {
    let max = 0;
    for (const f of def.fields) {
      const s = this.fieldFixedSize(f, module);
      if (s === null) throw new ModelError(`union ${def.name}: member ${f.name} has no fixed size`);
      max = Math.max(max, s);
    }
    return max;
  }

  /** The smallest wire size of a type (a variable string is at least its 4-byte length). */
  minSize(ref: TypeRef): number {
    if (ref.kind === 'prim') return PRIM_SIZE[ref.prim];
    if (ref.kind === 'string') return 4;
    const fixed = this.fixedSize(ref);
    if (fixed !== null) return fixed;
    const key = `${ref.module}:${ref.name}`;
    const memo = this.minMemo.get(key);
    if (memo !== undefined) return memo;
    let size = 0;
    if (ref.kind === 'alias') size = this.minSize(this.resolve(ref.def.type, ref.module)) * (ref.def.length ?? 1);
    else if (ref.kind === 'struct') for (const f of ref.def.fields) size += this.fieldMinSize(f, ref.module);
    this.minMemo.set(key, size);
    return size;
  }

  fieldFixedSize(f: ApiField, module: string): number | null {
    const ref = this.resolve(f.type, module);
    if (ref.kind === 'string') return f.length !== null && f.length > 0 ? f.length : null;
    if (f.length === null) return this.fixedSize(ref);
    if (f.length === 0) return null;
    const el = this.fixedSize(ref);
    return el === null ? null : el * f.length;
  }

  fieldMinSize(f: ApiField, module: string): number {
    const ref = this.resolve(f.type, module);
    if (ref.kind === 'string') return f.length !== null && f.length > 0 ? f.length : 4;
    if (f.length === null) return this.minSize(ref);
    if (f.length === 0) return 0;
    return this.minSize(ref) * f.length;
  }
}
