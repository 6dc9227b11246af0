import { expect } from 'chai';
import { Counter } from 'prom-client';
import { nullLogger } from '../../src/core/logger.js';
import { createMetricsRegistry, startOpsServer } from '../../src/metrics.js';

describe('metrics and ops server', () => {
  it('serves /metrics, /healthz and /readyz from the given registry', async () => {
    const registry = createMetricsRegistry({ defaultMetrics: false });
    const c = new Counter({ name: 'herald_test_total', help: 'test', registers: [registry] });
    c.inc(3);
    let why: string | undefined = 'caches not synced';
    const ops = await startOpsServer({ registry, port: 0, host: '127.0.0.1', notReadyReason: () => why, logger: nullLogger });
    try {
      const base = `http://127.0.0.1:${ops.port}`;
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).to.match(/^herald_test_total 3$/m);
      expect((await fetch(`${base}/healthz`)).status).to.equal(200);
      const notReady = await fetch(`${base}/readyz`);
      expect(notReady.status).to.equal(503);
      expect(await notReady.text()).to.contain('caches not synced');
      why = undefined;
      expect((await fetch(`${base}/readyz`)).status).to.equal(200);
      expect((await fetch(`${base}/other`)).status).to.equal(404);
    } finally {
      await ops.close();
    }
  });

  it('a registry carries default labels and process metrics when asked', async () => {
    const registry = createMetricsRegistry({ labels: { node: 'n1' } });
    expect(await registry.metrics()).to.match(/herald_process_cpu_user_seconds_total\{node="n1"\}/);
  });
});
