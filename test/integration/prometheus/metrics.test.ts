/**
 * The metrics the alert rules read, from a running controller and a running speaker on the
 * embedded API server (wired as their main.ts wire them), scraped over HTTP: pool sizes, pending Services with their reason,
 * the configuration gauges, BGP sessions and the per-IP announced gauge. And every metric a
 * rule names (manifests/components/prometheus/herald-rules.yaml) is one the two programs
 * export, with every label its alert's annotations use.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import type { Registry } from 'prom-client';
import { parse } from 'yaml';
import { Controller } from '../../../controller/controller.js';
import { Speaker } from '../../../speaker/speaker.js';
import { systemClock } from '../../../src/core/clock.js';
import { RecordingLogger } from '../../../src/core/logger.js';
import {
  ENDPOINT_SLICES,
  NAMESPACES,
  NODES,
  SERVICES,
  heraldResource,
  type KubeObject,
} from '../../../src/k8s/index.js';
import { createMetricsRegistry, startOpsServer, type OpsServer } from '../../../src/metrics.js';
import { RULES_FILE } from '../../../scripts/prometheus-rule.js';
import { eventually } from '../../support/apiserver.js';
import { type KubeCluster, kubeLane, startKubeCluster } from '../../support/kube-cluster.js';
import { parseExposition, type Sample } from '../../support/prom-text.js';
import { metricsInExpr, type RuleFile } from '../../support/prom-rules.js';

const NS = 'herald-system';
const NODE = 'node-a';
/** Labels Prometheus adds to every series it scrapes through the ServiceMonitors. */
const TARGET_LABELS = ['namespace', 'pod', 'instance', 'job', 'container', 'endpoint', 'service'];

describe(`metrics for the alert rules (${kubeLane()} API server, controller and speaker scraped)`, function () {
  this.timeout(60_000);
  let c: KubeCluster;
  let controller: Controller | undefined;
  let controllerOps: OpsServer | undefined;
  let controllerPort = 0;
  let controllerRegistry: Registry;
  let speaker: Speaker | undefined;
  let speakerOps: OpsServer | undefined;
  let speakerRegistry: Registry;
  const logger = new RecordingLogger();

  const H = (kind: string, name: string, spec: Record<string, unknown>) =>
    c.client.create(heraldResource(kind), { metadata: { name, namespace: NS }, spec });
  const scrape = async (port: number): Promise<{ samples: Sample[]; types: Map<string, string> }> =>
    parseExposition(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
  const values = (samples: Sample[], name: string, keep: string[]): Record<string, string | number | undefined>[] =>
    samples
      .filter((s) => s.name === name)
      .map((s) => ({ ...Object.fromEntries(keep.map((k) => [k, s.labels[k]])), value: s.value }))
      .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  const service = async (name: string): Promise<void> => {
    await c.client.create(SERVICES, {
      metadata: { name, namespace: 'default' },
      spec: { type: 'LoadBalancer', selector: { app: name }, ports: [{ port: 80 }] },
    });
    await c.client.create(ENDPOINT_SLICES, {
      metadata: { name: `${name}-1`, namespace: 'default', labels: { 'kubernetes.io/service-name': name } },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['198.51.100.10'], nodeName: NODE, conditions: { ready: true } }],
      ports: [{ port: 80 }],
    } as KubeObject);
  };

  before(async () => {
    c = await startKubeCluster({ herald: true });
    await c.client.create(NAMESPACES, { metadata: { name: NS } });
    await c.client.create(NODES, {
      metadata: { name: NODE, labels: { 'kubernetes.io/hostname': NODE } },
      status: { addresses: [{ type: 'InternalIP', address: '198.51.100.1' }] },
    });
    // Two addresses for three Services; one peer nobody answers (a documentation address).
    await H('IPAddressPool', 'main', { addresses: ['192.0.2.0/31'] });
    await H('BGPAdvertisement', 'all', {});
    await H('BGPPeer', 'edge', { myASN: 64512, peerASN: 64513, peerAddress: '203.0.113.254', connectTime: '1s' });
    // As controller/main.ts and speaker/main.ts wire them.
    controllerRegistry = createMetricsRegistry({ labels: { component: 'controller' } });
    controller = new Controller({
      client: c.client,
      clock: systemClock(),
      logger,
      registry: controllerRegistry,
      namespace: NS,
      poolStatusDelayMs: 10,
    });
    controllerOps = await startOpsServer({
      registry: controllerRegistry,
      port: 0,
      host: '127.0.0.1',
      logger,
      notReadyReason: () => controller?.notReadyReason(),
    });
    controllerPort = controllerOps.port;
    await controller.start();
    speakerRegistry = createMetricsRegistry({ labels: { component: 'speaker', node: NODE } });
    // No native addon: Layer 2 is off (its metrics are still registered), BGP runs.
    speaker = new Speaker({
      client: c.client,
      clock: systemClock(),
      logger,
      registry: speakerRegistry,
      node: NODE,
      namespace: NS,
      native: { error: 'not loaded in this test' },
      memberPort: 0,
      bgpListen: false,
    });
    speakerOps = await startOpsServer({
      registry: speakerRegistry,
      port: 0,
      host: '127.0.0.1',
      logger,
      notReadyReason: () => speaker?.notReadyReason(),
    });
    await speaker.start();
    for (const s of ['a', 'b', 'c']) await service(s);
  });
  after(async () => {
    await speaker?.stop();
    await speakerOps?.close();
    await controller?.stop();
    await controllerOps?.close();
    await c?.stop();
  });

  it('controller: pool size and usage per family, the pending Service with its reason, configuration loaded', async () => {
    const m = await eventually(async () => {
      const s = (await scrape(controllerPort)).samples;
      return values(s, 'herald_controller_service_pending', ['service']).length === 1 ? s : undefined;
    }, 'one pending Service in the controller metrics');
    expect(values(m, 'herald_pool_addresses_total', ['pool', 'family'])).to.deep.equal([
      { pool: 'main', family: 'IPv4', value: 2 },
      { pool: 'main', family: 'IPv6', value: 0 },
    ]);
    expect(values(m, 'herald_pool_addresses_in_use', ['pool', 'family'])).to.deep.equal([
      { pool: 'main', family: 'IPv4', value: 2 },
      { pool: 'main', family: 'IPv6', value: 0 },
    ]);
    // The third Service created waits (creation order decides who gets the two addresses).
    expect(values(m, 'herald_controller_service_pending', ['service', 'reason', 'component'])).to.deep.equal([
      { service: 'default/c', reason: 'PoolExhausted', component: 'controller', value: 1 },
    ]);
    expect(values(m, 'herald_config_loaded_bool', ['component'])).to.deep.equal([
      { component: 'controller', value: 1 },
    ]);
    expect(values(m, 'herald_config_stale_bool', ['component'])).to.deep.equal([{ component: 'controller', value: 0 }]);
  });

  it('speaker: the BGP announcements per IP and Service, the session down, configuration loaded', async () => {
    const m = await eventually(async () => {
      const s = (await scrape(speakerOps!.port)).samples;
      return values(s, 'herald_speaker_ip_announced', ['ip']).length === 2 ? s : undefined;
    }, 'two announced IPs in the speaker metrics');
    expect(values(m, 'herald_speaker_ip_announced', ['ip', 'service', 'protocol', 'node'])).to.deep.equal([
      { ip: '192.0.2.0', service: 'default/a', protocol: 'bgp', node: NODE, value: 1 },
      { ip: '192.0.2.1', service: 'default/b', protocol: 'bgp', node: NODE, value: 1 },
    ]);
    expect(values(m, 'herald_speaker_bgp_session_up', ['peer', 'node'])).to.deep.equal([
      { peer: 'edge', node: NODE, value: 0 },
    ]);
    expect(values(m, 'herald_config_loaded_bool', ['component'])).to.deep.equal([{ component: 'speaker', value: 1 }]);
    expect(values(m, 'herald_config_stale_bool', ['component'])).to.deep.equal([{ component: 'speaker', value: 0 }]);
  });

  it('a pool deleted leaves no series; an invalid pool makes both programs report a stale configuration', async () => {
    await H('IPAddressPool', 'spare', { addresses: ['198.51.100.64/30'] });
    await eventually(
      async () =>
        values((await scrape(controllerPort)).samples, 'herald_pool_addresses_total', ['pool']).some(
          (s) => s.pool === 'spare',
        ) || undefined,
      'the spare pool in the metrics',
    );
    await c.client.delete(heraldResource('IPAddressPool'), NS, 'spare');
    await eventually(
      async () =>
        !values((await scrape(controllerPort)).samples, 'herald_pool_addresses_total', ['pool']).some(
          (s) => s.pool === 'spare',
        ) || undefined,
      'the spare pool gone from the metrics',
    );
    // Overlaps main: refused, main keeps working.
    await H('IPAddressPool', 'overlap', { addresses: ['192.0.2.1/32'] });
    for (const port of [controllerPort, speakerOps!.port]) {
      await eventually(
        async () =>
          values((await scrape(port)).samples, 'herald_config_stale_bool', []).every((s) => s.value === 1) || undefined,
        `herald_config_stale_bool 1 on port ${port}`,
      );
    }
    await c.client.delete(heraldResource('IPAddressPool'), NS, 'overlap');
    for (const port of [controllerPort, speakerOps!.port]) {
      await eventually(
        async () =>
          values((await scrape(port)).samples, 'herald_config_stale_bool', []).every((s) => s.value === 0) || undefined,
        `herald_config_stale_bool 0 on port ${port}`,
      );
    }
  });

  it('every metric a rule reads is exported, with every label its alert names', async () => {
    const rules = parse(readFileSync(RULES_FILE, 'utf8')) as RuleFile;
    const exported = new Map<string, Set<string>>();
    const byJob = new Map<string, Set<string>>();
    for (const [job, port, registry, defaults] of [
      ['herald-controller', controllerPort, controllerRegistry, ['component']],
      ['herald-speaker', speakerOps!.port, speakerRegistry, ['component', 'node']],
    ] as const) {
      const { types } = await scrape(port);
      byJob.set(job, new Set(types.keys()));
      for (const name of types.keys())
        exported.set(name, new Set([...(exported.get(name) ?? []), ...labelNamesOf(registry, name, defaults)]));
    }
    const recorded = new Set(rules.groups.flatMap((g) => g.rules.flatMap((r) => (r.record ? [r.record] : []))));
    const checked = new Set<string>();
    for (const g of rules.groups) {
      for (const r of g.rules) {
        const names = metricsInExpr(r.expr).filter((n) => !recorded.has(n) && n !== 'up');
        for (const n of names)
          expect(exported.has(n), `${r.alert ?? r.record}: ${n} is not exported by Herald`).to.equal(true);
        // A selector naming a job reads that program's metric.
        for (const m of r.expr.matchAll(/(herald_[a-z0-9_]+)\{[^}]*job="([^"]+)"/g))
          expect(byJob.get(m[2]!)?.has(m[1]!), `${r.alert ?? r.record}: ${m[1]!} is not exported by ${m[2]!}`).to.equal(
            true,
          );
        for (const n of names) checked.add(n);
        if (!r.alert) continue;
        const text = Object.values(r.annotations ?? {}).join(' ');
        const used = [...text.matchAll(/\$labels\.([a-zA-Z_]+)/g)].map((x) => x[1]!);
        const fromRecorded = metricsInExpr(r.expr)
          .filter((n) => recorded.has(n))
          .flatMap((n) => metricsInExpr(rules.groups.flatMap((gg) => gg.rules).find((rr) => rr.record === n)!.expr));
        const available = new Set([
          ...TARGET_LABELS,
          ...[...names, ...fromRecorded].flatMap((n) => [...(exported.get(n) ?? [])]),
        ]);
        for (const l of used)
          expect(
            available.has(l),
            `${r.alert}: $labels.${l} is on none of ${[...names, ...fromRecorded].join(', ') || 'up'}`,
          ).to.equal(true);
      }
    }
    expect([...checked].sort()).to.deep.equal([
      'herald_config_loaded_bool',
      'herald_config_stale_bool',
      'herald_controller_service_pending',
      'herald_pool_addresses_in_use',
      'herald_pool_addresses_total',
      'herald_speaker_bfd_session_up',
      'herald_speaker_bgp_session_up',
      'herald_speaker_l2_ownership_changes_total',
    ]);
  });
});

/** The label names a metric is declared with (prom-client keeps them on the metric), plus the registry's default labels. */
function labelNamesOf(registry: Registry, name: string, defaults: readonly string[]): string[] {
  const metric = registry.getSingleMetric(name) as { labelNames?: readonly string[] } | undefined;
  return [...(metric?.labelNames ?? []), ...defaults];
}
