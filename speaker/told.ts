/**
 * What the speaker has already told (a log line, an Event) about a condition that lasts: it is
 * told once, and again only after the condition ended. One typed key per kind of condition;
 * entries of Services that no longer exist are pruned, so a Service created again with the
 * same name is told again and the set does not grow with every Service ever seen.
 */

export type ToldKey =
  /** This node's Node object does not exist. */
  | { readonly kind: 'nodeMissing' }
  /** A Layer 2 IP this node owns cannot be announced (an Event per Service). */
  | { readonly kind: 'l2Failed'; readonly ip: string; readonly cause: string }
  /** A Layer 2 IP this node owns is held back by link state (a log line). */
  | { readonly kind: 'l2Deferred'; readonly ip: string; readonly reason: string }
  /** A Service IP cannot be sent to a BGP peer. */
  | {
      readonly kind: 'bgpFailed';
      readonly peer: string;
      readonly service: string;
      readonly ip: string;
      readonly cause: string;
    };

/** The same condition always gives the same text; the kind comes first, so kinds never collide. */
function text(k: ToldKey): string {
  switch (k.kind) {
    case 'nodeMissing':
      return JSON.stringify([k.kind]);
    case 'l2Failed':
      return JSON.stringify([k.kind, k.ip, k.cause]);
    case 'l2Deferred':
      return JSON.stringify([k.kind, k.ip, k.reason]);
    case 'bgpFailed':
      return JSON.stringify([k.kind, k.peer, k.service, k.ip, k.cause]);
  }
}

export class Told {
  private readonly told = new Map<string, ToldKey>();

  /** True the first time a condition is seen (tell it now); false while it was already told. */
  first(k: ToldKey): boolean {
    const t = text(k);
    if (this.told.has(t)) return false;
    this.told.set(t, k);
    return true;
  }

  /** The condition ended: tell it again when it comes back. */
  forget(k: ToldKey): void {
    this.told.delete(text(k));
  }

  /** Forgets every condition `ended` says is over. */
  forgetWhere(ended: (k: ToldKey) => boolean): void {
    for (const [t, k] of this.told) if (ended(k)) this.told.delete(t);
  }

  /** Forgets what was told about Services not in `live` (deleted ones). */
  pruneServices(live: Pick<ReadonlySet<string>, 'has'>): void {
    this.forgetWhere((k) => k.kind === 'bgpFailed' && !live.has(k.service));
  }

  get size(): number {
    return this.told.size;
  }
}
