/**
 * What a real API server needs from the lab (and from the tests' real lane) that the embedded
 * server offers in-process: applying objects through the API the way `kubectl apply` does
 * (CRDs first and waited for, strict field validation), ServiceAccount tokens from the
 * TokenRequest API, kubeconfigs carrying such a token, and a Unix socket that reaches the
 * server's loopback port from other network namespaces.
 */
import { rmSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { stringify } from 'yaml';
import { CRDS, KubeClient, type KubeObject, type ResourceType } from '../src/k8s/index.js';

const SERVICE_ACCOUNTS: ResourceType = {
  group: '',
  version: 'v1',
  plural: 'serviceaccounts',
  kind: 'ServiceAccount',
  namespaced: true,
};

/** Polls `check` every `everyMs` until it returns a value (errors count as "not yet"); throws naming `what` after `ms`. */
export async function pollFor<T>(
  check: () => Promise<T | undefined> | T | undefined,
  what: string,
  ms: number,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline)
      throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * Waits until a CRD is Established and its resource answers a list: a real server briefly
 * answers "storage is (re)initializing" after Established.
 */
export async function waitServed(client: KubeClient, crdName: string, ms = 30_000): Promise<void> {
  const crd = await pollFor(
    async () => {
      const o = await client.get(CRDS, undefined, crdName);
      const conds = (o['status'] as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? [];
      return conds.some((c) => c.type === 'Established' && c.status === 'True') ? o : undefined;
    },
    `CRD ${crdName} Established`,
    ms,
  );
  const spec = crd['spec'] as {
    group: string;
    scope: string;
    names: { plural: string; kind: string };
    versions: { name: string; served: boolean }[];
  };
  const type: ResourceType = {
    group: spec.group,
    version: spec.versions.find((v) => v.served)!.name,
    plural: spec.names.plural,
    kind: spec.names.kind,
    namespaced: spec.scope === 'Namespaced',
  };
  await pollFor(() => client.list(type, { limit: 1 }), `${crdName} served`, ms);
}

/** The resource type of an apiVersion/kind, from the server's discovery. */
export async function resourceTypeFor(
  client: KubeClient,
  apiVersion: string,
  kind: string,
): Promise<ResourceType | undefined> {
  const [group, version] = apiVersion.includes('/') ? (apiVersion.split('/') as [string, string]) : ['', apiVersion];
  const path = group === '' ? `/api/${version}` : `/apis/${group}/${version}`;
  const d = (await client.getJson(path).catch(() => ({}))) as {
    resources?: { name: string; kind: string; namespaced: boolean }[];
  };
  const r = (d.resources ?? []).find((x) => x.kind === kind && !x.name.includes('/'));
  return r ? { group, version, plural: r.name, kind, namespaced: r.namespaced } : undefined;
}

export interface ApplyResult {
  readonly ref: string;
  readonly ok: boolean;
  readonly message: string;
}

/**
 * Creates each object through the API with strict field validation, or merge-patches it when
 * it exists; CRDs first (waited for until served), then Namespaces, then the rest.
 */
export async function applyWithClient(
  client: KubeClient,
  objects: readonly Record<string, unknown>[],
): Promise<ApplyResult[]> {
  const rank = (o: Record<string, unknown>): number =>
    o['kind'] === 'CustomResourceDefinition' ? 0 : o['kind'] === 'Namespace' ? 1 : 2;
  const ordered = [...objects].sort((a, b) => rank(a) - rank(b));
  const out: ApplyResult[] = [];
  let crdsReady = false;
  for (const o of ordered) {
    const meta = (o['metadata'] ?? {}) as { name?: string; namespace?: string };
    const ref = `${String(o['kind'])} ${meta.namespace ? `${meta.namespace}/` : ''}${String(meta.name)}`;
    if (!crdsReady && rank(o) > 0) {
      for (const crd of ordered.filter((x) => rank(x) === 0))
        await waitServed(client, String((crd['metadata'] as { name: string }).name));
      crdsReady = true;
    }
    const type = await resourceTypeFor(client, String(o['apiVersion']), String(o['kind']));
    if (!type) {
      out.push({ ref, ok: false, message: `no resource type for ${String(o['apiVersion'])} ${String(o['kind'])}` });
      continue;
    }
    const ns = type.namespaced ? (meta.namespace ?? 'default') : undefined;
    const obj = { ...o, metadata: { ...meta, ...(ns ? { namespace: ns } : {}) } } as KubeObject;
    try {
      const strict = { fieldValidation: 'Strict' }; // as kubectl apply sends it
      if (await client.tryGet(type, ns, String(meta.name)))
        await client.patch(type, ns, String(meta.name), obj, { query: strict });
      else await client.createWith(type, obj, strict);
      out.push({ ref, ok: true, message: 'applied' });
    } catch (err) {
      out.push({ ref, ok: false, message: (err as Error).message });
    }
  }
  return out;
}

/** A token for an existing ServiceAccount from the TokenRequest API (what a kubelet mounts into a Pod). */
export async function requestToken(
  client: KubeClient,
  ns: string,
  sa: string,
  expirationSeconds = 86_400,
): Promise<string> {
  const out = await client.createSubresource<{ status?: { token?: string } }>(SERVICE_ACCOUNTS, ns, sa, 'token', {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    spec: { expirationSeconds },
  });
  const token = out.status?.token;
  if (!token) throw new Error(`the TokenRequest for ServiceAccount ${ns}/${sa} returned no token`);
  return token;
}

/** A kubeconfig for the admin kubeconfig's cluster, authenticated with `token` (and defaulting to `namespace`). */
export function kubeconfigWithToken(admin: KubeClient, token: string, namespace?: string): string {
  const cluster = admin.kubeConfig.getCurrentCluster();
  if (!cluster) throw new Error('the admin kubeconfig has no current cluster');
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: cluster.name,
        cluster: {
          server: cluster.server,
          ...(cluster.caData ? { 'certificate-authority-data': cluster.caData } : {}),
          ...(cluster.caFile ? { 'certificate-authority': cluster.caFile } : {}),
        },
      },
    ],
    users: [{ name: 'sa', user: { token } }],
    contexts: [{ name: 'sa', context: { cluster: cluster.name, user: 'sa', ...(namespace ? { namespace } : {}) } }],
    'current-context': 'sa',
  });
}

/** A Unix socket whose connections are piped to a TCP port on loopback. */
export interface SocketForwarder {
  close(): Promise<void>;
}

export function forwardUnixSocket(path: string, port: number, host = '127.0.0.1'): Promise<SocketForwarder> {
  return new Promise((resolve, reject) => {
    const open = new Set<Socket>();
    const server: Server = createServer((c) => {
      const up = createConnection(port, host);
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
    rmSync(path, { force: true });
    server.listen(path, () =>
      resolve({
        close: async () => {
          const closed = new Promise<void>((r) => server.close(() => r()));
          for (const s of open) s.destroy();
          await closed;
          rmSync(path, { force: true });
        },
      }),
    );
  });
}
