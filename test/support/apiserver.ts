/** Starts the embedded API server for a test suite and builds clients for it. */
import { KubeConfig } from '@kubernetes/client-node';
import { startApiServer, type ApiServer, type ApiServerOptions } from '../../lab/apiserver/index.js';
import { KubeClient } from '../../src/k8s/client.js';
import { loadCrds } from './crds.js';

export interface TestCluster {
  readonly server: ApiServer;
  readonly kc: KubeConfig;
  readonly client: KubeClient;
  /** A client authenticated as a ServiceAccount. */
  clientAs(namespace: string, serviceAccount: string): KubeClient;
}

export async function startTestCluster(opts: ApiServerOptions & { herald?: boolean } = {}): Promise<TestCluster> {
  const server = await startApiServer({ bookmarkIntervalMs: 100, ...opts });
  const kc = new KubeConfig();
  kc.loadFromString(server.kubeconfig());
  const client = new KubeClient(kc);
  if (opts.herald) {
    for (const crd of loadCrds()) {
      const body: Record<string, unknown> = { ...crd };
      delete body['file'];
      server.core.create(
        server.core.registry.lookup('apiextensions.k8s.io', 'v1', 'customresourcedefinitions')!,
        undefined,
        body,
      );
    }
  }
  return {
    server,
    kc,
    client,
    clientAs: (namespace, sa) => KubeClient.fromString(server.kubeconfig(server.serviceAccountToken(namespace, sa))),
  };
}

/** One cluster with Herald's CRDs for a whole suite: started before its tests, stopped after; `use` receives it. */
export function withHeraldCluster(suite: Mocha.Suite, use: (c: TestCluster) => void): void {
  let c: TestCluster | undefined;
  suite.beforeAll(async () => {
    c = await startTestCluster({ herald: true });
    use(c);
  });
  suite.afterAll(async () => {
    await c?.server.stop();
  });
}

/** Polls `fn` until it returns a value other than undefined/false, or fails after the deadline. */
export async function eventually<T>(
  fn: () => T | undefined | false | Promise<T | undefined | false>,
  what: string,
  timeoutMs = 10_000,
  everyMs = 10,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${lastErr ? `: ${String(lastErr)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Rejects with the KubeApiError a call throws, or fails when it succeeds. */
export async function apiError(
  p: Promise<unknown>,
): Promise<{ statusCode: number; reason: string; message: string; status?: Record<string, unknown> }> {
  try {
    await p;
  } catch (err) {
    return err as { statusCode: number; reason: string; message: string };
  }
  throw new Error('expected the API call to fail');
}
