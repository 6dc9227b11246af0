/**
 * The Kubernetes a lab runs on, as the rest of the lab sees it: a read view of the objects it
 * watches (by store resource name: `pods`, `services`, `endpointslices.discovery.k8s.io`,
 * `servicel2statuses.herald.dev`, ...), an admin client, ServiceAccount kubeconfigs, a Unix
 * socket that reaches the API from the node namespaces, and what a kubelet writes (Pod
 * status, the end of a deleted Pod). `embedded` is Herald's own API server in the lab
 * process, with its scheduler and workload controllers; `real` is etcd, kube-apiserver and
 * kube-controller-manager from scripts/kube-up.sh (lab/cluster-real.ts).
 */
import { writeFileSync } from 'node:fs';
import { applyObjects, startApiServer, type ApiServer } from './apiserver/index.js';
import type { Store } from './apiserver/store.js';
import type { LabKubernetes } from './names.js';
import { KubeClient } from '../src/k8s/index.js';

export type { LabKubernetes } from './names.js';

type Rec = Record<string, unknown>;
export type LabObj = Rec & {
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    deletionTimestamp?: string;
    creationTimestamp?: string;
  };
};

/** What the lab reads: current objects by store resource name, and a signal when they change. */
export interface LabView {
  list(resource: string, namespace?: string): LabObj[];
  get(resource: string, namespace: string | undefined, name: string): LabObj | undefined;
  /** Calls `listener` after any change to these resources; returns the unsubscribe. */
  onChange(resources: readonly string[], listener: () => void): () => void;
}

export interface LabCluster {
  readonly kind: LabKubernetes;
  /** https://127.0.0.1:PORT */
  readonly url: string;
  readonly view: LabView;
  /** Authenticated as an admin (system:masters). */
  readonly admin: KubeClient;
  /** A Unix socket whose connections reach the API server (for the node namespaces' forwarders). */
  readonly socket: string;
  /** Applies objects (CRDs first) as `kubectl apply` would; one line per object that failed. */
  apply(objects: readonly Record<string, unknown>[]): Promise<string[]>;
  /** A kubeconfig file authenticated as this ServiceAccount (defaulting to its namespace). */
  writeServiceAccountKubeconfig(path: string, namespace: string, name: string): Promise<void>;
  /** The admin kubeconfig (what the lab prints for kubectl). */
  writeAdminKubeconfig(path: string): void;
  /** A kubelet's status write for a Pod on its node. */
  writePodStatus(namespace: string, name: string, status: Rec): Promise<void>;
  /** A kubelet's last word on a deleted Pod whose containers have stopped. */
  finishPodDeletion(namespace: string, name: string, uid: string): Promise<void>;
  /** PIDs of processes the cluster runs outside the lab process (for `herald lab down`). */
  readonly pids: readonly number[];
  stop(): Promise<void>;
}

/** The view of an embedded server's store. */
export function storeView(store: Store): LabView {
  return {
    list: (r, ns) => store.list(r, ns) as LabObj[],
    get: (r, ns, name) => store.get(r, ns, name) as LabObj | undefined,
    onChange: (resources, listener) => {
      const subs = resources.map((r) => store.subscribe(r, store.currentRv(), listener));
      return () => subs.forEach((s) => s.unsubscribe());
    },
  };
}

/** Herald's embedded API server in this process (RBAC enforced, its controllers on). */
export async function startEmbeddedCluster(o: { port: number; socket: string }): Promise<LabCluster> {
  const server: ApiServer = await startApiServer({
    port: o.port,
    enforceRbac: true,
    unixSocket: o.socket,
    controllers: true,
  });
  const store = server.core.store;
  const pods = server.core.registry.lookup('', 'v1', 'pods')!;
  const view = storeView(store);
  return {
    kind: 'embedded',
    url: server.url,
    view,
    admin: KubeClient.fromString(server.kubeconfig()),
    socket: o.socket,
    apply: (objects) =>
      Promise.resolve(
        applyObjects(server.core, [...objects])
          .filter((r) => !r.ok)
          .map((r) => `${r.ref}: ${r.message}`),
      ),
    writeServiceAccountKubeconfig: (path, ns, name) =>
      Promise.resolve(server.writeKubeconfig(path, server.serviceAccountToken(ns, name), ns)),
    writeAdminKubeconfig: (path) => writeFileSync(path, server.kubeconfig(), { mode: 0o600 }),
    writePodStatus: (ns, name, status) => {
      const pod = store.get('pods', ns, name);
      if (pod) server.core.update(pods, ns, name, { ...pod, status }, 'status');
      return Promise.resolve();
    },
    // The embedded server removes a deleted Pod at once.
    finishPodDeletion: () => Promise.resolve(),
    pids: [],
    stop: () => server.stop(),
  };
}
