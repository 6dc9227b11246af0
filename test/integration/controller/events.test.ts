/**
 * Service Events survive faults: `herald controller` processes on the embedded API server.
 * Events the server never took (writes hung) are re-derived from status by the next start
 * after a SIGKILL; a SIGTERM with a backlog of unwritable Events exits within the grace
 * period; writes that fail with 503 or a dropped connection are retried.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { EVENTS, NAMESPACES, SERVICES, heraldResource, type KubeObject } from '../../../src/k8s/index.js';
import { eventually, startTestCluster, type TestCluster } from '../../support/apiserver.js';
import { spawnController, type ControllerProcess } from '../../support/controller-process.js';

const NS = 'herald-system';

describe('controller Events across crashes, shutdowns and API faults', function () {
  this.timeout(90_000);
  let c: TestCluster;
  let dir: string;
  let kubeconfig: string;
  let ctl: ControllerProcess | undefined;

  const create = (name: string) =>
    c.client.create(SERVICES, {
      metadata: { name, namespace: 'default' },
      spec: { type: 'LoadBalancer', ports: [{ port: 80 }] },
    });
  const ipOf = async (name: string): Promise<string | undefined> =>
    ((await c.client.get(SERVICES, 'default', name))['status'] as { loadBalancer?: { ingress?: { ip: string }[] } })
      .loadBalancer?.ingress?.[0]?.ip;
  const allocated = async (name: string): Promise<string[]> =>
    (await c.client.list(EVENTS, { namespace: 'default', fieldSelector: `involvedObject.name=${name}` })).items
      .filter((e) => e['reason'] === 'IPAllocated')
      .map((e) => String(e['message']));
  const eventCreates = (): number => c.server.requestCounts.get('create events') ?? 0;

  before(async () => {
    c = await startTestCluster({ herald: true });
    dir = mkdtempSync(join(tmpdir(), 'herald-events-'));
    kubeconfig = join(dir, 'kubeconfig');
    c.server.writeKubeconfig(kubeconfig);
    await c.client.create(NAMESPACES, { metadata: { name: NS } });
    await c.client.create(heraldResource('IPAddressPool'), {
      metadata: { name: 'main', namespace: NS },
      spec: { addresses: ['192.0.2.0/24'] },
    } as KubeObject);
  });
  afterEach(async () => {
    c.server.faults.clear();
    await ctl?.kill('SIGKILL');
    ctl = undefined;
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await c.server.stop();
  });

  it('an Event lost in a SIGKILL is written by the next start, once', async () => {
    c.server.faults.failNext({ resource: 'events', verb: 'create', count: 1000, status: 'hang' });
    ctl = spawnController(kubeconfig);
    const before = eventCreates();
    await create('crash');
    expect(await eventually(() => ipOf('crash'), 'crash assigned', 20_000)).to.equal('192.0.2.0');
    await eventually(() => eventCreates() > before, 'the IPAllocated Event write to hang', 20_000);
    await ctl.kill('SIGKILL');
    c.server.faults.clear();
    expect(await allocated('crash')).to.deep.equal([]);
    ctl = spawnController(kubeconfig);
    await eventually(async () => (await allocated('crash')).length > 0, 'the re-derived IPAllocated Event', 20_000);
    await eventually(() => ctl!.log().includes('controller started'), 'the controller started', 20_000);
    expect(await allocated('crash')).to.deep.equal(['assigned 192.0.2.0 from pool "main"']);
  });

  it('SIGTERM with a backlog of unwritable Events exits at once; the next start writes them', async () => {
    ctl = spawnController(kubeconfig);
    await eventually(() => ctl!.log().includes('controller started'), 'the controller started', 20_000);
    c.server.faults.failNext({ resource: 'events', verb: 'create', count: 1000, status: 'hang' });
    const names = Array.from({ length: 30 }, (_, i) => `busy-${i}`);
    for (const n of names) await create(n);
    for (const n of names) await eventually(() => ipOf(n), `${n} assigned`, 20_000);
    const { exit, ms } = await ctl.kill('SIGTERM');
    expect(exit).to.equal(0);
    expect(ms, 'SIGTERM to exit').to.be.below(5000);
    expect(ctl.log()).to.include('stopping with Events unwritten');
    c.server.faults.clear();
    ctl = spawnController(kubeconfig);
    for (const n of names)
      await eventually(async () => (await allocated(n)).length === 1, `${n}'s IPAllocated Event`, 20_000);
  });

  it('Event writes that fail with 503 or a dropped connection are retried', async () => {
    ctl = spawnController(kubeconfig);
    await eventually(() => ctl!.log().includes('controller started'), 'the controller started', 20_000);
    c.server.faults.failNext({ resource: 'events', verb: 'create', count: 2, status: 503 });
    await create('flaky');
    await eventually(
      async () => (await allocated('flaky')).length === 1,
      "flaky's IPAllocated Event after two 503s",
      20_000,
    );
    const before = eventCreates();
    c.server.faults.failNext({ resource: 'events', verb: 'create', count: 1, status: 'hang' });
    await create('dropped');
    await eventually(() => eventCreates() > before, 'the Event write to hang', 20_000);
    c.server.faults.clear(); // ends the hung request: the client sees its connection drop
    await eventually(
      async () => (await allocated('dropped')).length === 1,
      "dropped's IPAllocated Event after the connection dropped",
      20_000,
    );
  });
});
