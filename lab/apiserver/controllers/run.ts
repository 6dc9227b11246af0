/**
 * Runs the embedded server's controllers in its own process, keyed by what changed: the
 * scheduler, Deployments, ReplicaSets, EndpointSlices, and the removal of objects whose
 * controlling owner is gone (the garbage collector's job). Each pass runs after the writes
 * that triggered it (never inside a store listener); failures become Warning Events on the
 * object.
 */
import { randomBytes } from 'node:crypto';
import type { ApiCore } from '../core.js';
import type { ResourceInfo } from '../registry.js';
import type { Change, Obj } from '../store.js';
import { desiredSlices, MANAGED_BY, CONTROLLER_NAME, SERVICE_NAME } from './endpointslices.js';
import { controllerOf, planDeployment, planReplicaSet, schedule } from './workloads.js';

type Rec = Record<string, unknown>;
const rec = (v: unknown): Rec => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Rec) : {});
const key = (o: Obj): string => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

export interface Controllers {
  /** Resolves once no pass is pending (tests). */
  idle(): Promise<void>;
  stop(): void;
}

export function startControllers(core: ApiCore): Controllers {
  const info = (group: string, resource: string): ResourceInfo => core.registry.lookup(group, 'v1', resource)!;
  const PODS = info('', 'pods');
  const SERVICES = info('', 'services');
  const EVENTS = info('', 'events');
  const DEPLOYMENTS = info('apps', 'deployments');
  const REPLICASETS = info('apps', 'replicasets');
  const SLICES = info('discovery.k8s.io', 'endpointslices');
  const dirty = {
    deployments: new Set<string>(),
    replicaSets: new Set<string>(),
    services: new Set<string>(),
    namespaces: new Set<string>(),
    schedule: false,
    garbage: true,
  };
  let timer: NodeJS.Immediate | undefined;
  let waiters: (() => void)[] = [];
  let stopped = false;

  const event = (o: Obj, kind: string, reason: string, message: string): void => {
    try {
      core.create(EVENTS, o.metadata.namespace ?? 'default', {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { generateName: `${o.metadata.name}.`, namespace: o.metadata.namespace ?? 'default' },
        involvedObject: { kind, name: o.metadata.name, namespace: o.metadata.namespace, uid: o.metadata.uid },
        type: 'Warning',
        reason,
        message,
        source: { component: 'herald-apiserver-controllers' },
        firstTimestamp: new Date().toISOString(),
        lastTimestamp: new Date().toISOString(),
        count: 1,
      });
    } catch {
      // The namespace is going away.
    }
  };
  const attempt = (o: Obj, kind: string, reason: string, fn: () => void): void => {
    try {
      fn();
    } catch (err) {
      event(o, kind, reason, (err as Error).message);
    }
  };
  const writeStatus = (ri: ResourceInfo, o: Obj, status: Rec): void => {
    if (same(rec(o['status']), { ...rec(o['status']), ...status })) return;
    core.update(
      ri,
      o.metadata.namespace,
      o.metadata.name,
      { ...o, status: { ...rec(o['status']), ...status } },
      'status',
    );
  };
  const ownerKeys = (o: Obj): string[] => {
    const r = controllerOf(o);
    return r?.name ? [`${o.metadata.namespace ?? ''}/${r.name}`] : [];
  };
  const exists = (ri: ResourceInfo, ns: string | undefined, name: string, uid: string): boolean =>
    core.store.get(ri.group === '' ? ri.resource : `${ri.resource}.${ri.group}`, ns, name)?.metadata.uid === uid;

  const pass = (): void => {
    timer = undefined;
    if (stopped) return;
    const pods = core.store.list('pods');
    const replicaSets = core.store.list('replicasets.apps');
    // Deployments.
    // Keys added by this pass's own writes stay for the next pass.
    const deployments = [...dirty.deployments];
    dirty.deployments.clear();
    for (const k of deployments) {
      const [ns, name] = k.split('/') as [string, string];
      const d = core.store.get('deployments.apps', ns, name);
      if (!d || d.metadata.deletionTimestamp) continue;
      const plan = planDeployment(d, replicaSets, pods);
      attempt(d, 'Deployment', 'FailedCreate', () => {
        if (plan.create) core.create(REPLICASETS, ns, plan.create);
        for (const s of plan.scale) {
          const rs = core.store.get('replicasets.apps', ns, s.name);
          if (rs) core.update(REPLICASETS, ns, s.name, { ...rs, spec: { ...rec(rs['spec']), replicas: s.replicas } });
        }
        for (const r of plan.remove) core.delete(REPLICASETS, ns, r);
        writeStatus(DEPLOYMENTS, core.store.get('deployments.apps', ns, name)!, plan.status);
      });
    }
    // ReplicaSets.
    const sets = [...dirty.replicaSets];
    dirty.replicaSets.clear();
    for (const k of sets) {
      const [ns, name] = k.split('/') as [string, string];
      const rs = core.store.get('replicasets.apps', ns, name);
      if (!rs) continue;
      const plan = planReplicaSet(rs, core.store.list('pods', ns), () => randomBytes(3).toString('hex').slice(0, 5));
      attempt(rs, 'ReplicaSet', 'FailedCreate', () => {
        for (const p of plan.create) core.create(PODS, ns, p);
        for (const p of plan.remove) core.delete(PODS, ns, p);
        writeStatus(REPLICASETS, core.store.get('replicasets.apps', ns, name)!, plan.status);
      });
    }
    // Garbage: Pods, ReplicaSets and managed slices whose controlling owner is gone (only
    // after an owner was deleted).
    const collect = dirty.garbage;
    dirty.garbage = false;
    if (collect)
      for (const [ri, list] of [
        [PODS, core.store.list('pods')],
        [REPLICASETS, core.store.list('replicasets.apps')],
        [SLICES, core.store.list('endpointslices.discovery.k8s.io')],
      ] as const) {
        for (const o of list) {
          const owner = controllerOf(o);
          if (!owner?.name || !owner.uid) continue;
          const ownerInfo =
            owner.kind === 'ReplicaSet'
              ? REPLICASETS
              : owner.kind === 'Deployment'
                ? DEPLOYMENTS
                : owner.kind === 'Service'
                  ? SERVICES
                  : undefined;
          if (ownerInfo && !exists(ownerInfo, o.metadata.namespace, owner.name, owner.uid))
            attempt(o, ri.kind, 'FailedDelete', () => core.delete(ri, o.metadata.namespace, o.metadata.name));
        }
      }
    // Scheduler.
    if (dirty.schedule) {
      dirty.schedule = false;
      const nodes = core.store.list('nodes');
      for (const pod of core.store.list('pods')) {
        const spec = rec(pod['spec']);
        if (spec['nodeName'] || pod.metadata.deletionTimestamp) continue;
        const r = schedule(pod, nodes, core.store.list('pods'));
        attempt(pod, 'Pod', 'FailedScheduling', () => {
          if (r.node !== undefined)
            core.update(PODS, pod.metadata.namespace, pod.metadata.name, {
              ...pod,
              spec: { ...spec, nodeName: r.node },
            });
          else
            writeStatus(PODS, pod, {
              phase: 'Pending',
              conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: r.reason }],
            });
        });
      }
    }
    // EndpointSlices.
    const services = new Map<string, Obj>();
    const namespaces = [...dirty.namespaces];
    const serviceKeys = [...dirty.services];
    dirty.namespaces.clear();
    dirty.services.clear();
    for (const ns of namespaces) for (const s of core.store.list('services', ns)) services.set(key(s), s);
    for (const k of serviceKeys) {
      const [ns, name] = k.split('/') as [string, string];
      const s = core.store.get('services', ns, name);
      if (s) services.set(k, s);
    }
    for (const s of services.values()) {
      const ns = s.metadata.namespace!;
      const want = desiredSlices(s, core.store.list('pods', ns));
      if (want.length === 0) continue;
      attempt(s, 'Service', 'FailedToUpdateEndpointSlices', () => {
        const have = core.store
          .list('endpointslices.discovery.k8s.io', ns)
          .filter(
            (x) =>
              x.metadata.labels?.[SERVICE_NAME] === s.metadata.name &&
              x.metadata.labels?.[MANAGED_BY] === CONTROLLER_NAME,
          );
        for (const w of want) {
          const cur = have.find((h) => h.metadata.name === w.metadata.name);
          if (!cur) core.create(SLICES, ns, w);
          else if (
            !same([cur['endpoints'], cur['ports'], cur['addressType']], [w['endpoints'], w['ports'], w['addressType']])
          )
            core.update(SLICES, ns, cur.metadata.name, { ...cur, endpoints: w['endpoints'], ports: w['ports'] });
        }
        for (const h of have)
          if (!want.some((w) => w.metadata.name === h.metadata.name)) core.delete(SLICES, ns, h.metadata.name);
      });
    }
    const w = waiters;
    waiters = [];
    if (timer === undefined) for (const f of w) f();
    else waiters.push(...w);
  };
  const kick = (): void => {
    if (!stopped && timer === undefined) timer = setImmediate(pass);
  };
  const on = (c: Change): void => {
    const o = c.object;
    if (c.type === 'DELETED' && c.resource !== 'pods' && c.resource !== 'nodes') dirty.garbage = true;
    switch (c.resource) {
      case 'pods':
        dirty.namespaces.add(o.metadata.namespace ?? '');
        for (const k of ownerKeys(o)) dirty.replicaSets.add(k);
        if (!rec(o['spec'])['nodeName']) dirty.schedule = true;
        break;
      case 'replicasets.apps':
        dirty.replicaSets.add(key(o));
        for (const k of ownerKeys(o)) dirty.deployments.add(k);
        break;
      case 'deployments.apps':
        dirty.deployments.add(key(o));
        break;
      case 'services':
        dirty.services.add(key(o));
        break;
      case 'nodes':
        dirty.schedule = true;
        break;
    }
    kick();
  };
  const subs = ['pods', 'replicasets.apps', 'deployments.apps', 'services', 'nodes'].map((r) =>
    core.store.subscribe(r, core.store.currentRv(), on),
  );
  // Whatever exists already (a server started with objects applied).
  for (const d of core.store.list('deployments.apps')) dirty.deployments.add(key(d));
  for (const s of core.store.list('services')) dirty.services.add(key(s));
  dirty.schedule = true;
  kick();
  return {
    idle: () => new Promise<void>((resolve) => (timer === undefined ? resolve() : waiters.push(resolve))),
    stop: () => {
      stopped = true;
      for (const s of subs) s.unsubscribe();
      if (timer) clearImmediate(timer);
    },
  };
}
