/**
 * The lab's kubelets and kube-proxies, driven from the lab process: from the cluster's Pods,
 * Services, EndpointSlices and Herald's announcement status objects (the lab's view of the
 * embedded or the real API server) it computes each node's desired state (its Pods with
 * addresses and ports; the Service addresses the node announces, with their endpoints) and
 * hands it to that node's agent (lab/node-agent.ts). When an agent reports a Pod listening,
 * the Pod's status says Running and Ready with its IPs, as a kubelet's would; a deleted Pod
 * the agent no longer serves is ended (grace period 0), as a kubelet ends it once its
 * containers stopped.
 *
 * Pod addresses: node i (0-based) has 198.51.100.(16i+1 .. 16i+14) and 2001:db8:1:(i+1)::/64;
 * the other nodes route to them through node i's LAN address.
 */
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { bgpAnnouncers } from '../src/api/bgp-status.js';
import type { LabCluster } from './cluster.js';
import { SERVICE_NAME_LABEL } from '../src/api/names.js';

type Rec = Record<string, unknown>;
type Obj = Rec & {
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    labels?: Record<string, string>;
    deletionTimestamp?: string;
  };
};
const rec = (v: unknown): Rec => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Rec) : {});
const arr = (v: unknown): Rec[] => (Array.isArray(v) ? (v as Rec[]) : []);
const keyOf = (o: Obj): string => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

export const POD_V4_PREFIX = '198.51.100';
export const POD_V6_PREFIX = '2001:db8:1';
const PODS_PER_NODE = 14;

/** The pod CIDRs of node `i`. */
export function podCidrs(i: number): { v4: string; v6: string } {
  return { v4: `${POD_V4_PREFIX}.${16 * i}/28`, v6: `${POD_V6_PREFIX}:${i + 1}::/64` };
}

export interface NodeAgent {
  readonly name: string;
  readonly index: number;
  readonly lanV4: string;
  readonly proc: ChildProcess;
}

export interface Kubelets {
  stop(): void;
}

export function startKubelets(cluster: LabCluster, agents: readonly NodeAgent[], log: (msg: string) => void): Kubelets {
  const view = cluster.view;
  /** Pods whose status write or final deletion is under way (by uid). */
  const writing = new Set<string>();
  const ending = new Set<string>();
  const slots = new Map<string, Map<string, number>>(agents.map((a) => [a.name, new Map()]));
  const readyOn = new Map<string, Set<string>>(agents.map((a) => [a.name, new Set()]));
  const lastSent = new Map<string, string>();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const ipsOf = (a: NodeAgent, pod: Obj): string[] => {
    const m = slots.get(a.name)!;
    let slot = m.get(pod.metadata.uid ?? '');
    if (slot === undefined) {
      const used = new Set(m.values());
      slot = [...Array(PODS_PER_NODE).keys()].find((s) => !used.has(s));
      if (slot === undefined) return [];
      m.set(pod.metadata.uid ?? '', slot);
    }
    return [
      `${POD_V4_PREFIX}.${16 * a.index + 1 + slot}`,
      `${POD_V6_PREFIX}:${a.index + 1}::${(slot + 1).toString(16)}`,
    ];
  };

  const sync = (): void => {
    timer = undefined;
    if (stopped) return;
    const allPods = view.list('pods') as Obj[];
    const uids = new Set(allPods.map((p) => p.metadata.uid ?? ''));
    for (const uid of [...ending]) if (!uids.has(uid)) ending.delete(uid);
    const services = view.list('services') as Obj[];
    const slices = view.list('endpointslices.discovery.k8s.io') as Obj[];
    const announced = new Map<string, Set<string>>();
    for (const st of view.list('servicel2statuses.herald.dev') as Obj[]) {
      const s = rec(st['status']);
      if (typeof s['node'] !== 'string') continue;
      const k = `${String(s['serviceNamespace'] ?? '')}/${String(s['serviceName'] ?? '')}`;
      announced.set(k, (announced.get(k) ?? new Set()).add(s['node']));
    }
    // BGP: either status kind (the speakers' --service-status).
    for (const [k, nodes] of bgpAnnouncers(
      view.list('servicebgpstatuses.herald.dev'),
      view.list('bgpnodestatuses.herald.dev'),
    )) {
      for (const node of nodes.keys()) announced.set(k, (announced.get(k) ?? new Set()).add(node));
    }
    for (const a of agents) {
      const live = new Set<string>();
      const podSpecs: { key: string; name: string; ips: string[]; ports: number[] }[] = [];
      for (const pod of allPods) {
        if (rec(pod['spec'])['nodeName'] !== a.name) continue;
        if (pod.metadata.deletionTimestamp) {
          endPod(pod);
          continue;
        }
        live.add(pod.metadata.uid ?? '');
        const ips = ipsOf(a, pod);
        if (ips.length === 0) continue;
        const ports = new Set<number>();
        for (const c of arr(rec(pod['spec'])['containers']))
          for (const p of arr(c['ports'])) if (typeof p['containerPort'] === 'number') ports.add(p['containerPort']);
        for (const s of services) {
          const sel = rec(rec(s['spec'])['selector']) as Record<string, string>;
          if (
            s.metadata.namespace !== pod.metadata.namespace ||
            Object.keys(sel).length === 0 ||
            !Object.entries(sel).every(([k, v]) => pod.metadata.labels?.[k] === v)
          )
            continue;
          for (const sp of arr(rec(s['spec'])['ports'])) {
            const t = sp['targetPort'] ?? sp['port'];
            if (typeof t === 'number') ports.add(t);
          }
        }
        if (ports.size === 0) ports.add(80);
        podSpecs.push({ key: keyOf(pod), name: pod.metadata.name, ips, ports: [...ports].sort((x, y) => x - y) });
      }
      for (const uid of [...slots.get(a.name)!.keys()]) if (!live.has(uid)) slots.get(a.name)!.delete(uid);
      const vips: { ip: string; port: number; endpoints: { ip: string; port: number }[] }[] = [];
      for (const s of services) {
        const spec = rec(s['spec']);
        if (spec['type'] !== 'LoadBalancer' || !announced.get(keyOf(s))?.has(a.name)) continue;
        const local = spec['externalTrafficPolicy'] === 'Local';
        const mine = slices.filter(
          (sl) =>
            sl.metadata.namespace === s.metadata.namespace &&
            sl.metadata.labels?.[SERVICE_NAME_LABEL] === s.metadata.name,
        );
        for (const ing of arr(rec(rec(s['status'])['loadBalancer'])['ingress'])) {
          const ip = String(ing['ip'] ?? '');
          if (ip === '') continue;
          const family = ip.includes(':') ? 'IPv6' : 'IPv4';
          for (const sp of arr(spec['ports'])) {
            if ((sp['protocol'] ?? 'TCP') !== 'TCP') continue;
            const endpoints: { ip: string; port: number }[] = [];
            for (const sl of mine.filter((x) => x['addressType'] === family)) {
              const port = arr(sl['ports']).find((p) => (p['name'] ?? '') === (sp['name'] ?? ''))?.['port'];
              if (typeof port !== 'number') continue;
              for (const e of arr(sl['endpoints'])) {
                if (rec(e['conditions'])['ready'] === false || (local && e['nodeName'] !== a.name)) continue;
                for (const addr of arr(e['addresses']) as unknown as string[]) endpoints.push({ ip: addr, port });
              }
            }
            vips.push({ ip, port: Number(sp['port']), endpoints });
          }
        }
      }
      const line = JSON.stringify({ pods: podSpecs, vips });
      if (lastSent.get(a.name) !== line) {
        lastSent.set(a.name, line);
        a.proc.stdin?.write(`${line}\n`);
      }
    }
  };
  const kick = (): void => {
    if (!stopped && timer === undefined) timer = setTimeout(sync, 5);
  };

  /** A deleted Pod is no longer in its agent's desired state: end it (once per uid). */
  const endPod = (pod: Obj): void => {
    const uid = pod.metadata.uid ?? '';
    if (ending.has(uid)) return;
    ending.add(uid);
    const k = keyOf(pod);
    cluster.finishPodDeletion(pod.metadata.namespace ?? '', pod.metadata.name, uid).then(
      () => log(`pod ${k} stopped and removed`),
      (err: Error) => {
        log(`could not remove pod ${k}: ${err.message}`);
        // Gone already (404) or replaced (a uid precondition failed): nothing to retry.
        setTimeout(() => ending.delete(uid), 5000);
      },
    );
  };

  /** Writes Running/Ready status for Pods the agent reports listening. */
  const markReady = (a: NodeAgent, keys: readonly string[]): void => {
    if (stopped) return;
    readyOn.set(a.name, new Set(keys));
    for (const k of keys) {
      const [ns, name] = k.split('/') as [string, string];
      const pod = view.get('pods', ns, name) as Obj | undefined;
      if (!pod || rec(pod['spec'])['nodeName'] !== a.name || pod.metadata.deletionTimestamp) continue;
      const ips = ipsOf(a, pod);
      const st = rec(pod['status']);
      const uid = pod.metadata.uid ?? k;
      if ((st['phase'] === 'Running' && st['podIP'] === ips[0]) || writing.has(uid)) continue;
      const now = new Date().toISOString();
      const cond = (type: string): Rec => ({ type, status: 'True', lastTransitionTime: now });
      const containers = arr(rec(pod['spec'])['containers']);
      writing.add(uid);
      cluster
        .writePodStatus(ns, name, {
          phase: 'Running',
          conditions: [
            cond('PodReadyToStartContainers'),
            cond('Initialized'),
            cond('Ready'),
            cond('ContainersReady'),
            cond('PodScheduled'),
          ],
          hostIP: a.lanV4,
          hostIPs: [{ ip: a.lanV4 }],
          podIP: ips[0],
          podIPs: ips.map((ip) => ({ ip })),
          startTime: now,
          // The server computed it from the containers' resources at create; it is immutable.
          qosClass: st['qosClass'] ?? 'BestEffort',
          containerStatuses: containers.map((c) => ({
            name: c['name'],
            image: c['image'],
            imageID: '',
            ready: true,
            started: true,
            restartCount: 0,
            state: { running: { startedAt: now } },
          })),
        })
        .then(
          () => log(`pod ${k} running on ${a.name} at ${ips.join(', ')}`),
          (err: Error & { statusCode?: number }) => {
            log(`could not write the status of pod ${k}: ${err.message}`);
            // Refused (422) or gone (404): retrying the same write cannot help.
            if (err.statusCode !== 422 && err.statusCode !== 404)
              setTimeout(() => markReady(a, [...(readyOn.get(a.name) ?? [])]), 1000);
          },
        )
        .finally(() => {
          writing.delete(uid);
          kick();
        });
    }
  };
  for (const a of agents) {
    if (a.proc.stdout)
      createInterface({ input: a.proc.stdout }).on('line', (line) => {
        try {
          const m = JSON.parse(line) as { ready?: string[] };
          if (m.ready) markReady(a, m.ready);
        } catch {
          // not a protocol line
        }
      });
  }
  const unsubscribe = view.onChange(
    [
      'pods',
      'services',
      'endpointslices.discovery.k8s.io',
      'servicel2statuses.herald.dev',
      'servicebgpstatuses.herald.dev',
      'bgpnodestatuses.herald.dev',
    ],
    kick,
  );
  kick();
  return {
    stop: () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      unsubscribe();
    },
  };
}
