/**
 * Owner election. Expected orders were worked out outside this code base from
 * sha256("<node>#<ip>"), so a change to the hash input (which would move IPs between nodes
 * during an upgrade) fails here.
 */
import { expect } from 'chai';
import { electionHash, electOwner, type Candidate, type Election } from '../../../speaker/election.js';
import { parseIP } from '../../../src/net/ip.js';

const NODES = ['node-a', 'node-b', 'node-c', 'node-d'];
const even = (nodes: readonly string[]): Candidate[] => nodes.map((node) => ({ node, weight: 0 }));

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((x, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [x, ...rest]),
  );
}

const order = (e: Election): readonly string[] => (e.owner === undefined ? [] : e.order);

describe('speaker: owner election', () => {
  it('hashes "<node>#<ip>" with sha256', () => {
    expect(electionHash('node-a', '192.0.2.10')).to.equal(
      'd4b84135501a6622f43f01422f65d768d1a4637914be8add4e31f107336b8068',
    );
  });

  const pinned: { ip: string; order: string[] }[] = [
    { ip: '192.0.2.10', order: ['node-d', 'node-c', 'node-b', 'node-a'] },
    { ip: '192.0.2.11', order: ['node-d', 'node-a', 'node-c', 'node-b'] },
    { ip: '192.0.2.12', order: ['node-b', 'node-c', 'node-a', 'node-d'] },
    { ip: '2001:db8::a', order: ['node-a', 'node-b', 'node-d', 'node-c'] },
    { ip: '10.0.0.1', order: ['node-b', 'node-a', 'node-d', 'node-c'] },
    { ip: '198.51.100.7', order: ['node-d', 'node-a', 'node-b', 'node-c'] },
  ];
  for (const tc of pinned) {
    it(`orders equal-weight nodes by hash for ${tc.ip}, whatever the input order`, () => {
      for (const p of permutations(NODES)) {
        expect(electOwner(tc.ip, even(p))).to.deep.equal({ owner: tc.order[0], order: tc.order });
      }
    });
  }

  it('spreads IPs over the nodes', () => {
    expect(new Set(pinned.map((tc) => electOwner(tc.ip, even(NODES)).owner))).to.have.length.greaterThan(2);
  });

  const weighted: { name: string; ip: string; candidates: Candidate[]; order: string[] }[] = [
    {
      name: 'a heavier node wins over the hash',
      ip: '192.0.2.10',
      candidates: [{ node: 'node-a', weight: 10 }, ...even(['node-b', 'node-c', 'node-d'])],
      order: ['node-a', 'node-d', 'node-c', 'node-b'],
    },
    {
      name: 'weights order first, the hash breaks ties within a weight',
      ip: '192.0.2.10',
      candidates: [
        { node: 'node-a', weight: 50 },
        { node: 'node-b', weight: 50 },
        { node: 'node-c', weight: 1 },
        { node: 'node-d', weight: 0 },
      ],
      order: ['node-b', 'node-a', 'node-c', 'node-d'],
    },
    {
      name: 'negative weights sort below zero',
      ip: '192.0.2.11',
      candidates: [{ node: 'node-d', weight: -5 }, ...even(['node-a', 'node-b', 'node-c'])],
      order: ['node-a', 'node-c', 'node-b', 'node-d'],
    },
    {
      name: 'a NaN weight counts as 0',
      ip: '192.0.2.10',
      candidates: [
        { node: 'node-d', weight: Number.NaN },
        { node: 'node-a', weight: 1 },
        ...even(['node-b', 'node-c']),
      ],
      order: ['node-a', 'node-d', 'node-c', 'node-b'],
    },
    {
      name: 'a node listed twice counts once, with its highest weight',
      ip: '192.0.2.10',
      candidates: [...even(NODES), { node: 'node-a', weight: 7 }],
      order: ['node-a', 'node-d', 'node-c', 'node-b'],
    },
    { name: 'one candidate owns it', ip: '192.0.2.10', candidates: even(['node-z']), order: ['node-z'] },
  ];
  for (const tc of weighted) {
    it(tc.name, () => {
      for (const p of permutations(tc.candidates)) expect(order(electOwner(tc.ip, p))).to.deep.equal(tc.order);
    });
  }

  const spellings: { name: string; a: string | ReturnType<typeof parseIP>; b: string }[] = [
    { name: 'upper-case and zero-padded IPv6 text', a: '2001:DB8:0:0::A', b: '2001:db8::a' },
    { name: 'an IP value', a: parseIP('2001:db8::a'), b: '2001:db8::a' },
    { name: 'surrounding blanks', a: ' 192.0.2.10 ', b: '192.0.2.10' },
  ];
  for (const tc of spellings) {
    it(`elects the same owner for ${tc.name}`, () =>
      expect(electOwner(tc.a, even(NODES))).to.deep.equal(electOwner(tc.b, even(NODES))));
  }

  it('gives the same answer for the same inputs', () => {
    const candidates = [{ node: 'node-a', weight: 3 }, ...even(['node-b', 'node-c'])];
    expect(electOwner('198.51.100.7', candidates)).to.deep.equal(electOwner('198.51.100.7', [...candidates]));
  });

  it('says why there is no owner', () => {
    expect(electOwner('192.0.2.10', [])).to.deep.equal({ owner: undefined, reason: 'noCandidates' });
  });
});
