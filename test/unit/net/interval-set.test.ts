import { expect } from 'chai';
import fc from 'fast-check';
import { IntervalSet } from '../../../src/net/interval-set.js';

/** A reference model: a plain Set of small bigints. */
const DOMAIN = 64;
const op = fc.record({
  add: fc.boolean(),
  lo: fc.integer({ min: 0, max: DOMAIN }),
  len: fc.integer({ min: 0, max: 12 }),
});

function apply(ops: Array<{ add: boolean; lo: number; len: number }>): { set: IntervalSet; model: Set<number> } {
  const set = new IntervalSet();
  const model = new Set<number>();
  for (const o of ops) {
    const hi = o.lo + o.len;
    if (o.add) set.add(BigInt(o.lo), BigInt(hi));
    else set.delete(BigInt(o.lo), BigInt(hi));
    for (let x = o.lo; x <= hi; x++) {
      if (o.add) model.add(x);
      else model.delete(x);
    }
  }
  return { set, model };
}

describe('net/IntervalSet', () => {
  it('matches a plain set under any sequence of adds and deletes (membership, size)', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const { set, model } = apply(ops);
        for (let x = -1; x <= DOMAIN + 13; x++) expect(set.has(BigInt(x))).to.equal(model.has(x));
        expect(set.size()).to.equal(BigInt(model.size));
      }),
    );
  });

  it('keeps intervals sorted, disjoint and non-adjacent', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const ivs = apply(ops).set.intervals();
        for (let i = 0; i < ivs.length; i++) {
          expect(ivs[i]!.lo <= ivs[i]!.hi).to.equal(true);
          if (i > 0) expect(ivs[i]!.lo > ivs[i - 1]!.hi + 1n).to.equal(true);
        }
      }),
    );
  });

  it('firstGap, firstIn, countIn, overlaps and covers agree with the model', () => {
    fc.assert(
      fc.property(
        fc.array(op, { maxLength: 30 }),
        fc.integer({ min: 0, max: DOMAIN }),
        fc.integer({ min: 0, max: 20 }),
        (ops, lo, len) => {
          const { set, model } = apply(ops);
          const hi = lo + len;
          const inside: number[] = [];
          const outside: number[] = [];
          for (let x = lo; x <= hi; x++) (model.has(x) ? inside : outside).push(x);
          expect(set.firstGap(BigInt(lo), BigInt(hi))).to.equal(outside.length ? BigInt(outside[0]!) : undefined);
          expect(set.firstIn(BigInt(lo), BigInt(hi))).to.equal(inside.length ? BigInt(inside[0]!) : undefined);
          expect(set.countIn(BigInt(lo), BigInt(hi))).to.equal(BigInt(inside.length));
          expect(set.overlaps(BigInt(lo), BigInt(hi))).to.equal(inside.length > 0);
          expect(set.covers(BigInt(lo), BigInt(hi))).to.equal(outside.length === 0);
        },
      ),
    );
  });

  it('union, intersect and subtract follow set algebra', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 20 }), fc.array(op, { maxLength: 20 }), (a, b) => {
        const A = apply(a);
        const B = apply(b);
        const U = A.set.union(B.set);
        const I = A.set.intersect(B.set);
        const D = A.set.subtract(B.set);
        for (let x = 0; x <= DOMAIN + 13; x++) {
          const bx = BigInt(x);
          expect(U.has(bx)).to.equal(A.model.has(x) || B.model.has(x));
          expect(I.has(bx)).to.equal(A.model.has(x) && B.model.has(x));
          expect(D.has(bx)).to.equal(A.model.has(x) && !B.model.has(x));
        }
        expect(U.size() + I.size()).to.equal(A.set.size() + B.set.size());
      }),
    );
  });

  it('holds a /64 and a /8 in one interval each', () => {
    const s = new IntervalSet();
    s.add(0n, (1n << 64n) - 1n);
    s.add(1n << 100n, (1n << 100n) + (1n << 24n) - 1n);
    expect(s.intervalCount()).to.equal(2);
    expect(s.size()).to.equal((1n << 64n) + (1n << 24n));
    s.delete(5n, 5n);
    expect(s.intervalCount()).to.equal(3);
    expect(s.firstGap(0n, 10n)).to.equal(5n);
  });

  it('refuses an empty interval', () => {
    expect(() => new IntervalSet().add(2n, 1n)).to.throw(RangeError);
  });
});
