/**
 * `herald status`'s pure core: the objects read from the API in, one report out (pools,
 * Services with their announcing nodes, BGP sessions, configuration errors, problems).
 * No I/O; the command reads the objects and prints the report as a table or JSON.
 */
import { IP_ALLOCATED_FROM_POOL, SERVICE_CONDITION_ADDRESS_ASSIGNED } from '../api/annotations.js';
import { bgpAnnouncers } from '../api/bgp-status.js';
import { isObject, type JsonObject } from '../config/reader.js';

/** An API object as read: only the fields the report uses are looked at. */
export interface ApiObject {
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly annotations?: Readonly<Record<string, string>>;
  };
  readonly [field: string]: unknown;
}

export interface StatusInput {
  readonly pools: readonly ApiObject[];
  readonly services: readonly ApiObject[];
  readonly l2Statuses: readonly ApiObject[];
  /** ServiceBGPStatus (speakers with `--service-status=per-service`). */
  readonly bgpStatuses: readonly ApiObject[];
  /** BGPNodeStatus shards (speakers with `--service-status=per-node`, the default); both kinds are read, a mixed cluster shows every Service. */
  readonly bgpNodeStatuses?: readonly ApiObject[];
  readonly sessions: readonly ApiObject[];
  readonly configStates: readonly ApiObject[];
  /** Warning Events on Services (the speakers' announceFailed say why a node does not announce). */
  readonly events: readonly ApiObject[];
  /** BGPPeers: a session's peer address when its BGPSessionState does not carry one. */
  readonly peers?: readonly ApiObject[];
  /** Serve only Services with this loadBalancerClass (default: those with none). */
  readonly lbClass?: string;
}

export interface PoolRow {
  readonly name: string;
  readonly addresses: readonly string[];
  readonly assignedIPv4: string;
  readonly availableIPv4: string;
  readonly assignedIPv6: string;
  readonly availableIPv6: string;
}

export interface NodeReason {
  readonly node: string;
  readonly reason: string;
}

export interface ServiceRow {
  readonly namespace: string;
  readonly name: string;
  readonly ips: readonly string[];
  readonly pool: string;
  readonly mode: 'L2' | 'BGP' | 'L2+BGP' | '';
  readonly announcedBy: readonly string[];
  /** Interfaces (L2) or peers (BGP) per announcing node. */
  readonly via: Readonly<Record<string, readonly string[]>>;
  /** Nodes that do not announce, with the reason when known. */
  readonly notAnnouncing: readonly NodeReason[];
  /** The controller's AddressAssigned condition reason and message, when set. */
  readonly assignment?: { readonly reason: string; readonly message: string };
}

export interface SessionRow {
  readonly node: string;
  readonly peer: string;
  readonly peerAddress: string;
  readonly state: string;
  readonly prefixesSent: number;
  readonly lastError: string;
  readonly bfd: string;
}

export interface ConfigErrorRow {
  readonly reporter: string;
  readonly object: string;
  readonly field: string;
  readonly reason: string;
  readonly transient: boolean;
}

export interface StatusReport {
  readonly pools: readonly PoolRow[];
  readonly services: readonly ServiceRow[];
  readonly sessions: readonly SessionRow[];
  readonly configErrors: readonly ConfigErrorRow[];
  /** Each thing that is wrong, one line each; exit status 1 when any. */
  readonly problems: readonly string[];
  /** Worth a look, not counted as wrong (an address nobody announces, e.g. no ready endpoint). */
  readonly warnings: readonly string[];
}

const obj = (v: unknown): JsonObject => (isObject(v) ? v : {});
const str = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');
const strs = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
const byName = (a: { namespace?: string; name: string }, b: { namespace?: string; name: string }): number =>
  (a.namespace ?? '').localeCompare(b.namespace ?? '') || a.name.localeCompare(b.name);

function poolRow(p: ApiObject): PoolRow {
  const st = obj(p['status']);
  return {
    name: p.metadata.name,
    addresses: strs(obj(p['spec'])['addresses']),
    assignedIPv4: str(st['assignedIPv4']) || '0',
    availableIPv4: str(st['availableIPv4']) || '0',
    assignedIPv6: str(st['assignedIPv6']) || '0',
    availableIPv6: str(st['availableIPv6']) || '0',
  };
}

/** Per Service key: node → interfaces or peers, from the speakers' status objects. */
function announcers(
  list: readonly ApiObject[],
  detail: (st: JsonObject) => string[],
): Map<string, Map<string, string[]>> {
  const out = new Map<string, Map<string, string[]>>();
  for (const o of list) {
    const st = obj(o['status']);
    const key = `${str(st['serviceNamespace'])}/${str(st['serviceName'])}`;
    const node = str(st['node']);
    if (!node) continue;
    const m = out.get(key) ?? new Map<string, string[]>();
    m.set(node, detail(st));
    out.set(key, m);
  }
  return out;
}

/** The speakers' announceFailed Events: "node N cannot announce IP ...". */
function failures(events: readonly ApiObject[]): Map<string, NodeReason[]> {
  const out = new Map<string, NodeReason[]>();
  for (const e of events) {
    if (str(e['reason']) !== 'announceFailed') continue;
    const io = obj(e['involvedObject']);
    const key = `${str(io['namespace'])}/${str(io['name'])}`;
    const msg = str(e['message']);
    const m = /^node (\S+) (.*)$/.exec(msg);
    if (!m) continue;
    const list = out.get(key) ?? [];
    const node = m[1]!;
    const i = list.findIndex((r) => r.node === node);
    if (i >= 0) list.splice(i, 1);
    list.push({ node, reason: m[2]! });
    out.set(key, list);
  }
  return out;
}

function served(svc: ApiObject, lbClass: string | undefined): boolean {
  const spec = obj(svc['spec']);
  if (spec['type'] !== 'LoadBalancer') return false;
  const cls = typeof spec['loadBalancerClass'] === 'string' ? spec['loadBalancerClass'] : undefined;
  return cls === lbClass;
}

export function buildStatusReport(inp: StatusInput): StatusReport {
  const problems: string[] = [];
  const warnings: string[] = [];
  const pools = [...inp.pools].sort((a, b) => byName(a.metadata, b.metadata)).map(poolRow);
  for (const p of pools) {
    if (
      p.addresses.length > 0 &&
      p.availableIPv4 === '0' &&
      p.availableIPv6 === '0' &&
      (p.assignedIPv4 !== '0' || p.assignedIPv6 !== '0')
    ) {
      warnings.push(`pool ${p.name} is full`);
    }
  }
  const l2 = announcers(inp.l2Statuses, (st) =>
    Array.isArray(st['interfaces']) ? st['interfaces'].map((i) => str(obj(i)['name'])) : [],
  );
  const bgp = bgpAnnouncers(inp.bgpStatuses, inp.bgpNodeStatuses ?? []);
  const failed = failures(inp.events);
  const speakerNodes = [
    ...new Set(
      inp.configStates
        .map((c) => obj(c['status']))
        .filter((s) => s['component'] === 'speaker')
        .map((s) => str(s['node']))
        .filter((n) => n !== ''),
    ),
  ].sort();

  const services: ServiceRow[] = [];
  for (const svc of [...inp.services].sort((a, b) => byName(a.metadata, b.metadata))) {
    if (!served(svc, inp.lbClass)) continue;
    const namespace = svc.metadata.namespace ?? 'default';
    const key = `${namespace}/${svc.metadata.name}`;
    const st = obj(svc['status']);
    const ips = (
      Array.isArray(obj(st['loadBalancer'])['ingress']) ? (obj(st['loadBalancer'])['ingress'] as unknown[]) : []
    )
      .map((i) => str(obj(i)['ip']))
      .filter((ip) => ip !== '');
    const cond = (Array.isArray(st['conditions']) ? st['conditions'].map(obj) : []).find(
      (c) => c['type'] === SERVICE_CONDITION_ADDRESS_ASSIGNED,
    );
    const l2Nodes = l2.get(key) ?? new Map<string, string[]>();
    const bgpNodes = bgp.get(key) ?? new Map<string, string[]>();
    const mode =
      l2Nodes.size > 0 && bgpNodes.size > 0 ? 'L2+BGP' : l2Nodes.size > 0 ? 'L2' : bgpNodes.size > 0 ? 'BGP' : '';
    const announcedBy = [...new Set([...l2Nodes.keys(), ...bgpNodes.keys()])].sort();
    const via: Record<string, string[]> = {};
    for (const n of announcedBy) via[n] = [...(l2Nodes.get(n) ?? []), ...(bgpNodes.get(n) ?? [])];
    const known = failed.get(key) ?? [];
    const notAnnouncing: NodeReason[] = [];
    for (const n of speakerNodes) {
      if (announcedBy.includes(n)) continue;
      const f = known.find((r) => r.node === n);
      if (f) notAnnouncing.push(f);
      else if (mode === 'L2')
        notAnnouncing.push({ node: n, reason: 'not the elected owner (Layer 2: one node answers for an address)' });
    }
    for (const f of known) if (!speakerNodes.includes(f.node) && !announcedBy.includes(f.node)) notAnnouncing.push(f);
    const row: ServiceRow = {
      namespace,
      name: svc.metadata.name,
      ips,
      pool: svc.metadata.annotations?.[IP_ALLOCATED_FROM_POOL] ?? '',
      mode,
      announcedBy,
      via,
      notAnnouncing,
      ...(cond ? { assignment: { reason: str(cond['reason']), message: str(cond['message']) } } : {}),
    };
    services.push(row);
    if (ips.length === 0)
      problems.push(
        `Service ${key} is pending${cond ? `: ${str(cond['reason'])}: ${str(cond['message'])}` : ' (the controller has not handled it)'}`,
      );
    else if (announcedBy.length === 0)
      warnings.push(
        `Service ${key} (${ips.join(', ')}) is announced by no node${known.length > 0 ? `: ${known.map((k) => `${k.node} ${k.reason}`).join('; ')}` : ''}`,
      );
  }

  const peerAddresses = new Map((inp.peers ?? []).map((p) => [p.metadata.name, str(obj(p['spec'])['peerAddress'])]));
  const sessions: SessionRow[] = inp.sessions
    .map((s) => obj(s['status']))
    .map((st) => {
      const bfd = obj(st['bfd']);
      return {
        node: str(st['node']),
        peer: str(st['peer']),
        peerAddress: str(st['peerAddress']) || (peerAddresses.get(str(st['peer'])) ?? ''),
        state: str(st['state']) || 'Unknown',
        prefixesSent: typeof st['prefixesSent'] === 'number' ? st['prefixesSent'] : 0,
        lastError: str(st['lastError']),
        bfd: str(bfd['state']),
      };
    })
    .sort((a, b) => a.node.localeCompare(b.node) || a.peer.localeCompare(b.peer));
  for (const s of sessions) {
    const to = `${s.node} → ${s.peer}${s.peerAddress ? ` (${s.peerAddress})` : ''}`;
    if (s.state !== 'Established')
      problems.push(`BGP session ${to} is ${s.state}${s.lastError ? `: ${s.lastError}` : ''}`);
    else if (s.bfd !== '' && s.bfd !== 'Up') problems.push(`BFD ${to} is ${s.bfd}`);
  }

  // The controller and every speaker report the same bad object: one row, its reporters joined.
  const byError = new Map<string, ConfigErrorRow>();
  const add = (row: ConfigErrorRow): void => {
    const key = `${row.object}|${row.field}|${row.reason}`;
    const prior = byError.get(key);
    byError.set(key, prior ? { ...prior, reporter: `${prior.reporter}, ${row.reporter}` } : row);
  };
  for (const c of [...inp.configStates].sort((a, b) => byName(a.metadata, b.metadata))) {
    const st = obj(c['status']);
    const reporter = `${str(st['component']) || 'unknown'}${st['node'] ? ` ${str(st['node'])}` : ''}`;
    const errors = Array.isArray(st['errors']) ? st['errors'].map(obj) : [];
    for (const e of errors) {
      const ns = str(e['namespace']);
      add({
        reporter,
        object: `${str(e['kind'])} ${ns ? `${ns}/` : ''}${str(e['name'])}`,
        field: str(e['field']),
        reason: str(e['reason']),
        transient: e['transient'] === true,
      });
    }
    if (errors.length === 0 && st['result'] === 'Invalid')
      add({
        reporter,
        object: `ConfigurationState ${c.metadata.name}`,
        field: '',
        reason: 'configuration is Invalid',
        transient: false,
      });
  }
  const configErrors = [...byError.values()];
  for (const e of configErrors)
    problems.push(
      `configuration error (${e.reporter}): ${e.object}${e.field ? `: ${e.field}` : ''}: ${e.reason}${e.transient ? ' (may resolve)' : ''}`,
    );
  return { pools, services, sessions, configErrors, problems, warnings };
}
