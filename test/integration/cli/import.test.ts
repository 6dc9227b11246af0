/**
 * MetalLB fixtures round-trip: `herald import` → `herald validate` → applied to the
 * embedded API server with the Services as MetalLB left them → the controller keeps every
 * address MetalLB recorded in status.
 */
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Controller } from '../../../controller/controller.js';
import { runImport } from '../../../src/cli/import.js';
import { loadManifests, runValidate } from '../../../src/cli/validate.js';
import { readStatus } from '../../../src/cli/status.js';
import type { StatusReport } from '../../../src/cli/status-report.js';
import { systemClock } from '../../../src/core/clock.js';
import { RecordingLogger } from '../../../src/core/logger.js';
import { NAMESPACES, SECRETS, SERVICES, heraldResource, type KubeObject } from '../../../src/k8s/index.js';
import { createMetricsRegistry } from '../../../src/metrics.js';
import { apiError, eventually, startTestCluster, type TestCluster } from '../../support/apiserver.js';

const NS = 'herald-system';
const FIXTURES = 'test/fixtures/metallb';

function sink(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (b: Buffer) => chunks.push(b));
  return { stream, text: () => Buffer.concat(chunks).toString() };
}

interface Ingress {
  ip: string;
}
const ingressOf = (o: KubeObject | unknown): string[] =>
  (
    ((o as KubeObject)['status'] as { loadBalancer?: { ingress?: Ingress[] } } | undefined)?.loadBalancer?.ingress ?? []
  ).map((i) => i.ip);
const reasonOf = (o: KubeObject): string | undefined =>
  ((o['status'] as { conditions?: { type: string; reason: string }[] }).conditions ?? []).find(
    (c) => c.type === 'herald.dev/AddressAssigned',
  )?.reason;

describe('herald import: MetalLB fixtures round-trip to the same addresses', function () {
  this.timeout(60_000);
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'herald-import-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  for (const fixture of ['l2-basic', 'bgp-full', 'legacy-configmap']) {
    it(fixture, async () => {
      const out = join(dir, fixture);
      const err = sink();
      const o = sink();
      expect(
        await runImport(
          { paths: [join(FIXTURES, fixture)], outDir: out, namespace: NS },
          { stdout: o.stream, stderr: err.stream },
        ),
      ).to.equal(0, err.text());
      expect(err.text()).to.not.include('unsupported:');
      const v = sink();
      expect(await runValidate([out], { stdout: v.stream, stderr: v.stream })).to.equal(0, v.text());

      const imported = (await loadManifests([out])).objects.map((x) => x.object as KubeObject);
      const inputs = (await loadManifests([join(FIXTURES, fixture)])).objects.map((x) => x.object as KubeObject);
      const namespaces = inputs.filter((x) => x.kind === 'Namespace');
      const services = inputs.filter((x) => x.kind === 'Service');
      expect(services.length).to.be.greaterThan(0);

      const c: TestCluster = await startTestCluster({ herald: true });
      let controller: Controller | undefined;
      try {
        await c.client.create(NAMESPACES, { metadata: { name: NS } });
        for (const n of namespaces) await c.client.create(NAMESPACES, { metadata: n.metadata });
        for (const x of imported)
          await c.client.create(x.kind === 'Secret' ? SECRETS : heraldResource(String(x.kind)), x);
        // The Services as MetalLB left them: created, then their status written as MetalLB did.
        for (const s of services) {
          await c.client.create(SERVICES, { ...s, status: {} });
          await c.client.patch(
            SERVICES,
            s.metadata.namespace ?? 'default',
            s.metadata.name,
            { status: s['status'] },
            { kind: 'merge', status: true },
          );
        }
        controller = new Controller({
          client: c.client,
          clock: systemClock(),
          logger: new RecordingLogger(),
          registry: createMetricsRegistry({ defaultMetrics: false }),
          namespace: NS,
          workers: 2,
          poolStatusDelayMs: 10,
        });
        await controller.start();
        for (const s of services) {
          const ns = s.metadata.namespace ?? 'default';
          const got = await eventually(async () => {
            const cur = await c.client.get(SERVICES, ns, s.metadata.name);
            return reasonOf(cur) !== undefined ? cur : undefined;
          }, `${ns}/${s.metadata.name} handled by the controller`);
          expect([reasonOf(got), ingressOf(got)], `${ns}/${s.metadata.name}`).to.deep.equal(['Assigned', ingressOf(s)]);
        }
        // herald status on the result: nothing wrong, each Service in the pool MetalLB named,
        // and the pools' used counts (written by the controller) add up to the addresses held.
        const distinct = new Set(services.flatMap((s) => ingressOf(s))).size;
        const used = (r: StatusReport): number =>
          r.pools.reduce((n, p) => n + Number(p.assignedIPv4) + Number(p.assignedIPv6), 0);
        const report = await eventually(async () => {
          const r = await readStatus(c.client, { namespace: NS });
          return r.services.every((x) => x.pool !== '') && used(r) === distinct ? r : undefined;
        }, 'status report with every pool and Service');
        expect(report.problems).to.deep.equal([]);
        for (const s of services) {
          const recorded =
            s.metadata.annotations?.['metallb.io/ip-allocated-from-pool'] ??
            s.metadata.annotations?.['metallb.universe.tf/ip-allocated-from-pool'];
          const row = report.services.find(
            (x) => x.name === s.metadata.name && x.namespace === (s.metadata.namespace ?? 'default'),
          );
          expect(row?.ips).to.deep.equal(ingressOf(s));
          if (recorded) expect(row?.pool, s.metadata.name).to.equal(recorded);
        }
      } finally {
        await controller?.stop();
        await c.server.stop();
      }
    });
  }

  it('the API server refuses MetalLB v1beta2 localASN and interface with a message instead of pruning them', async () => {
    const c = await startTestCluster({ herald: true });
    try {
      await c.client.create(NAMESPACES, { metadata: { name: NS } });
      const PEERS = heraldResource('BGPPeer');
      const local = await apiError(
        c.client.create(PEERS, {
          metadata: { name: 'a', namespace: NS },
          spec: { myASN: 64500, localASN: 64510, peerASN: 64501, peerAddress: '192.0.2.1' },
        }),
      );
      expect([local.statusCode, local.message]).to.satisfy(
        ([code, msg]: [number, string]) => code === 422 && msg.includes('localASN is not supported by Herald'),
      );
      const unnumbered = await apiError(
        c.client.create(PEERS, {
          metadata: { name: 'b', namespace: NS },
          spec: { myASN: 64500, peerASN: 64501, peerAddress: '192.0.2.1', interface: 'eth1' },
        }),
      );
      expect(unnumbered.statusCode).to.equal(422);
      expect(unnumbered.message).to.include('interface (unnumbered BGP) is not supported by Herald');
    } finally {
      await c.server.stop();
    }
  });
});
