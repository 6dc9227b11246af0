/**
 * charts/herald rendered (`helm template`) into a release namespace other than the default,
 * applied to the embedded API server (HERALD_KUBE=real: a real one), RBAC enforced; then the
 * controller and a speaker run with exactly the rendered RBAC and do their writes there.
 * Then the README's `helm install`, an upgrade and an uninstall on a second server.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { systemClock } from '../../../src/core/clock.js';
import { RecordingLogger } from '../../../src/core/logger.js';
import { createMetricsRegistry } from '../../../src/metrics.js';
import { DelegatedAuth } from '../../../src/metrics-auth.js';
import { apiServerReviewer } from '../../../src/k8s/reviews.js';
import { CRDS, LEASES, NODES, heraldResource, type ResourceType } from '../../../src/k8s/index.js';
import { Speaker } from '../../../speaker/speaker.js';
import { eventually } from '../../support/apiserver.js';
import { CHART_DIR, helmBinary, helmTemplate, type K8sObject, run } from '../../support/helm.js';
import { applyWithClient, type KubeCluster, kubeLane, startKubeCluster } from '../../support/kube-cluster.js';
import { controllerWorksUnderItsRbac, forbidden } from '../../support/rbac-checks.js';

const NS = 'lb-system';
const VALUES = { namespace: { create: true }, networkpolicies: { enabled: true } };
const CLUSTER_ROLE_BINDINGS: ResourceType = {
  group: 'rbac.authorization.k8s.io',
  version: 'v1',
  plural: 'clusterrolebindings',
  kind: 'ClusterRoleBinding',
  namespaced: false,
};

/** `p`, or a failure naming what it waited for and the denials logged meanwhile, after `ms`. */
async function withDeadline<T>(p: Promise<T>, ms: number, what: string, logger: RecordingLogger): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} not done after ${ms} ms; denied: ${JSON.stringify(forbidden(logger))}`)),
      ms,
    );
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

describe('charts/herald installed: rendered objects applied, Herald running under their RBAC', function () {
  this.timeout(60 * 60_000); // the first run on a machine may wait for the helm build
  let c: KubeCluster;
  let objects: K8sObject[];

  before(async function () {
    const helm = await helmBinary(this);
    this.timeout(120_000);
    objects = await helmTemplate(helm, VALUES, NS);
    c = await startKubeCluster({ enforceRbac: true });
  });
  after(async () => {
    await c?.stop();
  });

  it(`applies cleanly to the ${kubeLane()} API server (strict field validation)`, async function () {
    this.timeout(120_000);
    expect(objects.map((o) => o.kind)).to.include.members([
      'Namespace',
      'CustomResourceDefinition',
      'Deployment',
      'DaemonSet',
      'NetworkPolicy',
    ]);
    const results = await applyWithClient(c.client, objects);
    expect(results.filter((r) => !r.ok)).to.deep.equal([]);
    expect(results).to.have.length(objects.length);
    const ns = await c.client.get(
      { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false },
      undefined,
      NS,
    );
    expect(ns.metadata.labels).to.include({ 'pod-security.kubernetes.io/enforce': 'privileged' });
  });

  it('the controller assigns, writes pool status, ConfigurationState, its Lease and the memberlist Secret with only its RBAC', async function () {
    this.timeout(120_000);
    await controllerWorksUnderItsRbac(c, NS, {
      pool: '198.51.100.0/28',
      firstIp: '198.51.100.0',
      identity: 'helm-test',
    });
  });

  it('a speaker syncs, writes its ConfigurationState and membership Lease, and deletes the Lease on stop, with only its RBAC', async function () {
    this.timeout(120_000);
    const node = 'helm-node-a';
    await c.client.create(NODES, { metadata: { name: node } });
    const sa = await c.clientAs(NS, 'herald-speaker');
    const logger = new RecordingLogger();
    // No packets: no Layer 2 (native addon withheld), no SWIM, no BGP listener; what is
    // exercised is every list/watch and write the speaker makes through the API.
    const speaker = new Speaker({
      client: sa,
      clock: systemClock(),
      logger,
      registry: createMetricsRegistry({ defaultMetrics: false }),
      node,
      namespace: NS,
      native: { error: 'not loaded: this test checks API access only' },
      memberPort: 0,
      bgpListen: false,
    });
    let stopped = false;
    try {
      // A missing list/watch grant keeps its informer from syncing: fail naming the denial.
      await withDeadline(speaker.start(), 30_000, "the speaker's informers syncing", logger);
      expect(speaker.notReadyReason()).to.equal(undefined);
      const state = await eventually(
        () => c.client.tryGet(heraldResource('ConfigurationState'), NS, `speaker-${node}`),
        'the speaker ConfigurationState',
        30_000,
      );
      expect(state.metadata.labels).to.include({ 'herald.dev/node': node });
      await eventually(
        () => c.client.tryGet(LEASES, NS, `herald-speaker-${node}`),
        'the speaker membership Lease',
        30_000,
      );
      await speaker.stop();
      stopped = true;
      await eventually(
        async () => ((await c.client.tryGet(LEASES, NS, `herald-speaker-${node}`)) ? undefined : true),
        'the Lease deleted on stop',
        30_000,
      );
      expect(forbidden(logger), JSON.stringify(forbidden(logger))).to.deep.equal([]);
    } finally {
      if (!stopped) await speaker.stop();
    }
  });

  it("secured /metrics: each component's reviews pass with only its RBAC; a scraper bound to herald-metrics-reader is allowed, another forbidden", async function () {
    this.timeout(120_000);
    await c.client.create(CLUSTER_ROLE_BINDINGS, {
      metadata: { name: 'helm-test-scraper' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'herald-metrics-reader' },
      subjects: [{ kind: 'ServiceAccount', name: 'scraper', namespace: NS }],
    });
    const allowed = await c.tokenFor(NS, 'scraper');
    const other = await c.tokenFor(NS, 'not-a-scraper');
    for (const component of ['herald-controller', 'herald-speaker']) {
      const logger = new RecordingLogger();
      // The component's own client sends the TokenReview and SubjectAccessReview: without
      // the rendered grants the API server refuses them and every scrape answers 503.
      const auth = new DelegatedAuth({
        reviewer: apiServerReviewer(await c.clientAs(NS, component)),
        clock: systemClock(),
        logger,
      });
      // RBAC may take a moment to see the new binding (the real server's authorizer cache).
      await eventually(
        async () => ((await auth.check(`Bearer ${allowed}`, '/metrics', 'get')).allowed ? true : undefined),
        `${component}: the scraper allowed`,
        30_000,
      );
      expect(await auth.check(`Bearer ${other}`, '/metrics', 'get'), component).to.deep.include({
        allowed: false,
        status: 403,
        reason: 'forbidden',
      });
      expect(await auth.check('Bearer not-a-token', '/metrics', 'get'), component).to.deep.include({
        allowed: false,
        status: 401,
        reason: 'badToken',
      });
      expect(
        logger.records.filter((r) => r.level === 'error'),
        component,
      ).to.deep.equal([]);
    }
  });
});

const DEPLOYMENTS: ResourceType = {
  group: 'apps',
  version: 'v1',
  plural: 'deployments',
  kind: 'Deployment',
  namespaced: true,
};
const CLUSTER_ROLES: ResourceType = {
  group: 'rbac.authorization.k8s.io',
  version: 'v1',
  plural: 'clusterroles',
  kind: 'ClusterRole',
  namespaced: false,
};

describe("helm install / upgrade / uninstall of charts/herald (the README's command)", function () {
  this.timeout(60 * 60_000); // the first run on a machine may wait for the helm build
  let c: KubeCluster;
  let helm: string;
  let dir: string;
  const helmRun = async (...args: string[]): Promise<string> => {
    const r = await run(helm, [...args, '--kubeconfig', join(dir, 'kubeconfig')]);
    expect(r.code, `helm ${args.join(' ')}: ${r.stderr}`).to.equal(0);
    return r.stdout;
  };

  before(async function () {
    helm = await helmBinary(this);
    this.timeout(120_000);
    dir = mkdtempSync(join(tmpdir(), 'herald-helm-install-'));
    c = await startKubeCluster({ enforceRbac: true });
    c.writeKubeconfig(join(dir, 'kubeconfig'));
  });
  after(async () => {
    await c?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(`installs, upgrades with new values and uninstalls on the ${kubeLane()} API server`, async function () {
    this.timeout(180_000);
    // No kubelet runs the pods, so helm must not wait for them (Helm 4 waits only for hooks by default).
    const out = await helmRun(
      'install',
      'herald',
      CHART_DIR,
      '-n',
      'herald-system',
      '--create-namespace',
      '--timeout',
      '60s',
    );
    expect(out).to.match(/STATUS: deployed/);
    const deploy = await c.client.get(DEPLOYMENTS, 'herald-system', 'herald-controller');
    expect(deploy.metadata.labels).to.include({
      'app.kubernetes.io/managed-by': 'Helm',
      'app.kubernetes.io/instance': 'herald',
    });
    expect(await c.client.tryGet(CRDS, undefined, 'ipaddresspools.herald.dev')).to.not.equal(undefined);

    await helmRun(
      'upgrade',
      'herald',
      CHART_DIR,
      '-n',
      'herald-system',
      '--set',
      'controller.logLevel=debug,loadBalancerClass=example.com/herald',
      '--timeout',
      '60s',
    );
    const upgraded = await c.client.get(DEPLOYMENTS, 'herald-system', 'herald-controller');
    const args = (upgraded['spec'] as { template: { spec: { containers: { args: string[] }[] } } }).template.spec
      .containers[0]!.args;
    expect(args).to.deep.equal([
      'controller',
      '--leader-elect',
      '--log-level=debug',
      '--health-port=7474',
      '--lb-class=example.com/herald',
    ]);

    await helmRun('uninstall', 'herald', '-n', 'herald-system', '--timeout', '60s');
    await eventually(
      async () => ((await c.client.tryGet(DEPLOYMENTS, 'herald-system', 'herald-controller')) ? undefined : true),
      'the Deployment removed',
      30_000,
    );
    expect(await c.client.tryGet(CLUSTER_ROLES, undefined, 'herald-speaker')).to.equal(undefined);
  });
});
