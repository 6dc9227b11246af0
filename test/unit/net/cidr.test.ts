import { expect } from 'chai';
import fc from 'fast-check';
import {
  cidrContains,
  cidrOf,
  cidrToRange,
  formatCIDR,
  formatRange,
  parseCIDR,
  parseRange,
  rangeAsCIDR,
  rangeSize,
  rangeToCIDRs,
  smallestCoveringPrefix,
  type IPRange,
} from '../../../src/net/cidr.js';
import { parseIP } from '../../../src/net/ip.js';

describe('net/cidr', () => {
  const cidrs: Array<[string, string, bigint]> = [
    ['192.0.2.0/24', '192.0.2.0/24', 256n],
    ['192.0.2.7/32', '192.0.2.7/32', 1n],
    ['0.0.0.0/0', '0.0.0.0/0', 1n << 32n],
    ['2001:db8::/64', '2001:db8::/64', 1n << 64n],
    ['2001:DB8:0::/48', '2001:db8::/48', 1n << 80n],
  ];
  for (const [text, canonical, size] of cidrs) {
    it(`parses CIDR ${text}`, () => {
      const c = parseCIDR(text);
      expect(formatCIDR(c)).to.equal(canonical);
      expect(rangeSize(cidrToRange(c))).to.equal(size);
    });
  }
  const badCidrs = [
    '192.0.2.0',
    '192.0.2.0/33',
    '192.0.2.1/24',
    '2001:db8::/129',
    '192.0.2.0/-1',
    '192.0.2.0/ 24',
    'x/24',
  ];
  for (const text of badCidrs) {
    it(`refuses CIDR ${JSON.stringify(text)}`, () =>
      expect(() => parseCIDR(text))
        .to.throw()
        .with.property('code', 'ParseError'));
  }
  const ranges: Array<[string, string, bigint]> = [
    ['198.51.100.10-198.51.100.50', '198.51.100.10-198.51.100.50', 41n],
    ['198.51.100.10 - 198.51.100.10', '198.51.100.10', 1n],
    ['192.0.2.0-192.0.2.255', '192.0.2.0/24', 256n],
    ['2001:db8::1-2001:db8::ff', '2001:db8::1-2001:db8::ff', 255n],
    ['203.0.113.9', '203.0.113.9', 1n],
  ];
  for (const [text, canonical, size] of ranges) {
    it(`parses range ${text}`, () => {
      const r = parseRange(text);
      expect(formatRange(r)).to.equal(canonical);
      expect(rangeSize(r)).to.equal(size);
    });
  }
  for (const text of ['', '192.0.2.9-192.0.2.1', '192.0.2.1-2001:db8::1', '192.0.2.1-', '-192.0.2.1']) {
    it(`refuses range ${JSON.stringify(text)}`, () =>
      expect(() => parseRange(text))
        .to.throw()
        .with.property('code', 'ParseError'));
  }
  it('contains and cidrOf agree', () => {
    const c = parseCIDR('2001:db8:1::/48');
    expect(cidrContains(c, parseIP('2001:db8:1:ffff::1'))).to.equal(true);
    expect(cidrContains(c, parseIP('2001:db8:2::1'))).to.equal(false);
    expect(cidrContains(c, parseIP('192.0.2.1'))).to.equal(false);
    expect(formatCIDR(cidrOf(parseIP('192.0.2.77'), 26))).to.equal('192.0.2.64/26');
  });

  const v4range = fc
    .tuple(fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }), fc.bigInt({ min: 0n, max: 1n << 20n }))
    .map(([first, len]): IPRange => ({
      family: 'IPv4',
      first,
      last: first + len > (1n << 32n) - 1n ? (1n << 32n) - 1n : first + len,
    }));
  const v6range = fc
    .tuple(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), fc.bigInt({ min: 0n, max: 1n << 70n }))
    .map(([first, len]): IPRange => ({
      family: 'IPv6',
      first,
      last: first + len > (1n << 128n) - 1n ? (1n << 128n) - 1n : first + len,
    }));

  it('rangeToCIDRs covers exactly the range with aligned, ordered, disjoint blocks', () => {
    fc.assert(
      fc.property(fc.oneof(v4range, v6range), (r) => {
        const blocks = rangeToCIDRs(r).map(cidrToRange);
        expect(blocks[0]!.first).to.equal(r.first);
        expect(blocks[blocks.length - 1]!.last).to.equal(r.last);
        for (let i = 1; i < blocks.length; i++) expect(blocks[i]!.first).to.equal(blocks[i - 1]!.last + 1n);
        expect(blocks.reduce((n, b) => n + rangeSize(b), 0n)).to.equal(rangeSize(r));
        expect(blocks.length).to.be.at.most(2 * (r.family === 'IPv4' ? 32 : 128));
      }),
    );
  });

  it('formatRange round-trips through parseRange', () => {
    fc.assert(
      fc.property(fc.oneof(v4range, v6range), (r) => {
        expect(parseRange(formatRange(r))).to.deep.equal(r);
      }),
    );
  });

  it('smallestCoveringPrefix is the longest prefix that holds the whole range', () => {
    fc.assert(
      fc.property(fc.oneof(v4range, v6range), (r) => {
        const len = smallestCoveringPrefix(r);
        const c = cidrOf({ family: r.family, value: r.first }, len);
        expect(cidrContains(c, { family: r.family, value: r.last })).to.equal(true);
        const bits = r.family === 'IPv4' ? 32 : 128;
        if (len < bits) {
          const tighter = cidrOf({ family: r.family, value: r.first }, len + 1);
          expect(cidrContains(tighter, { family: r.family, value: r.last })).to.equal(false);
        }
      }),
    );
  });

  it('rangeAsCIDR finds only exact blocks', () => {
    expect(rangeAsCIDR(parseRange('192.0.2.0-192.0.2.127'))).to.not.equal(undefined);
    expect(rangeAsCIDR(parseRange('192.0.2.1-192.0.2.128'))).to.equal(undefined);
  });
});
