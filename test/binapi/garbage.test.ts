/**
 * Truncated, padded, mutated and random bodies: decode either returns a value or throws a
 * CodecError (TRUNCATED / TRAILING_BYTES), never anything else, and never hangs or allocates
 * for a garbage count.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import fc from 'fast-check';
import { CodecError, isCodecError, type MessageDescriptor } from '../../src/binapi/codec/index.js';
import { messages, messagesByNameCrc, apiModules } from '../../src/binapi/generated/index.js';
import { loadApiFiles } from '../../src/binapigen/generate.js';
import { ApiModel } from '../../src/binapigen/model.js';
import { SHARED } from '../helpers/paths.js';
import { Arbitraries } from './arbitrary.js';
import { loadSession, SESSIONS } from './session.js';

const model = new ApiModel(loadApiFiles(path.join(SHARED, 'vpp', 'api')));
const arb = new Arbitraries(model);

/** decode(body): a value, or the CodecError it threw; anything else fails the test. */
function tryDecode(d: MessageDescriptor<unknown>, body: Uint8Array): unknown {
  try {
    return d.decode(body);
  } catch (e) {
    if (e instanceof CodecError) return e;
    assert.fail(`${d.name}: decode threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
  }
}

function expectCode(d: MessageDescriptor<unknown>, body: Uint8Array, code: 'TRUNCATED' | 'TRAILING_BYTES', what: string): void {
  const r = tryDecode(d, body);
  assert.ok(isCodecError(r, code), `${what}: expected ${code}, got ${r instanceof CodecError ? r.code : 'a value'}`);
}

describe('captured frames, truncated or padded', () => {
  for (const session of SESSIONS) {
    it(`${session}: every strict prefix is TRUNCATED, one byte more is TRAILING_BYTES`, () => {
      const seen = new Set<string>();
      for (const f of loadSession(session)) {
        const d = messagesByNameCrc.get(f.name);
        assert.ok(d);
        const key = `${f.name}:${f.body.toString('hex')}`;
        if (seen.has(key)) continue;
        seen.add(key);
        // Every cut of small frames; the 64 KB message table at a stride (and its last bytes).
        const step = f.body.length > 4096 ? 97 : 1;
        for (let n = 0; n < f.body.length; n += step) expectCode(d, f.body.subarray(0, n), 'TRUNCATED', `${f.name} cut at ${n}`);
        for (let n = Math.max(0, f.body.length - 70); n < f.body.length; n++) {
          expectCode(d, f.body.subarray(0, n), 'TRUNCATED', `${f.name} cut at ${n}`);
        }
        expectCode(d, Buffer.concat([f.body, Buffer.from([0])]), 'TRAILING_BYTES', `${f.name} + 1 byte`);
      }
    });
  }

  it('errors say what, where and why', () => {
    const [f] = loadSession('api-session-basic').filter((x) => x.name.startsWith('show_version_reply'));
    assert.ok(f);
    try {
      messages.show_version_reply.decode(f.body.subarray(0, 100));
      assert.fail('decoded a truncated body');
    } catch (e) {
      assert.ok(isCodecError(e, 'TRUNCATED'));
      assert.equal(e.what, 'show_version_reply');
      assert.equal(e.offset, 74);
      assert.match(e.message, /^show_version_reply: the message ends before a field it declares \(string\[32\] needs 32 bytes, 26 left of 100, at byte 74\)$/);
    }
  });
});

describe('garbage counts and lengths fail at once', () => {
  it('sockclnt_create_reply claiming 65535 table entries in a 100-byte body', () => {
    const body = Buffer.alloc(100);
    body.writeUInt16BE(16, 0);
    body.writeUInt16BE(0xffff, 18);
    const t0 = process.hrtime.bigint();
    assert.throws(() => messages.sockclnt_create_reply.decode(body), (e) => isCodecError(e, 'TRUNCATED'));
    assert.ok(process.hrtime.bigint() - t0 < 50_000_000n, 'took over 50 ms');
  });

  it('a variable string claiming 4 GiB', () => {
    const body = Buffer.alloc(14);
    body.writeUInt32BE(0xffffffff, 10); // get_api_json_reply: id, context, retval, json length
    assert.throws(() => messages.get_api_json_reply.decode(body), (e) => isCodecError(e, 'TRUNCATED'));
  });

  it('ip_route_details claiming 255 paths with none there', () => {
    const body = Buffer.alloc(2 + 4 + 4 + 4 + 18 + 1);
    body.writeUInt8(255, body.length - 1);
    assert.throws(() => messages.ip_route_details.decode(body), (e) => isCodecError(e, 'TRUNCATED'));
  });

  it('an empty body', () => {
    for (const d of messagesByNameCrc.values()) expectCode(d, Buffer.alloc(0), 'TRUNCATED', d.name);
  });
});

describe('random and mutated bodies (fast-check)', () => {
  for (const mod of apiModules) {
    const file = model.file(mod.name);
    if (file.messages.length === 0) continue;
    it(`${mod.name}: random bytes and byte flips decode or throw CodecError`, () => {
      for (const def of file.messages) {
        const d = messagesByNameCrc.get(`${def.name}_${(def.crc as string).slice(2)}`);
        assert.ok(d);
        fc.assert(
          fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
            tryDecode(d, bytes);
          }),
          { numRuns: 15 },
        );
        fc.assert(
          fc.property(arb.message(def, mod.name), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }), (value, flips) => {
            const body = Buffer.from(d.encode(value, 1));
            for (const [at, byte] of flips) if (body.length > 0) body[at % body.length] = byte;
            tryDecode(d, body);
            const cut = body.subarray(0, flips[0] ? flips[0][0] % (body.length + 1) : 0);
            const r = tryDecode(d, cut);
            if (cut.length < body.length && !(r instanceof CodecError)) {
              // A prefix can only decode if a mutated count made the message shorter.
              assert.ok(d.fixedSize === null, `${def.name}: a ${cut.length}-byte prefix of a fixed message decoded`);
            }
          }),
          { numRuns: 15 },
        );
      }
    });
  }
});
