/**
 * fast-check arbitraries for any message of an .api.json model: random valid values in the
 * shape the generated code uses (bigint for 64-bit, Buffer for bytes and unions, count fields
 * equal to their array's length). Built from the generator's model, not from the emitted code,
 * so the property tests compare the generated codec against the definitions.
 */
import fc from 'fast-check';
import type { ApiField, ApiStruct } from '../../src/binapigen/apijson.js';
import type { ApiModel, Prim, TypeRef } from '../../src/binapigen/model.js';

const MAX_VLA = 4;

function prim(p: Prim): fc.Arbitrary<unknown> {
  switch (p) {
    case 'u8':
      return fc.integer({ min: 0, max: 0xff });
    case 'i8':
      return fc.integer({ min: -0x80, max: 0x7f });
    case 'u16':
      return fc.integer({ min: 0, max: 0xffff });
    case 'i16':
      return fc.integer({ min: -0x8000, max: 0x7fff });
    case 'u32':
      return fc.integer({ min: 0, max: 0xffffffff });
    case 'i32':
      return fc.integer({ min: -0x80000000, max: 0x7fffffff });
    case 'u64':
      return fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
    case 'i64':
      return fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n });
    case 'f64':
      return fc.double();
    case 'bool':
      return fc.boolean();
  }
}

function bytes(n: number): fc.Arbitrary<Buffer> {
  return fc.uint8Array({ minLength: n, maxLength: n }).map((a) => Buffer.from(a));
}

/** ASCII or any Unicode text (well-formed, so it survives UTF-8). */
function text(maxLength: number): fc.Arbitrary<string> {
  return fc.oneof(fc.string({ maxLength }), fc.string({ unit: 'grapheme', maxLength }));
}

/** Text of at most `maxBytes` UTF-8 bytes and no NUL (a fixed string ends at its first NUL). */
function fixedText(maxBytes: number): fc.Arbitrary<string> {
  return text(Math.min(maxBytes, 24)).map((s) => {
    const cps = Array.from(s.replace(/\0/g, ''));
    while (Buffer.byteLength(cps.join(''), 'utf8') > maxBytes) cps.pop();
    return cps.join('');
  });
}

export class Arbitraries {
  constructor(private readonly model: ApiModel) {}

  ref(ref: TypeRef): fc.Arbitrary<unknown> {
    switch (ref.kind) {
      case 'prim':
        return prim(ref.prim);
      case 'string':
        return text(24);
      case 'enum': {
        const max = ref.def.enumtype === 'u8' ? 0xff : ref.def.enumtype === 'u16' ? 0xffff : 0xffffffff;
        const any = fc.integer({ min: 0, max });
        const values = ref.def.values.map(([, v]) => v).filter((v) => v >= 0 && v <= max);
        return values.length > 0 ? fc.oneof(fc.constantFrom(...values), any) : any;
      }
      case 'union':
        return bytes(this.model.unionSize(ref.def, ref.module));
      case 'alias': {
        const inner = this.model.resolve(ref.def.type, ref.module);
        const n = ref.def.length;
        if (n === null) return this.ref(inner);
        if (inner.kind === 'prim' && inner.prim === 'u8') return bytes(n);
        return fc.array(this.ref(inner), { minLength: n, maxLength: n });
      }
      case 'struct':
        return this.struct(ref.def, ref.module, 0);
    }
  }

  field(f: ApiField, module: string): fc.Arbitrary<unknown> {
    const ref = this.model.resolve(f.type, module);
    if (ref.kind === 'string') {
      if (f.length !== null && f.length > 0) return fixedText(f.length - 1);
      return text(24);
    }
    if (f.length === null) return this.ref(ref);
    const isBytes = ref.kind === 'prim' && ref.prim === 'u8';
    if (f.length > 0) {
      return isBytes ? bytes(f.length) : fc.array(this.ref(ref), { minLength: f.length, maxLength: f.length });
    }
    if (isBytes) return fc.uint8Array({ maxLength: 24 }).map((a) => Buffer.from(a));
    return fc.array(this.ref(ref), { maxLength: MAX_VLA });
  }

  /** A struct value; the first `skip` fields (a message's id) are left out. */
  struct(def: ApiStruct, module: string, skip: number): fc.Arbitrary<Record<string, unknown>> {
    const fields = def.fields.slice(skip);
    const counts = new Map<string, string>();
    for (const f of fields) if (f.lengthField !== null) counts.set(f.lengthField, f.name);
    const model: Record<string, fc.Arbitrary<unknown>> = {};
    for (const f of fields) if (!counts.has(f.name)) model[f.name] = this.field(f, module);
    return fc.record(model).map((v) => {
      const out: Record<string, unknown> = {};
      for (const f of fields) {
        const counted = counts.get(f.name);
        if (counted !== undefined) {
          const arr = v[counted];
          out[f.name] = arr instanceof Uint8Array || Array.isArray(arr) ? arr.length : 0;
        } else {
          out[f.name] = v[f.name];
        }
      }
      return out;
    });
  }

  message(def: ApiStruct, module: string): fc.Arbitrary<Record<string, unknown>> {
    return this.struct(def, module, 1);
  }
}
