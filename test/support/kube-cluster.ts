/**
 * The Kubernetes a Kubernetes-facing suite runs against: the embedded API server (default)
 * or a real control plane from scripts/kube-up.sh when HERALD_KUBE=real (the second lane
 * of scripts/test.sh). Suites use only what both offer; what exists only on the embedded
 * server (fault injection, store internals) is `embedded`, and a test needing it calls
 * `skipOnReal` with a one-line reason.
 */
import { writeFileSync } from 'node:fs';
import { HttpMethod, KubeConfig } from '@kubernetes/client-node';
import type { ApiServer } from '../../lab/apiserver/index.js';
import {
  forwardUnixSocket,
  kubeconfigWithToken,
  requestToken,
  waitServed,
  type SocketForwarder,
} from '../../lab/real-api.js';
import { NAMESPACES, KubeClient } from '../../src/k8s/index.js';
import { startTestCluster } from './apiserver.js';
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
    const t = await startTestCluster({
      ...(opts.herald ? { herald: true } : {}),
      ...(opts.enforceRbac ? { enforceRbac: true } : {}),
      ...(opts.unixSocket ? { unixSocket: opts.unixSocket } : {}),
    });
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
  let forwarder: SocketForwarder | undefined;
  try {
    const kc = new KubeConfig();
    kc.loadFromString(real.kubeconfig);
    const client = new KubeClient(kc);
    if (opts.herald) await installCrds(client);
    if (opts.unixSocket) forwarder = await forwardUnixSocket(opts.unixSocket, Number(new URL(real.url).port));
    const kubeconfig = (token?: string): string =>
      token === undefined ? real.kubeconfig : kubeconfigWithToken(client, token);
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
        await forwarder?.close();
        await real.stop();
      },
    };
  } catch (err) {
    await forwarder?.close();
    await real.stop();
    throw err;
  }
}

// The real-server helpers live in lab/real-api.ts (the lab uses them too).
export { applyWithClient, resourceTypeFor, waitServed } from '../../lab/real-api.js';

/** Creates Herald's CRDs and waits until each is served. */
export async function installCrds(client: KubeClient): Promise<void> {
  const crds = loadCrds();
  for (const crd of crds) {
    const body: Record<string, unknown> = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      ...crd,
    };
    delete body['file'];
    // Strict, as kubectl sends it: a real server then refuses unknown schema fields.
    await client.request(
      HttpMethod.POST,
      '/apis/apiextensions.k8s.io/v1/customresourcedefinitions',
      { fieldValidation: 'Strict' },
      body,
    );
  }
  for (const crd of crds) await waitServed(client, crd.metadata.name);
}

async function serviceAccountToken(client: KubeClient, ns: string, sa: string): Promise<string> {
  const tolerateExists = (err: unknown): void => {
    if ((err as { statusCode?: number }).statusCode !== 409) throw err;
  };
  if (!(await client.tryGet(NAMESPACES, undefined, ns)))
    await client.create(NAMESPACES, { metadata: { name: ns } }).catch(tolerateExists);
  await client
    .create(
      { group: '', version: 'v1', plural: 'serviceaccounts', kind: 'ServiceAccount', namespaced: true },
      { metadata: { name: sa, namespace: ns } },
    )
    .catch(tolerateExists);
  return requestToken(client, ns, sa);
}
