/**
 * One look at the lab from the outside: for every LoadBalancer Service address, who the
 * speakers say announces it, whether a fresh ARP/NDP query from the client is answered by the
 * owner's MAC (Layer 2), a real curl from the client (the answer is the serving Pod's name),
 * and, when something is missing, why.
 */
import { execFile } from 'node:child_process';
import { bgpAnnouncers } from '../src/api/bgp-status.js';
import type { LabView } from './cluster.js';
import { notAnnouncedReasons, pendingReason, type Obj } from './why.js';

type Rec = Record<string, unknown>;
const rec = (v: unknown): Rec => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Rec) : {});
const arr = (v: unknown): Rec[] => (Array.isArray(v) ? (v as Rec[]) : []);

/** One line of the table: a Service address, who announces it, and real traffic to it. */
export interface LabRow {
  readonly service: string;
  readonly ip: string;
  readonly pool: string;
  readonly mode: string;
  readonly announcedBy: readonly string[];
  /** Layer 2: the node whose MAC answered a fresh ARP/NDP query from the client. */
  readonly neighbour?: { readonly ok: boolean; readonly mac?: string; readonly node?: string; readonly owner?: string };
  /** `pod` is the answering Pod's name, `node` the node it runs on. */
  readonly curl: { readonly ok: boolean; readonly pod?: string; readonly node?: string; readonly ms?: number };
  /** Why the address is not (fully) served; absent when all is well. */
  readonly reason?: string;
}

export interface ObserveContext {
  /** The cluster as the lab sees it (embedded or real API server). */
  readonly view: LabView;
  /** The client namespace. */
  readonly client: string;
  /** Node name by lower-case MAC of its LAN interface. */
  readonly macs: ReadonlyMap<string, string>;
  /** The Herald namespace (speaker Leases). */
  readonly heraldNamespace: string;
  readonly now: () => number;
}

/** Runs a command without blocking the lab (which serves the API); its stdout, '' on failure. */
function run(cmd: string, args: readonly string[]): Promise<{ ok: boolean; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { encoding: 'utf8', timeout: 5000 }, (err, stdout) =>
      resolve({ ok: err === null, out: stdout }),
    );
  });
}

const LEASE_PREFIX = 'herald-speaker-';

/** Nodes whose speaker holds a fresh Lease. */
export function liveSpeakers(ctx: ObserveContext): Set<string> {
  const out = new Set<string>();
  for (const l of ctx.view.list('leases.coordination.k8s.io', ctx.heraldNamespace)) {
    if (!l.metadata.name.startsWith(LEASE_PREFIX)) continue;
    const spec = rec(l['spec']);
    const renewed = Date.parse(String(spec['renewTime'] ?? ''));
    const durationMs = (Number(spec['leaseDurationSeconds']) || 15) * 1000;
    if (!Number.isNaN(renewed) && ctx.now() - renewed <= durationMs)
      out.add(String(spec['holderIdentity'] ?? l.metadata.name.slice(LEASE_PREFIX.length)));
  }
  return out;
}

/** A fresh neighbour query from the client: the MAC that answers for `ip`, if any. */
export async function neighbourMac(client: string, ip: string): Promise<string | undefined> {
  await run('ip', ['netns', 'exec', client, 'ip', 'neigh', 'flush', 'to', ip]);
  if (ip.includes(':')) {
    const r = await run('ip', ['netns', 'exec', client, 'ndisc6', '-1', '-r', '2', '-w', '400', ip, 'eth0']);
    return /Target link-layer address:\s*([0-9A-Fa-f:]{17})/.exec(r.out)?.[1]?.toLowerCase();
  }
  const r = await run('ip', ['netns', 'exec', client, 'arping', '-c', '1', '-w', '1', '-I', 'eth0', ip]);
  return /\[([0-9A-Fa-f:]{17})\]/.exec(r.out)?.[1]?.toLowerCase();
}

export async function curlFrom(
  client: string,
  ip: string,
  flush: boolean,
): Promise<{ ok: boolean; pod?: string; ms?: number }> {
  if (flush) await run('ip', ['netns', 'exec', client, 'ip', 'neigh', 'flush', 'to', ip]);
  const t = Date.now();
  const r = await run('ip', [
    'netns',
    'exec',
    client,
    'curl',
    '-s',
    '-m',
    '1',
    `http://${ip.includes(':') ? `[${ip}]` : ip}/`,
  ]);
  return r.ok && r.out.trim() !== '' ? { ok: true, pod: r.out.trim(), ms: Date.now() - t } : { ok: false };
}

export async function observe(ctx: ObserveContext): Promise<LabRow[]> {
  const store = ctx.view;
  const svcs = (store.list('services') as Obj[])
    .filter((s) => rec(s['spec'])['type'] === 'LoadBalancer')
    .sort((a, b) =>
      `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`),
    );
  const l2 = store.list('servicel2statuses.herald.dev') as Obj[];
  const bgp = bgpAnnouncers(store.list('servicebgpstatuses.herald.dev'), store.list('bgpnodestatuses.herald.dev'));
  const heraldKinds = ['IPAddressPool', 'L2Advertisement', 'BGPAdvertisement', 'BGPPeer', 'BFDProfile', 'Community'];
  const herald = new Map(heraldKinds.map((k) => [k, store.list(`${k.toLowerCase()}s.herald.dev`) as Obj[]]));
  const state = {
    herald,
    services: svcs,
    slices: store.list('endpointslices.discovery.k8s.io') as Obj[],
    nodes: store.list('nodes') as Obj[],
    secrets: store.list('secrets', ctx.heraldNamespace) as Obj[],
    liveSpeakers: liveSpeakers(ctx),
    events: store.list('events') as Obj[],
  };
  const reasons = notAnnouncedReasons(state);
  const podNode = new Map(
    (store.list('pods') as Obj[]).map((p) => [
      `${p.metadata.namespace}/${p.metadata.name}`,
      String(rec(p['spec'])['nodeName'] ?? ''),
    ]),
  );
  const rows: LabRow[] = [];
  for (const s of svcs) {
    const key = `${s.metadata.namespace}/${s.metadata.name}`;
    const of = (x: Obj): Rec => rec(x['status']);
    const mine = (list: Obj[]): Obj[] =>
      list.filter(
        (x) => of(x)['serviceName'] === s.metadata.name && of(x)['serviceNamespace'] === s.metadata.namespace,
      );
    const l2By = mine(l2)
      .map((x) => String(of(x)['node'] ?? ''))
      .sort();
    const bgpBy = [...(bgp.get(key)?.keys() ?? [])].sort();
    const mode =
      bgpBy.length > 0 && l2By.length > 0 ? 'L2+BGP' : bgpBy.length > 0 ? 'BGP' : l2By.length > 0 ? 'L2' : '-';
    const ips = arr(rec(rec(s['status'])['loadBalancer'])['ingress'])
      .map((i) => String(i['ip'] ?? ''))
      .filter((ip) => ip !== '');
    const pool = s.metadata.annotations?.['herald.dev/ip-allocated-from-pool'] ?? '-';
    if (ips.length === 0) {
      rows.push({
        service: key,
        ip: '<pending>',
        pool,
        mode,
        announcedBy: [],
        curl: { ok: false },
        reason: pendingReason(state, s),
      });
      continue;
    }
    for (const ip of ips) {
      let neighbour: LabRow['neighbour'];
      const reasonsHere: string[] = [];
      const why = reasons.get(`${key}|${ip}`);
      if (why) reasonsHere.push(why);
      if (l2By.length > 0) {
        const mac = await neighbourMac(ctx.client, ip);
        const node = mac ? ctx.macs.get(mac) : undefined;
        const owner = l2By.length === 1 ? l2By[0] : undefined;
        const ok = mac !== undefined && node !== undefined && node === owner;
        neighbour = { ok, ...(mac ? { mac } : {}), ...(node ? { node } : {}), ...(owner ? { owner } : {}) };
        if (!mac) reasonsHere.push(`no ${ip.includes(':') ? 'NDP' : 'ARP'} answer for ${ip}`);
        else if (!ok)
          reasonsHere.push(
            `${ip.includes(':') ? 'NDP' : 'ARP'} answered by ${node ?? 'an unknown host'} (${mac}), but the owner is ${owner ?? `unclear (${l2By.join(',')})`}`,
          );
      }
      const c = await curlFrom(ctx.client, ip, l2By.length > 0);
      const curl: LabRow['curl'] = c.ok ? { ...c, node: podNode.get(`${s.metadata.namespace}/${c.pod}`) ?? '' } : c;
      if (!c.ok && reasonsHere.length === 0) reasonsHere.push(mode === '-' ? 'not announced' : 'curl got no answer');
      rows.push({
        service: key,
        ip,
        pool,
        mode,
        announcedBy: [...new Set([...l2By, ...bgpBy])],
        ...(neighbour ? { neighbour } : {}),
        curl,
        ...(reasonsHere.length > 0 ? { reason: reasonsHere.join('; ') } : {}),
      });
    }
  }
  return rows;
}

/** Served: answered by a Pod, announced, and (Layer 2) the owner answered the neighbour query. */
export function served(r: LabRow): boolean {
  return r.curl.ok && r.mode !== '-' && (r.neighbour === undefined || r.neighbour.ok);
}

export function formatTable(rows: readonly LabRow[]): string[] {
  const cells = [
    ['SERVICE', 'IP', 'POOL', 'MODE', 'ANNOUNCED BY', 'ARP/NDP', 'CURL FROM CLIENT', 'WHY'],
    ...rows.map((r) => [
      r.service,
      r.ip,
      r.pool,
      r.mode,
      r.announcedBy.join(',') || '-',
      r.neighbour
        ? r.neighbour.ok
          ? r.neighbour.node!
          : r.neighbour.mac
            ? `WRONG ${r.neighbour.node ?? r.neighbour.mac}`
            : 'no answer'
        : '-',
      r.curl.ok
        ? `${r.curl.pod ?? ''} on ${r.curl.node ?? '?'} (${r.curl.ms ?? 0} ms)`
        : r.ip === '<pending>'
          ? '-'
          : 'no answer',
      r.reason ?? '',
    ]),
  ];
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  return cells.map((r) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
}
