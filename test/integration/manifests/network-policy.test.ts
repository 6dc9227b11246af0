/**
 * manifests/components/network-policy: an overlay of manifests/ with the component builds
 * with `kubectl kustomize`, its NetworkPolicies select Herald's Pods and open exactly the
 * ports the Deployment and DaemonSet declare, and everything applies to the API server
 * (embedded, and the real one on HERALD_KUBE=real).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { expect } from 'chai';
import type { ResourceType } from '../../../src/k8s/index.js';
import { REPO_ROOT } from '../../support/crds.js';
import { applyWithClient, type KubeCluster, kubeLane, startKubeCluster } from '../../support/kube-cluster.js';
import { requireTool } from '../../support/tools.js';
import { kustomize, MANIFESTS_DIR } from '../../support/helm.js';

const NETWORK_POLICIES: ResourceType = {
  group: 'networking.k8s.io',
  version: 'v1',
  plural: 'networkpolicies',
  kind: 'NetworkPolicy',
  namespaced: true,
};

type Obj = Record<string, unknown>;
interface Port {
  protocol?: string;
  port: number | string;
}
interface Policy {
  metadata: { name: string; namespace?: string };
  spec: {
    podSelector: { matchLabels?: Record<string, string> };
    policyTypes: string[];
    ingress?: { ports?: Port[] }[];
    egress?: { ports?: Port[] }[];
  };
}
interface Workload {
  kind: string;
  spec: {
    template: {
      metadata: { labels: Record<string, string> };
      spec: { containers: { ports?: { containerPort: number; protocol?: string }[] }[] };
    };
  };
}

const key = (p: { protocol?: string; port?: number | string; containerPort?: number }): string =>
  `${p.protocol ?? 'TCP'}/${String(p.port ?? p.containerPort)}`;

describe(`manifests/components/network-policy (${kubeLane()} API server)`, function () {
  this.timeout(120_000);
  let dir: string;
  let objects: Obj[];
  let c: KubeCluster | undefined;

  before(async function () {
    requireTool(this, 'kubectl');
    // An overlay as a user writes one: the base plus the component, by relative paths.
    dir = mkdtempSync(join(tmpdir(), 'herald-netpol-'));
    const manifests = relative(dir, join(REPO_ROOT, 'manifests'));
    writeFileSync(
      join(dir, 'kustomization.yaml'),
      `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [${manifests}]\ncomponents: [${manifests}/components/network-policy]\n`,
    );
    objects = await kustomize(dir);
  });
  after(async () => {
    await c?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const policies = (): Policy[] => objects.filter((o) => o['kind'] === 'NetworkPolicy') as unknown as Policy[];
  const workload = (kind: string): Workload => objects.find((o) => o['kind'] === kind) as unknown as Workload;

  it('adds a default deny and one policy each for the controller and the speaker, in herald-system', () => {
    expect(
      policies()
        .map((p) => `${p.metadata.namespace ?? ''}/${p.metadata.name}`)
        .sort(),
    ).to.deep.equal([
      'herald-system/herald-controller',
      'herald-system/herald-default-deny',
      'herald-system/herald-speaker',
    ]);
    const deny = policies().find((p) => p.metadata.name === 'herald-default-deny')!;
    expect(deny.spec).to.deep.equal({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
  });

  for (const [name, kind] of [
    ['herald-controller', 'Deployment'],
    ['herald-speaker', 'DaemonSet'],
  ] as const) {
    it(`${name} selects the ${kind}'s Pods and opens exactly the ports they declare`, () => {
      const p = policies().find((x) => x.metadata.name === name)!;
      const w = workload(kind);
      const labels = w.spec.template.metadata.labels;
      for (const [k, v] of Object.entries(p.spec.podSelector.matchLabels ?? {})) expect(labels[k], k).to.equal(v);
      expect(p.spec.podSelector.matchLabels).to.not.deep.equal({});
      const declared = w.spec.template.spec.containers
        .flatMap((ct) => ct.ports ?? [])
        .map(key)
        .sort();
      const opened = (p.spec.ingress ?? []).flatMap((r) => r.ports ?? []).map(key);
      // The speaker also opens the protocol ports it listens on without declaring them (BGP, BFD).
      expect(opened.filter((x) => !declared.includes(x)).sort()).to.deep.equal(
        name === 'herald-speaker' ? ['TCP/179', 'UDP/3784', 'UDP/4784'] : [],
      );
      expect(declared.filter((x) => !opened.includes(x))).to.deep.equal([]);
    });
  }

  it("the controller may reach only the API server's ports; the speaker's egress is open", () => {
    const ctl = policies().find((x) => x.metadata.name === 'herald-controller')!;
    expect(ctl.spec.policyTypes).to.deep.equal(['Ingress', 'Egress']);
    expect((ctl.spec.egress ?? []).flatMap((r) => r.ports ?? []).map(key)).to.deep.equal(['TCP/443', 'TCP/6443']);
    const spk = policies().find((x) => x.metadata.name === 'herald-speaker')!;
    expect(spk.spec.egress).to.deep.equal([{}]);
  });

  it('the base alone has no NetworkPolicy (the component is optional)', async () => {
    const base = await kustomize(MANIFESTS_DIR);
    expect(base.filter((o) => o['kind'] === 'NetworkPolicy')).to.deep.equal([]);
    expect(base.length).to.equal(objects.length - 3);
  });

  it(`applies, with the rest of manifests/, to the ${kubeLane()} API server`, async () => {
    c = await startKubeCluster({ enforceRbac: true });
    const results = await applyWithClient(c.client, objects);
    expect(results.filter((r) => !r.ok)).to.deep.equal([]);
    const stored = (await c.client.list(NETWORK_POLICIES, { namespace: 'herald-system' })).items
      .map((o) => o.metadata.name)
      .sort();
    expect(stored).to.deep.equal(['herald-controller', 'herald-default-deny', 'herald-speaker']);
    const spk = (await c.client.get(NETWORK_POLICIES, 'herald-system', 'herald-speaker')) as unknown as Policy;
    expect((spk.spec.ingress ?? []).flatMap((r) => r.ports ?? []).map(key)).to.include('UDP/7946');
  });
});
