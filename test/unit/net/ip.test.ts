import { expect } from 'chai';
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
  const bad = ['', '192.0.2', '192.0.2.256', '01.2.3.4', '192.0.2.1/32', '2001:db8::/64', '2001:db8::1%eth0', 'host', '1.2.3.4.5', ':::'];
  for (const text of bad) {
    it(`refuses ${JSON.stringify(text)}`, () => {
      expect(() => parseIP(text)).to.throw().with.property('code', 'ParseError');
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
});
