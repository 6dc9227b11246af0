/**
 * Which speakers are alive, from Leases: each speaker renews `herald-speaker-<node>` in the
 * Herald namespace every `renewMs`; a speaker whose Lease has not changed for `expireMs`, or
 * for the longer leaseDurationSeconds the Lease itself states (measured on our own clock from
 * when we last saw it change), is dead. A speaker that stops cleanly deletes its Lease, so the
 * others see it leave at once.
 *
 * Once the UDP failure detector runs, Leases are only the fallback: `relax()` renews every
 * 10 s and states 30 s, so an idle cluster is not a stream of API writes (every speaker sees
 * every renewal); a speaker still on Leases honours the stated duration.
 */
import { SPEAKER_LEASE_PREFIX } from '../../src/api/names.js';
import type { Clock, TimerHandle } from '../../src/core/clock.js';
import { errorMessage } from '../../src/core/errors.js';
import type { Logger } from '../../src/core/logger.js';
import {
  Informer,
  isAlreadyExists,
  isNotFound,
  LEASES,
  type KubeClient,
  type KubeObject,
} from '../../src/k8s/index.js';

const LABEL = 'app.kubernetes.io/component';

export interface MembershipOptions {
  readonly client: KubeClient;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly namespace: string;
  readonly node: string;
  readonly renewMs?: number;
  readonly expireMs?: number;
  readonly onChange: () => void;
}

export class LeaseMembership {
  private readonly informer: Informer;
  private readonly seen = new Map<string, { renew: string; at: number; durationMs: number }>();
  /** How long a Lease may stay unchanged before its speaker counts as dead (unless it states longer). */
  private readonly expireMs: number;
  private renewMs: number;
  /** What our own Lease states as leaseDurationSeconds. */
  private durationMs: number;
  private renewTimer: TimerHandle | undefined;
  private checkTimer: TimerHandle | undefined;
  private lastAlive = '';
  private stopped = false;

  constructor(private readonly opts: MembershipOptions) {
    this.expireMs = opts.expireMs ?? 3000;
    this.renewMs = opts.renewMs ?? 1000;
    this.durationMs = this.expireMs;
    this.informer = new Informer({
      client: opts.client,
      type: LEASES,
      namespace: opts.namespace,
      labelSelector: `${LABEL}=speaker`,
      clock: opts.clock,
      logger: opts.logger,
    });
    const observe = (o: KubeObject): void => {
      const node = o.metadata.name.slice(SPEAKER_LEASE_PREFIX.length);
      const spec = (o['spec'] as { renewTime?: string; leaseDurationSeconds?: number } | undefined) ?? {};
      const renew = String(spec.renewTime ?? '');
      const durationMs = (Number(spec.leaseDurationSeconds) || 0) * 1000;
      const prev = this.seen.get(node);
      if (!prev || prev.renew !== renew) this.seen.set(node, { renew, at: this.opts.clock.monotonic(), durationMs });
      this.check();
    };
    this.informer.addHandlers({
      onAdd: observe,
      onUpdate: observe,
      onDelete: (o) => {
        this.seen.delete(o.metadata.name.slice(SPEAKER_LEASE_PREFIX.length));
        this.check();
      },
    });
  }

  async start(): Promise<void> {
    this.informer.start();
    await this.renew();
    await this.informer.waitForSync();
    this.tick();
  }

  /** Live speakers (this node always included while running). */
  alive(): Set<string> {
    const now = this.opts.clock.monotonic();
    const out = new Set<string>(
      [...this.seen].filter(([, s]) => now - s.at <= Math.max(this.expireMs, s.durationMs)).map(([n]) => n),
    );
    if (!this.stopped) out.add(this.opts.node);
    return out;
  }

  private check(): void {
    const now = [...this.alive()].sort().join(',');
    if (now !== this.lastAlive) {
      this.lastAlive = now;
      this.opts.logger.info('speaker membership', { event: 'membersChanged', alive: now });
      this.opts.onChange();
    }
  }

  private tick(): void {
    if (this.stopped) return;
    this.checkTimer = this.opts.clock.setTimeout(() => {
      this.check();
      this.tick();
    }, 250);
  }

  /** The failure detector runs elsewhere: renew every `renewMs`, stating `durationMs`. */
  relax(renewMs = 10_000, durationMs = 30_000): void {
    if (this.renewMs === renewMs && this.durationMs === durationMs) return;
    this.renewMs = renewMs;
    this.durationMs = durationMs;
    this.opts.logger.info('renewing the speaker lease less often (the failure detector runs over UDP)', {
      renewSeconds: renewMs / 1000,
      durationSeconds: durationMs / 1000,
    });
  }

  /** One write per renewal: the informer's cache says whether our Lease exists. */
  private async renew(): Promise<void> {
    if (this.stopped) return;
    const name = `${SPEAKER_LEASE_PREFIX}${this.opts.node}`;
    const now = new Date(this.opts.clock.now()).toISOString().replace('Z', '000Z');
    const spec = {
      holderIdentity: this.opts.node,
      leaseDurationSeconds: Math.ceil(this.durationMs / 1000),
      renewTime: now,
    };
    const patch = (): Promise<unknown> => this.opts.client.patch(LEASES, this.opts.namespace, name, { spec });
    const create = (): Promise<unknown> =>
      this.opts.client.create(LEASES, {
        metadata: { name, namespace: this.opts.namespace, labels: { [LABEL]: 'speaker' } },
        spec,
      });
    try {
      if (this.informer.hasSynced() && this.informer.get(`${this.opts.namespace}/${name}`)) {
        await patch().catch((err: unknown) => (isNotFound(err) ? create() : Promise.reject(err)));
      } else {
        await create().catch((err: unknown) => (isAlreadyExists(err) ? patch() : Promise.reject(err)));
      }
    } catch (err) {
      this.opts.logger.warn('could not renew the speaker lease', {
        event: 'leaseRenewFailed',
        error: errorMessage(err),
      });
    }
    this.renewTimer = this.opts.clock.setTimeout(() => void this.renew(), this.renewMs);
  }

  /** Leaves: deletes our Lease so the others elect new owners at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.renewTimer?.cancel();
    this.checkTimer?.cancel();
    this.informer.stop();
    try {
      await this.opts.client.delete(LEASES, this.opts.namespace, `${SPEAKER_LEASE_PREFIX}${this.opts.node}`);
    } catch (err) {
      if (!isNotFound(err))
        this.opts.logger.warn('could not delete the speaker lease', {
          event: 'leaseDeleteFailed',
          error: errorMessage(err),
        });
    }
  }
}
