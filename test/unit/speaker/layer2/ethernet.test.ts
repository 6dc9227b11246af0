/** Ethernet II framing against hand-written header bytes. */
import { expect } from 'chai';
import { buildEthernet, parseEthernet, type EthernetDropReason } from '../../../../speaker/layer2/ethernet.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('layer2: Ethernet II', () => {
  const good: {
    name: string;
    frame: string;
    dst: string;
    src: string;
    type: number;
    vlans: number[];
    payload: string;
  }[] = [
    {
      name: 'untagged',
      frame: 'ffffffffffff 020000000002 0806 aabb',
      dst: 'ffffffffffff',
      src: '020000000002',
      type: 0x0806,
      vlans: [],
      payload: 'aabb',
    },
    {
      name: '802.1Q tag, VLAN 100, PCP 5',
      frame: '3333ff00000a 020000000002 8100 a064 86dd cc',
      dst: '3333ff00000a',
      src: '020000000002',
      type: 0x86dd,
      vlans: [100],
      payload: 'cc',
    },
    {
      name: 'Q-in-Q: 802.1ad outer 10, 802.1Q inner 20',
      frame: 'ffffffffffff 020000000002 88a8 000a 8100 0014 0806',
      dst: 'ffffffffffff',
      src: '020000000002',
      type: 0x0806,
      vlans: [10, 20],
      payload: '',
    },
  ];
  for (const tc of good) {
    it(`parses ${tc.name}`, () => {
      const r = parseEthernet(hex(tc.frame));
      if (!r.ok) throw new Error(r.detail);
      expect(r.frame.dst.toString('hex')).to.equal(tc.dst);
      expect(r.frame.src.toString('hex')).to.equal(tc.src);
      expect(r.frame.ethertype).to.equal(tc.type);
      expect(r.frame.vlans).to.deep.equal(tc.vlans);
      expect(r.frame.payload.toString('hex')).to.equal(tc.payload);
    });
  }

  const bad: { name: string; frame: string; reason: EthernetDropReason }[] = [
    { name: 'empty', frame: '', reason: 'runtFrame' },
    { name: '13 bytes', frame: 'ffffffffffff 020000000002 08', reason: 'runtFrame' },
    { name: 'a tag cut short', frame: 'ffffffffffff 020000000002 8100 00', reason: 'truncatedVlanTag' },
    { name: 'a tag with no inner type', frame: 'ffffffffffff 020000000002 8100 0064', reason: 'truncatedVlanTag' },
    {
      name: 'three tags',
      frame: 'ffffffffffff 020000000002 88a8 0001 8100 0002 8100 0003 0806',
      reason: 'tooManyVlanTags',
    },
    { name: 'an 802.3 length field', frame: 'ffffffffffff 020000000002 002e', reason: 'notEthernetII' },
  ];
  for (const tc of bad) {
    it(`refuses ${tc.name}: ${tc.reason}`, () => {
      const r = parseEthernet(hex(tc.frame));
      expect(r.ok ? 'ok' : r.reason).to.equal(tc.reason);
    });
  }

  it('builds dst, src, type, payload in order', () => {
    const f = buildEthernet({
      dst: hex('333300000001'),
      src: hex('02000000000a'),
      ethertype: 0x86dd,
      payload: hex('6000'),
    });
    expect(f.toString('hex')).to.equal('33330000000102000000000a86dd6000');
  });

  it('refuses a MAC that is not 6 bytes', () => {
    expect(() =>
      buildEthernet({ dst: hex('3333'), src: hex('02000000000a'), ethertype: 0x0806, payload: hex('') }),
    ).to.throw(RangeError);
  });
});
