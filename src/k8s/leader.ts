/**
 * Lease-based leader election with client-go's semantics: a candidate takes the Lease when
 * it is absent, released, or not renewed for leaseDuration (measured on the candidate's own
 * clock from when it last saw the record change); the leader renews every retryPeriod and
 * steps down when it could not renew for renewDeadline; a clean stop releases the Lease.
 */
import { jittered } from '../core/backoff.js';
import type { Clock, TimerHandle } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { isAlreadyExists, isConflict } from './api-error.js';
import type { KubeClient, KubeObject } from './client.js';
import { LEASES } from './resources.js';

export interface LeaderElectionOptions {
  readonly client: KubeClient;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly namespace: string;
  readonly name: string;
  readonly identity: string;
  readonly leaseDurationMs?: number;
  readonly renewDeadlineMs?: number;
  readonly retryPeriodMs?: number;
  readonly random?: () => number;
  onStartedLeading(): void;
  onStoppedLeading(): void;
  onNewLeader?(identity: string): void;
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

type Lease = KubeObject & { spec?: LeaseSpec };

function microTime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '000Z');
}

export class LeaderElector {
  private leading = false;
  private stopped = true;
  private timer: TimerHandle | undefined;
  private observedRecord = '';
  private observedAtMs = 0;
  private lastRenewMs = 0;
  private lastLeader = '';
  private readonly leaseMs: number;
  private readonly renewMs: number;
  private readonly retryMs: number;
  private busy: Promise<void> = Promise.resolve();

  constructor(private readonly opts: LeaderElectionOptions) {
    this.leaseMs = opts.leaseDurationMs ?? 15_000;
    this.renewMs = opts.renewDeadlineMs ?? 10_000;
    this.retryMs = opts.retryPeriodMs ?? 2_000;
    if (!(this.leaseMs > this.renewMs && this.renewMs > this.retryMs)) {
      throw new Error('leader election needs leaseDuration > renewDeadline > retryPeriod');
    }
  }

  isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.tick();
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = this.opts.clock.setTimeout(() => this.tick(), ms);
  }

  private tick(): void {
    this.busy = this.busy.then(() => this.step());
  }

  private async step(): Promise<void> {
    if (this.stopped) return;
    let ok = false;
    try {
      ok = await this.tryAcquireOrRenew();
    } catch (err) {
      this.opts.logger.warn('lease request failed', {
        event: 'leaseRequestFailed',
        lease: `${this.opts.namespace}/${this.opts.name}`,
        error: errorMessage(err),
      });
    }
    if (this.stopped) return;
    const now = this.opts.clock.monotonic();
    if (ok) {
      this.lastRenewMs = now;
      if (!this.leading) {
        this.leading = true;
        this.opts.logger.info('became leader', {
          event: 'leaderElected',
          lease: `${this.opts.namespace}/${this.opts.name}`,
          identity: this.opts.identity,
        });
        this.opts.onStartedLeading();
      }
      this.schedule(this.retryMs);
      return;
    }
    if (this.leading && now - this.lastRenewMs >= this.renewMs) {
      this.leading = false;
      this.opts.logger.warn('lost the lease (renew deadline passed)', {
        event: 'leaseLost',
        lease: `${this.opts.namespace}/${this.opts.name}`,
      });
      this.opts.onStoppedLeading();
    }
    this.schedule(this.leading ? this.retryMs : jittered(this.retryMs, 0.2, this.opts.random ?? Math.random));
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { client, namespace, name, identity } = this.opts;
    const nowWall = this.opts.clock.now();
    const nowMono = this.opts.clock.monotonic();
    const leaseSeconds = Math.ceil(this.leaseMs / 1000);
    const lease = await client.tryGet<Lease>(LEASES, namespace, name);
    if (!lease) {
      try {
        await client.create<Lease>(LEASES, {
          metadata: { name, namespace },
          spec: {
            holderIdentity: identity,
            leaseDurationSeconds: leaseSeconds,
            acquireTime: microTime(nowWall),
            renewTime: microTime(nowWall),
            leaseTransitions: 0,
          },
        });
      } catch (err) {
        if (isAlreadyExists(err)) return false;
        throw err;
      }
      this.observe(`${identity}|${microTime(nowWall)}`, nowMono, identity);
      return true;
    }
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const record = `${holder}|${spec.renewTime ?? ''}`;
    if (record !== this.observedRecord) this.observe(record, nowMono, holder);
    const heldByOther = holder !== '' && holder !== identity;
    const durationMs = (spec.leaseDurationSeconds ?? leaseSeconds) * 1000;
    if (heldByOther && this.observedAtMs + durationMs > nowMono) return false;
    const next: LeaseSpec = {
      holderIdentity: identity,
      leaseDurationSeconds: leaseSeconds,
      renewTime: microTime(nowWall),
      acquireTime: holder === identity && spec.acquireTime ? spec.acquireTime : microTime(nowWall),
      leaseTransitions: (spec.leaseTransitions ?? 0) + (holder === identity ? 0 : 1),
    };
    try {
      await client.replace<Lease>(LEASES, { ...lease, spec: next });
    } catch (err) {
      if (isConflict(err)) return false;
      throw err;
    }
    this.observe(`${identity}|${next.renewTime!}`, nowMono, identity);
    return true;
  }

  private observe(record: string, atMono: number, holder: string): void {
    this.observedRecord = record;
    this.observedAtMs = atMono;
    if (holder !== this.lastLeader) {
      this.lastLeader = holder;
      if (holder !== '') this.opts.onNewLeader?.(holder);
    }
  }

  /**
   * Stops campaigning; a leader gives the Lease up so another candidate takes it at once.
   * `release: false` walks away without touching the Lease (what a crash looks like).
   */
  async stop(opts: { release?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.timer?.cancel();
    await this.busy;
    if (!this.leading) return;
    this.leading = false;
    if (opts.release === false) {
      this.opts.onStoppedLeading();
      return;
    }
    try {
      const lease = await this.opts.client.tryGet<Lease>(LEASES, this.opts.namespace, this.opts.name);
      if (lease && lease.spec?.holderIdentity === this.opts.identity) {
        const now = microTime(this.opts.clock.now());
        await this.opts.client.replace<Lease>(LEASES, {
          ...lease,
          spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: now, acquireTime: now },
        });
      }
    } catch (err) {
      this.opts.logger.warn('could not release the lease', { event: 'leaseReleaseFailed', error: errorMessage(err) });
    }
    this.opts.onStoppedLeading();
  }
}
