/** The retval table. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RETVALS, retvalCode, retvalEntry, retvalMessage, retvalName, VppApiError } from '../../src/binapi/errors.js';

describe('retval table', () => {
  it('is VPP\'s list: unique negative codes and names, -1..-171 without -158 and the 21..29/32..49 gaps', () => {
    const codes = RETVALS.map((e) => e.code);
    assert.equal(new Set(codes).size, codes.length);
    assert.equal(new Set(RETVALS.map((e) => e.name)).size, codes.length);
    for (const c of codes) assert.ok(c < 0);
    assert.equal(codes.length, 143);
    assert.ok(!codes.includes(-158));
    for (const e of RETVALS) assert.match(e.name, /^[A-Z0-9_]+$/);
  });

  it('names the codes the captures show', () => {
    assert.equal(retvalName(-2), 'INVALID_SW_IF_INDEX');
    assert.equal(retvalName(-3), 'NO_SUCH_FIB');
    assert.equal(retvalName(0), 'OK');
    assert.equal(retvalName(-9999), 'UNKNOWN');
    assert.equal(retvalEntry(-6)?.message, 'No such entry');
    assert.equal(retvalMessage(-2), 'Invalid sw_if_index (VNET_API_ERROR_INVALID_SW_IF_INDEX, -2)');
    assert.equal(retvalMessage(-9999), 'unknown VPP error -9999');
    assert.equal(retvalCode('VNET_API_ERROR_NO_SUCH_FIB'), -3);
    assert.equal(retvalCode('NO_SUCH_ENTRY'), -6);
    assert.equal(retvalCode('NOPE'), undefined);
  });

  it('VppApiError', () => {
    const e = new VppApiError('sw_interface_set_flags', -2);
    assert.equal(e.message, 'sw_interface_set_flags: Invalid sw_if_index (VNET_API_ERROR_INVALID_SW_IF_INDEX, -2)');
    assert.equal(e.vppName, 'INVALID_SW_IF_INDEX');
    assert.equal(e.retriable, false);
    assert.equal(new VppApiError('x', -167).retriable, true);
  });
});
