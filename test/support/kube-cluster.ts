/**
 * The Kubernetes a Kubernetes-facing suite runs against: the embedded API server (default)
 * or a real control plane from scripts/kube-up.sh when HERALD_KUBE=real (the second lane
 * of scripts/test.sh). Suites use only what both offer; what exists only on the embedded
 * server (fault injection, store internals) is `embedded`, and a test needing it calls
 * `skipOnReal` with a one-line reason.
 */
import { writeFileSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { HttpMethod, KubeConfig } from '@kubernetes/client-node';
import type { ApiServer } from '../../lab/apiserver/index.js';
import { CRDS, NAMESPACES, KubeClient, type KubeObject, type ResourceType } from '../../src/k8s/index.js';
import { eventually, startTestCluster } from './apiserver.js';
import { loadCrds } from './crds.js';
import { startRealKube, type RealKube } from './real-kube.js';

export type KubeLane = 'embedded' | 'real';

export function kubeLane(): KubeLane {
  return process.env['HERALD_KUBE'] === 'real' ? 'real' : 'embedded';
}

export interface KubeCluster {
  readonly lane: KubeLane;
  readonly url: string;
  readonly kc: KubeConfig;
  /** Authenticated as an admin (system:masters). */
  readonly client: KubeClient;
  /** The embedded server (faults, store internals); undefined on the real lane. */
  readonly embedded: ApiServer | undefined;
  /** The real server's process (kill it, start it again on the same port); undefined on the embedded lane. */
  readonly real: Pick<RealKube, 'killApiServer' | 'restartApiServer' | 'dir'> | undefined;
  /** A client authenticated as the ServiceAccount (on a real server the account and its namespace are created when missing). */
  clientAs(namespace: string, serviceAccount: string): Promise<KubeClient>;
  /** A bearer token of the ServiceAccount (on a real server a TokenRequest; the account and its namespace are created when missing). */
  tokenFor(namespace: string, serviceAccount: string): Promise<string>;
  /** The admin kubeconfig, or one for a ServiceAccount token. */
  kubeconfig(token?: string): string;
  writeKubeconfig(path: string): void;
  /** The server's current resourceVersion (changes with every write). */
  currentRv(): Promise<string>;
  stop(): Promise<void>;
}

export interface KubeClusterOptions {
  /** Install Herald's CRDs (waiting until they are served). */
  herald?: boolean;
  /** Also serve the API on this Unix socket (for processes in network namespaces). */
  unixSocket?: string;
  /** Enforce RBAC on the embedded server (a real server always does). */
  enforceRbac?: boolean;
}

/** Marks the running test as not runnable on the real server and skips it there; a no-op on the embedded lane. */
export function skipOnReal(ctx: Mocha.Context, reason: string): void {
  if (kubeLane() !== 'real') return;
  if (ctx.test) (ctx.test as Mocha.Runnable & { heraldRealSkip?: string }).heraldRealSkip = reason;
  ctx.skip();
}

export async function startKubeCluster(opts: KubeClusterOptions = {}): Promise<KubeCluster> {
  if (kubeLane() === 'embedded') {
    const t = await startTestCluster({ ...(opts.herald ? { herald: true } : {}), ...(opts.enforceRbac ? { enforceRbac: true } : {}), ...(opts.unixSocket ? { unixSocket: opts.unixSocket } : {}) });
    return {
      lane: 'embedded',
      url: t.server.url,
      kc: t.kc,
      client: t.client,
      embedded: t.server,
      real: undefined,
      clientAs: (ns, sa) => Promise.resolve(t.clientAs(ns, sa)),
      tokenFor: (ns, sa) => Promise.resolve(t.server.serviceAccountToken(ns, sa)),
      kubeconfig: (token) => t.server.kubeconfig(token),
      writeKubeconfig: (path) => t.server.writeKubeconfig(path),
      currentRv: () => Promise.resolve(String(t.server.core.store.currentRv())),
      stop: () => t.server.stop(),
    };
  }
  const real = await startRealKube();
  let forwarder: Forwarder | undefined;
  try {
    const kc = new KubeConfig();
    kc.loadFromString(real.kubeconfig);
    const client = new KubeClient(kc);
    if (opts.herald) await installCrds(client);
    if (opts.unixSocket) forwarder = await forwardUnixSocket(opts.unixSocket, new URL(real.url));
    const kubeconfig = (token?: string): string => (token === undefined ? real.kubeconfig : kubeconfigWithToken(kc, token));
    return {
      lane: 'real',
      url: real.url,
      kc,
      client,
      embedded: undefined,
      real,
      clientAs: async (ns, sa) => KubeClient.fromString(kubeconfig(await serviceAccountToken(client, ns, sa))),
      tokenFor: (ns, sa) => serviceAccountToken(client, ns, sa),
      kubeconfig,
      writeKubeconfig: (path) => writeFileSync(path, real.kubeconfig),
      currentRv: async () => (await client.list(NAMESPACES, { limit: 1 })).resourceVersion,
      stop: async () => {
        client.close();
        await closeForwarder(forwarder, opts.unixSocket);
        await real.stop();
      },
    };
  } catch (err) {
    await closeForwarder(forwarder, opts.unixSocket);
    await real.stop();
    throw err;
  }
}

/** Creates Herald's CRDs and waits until each is served. */
export async function installCrds(client: KubeClient): Promise<void> {
  const crds = loadCrds();
  for (const crd of crds) {
    const body: Record<string, unknown> = { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', ...crd };
    delete body['file'];
    // Strict, as kubectl sends it: a real server then refuses unknown schema fields.
    await client.request(HttpMethod.POST, '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', { fieldValidation: 'Strict' }, body);
  }
  for (const crd of crds) await waitServed(client, crd.metadata.name);
}

/**
 * Waits until a CRD is Established and its resource answers a list: a real server briefly
 * answers "storage is (re)initializing" after Established.
 */
export async function waitServed(client: KubeClient, crdName: string): Promise<void> {
  const crd = await eventually(async () => {
    const o = await client.get(CRDS, undefined, crdName);
    const conds = (o['status'] as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? [];
    return conds.some((c) => c.type === 'Established' && c.status === 'True') ? o : undefined;
  }, `CRD ${crdName} Established`, 30_000, 50);
  const spec = crd['spec'] as { group: string; scope: string; names: { plural: string; kind: string }; versions: { name: string; served: boolean }[] };
  const type: ResourceType = { group: spec.group, version: spec.versions.find((v) => v.served)!.name, plural: spec.names.plural, kind: spec.names.kind, namespaced: spec.scope === 'Namespaced' };
  await eventually(() => client.list(type, { limit: 1 }), `${crdName} served`, 30_000, 50);
}

/** The resource type of an apiVersion/kind, from the server's discovery. */
export async function resourceTypeFor(client: KubeClient, apiVersion: string, kind: string): Promise<ResourceType | undefined> {
  const [group, version] = apiVersion.includes('/') ? (apiVersion.split('/') as [string, string]) : ['', apiVersion];
  const path = group === '' ? `/api/${version}` : `/apis/${group}/${version}`;
  const d = (await client.request(HttpMethod.GET, path).catch(() => ({}))) as { resources?: { name: string; kind: string; namespaced: boolean }[] };
  const r = (d.resources ?? []).find((x) => x.kind === kind && !x.name.includes('/'));
  return r ? { group, version, plural: r.name, kind, namespaced: r.namespaced } : undefined;
}

/** Creates (or merge-patches when present) each object through the API with strict field validation, CRDs first (waiting until served), then Namespaces. */
export async function applyWithClient(client: KubeClient, objects: readonly Record<string, unknown>[]): Promise<{ ref: string; ok: boolean; message: string }[]> {
  const rank = (o: Record<string, unknown>): number => (o['kind'] === 'CustomResourceDefinition' ? 0 : o['kind'] === 'Namespace' ? 1 : 2);
  const ordered = [...objects].sort((a, b) => rank(a) - rank(b));
  const out: { ref: string; ok: boolean; message: string }[] = [];
  let crdsReady = false;
  for (const o of ordered) {
    const meta = (o['metadata'] ?? {}) as { name?: string; namespace?: string };
    const ref = `${String(o['kind'])} ${meta.namespace ? `${meta.namespace}/` : ''}${String(meta.name)}`;
    if (!crdsReady && rank(o) > 0) {
      for (const crd of ordered.filter((x) => rank(x) === 0)) await waitServed(client, String((crd['metadata'] as { name: string }).name));
      crdsReady = true;
    }
    const type = await resourceTypeFor(client, String(o['apiVersion']), String(o['kind']));
    if (!type) {
      out.push({ ref, ok: false, message: `no resource type for ${String(o['apiVersion'])} ${String(o['kind'])}` });
      continue;
    }
    const ns = type.namespaced ? (meta.namespace ?? 'default') : undefined;
    const obj = { ...o, metadata: { ...meta, ...(ns ? { namespace: ns } : {}) } } as KubeObject;
    const path = `${type.group === '' ? '/api' : `/apis/${type.group}`}/${type.version}${ns ? `/namespaces/${ns}` : ''}/${type.plural}`;
    const strict = { fieldValidation: 'Strict' }; // as kubectl apply sends it
    try {
      if (await client.tryGet(type, ns, String(meta.name))) await client.request(HttpMethod.PATCH, `${path}/${String(meta.name)}`, strict, obj, 'application/merge-patch+json');
      else await client.request(HttpMethod.POST, path, strict, obj);
      out.push({ ref, ok: true, message: 'applied' });
    } catch (err) {
      out.push({ ref, ok: false, message: (err as Error).message });
    }
  }
  return out;
}

async function serviceAccountToken(client: KubeClient, ns: string, sa: string): Promise<string> {
  const tolerateExists = (err: unknown): void => {
    if ((err as { statusCode?: number }).statusCode !== 409) throw err;
  };
  if (!(await client.tryGet(NAMESPACES, undefined, ns))) await client.create(NAMESPACES, { metadata: { name: ns } }).catch(tolerateExists);
  await client.create({ group: '', version: 'v1', plural: 'serviceaccounts', kind: 'ServiceAccount', namespaced: true }, { metadata: { name: sa, namespace: ns } }).catch(tolerateExists);
  const out = (await client.request(HttpMethod.POST, `/api/v1/namespaces/${ns}/serviceaccounts/${sa}/token`, {}, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 86_400 } })) as { status: { token: string } };
  return out.status.token;
}

function kubeconfigWithToken(kc: KubeConfig, token: string): string {
  const cluster = kc.getCurrentCluster()!;
  const out = new KubeConfig();
  out.loadFromOptions({ clusters: [cluster], users: [{ name: 'sa', token }], contexts: [{ name: 'sa', cluster: cluster.name, user: 'sa' }], currentContext: 'sa' });
  return out.exportConfig();
}

/** A Unix socket whose connections are piped to the real server's TCP port (what the embedded server's unixSocket option serves). */
interface Forwarder {
  readonly server: Server;
  readonly open: Set<Socket>;
}

function forwardUnixSocket(path: string, url: URL): Promise<Forwarder> {
  return new Promise((resolve, reject) => {
    const open = new Set<Socket>();
    const server = createServer((c) => {
      const up = createConnection(Number(url.port), url.hostname);
      open.add(c).add(up);
      const close = (): void => {
        c.destroy();
        up.destroy();
        open.delete(c);
        open.delete(up);
      };
      c.on('error', close).on('close', close);
      up.on('error', close).on('close', close);
      c.pipe(up).pipe(c);
    });
    server.once('error', reject);
    server.listen(path, () => resolve({ server, open }));
  });
}

async function closeForwarder(f: Forwarder | undefined, path: string | undefined): Promise<void> {
  if (!f) return;
  const closed = new Promise<void>((r) => f.server.close(() => r()));
  for (const s of f.open) s.destroy();
  await closed;
  if (path) rmSync(path, { force: true });
}
