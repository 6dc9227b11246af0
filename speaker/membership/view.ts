/**
 * Which speakers this node counts as alive for one pass, and whether it may announce Layer 2
 * IPs at all: the Lease membership until SWIM has heard every speaker alive by its Lease
 * (then SWIM's view), members that just dropped out kept for a moment (takeover damping),
 * speakers whose pod is not ready left out, the split-brain guard, and the hold after coming
 * back from a partition. Also forgives SWIM the failures it saw while this node's own link
 * was down. The speaker asks once per pass (`pass`); everything else here is bookkeeping.
 */
import type { Clock } from '../../src/core/clock.js';
import { errorMessage } from '../../src/core/errors.js';
import type { Logger } from '../../src/core/logger.js';
import type { KubeClient } from '../../src/k8s/index.js';
import type { IP } from '../../src/net/ip.js';
import { DEFAULT_REJOIN_HOLD_MS } from '../layer2/engine.js';
import type { LinkSource } from '../layer2/links.js';
import { LeaseMembership } from './lease-membership.js';
import { SplitBrainGuard } from './split-brain.js';
import { SwimMembership } from './swim-driver.js';

/** How long a member that dropped out of the live set still counts for the owner election. */
const TAKEOVER_DAMPING_MS = 200;
/** How long before the link-down notification a failure may already have been this node's own. */
const OWN_OUTAGE_MARGIN_MS = 500;
const DEFAULT_MEMBER_PORT = 7946;

export interface MembershipViewOptions {
  readonly client: KubeClient;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly namespace: string;
  readonly node: string;
  readonly expireMs?: number;
  /** UDP port of the SWIM failure detector; 0 disables it. */
  readonly memberPort?: number;
  /** Stop Layer 2 announcing when this speaker sees a minority of the members (default on). */
  readonly splitBrainGuard?: boolean;
  /** This node's links (absent without the native addon: no isolation detection). */
  readonly links?: LinkSource;
  readonly nodeAddresses: () => { v4?: IP; v6?: IP };
  /** A member's address for SWIM datagrams. */
  readonly addressOf: (node: string) => string | undefined;
  /** Membership changed, or a damping/hold ended: decide again. */
  readonly onChange: () => void;
}

/** Whether Layer 2 may announce: freely, not at all (guarded), or only what it already owns (rejoining). */
export type Layer2Hold = 'none' | 'guarded' | 'rejoining';

export interface PassMembership {
  /** The live speakers as membership reports them. */
  readonly alive: ReadonlySet<string>;
  /** The owner election's candidates: alive, damped, ready. */
  readonly candidates: ReadonlySet<string>;
  readonly hold: Layer2Hold;
  /** A member known to be dead (one not heard from yet may be alive and announcing). */
  readonly dead: (node: string) => boolean;
}

export class MembershipView {
  private readonly leases: LeaseMembership;
  private swim: SwimMembership | undefined;
  private swimStarting = false;
  private readonly guard = new SplitBrainGuard();
  private guarded = false;
  /** For the damping: the live set last seen, and when members dropped out of it. */
  private lastAlive = new Set<string>();
  private readonly goneAt = new Map<string, number>();
  /** Until when (monotonic) no new Layer 2 IP is taken: just back from a partition. */
  private rejoinUntil = 0;
  private stopped = false;

  constructor(private readonly opts: MembershipViewOptions) {
    this.leases = new LeaseMembership({
      client: opts.client,
      clock: opts.clock,
      logger: opts.logger,
      namespace: opts.namespace,
      node: opts.node,
      ...(opts.expireMs ? { expireMs: opts.expireMs } : {}),
      onChange: opts.onChange,
    });
    // The link holding this node's address going down and up: SWIM's failures meanwhile were this node's own.
    let ownLinkDownAt: number | undefined;
    opts.links?.onChange(() => {
      const down = this.isolatedLink() !== undefined;
      if (down && ownLinkDownAt === undefined) ownLinkDownAt = opts.clock.monotonic();
      else if (!down && ownLinkDownAt !== undefined) {
        // The probe that saw the first failure may have been sent up to one probe period
        // before the kernel said the link was down.
        this.swim?.forgive(ownLinkDownAt - OWN_OUTAGE_MARGIN_MS);
        ownLinkDownAt = undefined;
      }
    });
  }

  start(): Promise<void> {
    return this.leases.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.swim?.stop();
    await this.leases.stop();
  }

  /** Whether SWIM has heard from every member since `since` (ends a Layer 2 rejoin hold early). */
  heardFromAllSince(since: number): boolean {
    return this.swim?.heardFromAllSince(since) === true;
  }

  /** The cluster's speakers (their Nodes), for SWIM to probe. */
  setMembers(nodes: readonly string[]): void {
    this.swim?.setMembers(nodes);
  }

  /**
   * Whether the guard's verdict changed since the last pass (a settle window ending is
   * reported by no event: the periodic resync asks).
   */
  guardChanged(): boolean {
    return this.guardCheck(this.aliveSpeakers()) !== this.guarded;
  }

  /** The membership of one pass; logs the guard going up or down and starts the rejoin hold. */
  pass(notReady: ReadonlySet<string>): PassMembership {
    const alive = this.aliveSpeakers();
    const steady = this.steadyAlive(alive);
    const candidates = notReady.size === 0 ? steady : new Set([...steady].filter((n) => !notReady.has(n)));
    const guard =
      this.opts.splitBrainGuard === false
        ? { allowed: true as const }
        : this.guard.check(alive.size, this.opts.clock.monotonic(), this.isolatedLink());
    if (!guard.allowed) {
      if (!this.guarded)
        this.opts.logger.warn('split-brain guard on: not answering for Layer 2 IPs', {
          event: 'splitBrainGuard',
          reason: guard.reason,
          alive: [...alive].sort(),
        });
    } else if (this.guarded)
      this.opts.logger.info('split-brain guard lifted', { event: 'splitBrainGuardLifted', alive: [...alive].sort() });
    const now = this.opts.clock.monotonic();
    if (this.guarded && guard.allowed) this.holdAfterPartition(now);
    this.guarded = !guard.allowed;
    const swim = this.swim;
    return {
      alive,
      candidates,
      hold: !guard.allowed ? 'guarded' : now < this.rejoinUntil ? 'rejoining' : 'none',
      dead: (n) => !alive.has(n) && (!swim || swim.isDead(n)),
    };
  }

  /** Starts the UDP failure detector once the memberlist key exists (Lease membership until then). */
  useKey(key: string | undefined): void {
    if (this.swim || this.swimStarting || !key || this.opts.memberPort === 0) return;
    this.swimStarting = true;
    const port = this.opts.memberPort ?? DEFAULT_MEMBER_PORT;
    const swim = new SwimMembership({
      node: this.opts.node,
      key: Buffer.from(key),
      port,
      clock: this.opts.clock,
      logger: this.opts.logger.child({ component: 'swim' }),
      addressOf: this.opts.addressOf,
      onChange: this.opts.onChange,
    });
    swim.start().then(
      () => {
        this.swim = swim;
        this.opts.logger.info('SWIM failure detector running', { event: 'swimStarted', port });
        this.leases.relax();
        this.opts.onChange();
        // Members that never answer leave SWIM unconverged until its bound: decide again then.
        const poll = (): void => {
          if (this.stopped) return;
          if (swim.converged()) this.opts.onChange();
          else this.opts.clock.setTimeout(poll, 200);
        };
        poll();
      },
      (err: unknown) =>
        this.opts.logger.warn('SWIM unavailable, staying with Leases', {
          event: 'swimUnavailable',
          error: errorMessage(err),
        }),
    );
  }

  private guardCheck(alive: ReadonlySet<string>): boolean {
    return (
      this.opts.splitBrainGuard !== false &&
      !this.guard.check(alive.size, this.opts.clock.monotonic(), this.isolatedLink()).allowed
    );
  }

  /**
   * Back from a partition: who is dead in this view was learnt while cut off. Take no new IP
   * until every member has been heard from again (or the hold ends), or this node would
   * claim IPs of members it has not heard from yet (and announce them from a non-owner).
   */
  private holdAfterPartition(since: number): void {
    this.rejoinUntil = since + DEFAULT_REJOIN_HOLD_MS;
    this.opts.logger.info('back from a partition; taking no new IP until membership agrees again', {
      event: 'rejoining',
      holdMs: DEFAULT_REJOIN_HOLD_MS,
    });
    const check = (): void => {
      if (this.stopped || this.rejoinUntil === 0) return;
      if (this.swim?.heardFromAllSince(since) || this.opts.clock.monotonic() >= this.rejoinUntil) {
        this.rejoinUntil = 0;
        this.opts.onChange();
      } else this.opts.clock.setTimeout(check, 100);
    };
    this.opts.clock.setTimeout(check, 100);
  }

  /**
   * The live speakers: SWIM's view once it has heard from (or given up on) every member,
   * the Lease view until then (SWIM starts knowing only itself).
   */
  private aliveSpeakers(): Set<string> {
    const leases = this.leases.alive();
    // Every speaker alive by its Lease must have been heard over SWIM too: one still starting
    // is not a partition (a speaker that stays silent keeps this node on Leases).
    const swim = this.swim;
    const swimReady = swim?.converged() === true && [...leases].every((n) => n === this.opts.node || swim.knows(n));
    return swimReady ? swim.alive() : leases;
  }

  /**
   * The live set the owner election uses: a member that just dropped out stays in it for
   * TAKEOVER_DAMPING_MS, so a failure that membership takes back at once (a missed probe
   * under link chaos) makes no other node claim its IPs and announce them; a real failure
   * costs that much more failover time. A new pass is asked for when the damping ends.
   */
  private steadyAlive(alive: ReadonlySet<string>): Set<string> {
    const now = this.opts.clock.monotonic();
    for (const n of this.lastAlive) if (!alive.has(n) && !this.goneAt.has(n)) this.goneAt.set(n, now);
    for (const n of alive) this.goneAt.delete(n);
    this.lastAlive = new Set(alive);
    const out = new Set(alive);
    for (const [n, at] of this.goneAt) {
      if (now - at < TAKEOVER_DAMPING_MS) {
        out.add(n);
        this.opts.clock.setTimeout(() => this.opts.onChange(), at + TAKEOVER_DAMPING_MS - now);
      } else this.goneAt.delete(n);
    }
    return out;
  }

  /** This node's own link that is down, if the link holding its InternalIP is (the node is cut off, not the others gone). */
  private isolatedLink(): string | undefined {
    if (!this.opts.links) return undefined;
    const { v4, v6 } = this.opts.nodeAddresses();
    for (const i of this.opts.links.interfaces()) {
      if (i.up) continue;
      if (
        i.addrs.some(
          (a) =>
            (v4 && a.ip.family === 'IPv4' && a.ip.value === v4.value) ||
            (v6 && a.ip.family === 'IPv6' && a.ip.value === v6.value),
        )
      )
        return i.name;
    }
    return undefined;
  }
}
