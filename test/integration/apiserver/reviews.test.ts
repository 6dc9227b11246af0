/**
 * TokenReview and SubjectAccessReview (and the Local and Self variants): what delegated
 * authentication and authorization (kube-rbac-proxy, Herald's secured /metrics) ask the API
 * server. The same tests run on the embedded server and, on the real lane, on kube-apiserver.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { requireTool } from '../../support/tools.js';
import { apiError, eventually } from '../../support/apiserver.js';
import { type KubeCluster, kubeLane, startKubeCluster } from '../../support/kube-cluster.js';
import { NAMESPACES, type KubeClient, type ResourceType } from '../../../src/k8s/index.js';

const CLUSTER_ROLES: ResourceType = {
  group: 'rbac.authorization.k8s.io',
  version: 'v1',
  plural: 'clusterroles',
  kind: 'ClusterRole',
  namespaced: false,
};
const CLUSTER_ROLE_BINDINGS: ResourceType = {
  group: 'rbac.authorization.k8s.io',
  version: 'v1',
  plural: 'clusterrolebindings',
  kind: 'ClusterRoleBinding',
  namespaced: false,
};
const NS = 'reviews-test';

type Json = Record<string, unknown>;
const post = (client: KubeClient, path: string, body: Json): Promise<Json> =>
  client.request('POST' as never, path, {}, body) as Promise<Json>;
const tokenReview = (client: KubeClient, token: string, audiences?: string[]): Promise<Json> =>
  post(client, '/apis/authentication.k8s.io/v1/tokenreviews', {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenReview',
    spec: { token, ...(audiences ? { audiences } : {}) },
  });
const accessReview = (
  client: KubeClient,
  spec: Json,
  kind = 'SubjectAccessReview',
  path = '/apis/authorization.k8s.io/v1/subjectaccessreviews',
): Promise<Json> => post(client, path, { apiVersion: 'authorization.k8s.io/v1', kind, spec });
const status = (o: Json): Json => (o['status'] ?? {}) as Json;

describe(`${kubeLane()} API server: TokenReview and SubjectAccessReview`, function () {
  this.timeout(120_000);
  let c: KubeCluster;
  let readerToken: string;
  before(async () => {
    c = await startKubeCluster({ enforceRbac: true });
    await c.client.create(NAMESPACES, { metadata: { name: NS } });
    readerToken = await c.tokenFor(NS, 'scraper');
    await c.client.create(CLUSTER_ROLES, {
      metadata: { name: 'metrics-reader-test' },
      rules: [{ nonResourceURLs: ['/metrics'], verbs: ['get'] }],
    });
    await c.client.create(CLUSTER_ROLE_BINDINGS, {
      metadata: { name: 'scraper-metrics' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'metrics-reader-test' },
      subjects: [{ kind: 'ServiceAccount', name: 'scraper', namespace: NS }],
    });
  });
  after(async () => {
    await c?.stop();
  });

  it('a TokenReview names the ServiceAccount behind a token, with its groups', async () => {
    const out = await tokenReview(c.client, readerToken);
    expect([out['apiVersion'], out['kind']]).to.deep.equal(['authentication.k8s.io/v1', 'TokenReview']);
    const s = status(out);
    expect(s['authenticated']).to.equal(true);
    const user = s['user'] as { username: string; groups: string[] };
    expect(user.username).to.equal(`system:serviceaccount:${NS}:scraper`);
    expect(user.groups).to.include.members([
      'system:serviceaccounts',
      `system:serviceaccounts:${NS}`,
      'system:authenticated',
    ]);
  });

  it('a TokenReview of an unknown token is not authenticated and says why', async () => {
    const s = status(await tokenReview(c.client, 'not-a-token'));
    expect(s['authenticated'] ?? false).to.equal(false);
    expect(s['error']).to.equal('invalid bearer token');
  });

  it('a TokenReview without a token is a 400', async () => {
    const e = await apiError(tokenReview(c.client, ''));
    expect([e.statusCode, e.reason]).to.deep.equal([400, 'BadRequest']);
    expect(e.message).to.include('token is required');
  });

  it('a SubjectAccessReview for a non-resource URL follows the bindings', async () => {
    const user = `system:serviceaccount:${NS}:scraper`;
    const groups = ['system:serviceaccounts', `system:serviceaccounts:${NS}`, 'system:authenticated'];
    const allowed = await eventually(async () => {
      const s = status(
        await accessReview(c.client, { user, groups, nonResourceAttributes: { path: '/metrics', verb: 'get' } }),
      );
      return s['allowed'] === true ? s : undefined;
    }, 'the binding to take effect');
    expect(String(allowed['reason'])).to.match(
      /^RBAC: allowed by ClusterRoleBinding "scraper-metrics" of ClusterRole "metrics-reader-test" to ServiceAccount "(reviews-test\/)?scraper(\/reviews-test)?"$/,
    );
    const other = status(
      await accessReview(c.client, {
        user: `system:serviceaccount:${NS}:other`,
        groups,
        nonResourceAttributes: { path: '/metrics', verb: 'get' },
      }),
    );
    expect(other['allowed']).to.equal(false);
    const wrongVerb = status(
      await accessReview(c.client, { user, groups, nonResourceAttributes: { path: '/metrics', verb: 'post' } }),
    );
    expect(wrongVerb['allowed']).to.equal(false);
  });

  it('a SubjectAccessReview for a resource checks verb, group, resource and namespace', async () => {
    const user = `system:serviceaccount:${NS}:scraper`;
    const s = status(
      await accessReview(c.client, {
        user,
        resourceAttributes: { namespace: 'default', verb: 'list', group: '', resource: 'secrets' },
      }),
    );
    expect(s['allowed']).to.equal(false);
    const admin = status(
      await accessReview(c.client, {
        user: 'someone',
        groups: ['system:masters'],
        resourceAttributes: { namespace: 'default', verb: 'list', group: '', resource: 'secrets' },
      }),
    );
    expect(admin['allowed']).to.equal(true);
  });

  it('rejects a SubjectAccessReview without a user or attributes (422)', async () => {
    const noUser = await apiError(accessReview(c.client, { nonResourceAttributes: { path: '/metrics', verb: 'get' } }));
    expect([noUser.statusCode, noUser.reason]).to.deep.equal([422, 'Invalid']);
    expect(noUser.message).to.equal(
      '.authorization.k8s.io "" is invalid: spec.user: Invalid value: "": at least one of user or group must be specified',
    );
    const noAttrs = await apiError(accessReview(c.client, { user: 'someone' }));
    expect(noAttrs.statusCode).to.equal(422);
    expect(noAttrs.message).to.equal(
      '.authorization.k8s.io "" is invalid: spec: Invalid value: null: exactly one of nonResourceAttributes or resourceAttributes must be specified',
    );
    const both = await apiError(
      accessReview(c.client, {
        user: 'someone',
        resourceAttributes: { verb: 'get', resource: 'pods' },
        nonResourceAttributes: { path: '/metrics', verb: 'get' },
      }),
    );
    expect(both.statusCode).to.equal(422);
    expect(both.message).to.equal(
      '.authorization.k8s.io "" is invalid: spec: Invalid value: {"Path":"/metrics","Verb":"get"}: exactly one of nonResourceAttributes or resourceAttributes must be specified',
    );
  });

  it('a LocalSubjectAccessReview must stay in the namespace of its path', async () => {
    const path = `/apis/authorization.k8s.io/v1/namespaces/${NS}/localsubjectaccessreviews`;
    const ok = await accessReview(
      c.client,
      { user: 'someone', resourceAttributes: { namespace: NS, verb: 'get', resource: 'pods' } },
      'LocalSubjectAccessReview',
      path,
    );
    expect(status(ok)['allowed']).to.equal(false);
    const e = await apiError(
      accessReview(
        c.client,
        { user: 'someone', resourceAttributes: { namespace: 'default', verb: 'get', resource: 'pods' } },
        'LocalSubjectAccessReview',
        path,
      ),
    );
    expect([e.statusCode, e.reason]).to.deep.equal([422, 'Invalid']);
    expect(e.message).to.equal(
      '.authorization.k8s.io "" is invalid: spec.resourceAttributes.namespace: Invalid value: "default": must match metadata.namespace',
    );
    const nonResource = await apiError(
      accessReview(
        c.client,
        { user: 'someone', nonResourceAttributes: { path: '/metrics', verb: 'get' } },
        'LocalSubjectAccessReview',
        path,
      ),
    );
    expect(nonResource.message).to.equal(
      '.authorization.k8s.io "" is invalid: spec.nonResourceAttributes: Invalid value: {"Path":"/metrics","Verb":"get"}: disallowed on this kind of request',
    );
  });

  it('a SelfSubjectAccessReview asks about the sender, and any authenticated user may send one', async () => {
    const sa = await c.clientAs(NS, 'scraper');
    const s = await eventually(async () => {
      const st = status(
        await accessReview(
          sa,
          { nonResourceAttributes: { path: '/metrics', verb: 'get' } },
          'SelfSubjectAccessReview',
          '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
        ),
      );
      return st['allowed'] === true ? st : undefined;
    }, 'the binding to take effect');
    expect(s['allowed']).to.equal(true);
  });

  it('kubectl auth can-i (a SelfSubjectAccessReview from kubectl) says yes for the bound account and no for another', async function () {
    requireTool(this, 'kubectl');
    const dir = mkdtempSync(join(tmpdir(), 'herald-reviews-'));
    const canI = async (token: string): Promise<{ code: number; out: string }> => {
      const kc = join(dir, 'kubeconfig');
      writeFileSync(kc, c.kubeconfig(token), { mode: 0o600 });
      return new Promise((resolve) => {
        const p = spawn('kubectl', ['auth', 'can-i', 'get', '/metrics'], { env: { ...process.env, KUBECONFIG: kc } });
        let out = '';
        p.stdout.on('data', (d: Buffer) => (out += d.toString()));
        p.stderr.on('data', (d: Buffer) => (out += d.toString()));
        p.on('close', (code) => resolve({ code: code ?? -1, out: out.trim() }));
      });
    };
    try {
      const yes = await eventually(
        async () => {
          const r = await canI(readerToken);
          return r.code === 0 ? r : undefined;
        },
        'kubectl to say yes',
        5000,
      ).catch(async (err: unknown) => {
        throw new Error(`${String(err)}: ${JSON.stringify(await canI(readerToken))}`);
      });
      expect(yes.out).to.equal('yes');
      const no = await canI(await c.tokenFor(NS, 'nosy'));
      expect([no.code, no.out]).to.deep.equal([1, 'no']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('creating TokenReviews and SubjectAccessReviews needs RBAC; reading them is not served', async () => {
    const sa = await c.clientAs(NS, 'scraper');
    expect((await apiError(tokenReview(sa, readerToken))).statusCode).to.equal(403);
    expect(
      (await apiError(accessReview(sa, { user: 'someone', nonResourceAttributes: { path: '/metrics', verb: 'get' } })))
        .statusCode,
    ).to.equal(403);
    const e = await apiError(c.client.request('GET' as never, '/apis/authentication.k8s.io/v1/tokenreviews'));
    expect(e.statusCode).to.equal(405);
    const d = (await c.client.request('GET' as never, '/apis/authentication.k8s.io/v1')) as {
      resources: { name: string; verbs: string[] }[];
    };
    expect(d.resources.find((r) => r.name === 'tokenreviews')?.verbs).to.deep.equal(['create']);
  });
});
