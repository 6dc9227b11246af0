/**
 * This node's desired state kept up to date one Service at a time (pure, no I/O): each
 * Service's part (serviceDesired) is set or removed, and the Layer 2 IPs, the routes per peer
 * and the decisions follow. With 100k Services a pass that recomputed everything took over a
 * second and made its size in garbage; a pass now costs what changed, and the outputs of
 * parts that did not change keep their identity (the BGP sessions skip an unchanged route
 * list by identity).
 */
import type { Route } from './bgp/session.js';
import type { DesiredState, L2Want, ServiceDecision, ServiceDesired } from './desired.js';

interface RouteRef {
  readonly route: Route;
  /** Services wanting this route (shared IPs share it). */
  refs: number;
}

interface L2Refs {
  readonly want: Omit<L2Want, 'interfaces' | 'services'>;
  /** Service -> the interfaces its advertisements name. */
  readonly by: Map<string, readonly string[]>;
}

export class DesiredIndex {
  /** Service key -> its part, in the order Services were first set. */
  private readonly parts = new Map<string, ServiceDesired>();
  private readonly l2Refs = new Map<string, L2Refs>();
  private readonly l2 = new Map<string, L2Want>();
  /** Peer -> route key -> the route. */
  private readonly routes = new Map<string, Map<string, RouteRef>>();
  /** Peer -> its route list, made again only after it changed. */
  private readonly routeLists = new Map<string, readonly Route[]>();
  private decisions: ServiceDecision[] | undefined;
  private bgp: ReadonlyMap<string, readonly Route[]> | undefined;

  get size(): number {
    return this.parts.size;
  }

  keys(): IterableIterator<string> {
    return this.parts.keys();
  }

  get(service: string): ServiceDesired | undefined {
    return this.parts.get(service);
  }

  /** Sets (or, with `undefined`, removes) one Service's part. */
  set(service: string, part: ServiceDesired | undefined): void {
    const old = this.parts.get(service);
    if (old === part) return;
    if (old) this.remove(service, old);
    if (part) {
      this.parts.set(service, part);
      this.add(service, part);
    } else this.parts.delete(service);
    this.decisions = undefined;
  }

  state(): DesiredState {
    this.decisions ??= [...this.parts.values()].flatMap((p) => p.decisions);
    if (!this.bgp) {
      for (const [peer, m] of this.routes)
        if (!this.routeLists.has(peer))
          this.routeLists.set(
            peer,
            [...m.values()].map((r) => r.route),
          );
      this.bgp = new Map(this.routeLists);
    }
    return { l2: this.l2, bgp: this.bgp, decisions: this.decisions };
  }

  private add(service: string, part: ServiceDesired): void {
    for (const l of part.l2) {
      let refs = this.l2Refs.get(l.ipText);
      if (!refs) this.l2Refs.set(l.ipText, (refs = { want: { ip: l.ip }, by: new Map() }));
      refs.by.set(service, l.interfaces);
      this.updateL2(l.ipText, refs);
    }
    for (const r of part.routes) {
      let m = this.routes.get(r.peer);
      if (!m) this.routes.set(r.peer, (m = new Map()));
      const have = m.get(r.key);
      if (have) have.refs++;
      else {
        m.set(r.key, { route: r.route, refs: 1 });
        this.routesChanged(r.peer);
      }
    }
  }

  private remove(service: string, part: ServiceDesired): void {
    for (const l of part.l2) {
      const refs = this.l2Refs.get(l.ipText);
      if (!refs) continue;
      refs.by.delete(service);
      this.updateL2(l.ipText, refs);
    }
    for (const r of part.routes) {
      const m = this.routes.get(r.peer);
      const have = m?.get(r.key);
      if (!m || !have || --have.refs > 0) continue;
      m.delete(r.key);
      if (m.size === 0) this.routes.delete(r.peer);
      this.routesChanged(r.peer);
    }
  }

  private updateL2(ipText: string, refs: L2Refs): void {
    if (refs.by.size === 0) {
      this.l2Refs.delete(ipText);
      this.l2.delete(ipText);
      return;
    }
    const services = [...refs.by.keys()].sort();
    const interfaces = [...new Set([...refs.by.values()].flat())].sort();
    this.l2.set(ipText, { ...refs.want, interfaces, services });
  }

  private routesChanged(peer: string): void {
    this.routeLists.delete(peer);
    this.bgp = undefined;
  }
}
