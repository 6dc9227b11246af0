/**
 * Herald names itself on every write: `herald controller` (a process, with leader election)
 * sends User-Agent and fieldManager `herald-controller` on each create, update and patch,
 * as the embedded API server records them; a client made for the speaker says
 * `herald-speaker` (cmd/speaker.ts builds it that way).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { KubeClient, NAMESPACES, SERVICES, heraldResource, type KubeObject } from '../../../src/k8s/index.js';
import { eventually, startTestCluster, type TestCluster } from '../../support/apiserver.js';
import { spawnController, type ControllerProcess } from '../../support/controller-process.js';

const NS = 'herald-system';

describe('controller and speaker identify themselves on writes', function () {
  this.timeout(60_000);
  let c: TestCluster;
  let dir: string;
  let ctl: ControllerProcess | undefined;

  before(async () => {
    c = await startTestCluster({ herald: true });
    dir = mkdtempSync(join(tmpdir(), 'herald-ua-'));
    await c.client.create(NAMESPACES, { metadata: { name: NS } });
    await c.client.create(heraldResource('IPAddressPool'), {
      metadata: { name: 'main', namespace: NS },
      spec: { addresses: ['192.0.2.0/29'] },
    } as KubeObject);
  });
  after(async () => {
    await ctl?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    await c.server.stop();
  });

  it('every write of the controller carries herald-controller', async () => {
    const kubeconfig = join(dir, 'kubeconfig');
    // The test itself only creates the Service; everything else written is the controller's.
    c.server.writeKubeconfig(kubeconfig);
    ctl = spawnController(kubeconfig, [
      '--leader-elect',
      '--lease-duration',
      '2',
      '--renew-deadline',
      '1.5',
      '--retry-period',
      '0.25',
    ]);
    c.server.writeAgents.clear();
    await c.client.create(SERVICES, {
      metadata: { name: 'web', namespace: 'default' },
      spec: { type: 'LoadBalancer', ports: [{ port: 80 }] },
    });
    await eventually(
      async () => {
        const ev = await c.client.list(heraldResource('ConfigurationState'), { namespace: NS });
        const svc = await c.client.get(SERVICES, 'default', 'web');
        return (
          ev.items.length > 0 &&
          ((svc['status'] as { loadBalancer?: { ingress?: unknown[] } }).loadBalancer?.ingress ?? []).length > 0
        );
      },
      'the controller to assign and report',
      20_000,
    );
    await eventually(
      () => [...c.server.writeAgents.keys()].some((k) => k.startsWith('create events')),
      'an Event',
      20_000,
    );
    const writes = [...c.server.writeAgents.keys()].filter((k) => !k.startsWith('create services '));
    for (const kind of [' leases.coordination.k8s.io ', 'patch services/status ', 'create events '])
      expect(
        writes.some((k) => k.includes(kind)),
        `${kind} in ${writes.join('; ')}`,
      ).to.equal(true);
    for (const k of writes) expect(k, k).to.match(/ ua=herald-controller fieldManager=herald-controller$/);
  });

  it('a client made as the speaker says herald-speaker', async () => {
    // The first test's controller would write too (its status objects): only this client writes here.
    await ctl?.kill('SIGKILL');
    ctl = undefined;
    const speaker = KubeClient.fromString(c.server.kubeconfig(), { userAgent: 'herald-speaker' });
    c.server.writeAgents.clear();
    await speaker.create(SERVICES, {
      metadata: { name: 'probe', namespace: 'default' },
      spec: { type: 'ClusterIP', ports: [{ port: 80 }] },
    });
    await speaker.patch(SERVICES, 'default', 'probe', { metadata: { labels: { a: 'b' } } });
    speaker.close();
    expect([...c.server.writeAgents.keys()].sort()).to.deep.equal([
      'create services ua=herald-speaker fieldManager=herald-speaker',
      'patch services ua=herald-speaker fieldManager=herald-speaker',
    ]);
  });
});
