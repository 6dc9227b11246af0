import { parse as parseCel, evaluate as evaluateCel } from '@marcbachmann/cel-js';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { expect } from 'chai';
import { API_VERSION, GROUP, KINDS, VERSION } from '../../../src/api/index.js';
import { parseConfig } from '../../../src/config/index.js';
import { loadCrds, loadSamples, REPO_ROOT, type CrdDoc, type JsonSchema } from '../../support/crds.js';
import { createShapeChecker } from '../../support/ts-shape.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

const crds = loadCrds();
const samples = loadSamples();
const shapes = createShapeChecker(REPO_ROOT);

function schemaOf(crd: CrdDoc): JsonSchema {
  return crd.spec.versions[0]!.schema.openAPIV3Schema;
}

function newAjv(): Ajv {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  for (const f of ['int32', 'int64', 'byte']) ajv.addFormat(f, true);
  return ajv;
}

/** Every CEL rule in a schema, with the schema node it sits on and its path. */
function celRules(schema: JsonSchema, path = ''): { path: string; rule: string; message: string }[] {
  const here = (schema['x-kubernetes-validations'] ?? []).map((v) => ({
    path,
    rule: v.rule,
    message: v.message ?? '',
  }));
  const below = [
    ...Object.entries(schema.properties ?? {}).flatMap(([k, s]) => celRules(s, `${path}.${k}`)),
    ...(schema.items ? celRules(schema.items, `${path}[]`) : []),
  ];
  return [...here, ...below];
}

/** Values at a schema path (`.spec.x[].y`) inside an object. */
function valuesAt(obj: unknown, path: string): unknown[] {
  const parts = path.split(/(?=[.[])/).filter((p) => p !== '');
  let current: unknown[] = [obj];
  for (const part of parts) {
    current = current.flatMap((v) => {
      if (part === '[]') return Array.isArray(v) ? v : [];
      if (v && typeof v === 'object' && part.slice(1) in v) return [(v as Record<string, unknown>)[part.slice(1)]];
      return [];
    });
  }
  return current;
}

/** Structural schema: every node has a type; every object node declares its fields or is a map. */
function structuralProblems(schema: JsonSchema, path: string): string[] {
  const out: string[] = [];
  if (!schema.type) out.push(`${path}: no type`);
  if (schema.type === 'object' && !schema.properties && !schema.additionalProperties && path !== '.metadata') {
    out.push(`${path}: object with neither properties nor additionalProperties`);
  }
  for (const [k, s] of Object.entries(schema.properties ?? {})) out.push(...structuralProblems(s, `${path}.${k}`));
  if (schema.items) out.push(...structuralProblems(schema.items, `${path}[]`));
  if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
    out.push(...structuralProblems(schema.additionalProperties, `${path}{}`));
  }
  return out;
}

describe('api: CRDs and src/api stay in step', () => {
  it('has exactly one CRD file per kind, named and grouped as src/api says', () => {
    expect(crds.map((c) => c.file).sort()).to.deep.equal(KINDS.map((k) => k.file).sort());
    for (const info of KINDS) {
      const crd = crds.find((c) => c.file === info.file)!;
      expect(crd.metadata.name, info.kind).to.equal(`${info.plural}.${GROUP}`);
      expect(crd.spec.group).to.equal(GROUP);
      expect(crd.spec.scope).to.equal('Namespaced');
      expect(crd.spec.names).to.include({
        kind: info.kind,
        plural: info.plural,
        singular: info.singular,
        listKind: `${info.kind}List`,
      });
      expect(crd.spec.names.shortNames).to.deep.equal([info.shortName]);
      expect(crd.spec.versions.map((v) => v.name)).to.deep.equal([VERSION]);
      expect(API_VERSION).to.equal(`${GROUP}/${VERSION}`);
    }
  });

  for (const crd of crds) {
    const kind = crd.spec.names.kind;
    describe(kind, () => {
      const schema = schemaOf(crd);
      const version = crd.spec.versions[0]!;

      it('has a structural schema, a status subresource and printer columns that point at schema fields', () => {
        expect(structuralProblems(schema, '')).to.deep.equal([]);
        expect(version.subresources?.status).to.deep.equal({});
        expect(version.served && version.storage).to.equal(true);
        const cols = version.additionalPrinterColumns ?? [];
        expect(cols.length).to.be.greaterThan(0);
        for (const col of cols) {
          if (col.jsonPath.startsWith('.metadata.')) continue;
          const path = col.jsonPath.replace(/\[\*\]/g, '');
          let node: JsonSchema | undefined = schema;
          for (const part of path.split('.').filter((p) => p !== '')) {
            node = node?.type === 'array' ? node.items : node;
            node = node?.properties?.[part];
          }
          expect(node, `${kind} column ${col.name} (${col.jsonPath})`).to.not.equal(undefined);
        }
      });

      it('spec and status match the TypeScript types in src/api, both ways', () => {
        const problems = [
          ...shapes.compareMember(kind, 'spec', schema.properties?.['spec']),
          ...shapes.compareMember(kind, 'status', schema.properties?.['status']),
        ];
        expect(problems).to.deep.equal([]);
      });

      it('has CEL rules that parse', () => {
        for (const r of celRules(schema)) expect(() => parseCel(r.rule), `${kind} ${r.path}: ${r.rule}`).to.not.throw();
      });
    });
  }

  it('the drift check itself notices a field added on either side', () => {
    const pool = schemaOf(crds.find((c) => c.spec.names.kind === 'IPAddressPool')!);
    const spec = pool.properties!['spec']!;
    const extra: JsonSchema = { ...spec, properties: { ...spec.properties, shinyNewField: { type: 'string' } } };
    expect(shapes.compareMember('IPAddressPool', 'spec', extra)).to.deep.equal([
      'IPAddressPool.spec.shinyNewField: in the CRD schema but not in TypeScript',
    ]);
    const fewer = Object.fromEntries(Object.entries(spec.properties!).filter(([k]) => k !== 'avoidBuggyIPs'));
    expect(shapes.compareMember('IPAddressPool', 'spec', { ...spec, properties: fewer })).to.deep.equal([
      'IPAddressPool.spec.avoidBuggyIPs: in TypeScript but not in the CRD schema',
    ]);
    const wrongType: JsonSchema = { ...spec, properties: { ...spec.properties, autoAssign: { type: 'string' } } };
    expect(shapes.compareMember('IPAddressPool', 'spec', wrongType)[0]).to.match(/autoAssign: schema says string/);
    const optional: JsonSchema = { ...spec, required: [] };
    expect(shapes.compareMember('IPAddressPool', 'spec', optional)).to.deep.equal([
      'IPAddressPool.spec.addresses: optional in the schema but required in TypeScript',
    ]);
  });
});

describe('api: samples in crds/samples', () => {
  const validators = new Map<string, ValidateFunction>();
  const ajv = newAjv();
  for (const crd of crds) validators.set(crd.spec.names.kind, ajv.compile(schemaOf(crd)));

  it('covers every kind', () => {
    const kinds = new Set(samples.map((s) => s.object['kind']));
    for (const info of KINDS) expect(kinds.has(info.kind), info.kind).to.equal(true);
  });

  it('every Herald sample validates against its CRD schema and satisfies its CEL rules', () => {
    for (const { file, object } of samples) {
      if (object['apiVersion'] !== API_VERSION) continue;
      const kind = String(object['kind']);
      const validate = validators.get(kind);
      expect(validate, `${file}: ${kind}`).to.not.equal(undefined);
      expect(validate!(object), `${file} ${kind}: ${ajv.errorsText(validate!.errors)}`).to.equal(true);
      const crd = crds.find((c) => c.spec.names.kind === kind)!;
      for (const r of celRules(schemaOf(crd))) {
        for (const self of valuesAt(object, r.path)) {
          expect(evaluateCel(r.rule, { self }), `${file} ${kind} ${r.path}: ${r.rule}`).to.equal(true);
        }
      }
    }
  });

  it('passes herald config validation with no errors', () => {
    const result = parseConfig(samples.map((s) => s.object));
    expect(result.errors).to.deep.equal([]);
  });
});

describe('api: CEL rules reject what they should', () => {
  const peer = schemaOf(crds.find((c) => c.spec.names.kind === 'BGPPeer')!);
  const pool = schemaOf(crds.find((c) => c.spec.names.kind === 'IPAddressPool')!);
  const peerRules = celRules(peer).filter((r) => r.path === '.spec');
  const exprRules = celRules(pool).filter(
    (r) => r.path === '.spec.serviceAllocation.namespaceSelectors[].matchExpressions[]',
  );
  const failing = (rules: typeof peerRules, self: unknown): string[] =>
    rules.filter((r) => evaluateCel(r.rule, { self }) !== true).map((r) => r.message);

  const cases: { name: string; rules: () => typeof peerRules; self: unknown; fails: string[] }[] = [
    {
      name: 'peerASN and dynamicASN both set',
      rules: () => peerRules,
      self: { myASN: 1, peerASN: 2, dynamicASN: 'external', peerAddress: '192.0.2.1', ebgpMultiHop: false },
      fails: ['set exactly one of peerASN and dynamicASN'],
    },
    {
      name: 'neither peerASN nor dynamicASN',
      rules: () => peerRules,
      self: { myASN: 1, peerAddress: '192.0.2.1', ebgpMultiHop: false },
      fails: ['set exactly one of peerASN and dynamicASN'],
    },
    {
      name: 'password and passwordSecret',
      rules: () => peerRules,
      self: {
        myASN: 1,
        peerASN: 2,
        peerAddress: '192.0.2.1',
        password: 'x',
        passwordSecret: { name: 's' },
        ebgpMultiHop: false,
      },
      fails: ['set either password or passwordSecret, not both'],
    },
    {
      name: 'ebgpMultiHop on iBGP',
      rules: () => peerRules,
      self: { myASN: 7, peerASN: 7, peerAddress: '192.0.2.1', ebgpMultiHop: true },
      fails: ['ebgpMultiHop applies to eBGP sessions only'],
    },
    {
      name: 'ebgpMultiHop on dynamic internal',
      rules: () => peerRules,
      self: { myASN: 7, dynamicASN: 'internal', peerAddress: '192.0.2.1', ebgpMultiHop: true },
      fails: ['ebgpMultiHop applies to eBGP sessions only'],
    },
    {
      name: 'MetalLB localASN is refused, not pruned',
      rules: () => peerRules,
      self: { myASN: 7, peerASN: 8, peerAddress: '192.0.2.1', ebgpMultiHop: false, localASN: 9 },
      fails: [
        'localASN is not supported by Herald (every session uses myASN as its local AS); remove localASN and set myASN',
      ],
    },
    {
      name: 'MetalLB interface (unnumbered) is refused, not pruned',
      rules: () => peerRules,
      self: { myASN: 7, peerASN: 8, ebgpMultiHop: false, interface: 'eth1' },
      fails: [
        "interface (unnumbered BGP) is not supported by Herald; remove interface and set peerAddress to the router's address",
      ],
    },
    {
      name: 'ebgpMultiHop on eBGP is fine',
      rules: () => peerRules,
      self: { myASN: 7, peerASN: 8, peerAddress: '192.0.2.1', ebgpMultiHop: true },
      fails: [],
    },
    {
      name: 'In without values',
      rules: () => exprRules,
      self: { key: 'a', operator: 'In' },
      fails: ['In and NotIn need values; Exists and DoesNotExist take none'],
    },
    {
      name: 'Exists with values',
      rules: () => exprRules,
      self: { key: 'a', operator: 'Exists', values: ['x'] },
      fails: ['In and NotIn need values; Exists and DoesNotExist take none'],
    },
    {
      name: 'NotIn with values is fine',
      rules: () => exprRules,
      self: { key: 'a', operator: 'NotIn', values: ['x'] },
      fails: [],
    },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      expect(tc.rules().length).to.be.greaterThan(0);
      expect(failing(tc.rules(), tc.self)).to.deep.equal(tc.fails);
    });
  }
});
