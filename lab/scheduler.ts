/**
 * The lab's scheduler on a real control plane (no kube-scheduler runs there): a Pod without a
 * node is bound through the `pods/binding` subresource, as kube-scheduler binds, to the node
 * the embedded server's scheduler would choose (lab/apiserver/controllers/workloads.ts:
 * Ready, matching the nodeSelector, fewest Pods of the same owner, then fewest Pods). A Pod
 * no node fits gets `PodScheduled=False Unschedulable` with the reason, as kube-scheduler
 * writes it. Bindings in flight count as placed (kube-scheduler's "assumed" Pods), so the
 * replicas of one Deployment spread before the watch shows the first binding.
 */
import { schedule } from './apiserver/controllers/workloads.js';
import type { Obj } from './apiserver/store.js';
import type { LabObj, LabView } from './cluster.js';
import { PODS, type KubeClient } from '../src/k8s/index.js';

export interface LabScheduler {
  stop(): void;
}

export function startScheduler(view: LabView, admin: KubeClient, log: (msg: string) => void): LabScheduler {
  /** uid -> node, for bindings sent and not yet seen in the view. */
  const assumed = new Map<string, string>();
  /** uid -> the reason last written, so an unschedulable Pod is not rewritten on every change. */
  const unschedulable = new Map<string, string>();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const withAssumed = (pods: readonly LabObj[]): Obj[] =>
    pods.map((p) => {
      const node = assumed.get(p.metadata.uid ?? '');
      return (
        node && !(p['spec'] as { nodeName?: string }).nodeName
          ? { ...p, spec: { ...(p['spec'] as object), nodeName: node } }
          : p
      ) as Obj;
    });

  const bind = async (pod: LabObj, node: string): Promise<void> => {
    const { name, namespace, uid } = pod.metadata;
    try {
      await admin.createSubresource(PODS, namespace, name, 'binding', {
        apiVersion: 'v1',
        kind: 'Binding',
        metadata: { name, namespace, uid },
        target: { apiVersion: 'v1', kind: 'Node', name: node },
      });
      log(`pod ${namespace ?? ''}/${name} bound to ${node}`);
    } catch (err) {
      assumed.delete(uid ?? '');
      log(`could not bind pod ${namespace ?? ''}/${name} to ${node}: ${(err as Error).message}`);
      kick();
    }
  };

  const markUnschedulable = async (pod: LabObj, reason: string): Promise<void> => {
    const { name, namespace, uid } = pod.metadata;
    if (unschedulable.get(uid ?? '') === reason) return;
    unschedulable.set(uid ?? '', reason);
    log(`pod ${namespace ?? ''}/${name} unschedulable: ${reason}`);
    const condition = {
      type: 'PodScheduled',
      status: 'False',
      reason: 'Unschedulable',
      message: reason,
      lastTransitionTime: new Date().toISOString(),
    };
    await admin
      .patch(PODS, namespace, name, { status: { phase: 'Pending', conditions: [condition] } }, { status: true })
      .catch((err: Error) => log(`could not write the status of pod ${namespace ?? ''}/${name}: ${err.message}`));
  };

  const sync = (): void => {
    timer = undefined;
    if (stopped) return;
    const nodes = view.list('nodes') as Obj[];
    const all = view.list('pods');
    for (const p of all) if ((p['spec'] as { nodeName?: string }).nodeName) assumed.delete(p.metadata.uid ?? '');
    const live = new Set(all.map((p) => p.metadata.uid ?? ''));
    for (const uid of [...unschedulable.keys()]) if (!live.has(uid)) unschedulable.delete(uid);
    const pending = all.filter(
      (p) =>
        !(p['spec'] as { nodeName?: string }).nodeName &&
        !p.metadata.deletionTimestamp &&
        !assumed.has(p.metadata.uid ?? ''),
    );
    pending.sort(
      (a, b) =>
        String(a.metadata.creationTimestamp ?? '').localeCompare(String(b.metadata.creationTimestamp ?? '')) ||
        a.metadata.name.localeCompare(b.metadata.name),
    );
    for (const pod of pending) {
      const decision = schedule(pod as Obj, nodes, withAssumed(all));
      if (decision.node === undefined) {
        void markUnschedulable(pod, decision.reason);
        continue;
      }
      assumed.set(pod.metadata.uid ?? '', decision.node);
      void bind(pod, decision.node);
    }
  };
  const kick = (): void => {
    if (!stopped && timer === undefined) timer = setTimeout(sync, 5);
  };
  const unsubscribe = view.onChange(['pods', 'nodes'], kick);
  kick();
  return {
    stop: () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      unsubscribe();
    },
  };
}
