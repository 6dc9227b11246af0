/**
 * Secured /metrics end to end: manifests/ applied (RBAC enforced), the controller and a
 * speaker running under their ServiceAccounts with metrics over HTTPS, and scrapers with
 * real ServiceAccount tokens: one bound to herald-metrics-reader gets 200, one without the
 * binding 403, no token or a bad one 401. /healthz and /readyz stay open on the plain health
 * port. Runs on the embedded and (HERALD_KUBE=real) the real API server.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import type { TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { expect } from 'chai';
import { runController, type RunningController } from '../../../controller/main.js';
import { runSpeaker } from '../../../speaker/main.js';
import { RecordingLogger } from '../../../src/core/logger.js';
import { NAMESPACES, NODES, type ResourceType } from '../../../src/k8s/index.js';
import { selfSignedCertificate } from '../../../src/tls.js';
import { eventually } from '../../support/apiserver.js';
import { applyWithClient, type KubeCluster, kubeLane, startKubeCluster } from '../../support/kube-cluster.js';
import { requireTool } from '../../support/tools.js';
import { kustomize, MANIFESTS_DIR } from '../../support/helm.js';

const NS = 'herald-system';
const SCRAPERS = 'metrics-auth-test';
const CLUSTER_ROLE_BINDINGS: ResourceType = {
  group: 'rbac.authorization.k8s.io',
  version: 'v1',
  plural: 'clusterrolebindings',
  kind: 'ClusterRoleBinding',
  namespaced: false,
};

interface Answer {
  readonly status: number;
  readonly body: string;
  readonly peerCN: string;
}

/** GET over HTTPS; `ca` verifies the server, else any certificate is taken (as a scraper with insecureSkipVerify). */
function get(port: number, path: string, token?: string, ca?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'GET',
        servername: 'localhost',
        ...(ca ? { ca } : { rejectUnauthorized: false }),
        headers: token !== undefined ? { authorization: `Bearer ${token}` } : {},
      },
      (res) => {
        let body = '';
        const peerCN = String((res.socket as TLSSocket).getPeerCertificate().subject?.CN ?? '');
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, peerCN }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe(`secured /metrics of the controller and the speaker (${kubeLane()} API server)`, function () {
  this.timeout(120_000);
  let c: KubeCluster;
  let allowed: string;
  let denied: string;
  const stops: (() => void)[] = [];
  const dones: Promise<unknown>[] = [];
  let controller: RunningController;
  let speaker: { metricsPort: number; healthPort?: number };
  let dir: string;

  const stopSignal = (): Promise<void> => new Promise<void>((r) => stops.push(r));

  before(async function () {
    requireTool(this, 'kubectl');
    dir = mkdtempSync(join(tmpdir(), 'herald-metrics-auth-'));
    const objects = await kustomize(MANIFESTS_DIR);
    c = await startKubeCluster({ enforceRbac: true });
    const applied = await applyWithClient(c.client, objects);
    expect(applied.filter((r) => !r.ok)).to.deep.equal([]);
    await c.client.create(NODES, { metadata: { name: 'metrics-node' } });
    await c.client.create(NAMESPACES, { metadata: { name: SCRAPERS } });
    allowed = await c.tokenFor(SCRAPERS, 'prometheus');
    denied = await c.tokenFor(SCRAPERS, 'nosy');
    await c.client.create(CLUSTER_ROLE_BINDINGS, {
      metadata: { name: 'prometheus-herald-metrics' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'herald-metrics-reader' },
      subjects: [{ kind: 'ServiceAccount', name: 'prometheus', namespace: SCRAPERS }],
    });
    controller = await runController({
      client: await c.clientAs(NS, 'herald-controller'),
      logger: new RecordingLogger(),
      namespace: NS,
      leaderElect: false,
      metricsPort: 0,
      metricsHost: '127.0.0.1',
      healthPort: 0,
      metricsSecurity: {},
      stopSignal: stopSignal(),
    });
    dones.push(controller.done);
    const s = await runSpeaker({
      client: await c.clientAs(NS, 'herald-speaker'),
      logger: new RecordingLogger(),
      node: 'metrics-node',
      namespace: NS,
      metricsPort: 0,
      metricsHost: '127.0.0.1',
      healthPort: 0,
      metricsSecurity: {},
      memberPort: 0,
      bgpListen: false,
      stopSignal: stopSignal(),
    });
    dones.push(s.done);
    speaker = s;
  });
  after(async () => {
    for (const s of stops.splice(0)) s();
    await Promise.all(dones);
    await c?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const who of ['controller', 'speaker'] as const) {
    const ports = (): { metricsPort: number; healthPort?: number } => (who === 'controller' ? controller : speaker);

    it(`${who}: a token allowed by herald-metrics-reader gets the metrics over HTTPS (200)`, async () => {
      // A new binding reaches a real server's authorizer a moment later, and Herald caches a
      // denial for ten seconds: poll past both.
      const r = await eventually(
        async () => {
          const a = await get(ports().metricsPort, '/metrics', allowed);
          return a.status === 200 ? a : undefined;
        },
        'the scraper to be allowed',
        40_000,
        500,
      );
      expect(r.body).to.include(`component="${who}"`);
      expect(r.body).to.match(/^# HELP herald_/m);
      expect(r.peerCN).to.equal(`herald-${who}`);
    });

    it(`${who}: a token without the binding is forbidden (403)`, async () => {
      const r = await get(ports().metricsPort, '/metrics', denied);
      expect(r.status).to.equal(403);
      expect(r.body).to.include(`user=system:serviceaccount:${SCRAPERS}:nosy`);
      expect(r.body).to.not.include('herald_');
    });

    it(`${who}: no token, or one the API server does not know, is unauthorized (401)`, async () => {
      expect((await get(ports().metricsPort, '/metrics')).status).to.equal(401);
      const bad = await get(ports().metricsPort, '/metrics', 'not-a-real-token');
      expect(bad.status).to.equal(401);
      expect(bad.body).to.not.include('herald_');
    });

    it(`${who}: /healthz and /readyz need no token, on the HTTPS port and on the plain health port`, async () => {
      expect((await get(ports().metricsPort, '/healthz')).status).to.equal(200);
      const health = ports().healthPort!;
      expect((await fetch(`http://127.0.0.1:${health}/healthz`)).status).to.equal(200);
      await eventually(
        async () => (await fetch(`http://127.0.0.1:${health}/readyz`)).status === 200,
        `${who} ready`,
        30_000,
        100,
      );
      // The health port never serves the metrics.
      expect((await fetch(`http://127.0.0.1:${health}/metrics`)).status).to.equal(404);
    });
  }

  it('serves a given certificate and key (verified by its CA) instead of a self-signed one', async () => {
    const pem = await selfSignedCertificate({
      commonName: 'herald-metrics-given',
      dnsNames: ['localhost'],
      ips: ['127.0.0.1'],
    });
    writeFileSync(join(dir, 'tls.crt'), pem.cert);
    writeFileSync(join(dir, 'tls.key'), pem.key, { mode: 0o600 });
    const r = await runController({
      client: await c.clientAs(NS, 'herald-controller'),
      logger: new RecordingLogger(),
      namespace: NS,
      leaderElect: false,
      metricsPort: 0,
      metricsHost: '127.0.0.1',
      metricsSecurity: { certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key') },
      stopSignal: stopSignal(),
    });
    dones.push(r.done);
    const a = await get(r.metricsPort, '/healthz', undefined, pem.cert);
    expect([a.status, a.peerCN]).to.deep.equal([200, 'herald-metrics-given']);
    const m = await eventually(
      async () => {
        const x = await get(r.metricsPort, '/metrics', allowed, pem.cert);
        return x.status === 200 ? x : undefined;
      },
      'the scraper to be allowed',
      40_000,
      500,
    );
    expect(m.body).to.include('component="controller"');
  });
});
