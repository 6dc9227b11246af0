/**
 * Herald's address invariants, checked on every change the embedded API server stores for
 * Services (a subscription to its store: every resourceVersion, immune to dropped watches):
 *
 * - no duplicate: no two Services show one address in status.loadBalancer.ingress unless
 *   they may share it (the same non-empty sharing key, no protocol/port in common, the same
 *   externalTrafficPolicy, and for Local the same selector);
 * - no unrequested move: an address a Service shows leaves its status only when its own
 *   request (type, class, requested addresses, pool, sharing key, families) changed since the
 *   address appeared, or when the Service is deleted.
 */
import type { Change, Obj, Store } from '../../lab/apiserver/store.js';

interface Shown {
  readonly ips: readonly string[];
  readonly share: string;
  readonly ports: readonly string[];
  readonly policy: string;
  readonly selector: string;
  readonly request: string;
  /** The request when each address first appeared. */
  readonly since: ReadonlyMap<string, string>;
}

export interface InvariantReport {
  readonly changes: number;
  readonly duplicates: readonly string[];
  readonly moves: readonly string[];
}

const ANN = (o: Obj): Record<string, string> => (o.metadata.annotations ?? {}) as Record<string, string>;

function requestOf(o: Obj): string {
  const spec = (o['spec'] ?? {}) as Record<string, unknown>;
  const a = ANN(o);
  const pick = (...keys: string[]): string => keys.map((k) => a[k] ?? '').join('|');
  return JSON.stringify([
    spec['type'],
    spec['loadBalancerClass'],
    spec['loadBalancerIP'],
    spec['ipFamilies'],
    spec['ipFamilyPolicy'],
    pick('herald.dev/load-balancer-ips', 'metallb.io/loadBalancerIPs', 'metallb.universe.tf/loadBalancerIPs'),
    pick('herald.dev/address-pool', 'metallb.io/address-pool', 'metallb.universe.tf/address-pool'),
    pick('herald.dev/allow-shared-ip', 'metallb.io/allow-shared-ip', 'metallb.universe.tf/allow-shared-ip'),
  ]);
}

function shownOf(o: Obj, prior: Shown | undefined): Shown {
  const spec = (o['spec'] ?? {}) as {
    ports?: { protocol?: string; port?: number }[];
    externalTrafficPolicy?: string;
    selector?: Record<string, string>;
  };
  const status = (o['status'] ?? {}) as { loadBalancer?: { ingress?: { ip?: string }[] } };
  const ips = (status.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '').filter((ip) => ip !== '');
  const a = ANN(o);
  const request = requestOf(o);
  const since = new Map<string, string>();
  for (const ip of ips) since.set(ip, prior?.since.get(ip) ?? request);
  return {
    ips,
    share: (
      a['herald.dev/allow-shared-ip'] ??
      a['metallb.io/allow-shared-ip'] ??
      a['metallb.universe.tf/allow-shared-ip'] ??
      ''
    ).trim(),
    ports: (spec.ports ?? []).map((p) => `${p.protocol ?? 'TCP'}/${p.port ?? 0}`),
    policy: spec.externalTrafficPolicy ?? 'Cluster',
    selector: JSON.stringify(Object.entries(spec.selector ?? {}).sort()),
    request,
    since,
  };
}

function mayShare(a: Shown, b: Shown): boolean {
  if (a.share === '' || a.share !== b.share || a.policy !== b.policy) return false;
  if (a.policy === 'Local' && a.selector !== b.selector) return false;
  return !a.ports.some((p) => b.ports.includes(p));
}

export class ServiceInvariant {
  private readonly shown = new Map<string, Shown>();
  private readonly duplicates: string[] = [];
  private readonly moves: string[] = [];
  private changes = 0;
  private readonly unsubscribe: () => void;

  /** Starts from the Services the store holds now. */
  constructor(store: Store) {
    for (const o of store.list('services'))
      this.shown.set(`${o.metadata.namespace}/${o.metadata.name}`, shownOf(o, undefined));
    this.unsubscribe = store.subscribe('services', store.currentRv(), (c) => this.onChange(c)).unsubscribe;
  }

  private onChange(c: Change): void {
    this.changes++;
    const key = `${c.object.metadata.namespace}/${c.object.metadata.name}`;
    const prior = this.shown.get(key);
    if (c.type === 'DELETED') {
      this.shown.delete(key);
      return;
    }
    const now = shownOf(c.object, prior);
    for (const ip of prior?.ips ?? []) {
      if (!now.ips.includes(ip) && prior!.since.get(ip) === now.request)
        this.moves.push(`rv ${c.rv}: ${key} lost ${ip} although its request did not change`);
    }
    this.shown.set(key, now);
    for (const ip of now.ips) {
      for (const [other, s] of this.shown) {
        if (other === key || !s.ips.includes(ip) || mayShare(now, s)) continue;
        this.duplicates.push(`rv ${c.rv}: ${ip} shown by ${key} and ${other}`);
      }
    }
  }

  report(): InvariantReport {
    return { changes: this.changes, duplicates: [...this.duplicates], moves: [...this.moves] };
  }

  stop(): void {
    this.unsubscribe();
  }
}
