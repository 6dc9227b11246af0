/**
 * The controller's Prometheus metrics. Pool sizes and pending Services are read from the
 * controller's state at scrape time, so a deleted pool or a Service that got its address
 * leaves no series behind; the configuration gauges are shared with the speaker.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { registerConfigMetrics, type ConfigMetrics } from '../src/metrics.js';
import type { FamilyStats, PoolStats } from './allocator/types.js';

export interface Metrics {
  readonly allocations: Counter;
  readonly failures: Counter;
  readonly reconcileSeconds: Histogram;
  readonly queueDepth: Gauge;
  readonly config: ConfigMetrics;
}

/** What the scrape-time gauges read. */
export interface MetricSources {
  /** Every pool the allocator serves from, with its counts per family. */
  readonly pools: () => Iterable<readonly [pool: string, stats: PoolStats]>;
  /** Services Herald serves that hold no address, by `namespace/name`, with why. */
  readonly pending: () => Iterable<readonly [service: string, reason: string]>;
}

/** prom-client keeps numbers; a pool larger than 2^53 (IPv6) reports 2^53 - 1. */
function saturate(n: bigint): number {
  return n > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(n);
}

/** A gauge per pool and family, filled at scrape time from one side of the pool counts. */
function poolGauge(
  registry: Registry,
  sources: MetricSources,
  name: string,
  help: string,
  value: (f: FamilyStats) => bigint,
): Gauge {
  const g: Gauge = new Gauge({
    name,
    help,
    labelNames: ['pool', 'family'],
    registers: [registry],
    collect: () => {
      g.reset();
      for (const [pool, stats] of sources.pools())
        for (const family of ['IPv4', 'IPv6'] as const) g.set({ pool, family }, saturate(value(stats[family])));
    },
  });
  return g;
}

export function makeMetrics(registry: Registry, sources: MetricSources): Metrics {
  poolGauge(
    registry,
    sources,
    'herald_pool_addresses_total',
    'Usable addresses per pool and family (saturates above 2^53)',
    (f) => f.assigned + f.available,
  );
  poolGauge(
    registry,
    sources,
    'herald_pool_addresses_in_use',
    'Addresses in use per pool and family',
    (f) => f.assigned,
  );
  const pending: Gauge = new Gauge({
    name: 'herald_controller_service_pending',
    help: '1 for each LoadBalancer Service Herald serves that holds no address, with the reason (the AddressAssigned condition)',
    labelNames: ['service', 'reason'],
    registers: [registry],
    collect: () => {
      pending.reset();
      for (const [service, reason] of sources.pending()) pending.set({ service, reason }, 1);
    },
  });
  return {
    allocations: new Counter({
      name: 'herald_controller_allocations_total',
      help: 'Services given addresses',
      registers: [registry],
    }),
    failures: new Counter({
      name: 'herald_controller_allocation_failures_total',
      help: 'Failed allocations by reason',
      labelNames: ['reason'],
      registers: [registry],
    }),
    reconcileSeconds: new Histogram({
      name: 'herald_controller_reconcile_duration_seconds',
      help: 'Time to reconcile one Service',
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: 'herald_controller_queue_depth',
      help: 'Service keys waiting',
      registers: [registry],
    }),
    config: registerConfigMetrics(registry),
  };
}
