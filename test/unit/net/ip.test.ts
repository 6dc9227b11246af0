import { expect } from 'chai';
import fc from 'fast-check';
import { Address4, Address6 } from 'ip-address';
import { compareIP, formatIP, ipFromBytes, ipToBytes, parseIP, tryParseIP } from '../../../src/net/ip.js';

describe('net/ip', () => {
  const good: Array<[string, string, string]> = [
    ['192.0.2.1', 'IPv4', '192.0.2.1'],
    [' 198.51.100.255 ', 'IPv4', '198.51.100.255'],
    ['0.0.0.0', 'IPv4', '0.0.0.0'],
    ['2001:db8::1', 'IPv6', '2001:db8::1'],
    ['2001:DB8:0:0:0:0:0:1', 'IPv6', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', 'IPv6', '2001:db8::1:0:0:1'],
    ['::', 'IPv6', '::'],
  ];
  for (const [text, family, canonical] of good) {
    it(`parses ${JSON.stringify(text)}`, () => {
      const ip = parseIP(text);
      expect(ip.family).to.equal(family);
      expect(formatIP(ip)).to.equal(canonical);
    });
  }
  const bad = [
    '',
    '192.0.2',
    '192.0.2.256',
    '01.2.3.4',
    '192.0.2.1/32',
    '2001:db8::/64',
    '2001:db8::1%eth0',
    'host',
    '1.2.3.4.5',
    ':::',
  ];
  for (const text of bad) {
    it(`refuses ${JSON.stringify(text)}`, () => {
      expect(() => parseIP(text))
        .to.throw()
        .with.property('code', 'ParseError');
      expect(tryParseIP(text)).to.equal(undefined);
    });
  }
  it('orders IPv4 before IPv6 and by value', () => {
    const ips = ['2001:db8::1', '192.0.2.10', '192.0.2.9', '2001:db8::'].map(parseIP).sort(compareIP).map(formatIP);
    expect(ips).to.deep.equal(['192.0.2.9', '192.0.2.10', '2001:db8::', '2001:db8::1']);
  });
  it('round-trips bytes', () => {
    expect([...ipToBytes(parseIP('192.0.2.1'))]).to.deep.equal([192, 0, 2, 1]);
    expect(formatIP(ipFromBytes(ipToBytes(parseIP('2001:db8::abcd'))))).to.equal('2001:db8::abcd');
  });
  // The dotted-quad fast path and the IPv6 memo must agree with ip-address exactly.
  it('IPv4 text and values agree with ip-address (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (v) => {
        const text = formatIP({ family: 'IPv4', value: BigInt(v) });
        expect(text).to.equal(Address4.fromBigInt(BigInt(v)).correctForm());
        expect(parseIP(text).value).to.equal(BigInt(v));
      }),
      { numRuns: 2000 },
    );
  });
  it('IPv4 validity agrees with ip-address on quad-shaped text (property)', () => {
    const octet = fc.oneof(
      fc.integer({ min: 0, max: 999 }).map(String),
      fc.constantFrom('00', '01', '007', '099', '255', '256', '0'),
    );
    fc.assert(
      fc.property(fc.tuple(octet, octet, octet, octet), (parts) => {
        const text = parts.join('.');
        const ours = tryParseIP(text);
        expect(ours !== undefined, text).to.equal(Address4.isValid(text));
        if (ours) expect(ours.value).to.equal(new Address4(text).bigInt());
      }),
      { numRuns: 2000 },
    );
  });
  it('IPv6 text and values agree with ip-address, also when asked twice (property)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), (v) => {
        for (let i = 0; i < 2; i++) {
          const text = formatIP({ family: 'IPv6', value: v });
          expect(text).to.equal(Address6.fromBigInt(v).correctForm());
          expect(parseIP(text).value).to.equal(v);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
