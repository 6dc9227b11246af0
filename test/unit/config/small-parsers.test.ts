import { expect } from 'chai';
import { parseDuration } from '../../../src/config/duration.js';
import { formatCommunity, parseCommunity } from '../../../src/config/community.js';
import { anySelectorMatches, selectorMatches, type LabelSelector } from '../../../src/config/label-selector.js';

describe('config/duration', () => {
  const cases: Array<[string, number | undefined]> = [
    ['90s', 90_000],
    ['1m30s', 90_000],
    ['500ms', 500],
    ['1h', 3_600_000],
    ['0', 0],
    ['0s', 0],
    ['1.5s', 1500],
    ['', undefined],
    ['s', undefined],
    ['10', undefined],
    ['10 s', undefined],
    ['-5s', undefined],
    ['5d', undefined],
  ];
  for (const [text, ms] of cases)
    it(`${JSON.stringify(text)} -> ${ms}`, () => expect(parseDuration(text)).to.equal(ms));
});

describe('config/community', () => {
  const good: Array<[string, string]> = [
    ['0:0', '0:0'],
    ['65535:65535', '65535:65535'],
    ['large:0:0:0', 'large:0:0:0'],
    ['Large:4294967295:1:2', 'large:4294967295:1:2'],
  ];
  for (const [text, out] of good) {
    it(`parses ${text}`, () => {
      const r = parseCommunity(text);
      expect(r.ok && formatCommunity(r.value)).to.equal(out);
    });
  }
  for (const text of ['1', '1:', ':1', 'a:b', '65536:0', '1:2:3', 'large:1:2', 'large:1:2:x', '-1:5']) {
    it(`refuses ${text}`, () => expect(parseCommunity(text).ok).to.equal(false));
  }
  it('stores a standard community as a 32-bit value', () => {
    const r = parseCommunity('65535:65281');
    expect(r.ok && r.value).to.deep.equal({ kind: 'standard', value: 0xffffff01 });
  });
});

describe('config/label-selector', () => {
  const sel = (s: Partial<LabelSelector>): LabelSelector => ({ matchLabels: {}, matchExpressions: [], ...s });
  const cases: Array<[string, LabelSelector, Record<string, string>, boolean]> = [
    ['empty matches all', sel({}), { a: '1' }, true],
    ['matchLabels hit', sel({ matchLabels: { a: '1' } }), { a: '1', b: '2' }, true],
    ['matchLabels miss', sel({ matchLabels: { a: '1' } }), { a: '2' }, false],
    ['In hit', sel({ matchExpressions: [{ key: 'a', operator: 'In', values: ['1', '2'] }] }), { a: '2' }, true],
    ['In absent', sel({ matchExpressions: [{ key: 'a', operator: 'In', values: ['1'] }] }), {}, false],
    ['NotIn absent', sel({ matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['1'] }] }), {}, true],
    ['NotIn hit', sel({ matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['1'] }] }), { a: '1' }, false],
    ['Exists', sel({ matchExpressions: [{ key: 'a', operator: 'Exists', values: [] }] }), { a: '' }, true],
    ['DoesNotExist', sel({ matchExpressions: [{ key: 'a', operator: 'DoesNotExist', values: [] }] }), { a: '' }, false],
  ];
  for (const [name, s, labels, want] of cases) it(name, () => expect(selectorMatches(s, labels)).to.equal(want));
  it('a list of selectors: empty matches all, otherwise any', () => {
    expect(anySelectorMatches([], {})).to.equal(true);
    expect(
      anySelectorMatches([sel({ matchLabels: { a: '1' } }), sel({ matchLabels: { b: '1' } })], { b: '1' }),
    ).to.equal(true);
    expect(anySelectorMatches([sel({ matchLabels: { a: '1' } })], { b: '1' })).to.equal(false);
  });
});
