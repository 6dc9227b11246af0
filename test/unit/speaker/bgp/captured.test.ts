/**
 * Herald's BGP decoder against sessions captured from BIRD, FRR and GoBGP
 * (test/fixtures/bgp/capture.ts made the pcaps): every message the router sent decodes, the
 * OPEN says what the router was configured with, the UPDATEs carry exactly the exported
 * prefixes with their communities (and GoBGP's withdrawal), and re-encoding what was decoded
 * decodes to the same thing.
 */
import { join } from 'node:path';
import { expect } from 'chai';
import { formatCIDR } from '../../../../src/net/cidr.js';
import { decode, encode } from '../../../../speaker/bgp/codec.js';
import { DEFAULT_CODEC, isEndOfRib, type BgpMessage, type UpdateMessage } from '../../../../speaker/bgp/messages.js';
import { REPO_ROOT } from '../../../support/crds.js';
import { readPcap, tcpStream } from '../../../support/pcap.js';

const ROUTER = '192.0.2.2';
const TAGGED = new Set(['198.51.100.0/24', '2001:db8:100::/48']);
const EXPORTED = ['198.51.100.0/24', '203.0.113.128/25', '2001:db8:100::/48', '2001:db8:200::/48'];

function messages(name: string): { raw: Buffer; message: BgpMessage }[] {
  const stream = tcpStream(readPcap(join(REPO_ROOT, 'test', 'fixtures', 'bgp', `${name}.pcap`)), ROUTER, 179);
  const out: { raw: Buffer; message: BgpMessage }[] = [];
  for (let off = 0; off < stream.length;) {
    const len = stream.readUInt16BE(off + 16);
    const raw = stream.subarray(off, off + len);
    const r = decode(raw, DEFAULT_CODEC);
    if (!r.ok) throw new Error(`${name}: message at byte ${off}: ${r.error.reason}`);
    out.push({ raw, message: r.message });
    off += len;
  }
  return out;
}

for (const name of ['bird', 'frr', 'gobgp']) {
  describe(`bgp codec: a session captured from ${name}`, () => {
    const msgs = messages(name);
    const updates = msgs.map((m) => m.message).filter((m): m is UpdateMessage => m.type === 'update');

    it('opens with what the router was configured with', () => {
      const open = msgs[0]!.message;
      expect(open.type).to.equal('open');
      if (open.type !== 'open') return;
      expect(open).to.include({ version: 4, myAs: 65001, holdTime: 9, bgpId: ROUTER });
      expect(open.capabilities.fourOctetAs).to.equal(65001);
      expect(open.capabilities.routeRefresh).to.equal(true);
      expect(open.capabilities.multiprotocol.map((f) => `${f.afi}/${f.safi}`)).to.include.members(['1/1', '2/1']);
    });

    it('announces exactly the exported prefixes, communities on the tagged ones only', () => {
      const seen = new Map<string, UpdateMessage>();
      for (const u of updates) {
        for (const p of [...u.nlri, ...(u.attributes.mpReach?.nlri ?? [])]) seen.set(formatCIDR(p), u);
      }
      expect([...seen.keys()].sort()).to.deep.equal([...EXPORTED].sort());
      for (const [prefix, u] of seen) {
        const a = u.attributes;
        expect(a.asPath, prefix).to.deep.equal([{ type: 2, asns: [65001] }]);
        expect(a.origin, prefix).to.be.a('number');
        if (TAGGED.has(prefix)) {
          expect(a.communities, prefix).to.deep.equal([65001 * 65536 + 100]);
          expect(a.largeCommunities, prefix).to.deep.equal([[65001, 1, 2]]);
        } else {
          expect(a.communities ?? [], prefix).to.deep.equal([]);
          expect(a.largeCommunities ?? [], prefix).to.deep.equal([]);
        }
        if (prefix.includes(':')) expect(a.mpReach!.nextHops.length, prefix).to.be.greaterThan(0);
        else expect(a.nextHop, prefix).to.not.equal(undefined);
      }
    });

    if (name === 'gobgp') {
      it('withdraws 203.0.113.128/25 after it was deleted from the RIB', () => {
        const withdrawn = updates.flatMap((u) => u.withdrawn.map(formatCIDR));
        expect(withdrawn).to.deep.equal(['203.0.113.128/25']);
      });
    }

    // Without graceful restart only BIRD marks the end of each family's initial table.
    const eor = name === 'bird' ? ['1/1', '2/1'] : [];
    it(`sends keepalives, and End-of-RIB for ${eor.length > 0 ? eor.join(' and ') : 'no family'} (recognised as such)`, () => {
      expect(msgs.some((m) => m.message.type === 'keepalive')).to.equal(true);
      const marks = updates
        .map((u) => isEndOfRib(u))
        .filter((f) => f !== undefined)
        .map((f) => `${f.afi}/${f.safi}`);
      expect(marks).to.deep.equal(eor);
    });

    it('re-encoding each decoded message decodes to the same message', () => {
      for (const { message } of msgs) {
        const again = decode(encode(message, DEFAULT_CODEC), DEFAULT_CODEC);
        expect(again.ok, message.type).to.equal(true);
        if (again.ok) expect(again.message, message.type).to.deep.equal(message);
      }
    });
  });
}
