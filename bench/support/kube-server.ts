/**
 * The API server a bench runs against: `--kubernetes embedded` (default; the bench's own
 * choice of process) or `--kubernetes real` — etcd, kube-apiserver and kube-controller-manager
 * from scripts/kube-up.sh (binaries built once per machine: `sh scripts/kube-up.sh build`),
 * with Herald's CRDs installed and its namespace created, and a Unix socket forwarding to the
 * API for programs in network namespaces (lab/ns-forwarder.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { forwardUnixSocket, type SocketForwarder } from '../../lab/real-api.js';
import { KubeClient, NAMESPACES } from '../../src/k8s/index.js';
import { installCrds } from '../../test/support/kube-cluster.js';
import { startRealKube, type RealKube } from '../../test/support/real-kube.js';
import { HERALD_NAMESPACE } from '../../src/api/names.js';

export type BenchKubernetes = 'embedded' | 'real';

/** `--kubernetes embedded|real` from argv. */
export function kubernetesArg(): BenchKubernetes {
  const i = process.argv.indexOf('--kubernetes');
  const v = i >= 0 ? process.argv[i + 1] : 'embedded';
  if (v !== 'embedded' && v !== 'real') throw new Error(`--kubernetes must be embedded or real, not "${String(v)}"`);
  return v;
}

export interface RealBenchKube {
  readonly kube: RealKube;
  readonly client: KubeClient;
  /** The admin kubeconfig text. */
  readonly kubeconfig: string;
  /** kube-apiserver's PID (for CPU figures). */
  readonly apiPid: number;
  /** "kube-apiserver v1.37.2" */
  readonly version: string;
  /** Forwards a Unix socket at `path` to the API server's port. */
  forward(path: string): Promise<SocketForwarder>;
  stop(): Promise<void>;
}

/** A real control plane with `serviceCidrs` (comma-separated, as kube-apiserver takes them), Herald's CRDs and namespace. */
export async function startRealBenchKube(serviceCidrs: string): Promise<RealBenchKube> {
  const kube = await startRealKube({ HERALD_KUBE_SERVICE_CIDRS: serviceCidrs });
  const forwarders: SocketForwarder[] = [];
  try {
    const client = KubeClient.fromString(kube.kubeconfig);
    await installCrds(client);
    if (!(await client.tryGet(NAMESPACES, undefined, HERALD_NAMESPACE)))
      await client.create(NAMESPACES, { metadata: { name: HERALD_NAMESPACE } });
    const version = (await client.serverVersion()).gitVersion;
    return {
      kube,
      client,
      kubeconfig: kube.kubeconfig,
      apiPid: Number(readFileSync(join(kube.dir, 'kube-apiserver.pid'), 'utf8').trim()),
      version: `kube-apiserver ${version}`,
      forward: async (path) => {
        const f = await forwardUnixSocket(path, Number(new URL(kube.url).port));
        forwarders.push(f);
        return f;
      },
      stop: async () => {
        for (const f of forwarders) await f.close();
        client.close();
        await kube.stop();
      },
    };
  } catch (err) {
    await kube.stop();
    throw err;
  }
}
