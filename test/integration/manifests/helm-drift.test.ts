/**
 * manifests/ and charts/herald/ install the same objects: the chart rendered with its
 * defaults against `kubectl kustomize manifests/`, and, for every kustomize component in
 * manifests/components/, the chart with the values that turn the same feature on against
 * an overlay of manifests/ with that component. Object by object, field by field, after
 * removing the four release labels Helm adds; a failure names the object and its first
 * differing field.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { requireTool } from '../../support/tools.js';
import {
  compareObjects,
  firstDifference,
  helmBinary,
  helmTemplate,
  type K8sObject,
  kustomize,
  kustomizeWithComponents,
  MANIFESTS_DIR,
  objectKey,
} from '../../support/helm.js';

/**
 * The chart values that render what each kustomize component adds. Every directory of
 * manifests/components/ needs an entry: a new component without one fails the test below.
 * namespace.create is on in all of them: the components are compared against the whole
 * base, which includes the Namespace.
 */
export const COMPONENT_VALUES: Readonly<Record<string, object>> = {
  prometheus: { prometheus: { serviceMonitor: { enabled: true }, prometheusRule: { enabled: true } } },
  'network-policy': { networkpolicies: { enabled: true } },
};

const COMPONENTS_DIR = join(MANIFESTS_DIR, 'components');

function components(): string[] {
  if (!existsSync(COMPONENTS_DIR)) return [];
  return readdirSync(COMPONENTS_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
}

describe('charts/herald agrees with manifests/ (no drift)', function () {
  this.timeout(60 * 60_000); // the first run on a machine may wait for the helm build
  let helm: string;
  let base: K8sObject[];

  before(async function () {
    requireTool(this, 'kubectl');
    helm = await helmBinary(this);
    this.timeout(60_000);
    base = await kustomize(MANIFESTS_DIR);
  });

  it('the comparison names the object and the first differing field', () => {
    const deploy = base.find((o) => o.kind === 'Deployment')!;
    const changed = structuredClone(deploy) as K8sObject & {
      spec: { template: { spec: { containers: { args: string[] }[] } } };
    };
    changed.spec.template.spec.containers[0]!.args.push('--lb-class=x');
    changed.metadata.labels = {
      ...changed.metadata.labels,
      'helm.sh/chart': 'herald-0.1.0',
      'app.kubernetes.io/name': 'other',
    };
    expect(compareObjects([changed], [deploy])).to.deep.equal([
      'Deployment herald-system/herald-controller: first difference at metadata.labels["app.kubernetes.io/name"]: chart "other", manifests/ "herald"',
    ]);
    expect(firstDifference(changed.spec, deploy.spec)?.path).to.equal('template.spec.containers[0].args[4]');
    expect(compareObjects([], [deploy])).to.deep.equal([
      'Deployment herald-system/herald-controller: in manifests/, not in the chart',
    ]);
  });

  it('default values render every object of manifests/ except the Namespace, field by field', async () => {
    const chart = await helmTemplate(helm);
    // helm install --create-namespace makes the release namespace; the chart renders it (with
    // the Pod Security labels) only when namespace.create is set, compared in the next test.
    const ns = base.filter((o) => o.kind === 'Namespace').map(objectKey);
    expect(ns).to.deep.equal(['Namespace herald-system']);
    const problems = compareObjects(
      chart,
      base.filter((o) => o.kind !== 'Namespace'),
    );
    expect(problems, problems.join('\n')).to.deep.equal([]);
    expect(chart.length).to.equal(base.length - 1);
  });

  it('namespace.create=true renders every object of manifests/, the Namespace included', async () => {
    const problems = compareObjects(await helmTemplate(helm, { namespace: { create: true } }), base);
    expect(problems, problems.join('\n')).to.deep.equal([]);
  });

  it('every kustomize component has chart values in the table', () => {
    const missing = components().filter((c) => !(c in COMPONENT_VALUES));
    expect(
      missing,
      `manifests/components/${missing.join(', ')} has no entry in COMPONENT_VALUES of test/integration/manifests/helm-drift.test.ts: add the chart values that render the same objects (and the chart templates if missing)`,
    ).to.deep.equal([]);
  });

  // One comparison per component present (the chart side of a table entry may come first:
  // its templates are tested in helm.test.ts until the component exists).
  for (const name of components().filter((c) => c in COMPONENT_VALUES)) {
    it(`component ${name}: the chart with its values renders what manifests/ with the component renders`, async () => {
      const values = { ...COMPONENT_VALUES[name], namespace: { create: true } };
      const problems = compareObjects(await helmTemplate(helm, values), await kustomizeWithComponents([name]));
      expect(
        problems,
        `chart values ${JSON.stringify(COMPONENT_VALUES[name])} vs manifests/components/${name}:\n${problems.join('\n')}`,
      ).to.deep.equal([]);
    });
  }
});
