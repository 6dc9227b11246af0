/**
 * A seeded, replayable chaos run against `herald controller`: two replicas with leader
 * election (processes) on the embedded API server; random Service operations in bursts
 * (create with an automatic, requested-address, requested-pool or shared request; change the
 * request; delete), pool edits, SIGKILL and SIGTERM of either replica (replaced at once), and
 * every fault the server injects (409/429/500/503 on Services, Events, pools and namespaces,
 * Service writes that hang until a later clear, latency, dropped watches, compaction).
 * Leases are spared: two leaders at once is a different test.
 * The address invariants are checked on every stored Service change
 * (service-invariant.ts); after the run the faults stop, the cluster settles, and the run
 * counts Services left pending although their pool has room, and current conditions
 * without their Event. Everything random comes from the seed.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { missingEvents } from '../../controller/event-rederive.js';
import { cidrToRange, parseCIDR } from '../../src/net/cidr.js';
import { formatIP } from '../../src/net/ip.js';
import { EVENTS, LEASES, NAMESPACES, SERVICES, heraldResource, type KubeObject } from '../../src/k8s/index.js';
import { startTestCluster, type TestCluster } from './apiserver.js';
import { spawnController, type ControllerProcess } from './controller-process.js';
import { ServiceInvariant } from './service-invariant.js';
import { seeded } from './seeded.js';

const POOLS = heraldResource('IPAddressPool');
const NS = 'herald-system';
const NAMES = Array.from({ length: 12 }, (_, i) => `s${i}`);
// Fewer addresses than Services: pools run out, Services wait, addresses change hands.
const REQUESTED = ['192.0.2.1', '192.0.2.3', '192.0.2.5', '192.0.2.12', '198.51.100.2'];
const P1 = ['192.0.2.0/30', '192.0.2.0/29', '192.0.2.0/28'];
const P2 = ['198.51.100.0/29', '198.51.100.0/30'];

export interface ChaosOptions {
  readonly seed: number;
  readonly ops: number;
  /** Chance per step of a restart and of a fault (the rest are Service and pool operations). */
  readonly restartRate?: number;
  readonly faultRate?: number;
  readonly log?: (line: string) => void;
}

export interface ChaosFigures {
  readonly seed: number;
  readonly ops: number;
  readonly opsRefused: number;
  readonly restarts: {
    readonly sigkill: number;
    readonly sigterm: number;
    readonly selfExit: number;
    readonly sigtermOver10s: number;
  };
  readonly faults: number;
  readonly serviceChanges: number;
  readonly duplicates: readonly string[];
  readonly moves: readonly string[];
  readonly pendingWithRoom: readonly string[];
  readonly eventsLost: readonly string[];
  readonly settleMs: number;
  readonly rssMB: number;
  readonly seconds: number;
}

type Req = { kind: 'auto' } | { kind: 'ip'; ip: string } | { kind: 'pool' } | { kind: 'share'; port: number };

function annotations(r: Req): Record<string, string | null> {
  return {
    'herald.dev/load-balancer-ips': r.kind === 'ip' ? r.ip : null,
    'herald.dev/address-pool': r.kind === 'pool' ? 'p2' : null,
    'herald.dev/allow-shared-ip': r.kind === 'share' ? 'k' : null,
  };
}

function addresses(cidrs: readonly string[]): string[] {
  const out: string[] = [];
  for (const c of cidrs) {
    const r = cidrToRange(parseCIDR(c));
    for (let v = r.first; v <= r.last; v++) out.push(formatIP({ family: r.family, value: v }));
  }
  return out;
}

const ipsOf = (o: KubeObject): string[] =>
  ((o['status'] as { loadBalancer?: { ingress?: { ip?: string }[] } } | undefined)?.loadBalancer?.ingress ?? []).map(
    (i) => i.ip ?? '',
  );

function rssMB(pid: number | undefined): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

export async function runChaos(opts: ChaosOptions): Promise<ChaosFigures> {
  const rnd = seeded(opts.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const log = opts.log ?? (() => undefined);
  const t0 = Date.now();
  const c: TestCluster = await startTestCluster({ herald: true });
  const dir = mkdtempSync(join(tmpdir(), 'herald-chaos-'));
  const kubeconfig = join(dir, 'kubeconfig');
  c.server.writeKubeconfig(kubeconfig);
  const replicas: (ControllerProcess | undefined)[] = [undefined, undefined];
  const restarts = { sigkill: 0, sigterm: 0, selfExit: 0, sigtermOver10s: 0 };
  let faults = 0;
  let refused = 0;
  const spawnReplica = (i: number): void => {
    replicas[i] = spawnController(
      kubeconfig,
      [
        '--leader-elect',
        '--lease-duration',
        '2',
        '--renew-deadline',
        '1.5',
        '--retry-period',
        '0.25',
        '--log-level',
        'info',
      ],
      { POD_NAME: `replica-${i}-${Date.now()}` },
    );
  };
  const invariant = new ServiceInvariant(c.server.core.store);
  const requests = new Map<string, Req>();
  /** Waits (bounded) until Services stopped changing for a moment: pacing, not a sleep. */
  const quiet = async (stillMs: number, maxMs: number): Promise<void> => {
    const end = Date.now() + maxMs;
    let last = -1;
    let since = Date.now();
    while (Date.now() < end) {
      const n =
        invariant.report().changes +
        (c.server.requestCounts.get('create events') ?? 0) +
        (c.server.requestCounts.get('patch events') ?? 0);
      if (n !== last) {
        last = n;
        since = Date.now();
      } else if (Date.now() - since >= stillMs) return;
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  try {
    await c.client.create(NAMESPACES, { metadata: { name: NS } });
    await c.client.create(POOLS, {
      metadata: { name: 'p1', namespace: NS },
      spec: { addresses: [P1[0]!] },
    } as KubeObject);
    await c.client.create(POOLS, {
      metadata: { name: 'p2', namespace: NS },
      spec: { addresses: [P2[0]!], autoAssign: false },
    } as KubeObject);
    spawnReplica(0);
    spawnReplica(1);
    for (let step = 0; step < opts.ops; step++) {
      for (let i = 0; i < 2; i++) {
        if (replicas[i]!.proc.exitCode !== null) {
          restarts.selfExit++;
          log(`step ${step}: replica ${i} exited by itself (${replicas[i]!.proc.exitCode})`);
          spawnReplica(i);
        }
      }
      const r = rnd();
      try {
        if (r < (opts.restartRate ?? 0.03)) {
          const i = rnd() < 0.5 ? 0 : 1;
          const signal = rnd() < 0.5 ? 'SIGKILL' : 'SIGTERM';
          const p = replicas[i]!;
          const late = setTimeout(() => {
            restarts.sigtermOver10s++;
            p.proc.kill('SIGKILL');
          }, 10_000);
          await p.kill(signal);
          clearTimeout(late);
          if (signal === 'SIGKILL') restarts.sigkill++;
          else restarts.sigterm++;
          spawnReplica(i);
        } else if (r < (opts.restartRate ?? 0.03) + (opts.faultRate ?? 0.1)) {
          faults++;
          const f = rnd();
          if (f < 0.1) c.server.faults.dropWatches();
          else if (f < 0.2) c.server.faults.compact();
          else if (f < 0.3) c.server.faults.setLatency(pick([0, 5, 20, 50]));
          else if (f < 0.4)
            c.server.faults.failNext({
              resource: 'services',
              verb: pick(['patch', 'update']),
              subresource: 'status',
              count: 1,
              status: 'hang',
            });
          else if (f < 0.5) c.server.faults.clear();
          else {
            c.server.faults.failNext({
              resource: pick([
                'services',
                'events',
                'ipaddresspools.herald.dev',
                'namespaces',
                'configurationstates.herald.dev',
              ]),
              ...(rnd() < 0.7 ? { verb: pick(['patch', 'update', 'create', 'list', 'watch', 'get']) } : {}),
              count: 1 + Math.floor(rnd() * 3),
              status: pick([409, 429, 500, 503] as const),
            });
          }
        } else if (r < 0.55) {
          const name = pick(NAMES);
          const req: Req = pick<Req>([
            { kind: 'auto' },
            { kind: 'auto' },
            { kind: 'ip', ip: pick(REQUESTED) },
            { kind: 'pool' },
            { kind: 'share', port: pick([53, 80, 443]) },
          ]);
          if (!requests.has(name)) {
            await c.client.create(SERVICES, {
              metadata: {
                name,
                namespace: 'default',
                annotations: Object.fromEntries(
                  Object.entries(annotations(req)).filter(([, v]) => v !== null),
                ) as Record<string, string>,
              },
              spec: { type: 'LoadBalancer', ports: [{ port: req.kind === 'share' ? req.port : 8080 }] },
            });
            requests.set(name, req);
          } else if (requests.get(name)!.kind !== 'share' && req.kind !== 'share') {
            await c.client.patch(SERVICES, 'default', name, { metadata: { annotations: annotations(req) } });
            requests.set(name, req);
          }
        } else if (r < 0.8) {
          const name = pick(NAMES);
          if (requests.has(name)) {
            await c.client.delete(SERVICES, 'default', name);
            requests.delete(name);
          }
        } else {
          const which = rnd() < 0.6 ? 'p1' : 'p2';
          const exists = await c.client.tryGet(POOLS, NS, which);
          if (which === 'p2' && exists && rnd() < 0.2) await c.client.delete(POOLS, NS, which);
          else if (exists)
            await c.client.patch(POOLS, NS, which, { spec: { addresses: [pick(which === 'p1' ? P1 : P2)] } });
          else
            await c.client.create(POOLS, {
              metadata: { name: which, namespace: NS },
              spec: { addresses: [pick(P2)], autoAssign: false },
            } as KubeObject);
        }
      } catch (err) {
        // An operation hit an injected fault, which the server answers before doing anything:
        // the request map is updated only after a success, so it still matches the server.
        refused++;
        log(`step ${step}: refused: ${String(err)}`);
      }
      // Bursts: half the time the next operation follows at once.
      if (rnd() < 0.5) await quiet(20, 300);
    }
    // Last, without faults or restarts: free addresses by deleting a third of the Services,
    // so Services still waiting must be served by the running leader itself.
    c.server.faults.clear();
    await quiet(500, 5000);
    for (const name of [...requests.keys()].filter(() => rnd() < 0.34)) {
      await c.client.delete(SERVICES, 'default', name);
      requests.delete(name);
    }
    // Settle: both replicas up, nothing changing for 2 s.
    const settleStart = Date.now();
    for (let i = 0; i < 2; i++) if (replicas[i]!.proc.exitCode !== null) spawnReplica(i);
    const deadline = Date.now() + 60_000;
    for (;;) {
      const before = invariant.report().changes;
      await quiet(2000, 10_000);
      for (let i = 0; i < 2; i++) if (replicas[i]!.proc.exitCode !== null) spawnReplica(i);
      const lease = await c.client.tryGet(LEASES, NS, 'herald-controller');
      const holder = (lease?.['spec'] as { holderIdentity?: string } | undefined)?.holderIdentity;
      const started = replicas.some((p) => p!.log().includes('controller started'));
      const changing = invariant.report().changes - before;
      if (holder && started && changing === 0) break;
      if (Date.now() > deadline) {
        const tails = replicas.map((p, i) => `replica ${i}: ${p!.log().split('\n').slice(-8).join('\n')}`).join('\n');
        throw new Error(
          `seed ${opts.seed}: the cluster did not settle (lease holder ${holder ?? 'none'}, started ${started}, ${changing} Service changes in the last pass)\n${tails}`,
        );
      }
    }
    await quiet(2000, 30_000);
    const settleMs = Date.now() - settleStart;
    // Pending with room.
    const svcs = (await c.client.list(SERVICES, { namespace: 'default' })).items;
    log(
      svcs
        .map((s) => `${s.metadata.name}=${ipsOf(s).join(',')}:${JSON.stringify(requests.get(s.metadata.name))}`)
        .join(' '),
    );
    const pools = new Map(
      (await c.client.list(POOLS, { namespace: NS })).items.map((p) => [
        p.metadata.name,
        addresses((p['spec'] as { addresses: string[] }).addresses),
      ]),
    );
    const used = new Set(svcs.flatMap(ipsOf));
    const free = (pool: string): boolean => (pools.get(pool) ?? []).some((ip) => !used.has(ip));
    const pendingWithRoom: string[] = [];
    for (const s of svcs) {
      const req = requests.get(s.metadata.name);
      if (!req || ipsOf(s).length > 0) continue;
      const room =
        req.kind === 'ip'
          ? [...pools.values()].some((a) => a.includes(req.ip)) && !used.has(req.ip)
          : free(req.kind === 'pool' ? 'p2' : 'p1');
      if (room)
        pendingWithRoom.push(
          `${s.metadata.name} (${JSON.stringify(req)}) pending: ${JSON.stringify((s['status'] as { conditions?: unknown[] } | undefined)?.conditions ?? [])}`,
        );
    }
    const events = (await c.client.listAll(EVENTS, { namespace: 'default' })).items.filter(
      (e) => (e['source'] as { component?: string } | undefined)?.component === 'herald-controller',
    );
    const seen = events.map((e) => ({
      uid: String((e['involvedObject'] as { uid?: string }).uid ?? ''),
      reason: String(e['reason']),
      message: String(e['message']),
    }));
    const eventsLost = missingEvents(svcs, seen, {
      nowMs: Date.now(),
      windowMs: Number.MAX_SAFE_INTEGER,
      managed: () => true,
    }).map((m) => `${m.ref.name}: ${m.e.reason} ${m.e.message}`);
    const report = invariant.report();
    return {
      seed: opts.seed,
      ops: opts.ops,
      opsRefused: refused,
      restarts,
      faults,
      serviceChanges: report.changes,
      duplicates: report.duplicates,
      moves: report.moves,
      pendingWithRoom,
      eventsLost,
      settleMs,
      rssMB: Math.max(...replicas.map((p) => rssMB(p?.proc.pid))),
      seconds: (Date.now() - t0) / 1000,
    };
  } finally {
    invariant.stop();
    c.server.faults.clear();
    await Promise.all(replicas.map((p) => p?.kill('SIGKILL')));
    rmSync(dir, { recursive: true, force: true });
    await c.server.stop();
  }
}

/** The figures as the bench and the test print them. */
export function formatFigures(f: ChaosFigures): string {
  return [
    `seed ${f.seed}: ${f.ops} ops (${f.opsRefused} refused by injected faults), restarts ${f.restarts.sigkill} SIGKILL + ${f.restarts.sigterm} SIGTERM (${f.restarts.sigtermOver10s} took over 10 s; +${f.restarts.selfExit} self-exits), ${f.faults} faults`,
    `  ${f.serviceChanges} Service changes checked: duplicates ${f.duplicates.length}, unrequested moves ${f.moves.length}`,
    `  after settling (${(f.settleMs / 1000).toFixed(1)} s): pending with room ${f.pendingWithRoom.length}, Events lost ${f.eventsLost.length}; controller RSS ${f.rssMB.toFixed(0)} MB; ${f.seconds.toFixed(0)} s in all`,
  ].join('\n');
}
