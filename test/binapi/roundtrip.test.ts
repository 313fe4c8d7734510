/**
 * Property: for EVERY generated message, a random valid value encodes, decodes to an equal
 * value, and encodes again to the same bytes; the message id leads the body big-endian and a
 * fixed-size message has exactly its size.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import fc from 'fast-check';
import { readMsgId } from '../../src/binapi/codec/index.js';
import { messages, messagesByNameCrc, apiModules } from '../../src/binapi/generated/index.js';
import { loadApiFiles } from '../../src/binapigen/generate.js';
import { ApiModel } from '../../src/binapigen/model.js';
import { SHARED } from '../helpers/paths.js';
import { Arbitraries } from './arbitrary.js';

const model = new ApiModel(loadApiFiles(path.join(SHARED, 'vpp', 'api')));
const arb = new Arbitraries(model);
const NUM_RUNS = Number(process.env.BINAPI_NUM_RUNS ?? 40);

describe('generated messages: encode -> decode -> encode (fast-check)', () => {
  it('covers every message of every generated module', () => {
    let n = 0;
    for (const m of apiModules) n += model.file(m.name).messages.length;
    assert.equal(Object.keys(messages).length, n);
    assert.equal(messagesByNameCrc.size, n);
    assert.ok(n > 200, `only ${n} messages`);
  });

  for (const mod of apiModules) {
    const file = model.file(mod.name);
    if (file.messages.length === 0) continue;
    it(`${mod.name}: all ${file.messages.length} messages round-trip`, () => {
      for (const def of file.messages) {
        const d = messagesByNameCrc.get(`${def.name}_${(def.crc as string).slice(2)}`);
        assert.ok(d, `${def.name} is not generated`);
        fc.assert(
          fc.property(arb.message(def, mod.name), fc.integer({ min: 0, max: 0xffff }), (value, msgId) => {
            const body = d.encode(value, msgId);
            assert.equal(readMsgId(body), msgId);
            if (d.fixedSize !== null) assert.equal(body.length, d.fixedSize, def.name);
            const back = d.decode(body);
            assert.deepStrictEqual(back, value, def.name);
            assert.ok(d.encode(back, msgId).equals(body), `${def.name}: second encoding differs`);
          }),
          { numRuns: NUM_RUNS },
        );
      }
    });
  }
});
