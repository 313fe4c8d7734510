/**
 * src/control/prefix.ts: examples, then property tests over 10^5 generated strings each against a
 * reference: validity from Node's own parsers (net.isIPv4 / net.isIPv6, which are inet_pton's
 * grammar, minus zone ids which we refuse), the address from net.SocketAddress (inet_pton ->
 * inet_ntop) expanded by a small converter of its canonical output, compared again through
 * net.BlockList; host bits with BigInt arithmetic. No invalid input may be accepted.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import fc from 'fast-check';
import {
  formatIp,
  formatPrefix,
  hostBitsSet,
  isLoopbackHost,
  maskPrefix,
  parseIp,
  parsePrefix,
  PrefixError,
  tryParsePrefix,
  type IpPrefix,
} from '../../src/control/prefix.js';

const RUNS = 100_000;

// --- the reference ---------------------------------------------------------------------------

/** The 16 or 4 bytes of inet_ntop's canonical text (only that form: lowercase, one "::", dotted tail). */
function bytesOfCanonical(text: string, family: 4 | 6): number[] {
  if (family === 4) return text.split('.').map(Number);
  let t = text;
  const lastColon = t.lastIndexOf(':');
  const tail = t.slice(lastColon + 1);
  if (tail.includes('.')) {
    const q = tail.split('.').map(Number);
    t = `${t.slice(0, lastColon + 1)}${((q[0] << 8) | q[1]).toString(16)}:${((q[2] << 8) | q[3]).toString(16)}`;
  }
  const halves = t.split('::');
  const head = halves[0] === '' ? [] : halves[0].split(':').map((g) => parseInt(g, 16));
  const rest = halves.length === 1 || halves[1] === '' ? [] : halves[1].split(':').map((g) => parseInt(g, 16));
  const groups = halves.length === 1 ? head : [...head, ...new Array<number>(8 - head.length - rest.length).fill(0), ...rest];
  assert.equal(groups.length, 8, `reference converter: ${text}`);
  return groups.flatMap((g) => [g >> 8, g & 0xff]);
}

interface Ref {
  family: 4 | 6;
  addr: string;
  bytes: number[];
  len: number;
}

function refIp(a: string): { family: 4 | 6; bytes: number[] } | undefined {
  const family = net.isIPv4(a) ? 4 : net.isIPv6(a) && !a.includes('%') ? 6 : undefined;
  if (family === undefined) return undefined;
  const canonical = new net.SocketAddress({ address: a, family: family === 4 ? 'ipv4' : 'ipv6' }).address;
  return { family, bytes: bytesOfCanonical(canonical, family) };
}

function refPrefix(s: string): Ref | undefined {
  const parts = s.split('/');
  if (parts.length !== 2) return undefined;
  const [addr, lenText] = parts;
  const ip = refIp(addr);
  if (!ip) return undefined;
  if (!/^(?:0|[1-9][0-9]*)$/.test(lenText)) return undefined;
  const len = Number(lenText);
  if (len > (ip.family === 4 ? 32 : 128)) return undefined;
  return { ...ip, addr, len };
}

function refHostBits(r: Ref): boolean {
  const width = r.family === 4 ? 32 : 128;
  const n = r.bytes.reduce((acc, b) => (acc << 8n) | BigInt(b), 0n);
  const hostMask = (1n << BigInt(width - r.len)) - 1n;
  return (n & hostMask) !== 0n;
}

function sameAddressInBlockList(mine: IpPrefix, original: string): boolean {
  const bl = new net.BlockList();
  const type = mine.family === 4 ? 'ipv4' : 'ipv6';
  bl.addAddress(formatIp(mine), type);
  return bl.check(original, type);
}

// --- generators ------------------------------------------------------------------------------

const octet = fc.oneof(
  { weight: 30, arbitrary: fc.integer({ min: 0, max: 255 }).map(String) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }).map((n) => `0${n}`) }, // leading zero
  { weight: 1, arbitrary: fc.integer({ min: 256, max: 999 }).map(String) },
  { weight: 1, arbitrary: fc.constantFrom('', '0x1f', '1e2', '-1', '+1', ' 1', '1 ', '\u0661', '00', '000', '0000', '1a') },
);

const ip4 = fc.oneof(
  { weight: 10, arbitrary: fc.array(octet, { minLength: 4, maxLength: 4 }).map((p) => p.join('.')) },
  { weight: 1, arbitrary: fc.array(octet, { minLength: 1, maxLength: 6 }).map((p) => p.join('.')) },
);

const hexGroup = fc.oneof(
  { weight: 10, arbitrary: fc.integer({ min: 0, max: 0xffff }).map((n) => n.toString(16)) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 0xffff }).map((n) => n.toString(16).toUpperCase().padStart(4, '0')) },
  { weight: 4, arbitrary: fc.constant('0') },
  { weight: 1, arbitrary: fc.constantFrom('', '10000', 'g', '0x1', ' 1', '-1', '00000', 'fffff') },
);

/** Eight groups (maybe bad ones), a run of them maybe written as "::", maybe a dotted IPv4 tail. */
const ip6Structured = fc
  .tuple(
    fc.array(hexGroup, { minLength: 8, maxLength: 8 }),
    fc.integer({ min: 0, max: 8 }),
    fc.integer({ min: 0, max: 8 }),
    fc.option(ip4, { freq: 4 }),
  )
  .map(([groups, a, b, v4]) => {
    const g = v4 === null ? groups : [...groups.slice(0, 6), v4];
    const from = Math.min(a, b, g.length);
    const to = Math.min(Math.max(a, b), g.length);
    if (to - from >= 1 && a !== b) return `${g.slice(0, from).join(':')}::${g.slice(to).join(':')}`;
    return g.join(':');
  });

/** Free-form: any number of groups, "::" anywhere, a junk ending. */
const ip6Free = fc
  .tuple(
    fc.array(hexGroup, { minLength: 0, maxLength: 9 }),
    fc.integer({ min: -1, max: 9 }),
    fc.option(ip4, { freq: 5 }),
    fc.constantFrom('', '', '', '', '%eth0', '%1', ':', '::', '[', ']'),
  )
  .map(([groups, at, v4, junk]) => {
    let text = at >= 0 && at <= groups.length ? `${groups.slice(0, at).join(':')}::${groups.slice(at).join(':')}` : groups.join(':');
    if (v4 !== null) text = text.endsWith(':') || text === '' ? `${text}${v4}` : `${text}:${v4}`;
    return junk === '[' ? `[${text}]` : `${text}${junk}`;
  });

/** One random edit (insert, delete, replace a character) of a string. */
function mutated(base: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc
    .tuple(base, fc.nat(), fc.constantFrom('insert', 'delete', 'replace'), fc.constantFrom(...'0123456789abcdefABCDEFg:./% \n-+x'.split('')))
    .map(([t, at, op, c]) => {
      const i = t.length === 0 ? 0 : at % (t.length + (op === 'insert' ? 1 : 0));
      if (op === 'insert') return t.slice(0, i) + c + t.slice(i);
      if (op === 'delete') return t.slice(0, i) + t.slice(i + 1);
      return t.slice(0, i) + c + t.slice(i + 1);
    });
}

const ip6 = fc.oneof({ weight: 4, arbitrary: ip6Structured }, { weight: 1, arbitrary: ip6Free }, { weight: 1, arbitrary: mutated(ip6Structured) });

const lenText = fc.oneof(
  { weight: 10, arbitrary: fc.integer({ min: 0, max: 32 }).map(String) },
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 128 }).map(String) },
  { weight: 1, arbitrary: fc.integer({ min: 129, max: 1000 }).map(String) },
  { weight: 1, arbitrary: fc.constantFrom('', '024', '00', '-1', '+8', ' 8', '8 ', '8x', '0x10', '1e1', '33', '129', '3\u0662') },
);

const junkTail = fc.constantFrom('', '', '', '', '', '', '', '', ' ', '\n', 'x', '/', '/1', '.', '\u0000', '%eth0');

const prefixText = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(ip4, lenText, junkTail).map(([a, l, j]) => `${a}/${l}${j}`) },
  { weight: 6, arbitrary: fc.tuple(ip6, lenText, junkTail).map(([a, l, j]) => `${a}/${l}${j}`) },
  { weight: 2, arbitrary: mutated(fc.tuple(fc.oneof(ip4, ip6Structured), lenText).map(([a, l]) => `${a}/${l}`)) },
  { weight: 1, arbitrary: fc.oneof(ip4, ip6) },
  { weight: 2, arbitrary: fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF:./% x-[]'.split('')), maxLength: 48 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 24 }) },
);

// --- tests -----------------------------------------------------------------------------------

describe('control prefix parser: examples', () => {
  it('parses and formats canonical forms', () => {
    assert.equal(formatPrefix(parsePrefix('10.1.0.0/24')), '10.1.0.0/24');
    assert.equal(formatPrefix(parsePrefix('0.0.0.0/0')), '0.0.0.0/0');
    assert.equal(formatPrefix(parsePrefix('2001:DB8:0:0::/64')), '2001:db8::/64');
    assert.equal(formatPrefix(parsePrefix('2001:0db8:0000:0000:0000:0000:0000:0000/32')), '2001:db8::/32');
    assert.equal(formatPrefix(parsePrefix('::/0')), '::/0');
    assert.equal(formatPrefix(parsePrefix('::ffff:10.0.0.0/104')), '::ffff:10.0.0.0/104');
    assert.equal(formatPrefix(parsePrefix('1:0:0:1:0:0:0:0/128')), '1:0:0:1::/128');
    assert.equal(formatIp(parseIp('2001:db8:0:1:1:1:1:1')), '2001:db8:0:1:1:1:1:1');
    assert.equal(formatIp(parseIp('1::2:3:4:5:6:7')), '1:0:2:3:4:5:6:7');
    assert.deepEqual([...parseIp('192.0.2.1').bytes], [192, 0, 2, 1]);
  });

  it('refuses, saying why', () => {
    const cases: [string, RegExp][] = [
      ['010.0.0.0/8', /leading zero/],
      ['10.0.0.00/8', /leading zero/],
      ['10.0.0/8', /4 dot-separated parts/],
      ['10.0.0.0.0/8', /4 dot-separated parts/],
      ['256.0.0.0/8', /0 to 255/],
      ['0x0a.0.0.0/8', /0 to 255/],
      ['10.0.0.0/33', /0 to 32/],
      ['10.0.0.0/024', /without leading zeros/],
      ['10.0.0.0/', /0 to 32/],
      ['10.0.0.0', /no \/length/],
      ['10.0.0.0/24 ', /0 to 32/],
      [' 10.0.0.0/24', /whitespace/],
      ['10.0.0.0/24/1', /0 to 32/],
      ['fe80::%eth0/64', /zone ids/],
      ['[2001:db8::]/32', /brackets/],
      ['2001:db8::/129', /0 to 128/],
      ['2001:db8:::/32', /empty group|IPv6/],
      ['1::2::3/64', /only once/],
      ['12345::/16', /1 to 4 hex digits/],
      ['1:2:3:4:5:6:7:8:9/64', /8 groups/],
      ['1:2:3:4:5:6:7::8/64', /too many groups/],
      ['1.2.3.4::/64', /embedded IPv4/],
      ['::01.2.3.4/128', /leading zero/],
      ['10.1.2.3/24', /host bits set.*10\.1\.2\.0\/24/],
      ['2001:db8::1/64', /host bits set.*2001:db8::\/64/],
      ['\u0661.0.0.0/8', /non-ASCII/],
    ];
    for (const [text, why] of cases) {
      assert.throws(() => parsePrefix(text), (e: unknown) => e instanceof PrefixError && why.test(e.message), `${JSON.stringify(text)} should fail with ${String(why)}`);
    }
  });

  it('host bits: reject (default), normalise, keep', () => {
    assert.throws(() => parsePrefix('10.1.2.3/24'), PrefixError);
    assert.equal(formatPrefix(parsePrefix('10.1.2.3/24', { hostBits: 'normalise' })), '10.1.2.0/24');
    assert.equal(formatPrefix(parsePrefix('10.1.2.3/24', { hostBits: 'keep' })), '10.1.2.3/24');
    assert.equal(formatPrefix(parsePrefix('2001:db8::1/64', { hostBits: 'normalise' })), '2001:db8::/64');
    assert.equal(formatPrefix(parsePrefix('255.255.255.255/0', { hostBits: 'normalise' })), '0.0.0.0/0');
    assert.equal(hostBitsSet(parsePrefix('10.0.0.1/32')), false);
    assert.equal(formatPrefix(maskPrefix(parsePrefix('10.255.255.255/9', { hostBits: 'keep' }))), '10.128.0.0/9');
  });

  it('loopback hosts', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', 'localhost', 'LOCALHOST']) assert.ok(isLoopbackHost(h), h);
    for (const h of ['', '0.0.0.0', '::', '10.0.0.1', '::2', '128.0.0.1', 'example.com', '::ffff:10.0.0.1', '0127.0.0.1']) assert.ok(!isLoopbackHost(h), h);
  });
});

describe('control prefix parser: properties against the reference', () => {
  it(`${RUNS} generated strings: accepted exactly when the reference accepts, with the same address and length`, () => {
    let accepted = 0;
    let rejected = 0;
    fc.assert(
      fc.property(prefixText, (s) => {
        const mine = tryParsePrefix(s, { hostBits: 'keep' });
        const ref = refPrefix(s);
        assert.equal(mine !== undefined, ref !== undefined, `${JSON.stringify(s)}: ours ${mine ? 'accepts' : 'refuses'}, the reference ${ref ? 'accepts' : 'refuses'}`);
        if (!mine || !ref) {
          rejected++;
          return;
        }
        accepted++;
        assert.equal(mine.family, ref.family);
        assert.equal(mine.len, ref.len);
        assert.deepEqual([...mine.bytes], ref.bytes, JSON.stringify(s));
        assert.ok(sameAddressInBlockList(mine, ref.addr), `BlockList: ${formatIp(mine)} vs ${ref.addr}`);
        // Host bits: reject exactly when the reference sees them; normalise clears exactly them.
        const hb = refHostBits(ref);
        assert.equal(hostBitsSet(mine), hb, JSON.stringify(s));
        assert.equal(tryParsePrefix(s) !== undefined, !hb, JSON.stringify(s));
        const norm = parsePrefix(s, { hostBits: 'normalise' });
        assert.equal(refHostBits({ ...ref, bytes: [...norm.bytes] }), false);
        // Canonical text parses back to the same prefix.
        const back = parsePrefix(formatPrefix(mine), { hostBits: 'keep' });
        assert.deepEqual([...back.bytes], [...mine.bytes]);
        assert.equal(back.len, mine.len);
      }),
      { numRuns: RUNS, seed: 20260 },
    );
    // The generator must exercise both sides substantially.
    assert.ok(accepted > RUNS * 0.15, `accepted ${accepted}`);
    assert.ok(rejected > RUNS * 0.15, `rejected ${rejected}`);
  });

  it(`${RUNS} generated addresses: parseIp agrees with net.isIPv4/isIPv6 (zone ids refused)`, () => {
    let accepted = 0;
    fc.assert(
      fc.property(fc.oneof(ip4, ip6, fc.string({ unit: fc.constantFrom(...'0123456789abcdef:.%'.split('')), maxLength: 45 })), (s) => {
        let mine: ReturnType<typeof parseIp> | undefined;
        try {
          mine = parseIp(s);
        } catch (e) {
          assert.ok(e instanceof PrefixError);
        }
        const ref = refIp(s);
        assert.equal(mine !== undefined, ref !== undefined, `${JSON.stringify(s)}: ours ${mine ? 'accepts' : 'refuses'}`);
        if (mine && ref) {
          accepted++;
          assert.deepEqual([...mine.bytes], ref.bytes, JSON.stringify(s));
          // RFC 5952 text is what Node's WHATWG URL parser writes for an IPv6 host, too.
          if (mine.family === 6 && !formatIp(mine).includes('.')) assert.equal(`[${formatIp(mine)}]`, new URL(`http://[${s}]/`).hostname);
        }
      }),
      { numRuns: RUNS, seed: 7 },
    );
    assert.ok(accepted > RUNS * 0.2, `accepted ${accepted}`);
  });
});
