/** The controller's scrape-time gauges (pools, pending Services) and configuration gauges, read from the registry's exposition. */
import { expect } from 'chai';
import type { PoolStats } from '../../../controller/allocator/types.js';
import { makeMetrics } from '../../../controller/metrics.js';
import { createMetricsRegistry } from '../../../src/metrics.js';
import { samplesOf } from '../../support/prom-text.js';

describe('controller metrics', () => {
  const setup = () => {
    const pools = new Map<string, PoolStats>();
    const pending = new Map<string, string>();
    const registry = createMetricsRegistry({ defaultMetrics: false, labels: { component: 'controller' } });
    const metrics = makeMetrics(registry, { pools: () => pools.entries(), pending: () => pending.entries() });
    return { pools, pending, registry, metrics };
  };

  it('pool size and usage per family, read when scraped: an IPv6 /64 saturates at 2^53 - 1, a deleted pool leaves no series', async () => {
    const { pools, registry } = setup();
    pools.set('v4', { IPv4: { assigned: 3n, available: 1n }, IPv6: { assigned: 0n, available: 0n } });
    pools.set('v6', { IPv4: { assigned: 0n, available: 0n }, IPv6: { assigned: 2n, available: 2n ** 64n - 2n } });
    expect(await samplesOf(registry, 'herald_pool_addresses_total', ['component'])).to.deep.equal([
      { labels: { pool: 'v4', family: 'IPv4' }, value: 4 },
      { labels: { pool: 'v4', family: 'IPv6' }, value: 0 },
      { labels: { pool: 'v6', family: 'IPv4' }, value: 0 },
      { labels: { pool: 'v6', family: 'IPv6' }, value: Number.MAX_SAFE_INTEGER },
    ]);
    expect(await samplesOf(registry, 'herald_pool_addresses_in_use', ['component'])).to.deep.equal([
      { labels: { pool: 'v4', family: 'IPv4' }, value: 3 },
      { labels: { pool: 'v4', family: 'IPv6' }, value: 0 },
      { labels: { pool: 'v6', family: 'IPv4' }, value: 0 },
      { labels: { pool: 'v6', family: 'IPv6' }, value: 2 },
    ]);
    pools.delete('v6');
    expect((await samplesOf(registry, 'herald_pool_addresses_total')).map((s) => s.labels['pool'])).to.deep.equal([
      'v4',
      'v4',
    ]);
    expect((await samplesOf(registry, 'herald_pool_addresses_in_use')).map((s) => s.labels['pool'])).to.deep.equal([
      'v4',
      'v4',
    ]);
  });

  it('one pending series per waiting Service with its reason, gone once it has an address', async () => {
    const { pending, registry } = setup();
    expect(await samplesOf(registry, 'herald_controller_service_pending')).to.deep.equal([]);
    pending.set('shop/cart', 'PoolExhausted');
    pending.set('shop/api', 'NoMatchingPool');
    expect(await samplesOf(registry, 'herald_controller_service_pending')).to.deep.equal([
      { labels: { service: 'shop/api', reason: 'NoMatchingPool', component: 'controller' }, value: 1 },
      { labels: { service: 'shop/cart', reason: 'PoolExhausted', component: 'controller' }, value: 1 },
    ]);
    pending.delete('shop/cart');
    expect(await samplesOf(registry, 'herald_controller_service_pending', ['component'])).to.deep.equal([
      { labels: { service: 'shop/api', reason: 'NoMatchingPool' }, value: 1 },
    ]);
  });

  it('configuration gauges: 0/0 before the first pass, then loaded, stale while errors last', async () => {
    const { metrics, registry } = setup();
    const read = async () =>
      [
        ...(await samplesOf(registry, 'herald_config_loaded_bool')),
        ...(await samplesOf(registry, 'herald_config_stale_bool')),
      ].map((s) => s.value);
    expect(await read()).to.deep.equal([0, 0]);
    metrics.config.observe(0);
    expect(await read()).to.deep.equal([1, 0]);
    metrics.config.observe(3);
    expect(await read()).to.deep.equal([1, 1]);
    metrics.config.observe(0);
    expect(await read()).to.deep.equal([1, 0]);
  });
});
