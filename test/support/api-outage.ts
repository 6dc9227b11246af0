/**
 * The API server unreachable for a while, on a SpeakerCluster (issue 18 item 6). On the
 * embedded server every node's forwarder to the API is stopped (SIGSTOP: connections hang,
 * as behind a black-holed link) and the server answers every request, the controller's
 * included, with 503 after dropping every watch. On a real kube-apiserver (HERALD_KUBE=real)
 * its process is killed (every connection refused, every watch cut) and started again on the
 * same port with the same etcd when the outage is over. Meanwhile a BGP Service's /32 must stay at BIRD from every node and an L2
 * Service's address must keep being answered by ARP from the client. The store is watched
 * directly on the embedded server (every change, not the API), through a watch on a real
 * one (nothing can change while it is down): neither Service's address may change or vanish, at
 * any point. Once the API is back, a new Service must get an address and reach BIRD, with
 * nothing restarted.
 */
import { spawnSync } from 'node:child_process';
import { systemClock } from '../../src/core/clock.js';
import { nullLogger } from '../../src/core/logger.js';
import { ENDPOINT_SLICES, Informer, SERVICES, type KubeClient, type KubeObject } from '../../src/k8s/index.js';
import { eventually } from './apiserver.js';
import type { SpeakerCluster } from './speaker-cluster.js';

export interface OutageFigures {
  readonly outageMs: number;
  /** Polls of BIRD during the outage, and how many lacked a node's next hop for the BGP Service. */
  readonly birdChecks: number;
  readonly birdMisses: number;
  /** arping rounds from the client during the outage, and how many got no answer. */
  readonly arpChecks: number;
  readonly arpMisses: number;
  /** The most distinct MACs that answered one arping round (1: a single owner). */
  readonly maxAnswering: number;
  /** Service changes seen in the store, and how many changed or dropped an assigned address. */
  readonly serviceChanges: number;
  readonly addressLosses: readonly string[];
  /** From the API coming back to a new Service's /32 at BIRD from every node. */
  readonly recoveryMs: number;
  /** How the API was made unreachable: 'hang+503' (embedded) or 'killed' (a real kube-apiserver). */
  readonly how: 'hang+503' | 'killed';
}

/** Calls `onChange` with every Service change from now on; returns how to stop. */
async function watchServices(
  e: SpeakerCluster,
  onChange: (type: string, o: KubeObject, rv: string) => void,
): Promise<() => void> {
  const embedded = e.c!.embedded;
  if (embedded) {
    const store = embedded.core.store;
    const sub = store.subscribe('services', store.currentRv(), (ch) => onChange(ch.type, ch.object, String(ch.rv)));
    return () => sub.unsubscribe();
  }
  const inf = new Informer({
    client: e.c!.client,
    type: SERVICES,
    clock: systemClock(),
    logger: nullLogger,
    backoff: { baseMs: 200, maxMs: 1000 },
  });
  inf.addHandlers({
    onUpdate: (o) => onChange('MODIFIED', o, o.metadata.resourceVersion ?? ''),
    onDelete: (o) => onChange('DELETED', o, o.metadata.resourceVersion ?? ''),
  });
  inf.start();
  await inf.waitForSync();
  return () => inf.stop();
}

const ingressOf = (o: Record<string, unknown>): string =>
  ((o['status'] as { loadBalancer?: { ingress?: { ip?: string }[] } } | undefined)?.loadBalancer?.ingress ?? [])
    .map((i) => i.ip ?? '')
    .sort()
    .join(',');

async function service(
  c: KubeClient,
  name: string,
  pool: string,
  nodeIps: Readonly<Record<string, string>>,
): Promise<string> {
  await c.create(SERVICES, {
    metadata: { name, namespace: 'default', annotations: { 'herald.dev/address-pool': pool } },
    spec: { type: 'LoadBalancer', selector: { app: name }, ports: [{ port: 80 }] },
  });
  await c.create(ENDPOINT_SLICES, {
    metadata: { name: `${name}-1`, namespace: 'default', labels: { 'kubernetes.io/service-name': name } },
    addressType: 'IPv4',
    endpoints: Object.entries(nodeIps).map(([node, ip]) => ({
      addresses: [ip],
      nodeName: node,
      conditions: { ready: true },
    })),
    ports: [{ port: 80 }],
  } as KubeObject);
  return eventually(
    async () => ingressOf(await c.get(SERVICES, 'default', name)) || undefined,
    `an address for ${name}`,
    30_000,
    50,
  );
}

/** The node addresses BIRD routes `prefix` through. */
export function nextHops(e: SpeakerCluster, prefix: string): Set<string> {
  const out = new Set<string>();
  let text = '';
  try {
    text = e.bird!.birdc('show', 'route', prefix, 'all');
  } catch {
    // birdc fails while BIRD has no route for the prefix ("Network not found")
  }
  for (const m of text.matchAll(/via (\d+\.\d+\.\d+\.\d+)/g)) out.add(m[1]!);
  return out;
}

/** The MACs that answered one arping round for `ip` from the client namespace. */
export function arpAnswers(e: SpeakerCluster, ip: string): Set<string> {
  const r = spawnSync('ip', ['netns', 'exec', e.net!.name('cli'), 'arping', '-c', '1', '-w', '1', '-I', 'eth0', ip], {
    encoding: 'utf8',
  });
  return new Set([...r.stdout.toUpperCase().matchAll(/\[([0-9A-F:]{17})\]/g)].map((m) => m[1]!));
}

/**
 * The live sets a speaker logged (JSON lines, 'speaker membership'), in order, from offset
 * `from` of its log. Both the Lease view and the SWIM detector log such lines; `source: 'swim'`
 * keeps only the detector's (its logger's component is 'swim'), for a test about SWIM: the
 * Lease view can list a member that SWIM has not heard from yet.
 */
export function membershipLog(log: string, from: number, source: 'any' | 'swim' = 'any'): string[] {
  return log
    .slice(from)
    .split('\n')
    .filter((l) => l.includes('"speaker membership"'))
    .map((l) => {
      try {
        const rec = JSON.parse(l) as { alive?: unknown; component?: unknown };
        return source === 'swim' && rec.component !== 'swim' ? '' : String(rec.alive ?? '');
      } catch {
        return '';
      }
    })
    .filter((a) => a !== '');
}

export async function runApiOutage(
  e: SpeakerCluster,
  nodeIps: Readonly<Record<string, string>>,
  outageMs: number,
): Promise<OutageFigures> {
  const c = e.c!.client;
  const nodes = Object.keys(nodeIps).length;
  const bgpIp = await service(c, 'routed-web', 'routed', nodeIps);
  const l2Ip = await service(c, 'lan-web', 'lan', nodeIps);
  const prefix = `${bgpIp}/32`;
  await eventually(
    () => nextHops(e, prefix).size === nodes || undefined,
    `${prefix} from every node at BIRD`,
    60_000,
    100,
  );
  await eventually(() => arpAnswers(e, l2Ip).size === 1 || undefined, `ARP answers for ${l2Ip}`, 30_000, 200);

  // Every Service change from here on: an assigned address may never change or vanish.
  const held = new Map([
    ['default/routed-web', bgpIp],
    ['default/lan-web', l2Ip],
  ]);
  const losses: string[] = [];
  let serviceChanges = 0;
  const unwatch = await watchServices(e, (type, o, rv) => {
    serviceChanges++;
    const key = `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    const want = held.get(key);
    const now = type === 'DELETED' ? '' : ingressOf(o);
    if (want !== undefined && now !== want) losses.push(`${key}: ${want} -> ${now || 'none'} (rv ${rv})`);
  });
  const embedded = e.c!.embedded;
  const real = e.c!.real;
  let realDown = false;
  let birdChecks = 0;
  let birdMisses = 0;
  let arpChecks = 0;
  let arpMisses = 0;
  let maxAnswering = 0;
  try {
    // The outage.
    if (embedded) {
      for (const f of Object.values(e.forwarders)) f.kill('SIGSTOP');
      embedded.faults.failNext({ resource: '*', status: 503, count: Number.MAX_SAFE_INTEGER });
      embedded.faults.dropWatches();
    } else {
      realDown = true;
      await real!.killApiServer();
    }
    const t0 = performance.now();
    while (performance.now() - t0 < outageMs) {
      birdChecks++;
      if (nextHops(e, prefix).size !== nodes) birdMisses++;
      arpChecks++;
      const macs = arpAnswers(e, l2Ip);
      if (macs.size === 0) arpMisses++;
      maxAnswering = Math.max(maxAnswering, macs.size);
      await new Promise((r) => setTimeout(r, 500));
    }
    // The API is back: nothing of Herald restarted.
    if (embedded) {
      embedded.faults.clear();
      for (const f of Object.values(e.forwarders)) f.kill('SIGCONT');
    } else {
      realDown = false;
      await real!.restartApiServer();
    }
    const t1 = performance.now();
    const outage = t1 - t0;
    const late = await service(c, 'late-web', 'routed', nodeIps).catch((err: unknown) => {
      throw new Error(`after the outage a new Service got no address: ${(err as Error).message}`);
    });
    await eventually(
      () => nextHops(e, `${late}/32`).size === nodes || undefined,
      `the new Service's /32 from every node at BIRD after the outage`,
      120_000,
      100,
    );
    const recoveryMs = performance.now() - t1;
    // And the old ones are still announced.
    if (nextHops(e, prefix).size !== nodes) birdMisses++;
    return {
      outageMs: outage,
      how: embedded ? 'hang+503' : 'killed',
      birdChecks,
      birdMisses,
      arpChecks,
      arpMisses,
      maxAnswering,
      serviceChanges,
      addressLosses: losses,
      recoveryMs,
    };
  } finally {
    unwatch();
    if (embedded) {
      embedded.faults.clear();
      for (const f of Object.values(e.forwarders)) f.kill('SIGCONT');
    } else if (realDown) await real!.restartApiServer();
  }
}
