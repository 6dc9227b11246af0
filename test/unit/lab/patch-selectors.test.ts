import { expect } from 'chai';
import { jsonPatch, mergePatch, strategicMergePatch, PatchError, type Json } from '../../../lab/apiserver/patch.js';
import {
  matchFields,
  matchLabels,
  parseFieldSelector,
  parseLabelSelector,
  SelectorError,
} from '../../../lab/apiserver/selectors.js';
import { applyDefaults, compileSchema, prune } from '../../../lab/apiserver/schema.js';

describe('lab apiserver: merge patch (RFC 7386 appendix A)', () => {
  const cases: [Json, Json, Json][] = [
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [
      ['a', 'b'],
      ['c', 'd'],
      ['c', 'd'],
    ],
    [{ a: 'b' }, ['c'], ['c']],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];
  cases.forEach(([target, patch, want], i) => {
    it(`case ${i + 1}: ${JSON.stringify(target)} + ${JSON.stringify(patch)}`, () => {
      expect(mergePatch(target, patch)).to.deep.equal(want);
    });
  });
});

describe('lab apiserver: JSON patch (RFC 6902)', () => {
  const doc: Json = { foo: ['bar', 'baz'], obj: { a: 1 } };
  const cases: { name: string; ops: unknown; want?: Json; error?: RegExp }[] = [
    {
      name: 'add into an array',
      ops: [{ op: 'add', path: '/foo/1', value: 'qux' }],
      want: { foo: ['bar', 'qux', 'baz'], obj: { a: 1 } },
    },
    {
      name: 'append with -',
      ops: [{ op: 'add', path: '/foo/-', value: 'end' }],
      want: { foo: ['bar', 'baz', 'end'], obj: { a: 1 } },
    },
    { name: 'remove', ops: [{ op: 'remove', path: '/obj/a' }], want: { foo: ['bar', 'baz'], obj: {} } },
    {
      name: 'replace',
      ops: [{ op: 'replace', path: '/obj/a', value: 2 }],
      want: { foo: ['bar', 'baz'], obj: { a: 2 } },
    },
    { name: 'move', ops: [{ op: 'move', from: '/obj/a', path: '/b' }], want: { foo: ['bar', 'baz'], obj: {}, b: 1 } },
    {
      name: 'copy',
      ops: [{ op: 'copy', from: '/foo/0', path: '/c' }],
      want: { foo: ['bar', 'baz'], obj: { a: 1 }, c: 'bar' },
    },
    {
      name: 'escaped pointer',
      ops: [{ op: 'add', path: '/obj/a~1b', value: 1 }],
      want: { foo: ['bar', 'baz'], obj: { a: 1, 'a/b': 1 } },
    },
    { name: 'test passes', ops: [{ op: 'test', path: '/foo', value: ['bar', 'baz'] }], want: doc },
    { name: 'test fails', ops: [{ op: 'test', path: '/obj/a', value: 2 }], error: /test failed/ },
    { name: 'remove a missing path', ops: [{ op: 'remove', path: '/nope' }], error: /does not exist/ },
    { name: 'replace a missing path', ops: [{ op: 'replace', path: '/nope', value: 1 }], error: /does not exist/ },
    { name: 'add past the end', ops: [{ op: 'add', path: '/foo/5', value: 1 }], error: /out of range/ },
    { name: 'not an array', ops: { op: 'add' }, error: /must be an array/ },
    { name: 'unknown op', ops: [{ op: 'frob', path: '/a' }], error: /unknown JSON patch op/ },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      if (tc.error) expect(() => jsonPatch(doc, tc.ops)).to.throw(PatchError, tc.error);
      else expect(jsonPatch(doc, tc.ops)).to.deep.equal(tc.want);
    });
  }
  it('never changes its input', () => {
    const before = JSON.stringify(doc);
    jsonPatch(doc, [{ op: 'remove', path: '/foo/0' }]);
    expect(JSON.stringify(doc)).to.equal(before);
  });
});

describe('lab apiserver: strategic merge patch', () => {
  const svc: Json = {
    metadata: { finalizers: ['a'] },
    spec: {
      ports: [
        { name: 'http', port: 80 },
        { name: 'https', port: 443 },
      ],
      selector: { app: 'x' },
    },
    status: { conditions: [{ type: 'A', status: 'True' }] },
  };
  const cases: { name: string; patch: Json; want: Json }[] = [
    {
      name: 'merges list items by key',
      patch: { spec: { ports: [{ port: 443, targetPort: 8443 }] } },
      want: {
        ...(svc as object),
        spec: {
          ports: [
            { name: 'http', port: 80 },
            { name: 'https', port: 443, targetPort: 8443 },
          ],
          selector: { app: 'x' },
        },
      } as Json,
    },
    {
      name: '$patch: delete removes an item',
      patch: { spec: { ports: [{ port: 80, $patch: 'delete' }] } },
      want: { ...(svc as object), spec: { ports: [{ name: 'https', port: 443 }], selector: { app: 'x' } } } as Json,
    },
    {
      name: 'finalizers are a set',
      patch: { metadata: { finalizers: ['b', 'a'] } },
      want: { ...(svc as object), metadata: { finalizers: ['a', 'b'] } } as Json,
    },
    {
      name: '$deleteFromPrimitiveList',
      patch: { metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] } },
      want: { ...(svc as object), metadata: { finalizers: [] } } as Json,
    },
    {
      name: 'status conditions merge by type',
      patch: { status: { conditions: [{ type: 'B', status: 'False' }] } },
      want: {
        ...(svc as object),
        status: {
          conditions: [
            { type: 'A', status: 'True' },
            { type: 'B', status: 'False' },
          ],
        },
      } as Json,
    },
    {
      name: '$patch: replace on a map',
      patch: { spec: { selector: { $patch: 'replace', app: 'y' } } },
      want: {
        ...(svc as object),
        spec: {
          ports: [
            { name: 'http', port: 80 },
            { name: 'https', port: 443 },
          ],
          selector: { app: 'y' },
        },
      } as Json,
    },
    {
      name: '$setElementOrder reorders',
      patch: { spec: { '$setElementOrder/ports': [{ port: 443 }, { port: 80 }] } },
      want: {
        ...(svc as object),
        spec: {
          ports: [
            { name: 'https', port: 443 },
            { name: 'http', port: 80 },
          ],
          selector: { app: 'x' },
        },
      } as Json,
    },
    {
      name: 'null deletes a key',
      patch: { spec: { selector: null } },
      want: {
        ...(svc as object),
        spec: {
          ports: [
            { name: 'http', port: 80 },
            { name: 'https', port: 443 },
          ],
        },
      } as Json,
    },
  ];
  for (const tc of cases) it(tc.name, () => expect(strategicMergePatch(svc, tc.patch)).to.deep.equal(tc.want));
});

describe('lab apiserver: selectors', () => {
  const labels = { app: 'web', tier: 'front', n: '5' };
  const cases: { sel: string; match: boolean }[] = [
    { sel: '', match: true },
    { sel: 'app=web', match: true },
    { sel: 'app==web', match: true },
    { sel: 'app!=web', match: false },
    { sel: 'app=web,tier=back', match: false },
    { sel: 'tier in (front, back)', match: true },
    { sel: 'tier notin (front)', match: false },
    { sel: 'missing notin (x)', match: true },
    { sel: 'app', match: true },
    { sel: '!app', match: false },
    { sel: '!missing', match: true },
    { sel: 'n>4', match: true },
    { sel: 'n<5', match: false },
    { sel: 'example.com/key=web', match: false },
  ];
  for (const tc of cases)
    it(`label selector "${tc.sel}" -> ${tc.match}`, () =>
      expect(matchLabels(parseLabelSelector(tc.sel), labels)).to.equal(tc.match));
  for (const bad of ['a in (b', 'a=b)', 'a b c', 'n>x', '=x', 'a=b c']) {
    it(`refuses label selector "${bad}"`, () => expect(() => parseLabelSelector(bad)).to.throw(SelectorError));
  }
  it('field selectors support = == != and only the fields allowed', () => {
    const obj = { metadata: { name: 'x', namespace: 'ns' }, spec: { nodeName: 'n1' } };
    expect(
      matchFields(parseFieldSelector('metadata.name=x,spec.nodeName!=n2', ['metadata.name', 'spec.nodeName']), obj),
    ).to.equal(true);
    expect(matchFields(parseFieldSelector('spec.nodeName==n2', ['spec.nodeName']), obj)).to.equal(false);
    expect(() => parseFieldSelector('spec.other=1', ['metadata.name'])).to.throw(SelectorError, /not supported/);
  });
});

describe('lab apiserver: structural schema handling', () => {
  const schema = {
    type: 'object',
    properties: {
      spec: {
        type: 'object',
        properties: {
          size: { type: 'integer', default: 3, minimum: 1 },
          mode: { type: 'string', enum: ['a', 'b'] },
          tags: { type: 'object', additionalProperties: { type: 'string' } },
          free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
          items: { type: 'array', items: { type: 'object', properties: { k: { type: 'string', default: 'd' } } } },
        },
        'x-kubernetes-validations': [
          { rule: "!has(self.mode) || self.mode != 'b' || self.size > 2", message: 'mode b needs size > 2' },
        ],
      },
    },
  };
  it('prunes undeclared fields but keeps maps, preserved objects and metadata', () => {
    const out = prune(
      {
        apiVersion: 'x/v1',
        kind: 'K',
        metadata: { name: 'n', extra: 1 },
        spec: { size: 1, junk: true, tags: { a: 'b' }, free: { any: { thing: 1 } } },
        top: 1,
      },
      schema,
    );
    expect(out).to.deep.equal({
      apiVersion: 'x/v1',
      kind: 'K',
      metadata: { name: 'n', extra: 1 },
      spec: { size: 1, tags: { a: 'b' }, free: { any: { thing: 1 } } },
    });
  });
  it('defaults only inside objects that exist, including array items', () => {
    expect(applyDefaults({ spec: { items: [{}, { k: 'x' }] } }, schema)).to.deep.equal({
      spec: { size: 3, items: [{ k: 'd' }, { k: 'x' }] },
    });
    expect(applyDefaults({}, schema)).to.deep.equal({});
  });
  it('reports enum, minimum and CEL failures with field paths', () => {
    const c = compileSchema(schema);
    const bad = c.admit({ metadata: { name: 'n' }, spec: { size: 0, mode: 'z' } }, undefined);
    expect(bad.ok).to.equal(false);
    if (!bad.ok) expect(bad.causes.map((x) => x.field).sort()).to.deep.equal(['spec.mode', 'spec.size']);
    const cel = c.admit({ metadata: { name: 'n' }, spec: { size: 2, mode: 'b' } }, undefined);
    expect(cel.ok).to.equal(false);
    if (!cel.ok) expect(cel.causes[0]!.message).to.include('mode b needs size > 2');
    expect(c.admit({ metadata: { name: 'n' }, spec: { mode: 'b' } }, undefined).ok).to.equal(true);
  });
});
