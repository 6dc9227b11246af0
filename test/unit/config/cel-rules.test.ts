/**
 * Every CEL rule (x-kubernetes-validations) in crds/*.yaml is also checked by src/config:
 * an API server without CEL (or a manifest checked offline) must not let the invariant
 * through. The rules are read from the CRDs, so a new rule without a case here fails.
 */
import { expect } from 'chai';
import { readFileSync, readdirSync } from 'node:fs';
import { parse } from 'yaml';
import { parseConfig } from '../../../src/config/parse.js';

const H = 'herald.dev/v1beta1';

interface RuleSite {
  readonly kind: string;
  /** Schema path, `[]` for list items: `spec.nodeSelectors[].matchExpressions[]`. */
  readonly path: string;
  readonly rule: string;
}

function walk(node: unknown, path: string, kind: string, out: RuleSite[]): void {
  if (!node || typeof node !== 'object') return;
  const o = node as Record<string, unknown>;
  const rules = o['x-kubernetes-validations'];
  if (Array.isArray(rules)) for (const r of rules as Array<{ rule: string }>) out.push({ kind, path, rule: r.rule });
  const props = o['properties'];
  if (props && typeof props === 'object')
    for (const [k, v] of Object.entries(props)) walk(v, path ? `${path}.${k}` : k, kind, out);
  if (o['items']) walk(o['items'], `${path}[]`, kind, out);
}

function ruleSites(): RuleSite[] {
  const out: RuleSite[] = [];
  for (const f of readdirSync('crds')
    .filter((n) => n.endsWith('.yaml') && n !== 'kustomization.yaml')
    .sort()) {
    const crd = parse(readFileSync(`crds/${f}`, 'utf8')) as {
      spec: { names: { kind: string }; versions: Array<{ schema: { openAPIV3Schema: unknown } }> };
    };
    for (const v of crd.spec.versions) walk(v.schema.openAPIV3Schema, '', crd.spec.names.kind, out);
  }
  return out;
}

const BASE_SPEC: Record<string, Record<string, unknown>> = {
  IPAddressPool: { addresses: ['192.0.2.0/28'] },
  L2Advertisement: {},
  BGPAdvertisement: {},
  BGPPeer: { myASN: 64500, peerASN: 64501, peerAddress: '192.0.2.254' },
};
/** Fields a list item needs besides the one under test. */
const ITEM_DEFAULTS: Record<string, Record<string, unknown>> = { preferredNodeSelectors: { weight: 1 } };

/** An object of `kind` with `leaf` placed at the schema path (one item per list). */
function objectWith(kind: string, path: string, leaf: unknown): { obj: unknown; field: string } {
  const parts = path.split('.');
  const field = parts.map((p) => p.replace(/\[\]/g, '[0]')).join('.');
  let value: unknown = leaf;
  for (let i = parts.length - 1; i >= 1; i--) {
    const p = parts[i]!;
    const name = p.replace(/\[\]$/, '');
    const item = p.endsWith('[]') ? [value] : value;
    const defaults = ITEM_DEFAULTS[name] ?? {};
    value = p.endsWith('[]') ? { [name]: [{ ...defaults, ...(value as object) }] } : { [name]: item };
  }
  const spec = { ...BASE_SPEC[kind], ...(value as object) };
  return { obj: { apiVersion: H, kind, metadata: { name: 'x' }, spec }, field };
}

interface Case {
  readonly name: string;
  readonly spec: (site: RuleSite) => { obj: unknown; field: string } | undefined;
}

const SELECTOR_RULE =
  "self.operator in ['In', 'NotIn'] ? (has(self.values) && size(self.values) > 0) : (!has(self.values) || size(self.values) == 0)";

/** Per rule: objects that break it (each must be refused with an error on `field`), and one that keeps it. */
const CASES: Record<string, { broken: Case[]; kept: (site: RuleSite) => unknown }> = {
  [SELECTOR_RULE]: {
    broken: [
      { name: 'In without values', spec: (s: RuleSite) => objectWith(s.kind, s.path, { key: 'a', operator: 'In' }) },
      {
        name: 'NotIn with an empty list',
        spec: (s: RuleSite) => objectWith(s.kind, s.path, { key: 'a', operator: 'NotIn', values: [] }),
      },
      {
        name: 'Exists with values',
        spec: (s: RuleSite) => objectWith(s.kind, s.path, { key: 'a', operator: 'Exists', values: ['b'] }),
      },
      {
        name: 'DoesNotExist with values',
        spec: (s: RuleSite) => objectWith(s.kind, s.path, { key: 'a', operator: 'DoesNotExist', values: ['b'] }),
      },
    ].map((c) => ({
      name: c.name,
      spec: (s: RuleSite) => {
        const r = c.spec(s);
        return { obj: r.obj, field: `${r.field}.values` };
      },
    })),
    kept: (s) => objectWith(s.kind, s.path, { key: 'a', operator: 'In', values: ['b'] }).obj,
  },
  'has(self.peerASN) != has(self.dynamicASN)': {
    broken: [
      { name: 'both peerASN and dynamicASN', spec: () => peerWith({ dynamicASN: 'external' }, 'spec.dynamicASN') },
      { name: 'neither peerASN nor dynamicASN', spec: () => peerWith({ peerASN: undefined }, 'spec.peerASN') },
    ],
    kept: () => peerWith({ peerASN: undefined, dynamicASN: 'external' }, '').obj,
  },
  '!(has(self.password) && has(self.passwordSecret))': {
    broken: [
      {
        name: 'both password and passwordSecret',
        spec: () => peerWith({ password: 'p', passwordSecret: { name: 's' } }, 'spec.passwordSecret'),
      },
    ],
    kept: () => peerWith({ password: 'p' }, '').obj,
  },
  "!(self.ebgpMultiHop && ((has(self.peerASN) && self.peerASN == self.myASN) || (has(self.dynamicASN) && self.dynamicASN == 'internal')))":
    {
      broken: [
        {
          name: 'ebgpMultiHop with peerASN == myASN',
          spec: () => peerWith({ ebgpMultiHop: true, peerASN: 64500 }, 'spec.ebgpMultiHop'),
        },
        {
          name: 'ebgpMultiHop with dynamicASN internal',
          spec: () => peerWith({ ebgpMultiHop: true, peerASN: undefined, dynamicASN: 'internal' }, 'spec.ebgpMultiHop'),
        },
      ],
      kept: () => peerWith({ ebgpMultiHop: true }, '').obj,
    },
  '!has(self.localASN)': {
    broken: [{ name: 'a localASN (MetalLB v1beta2)', spec: () => peerWith({ localASN: 64510 }, 'spec.localASN') }],
    kept: () => peerWith({}, '').obj,
  },
  '!has(self.interface)': {
    broken: [{ name: 'an interface (unnumbered BGP)', spec: () => peerWith({ interface: 'eth1' }, 'spec.interface') }],
    kept: () => peerWith({}, '').obj,
  },
};

function peerWith(extra: Record<string, unknown>, field: string): { obj: unknown; field: string } {
  const spec: Record<string, unknown> = { ...BASE_SPEC['BGPPeer'], ...extra };
  for (const k of Object.keys(spec)) if (spec[k] === undefined) delete spec[k];
  return { obj: { apiVersion: H, kind: 'BGPPeer', metadata: { name: 'x' }, spec }, field };
}

const MODEL: Record<string, 'pools' | 'l2Advertisements' | 'bgpAdvertisements' | 'peers'> = {
  IPAddressPool: 'pools',
  L2Advertisement: 'l2Advertisements',
  BGPAdvertisement: 'bgpAdvertisements',
  BGPPeer: 'peers',
};

describe('config: every CRD CEL rule is also checked without CEL', () => {
  const sites = ruleSites();
  it('the CRDs have CEL rules to check (the walk found them)', () => {
    expect(sites.length).to.be.at.least(13);
  });
  for (const site of sites) {
    const label = `${site.kind} ${site.path}: ${site.rule}`;
    const c = CASES[site.rule];
    it(`${label} has cases`, () => expect(c, `no case for the rule ${label}`).to.not.equal(undefined));
    if (!c) continue;
    for (const b of c.broken) {
      it(`${site.kind} ${site.path}: ${b.name} is refused, naming the object and field`, () => {
        const { obj, field } = b.spec(site)!;
        const r = parseConfig([obj]);
        const hit = r.errors.find(
          (e) => e.object.kind === site.kind && e.object.name === 'x' && e.field === field && !e.transient,
        );
        expect(
          hit,
          `no error on ${site.kind} x ${field}; got:\n${r.errors.map((e) => e.message).join('\n')}`,
        ).to.not.equal(undefined);
        expect(r.config[MODEL[site.kind]!].has('x')).to.equal(false);
      });
    }
    it(`${site.kind} ${site.path}: an object keeping the rule is accepted`, () => {
      const r = parseConfig([c.kept(site)]);
      expect(r.errors.map((e) => e.message)).to.deep.equal([]);
      expect(r.config[MODEL[site.kind]!].has('x')).to.equal(true);
    });
  }
});
