/**
 * No theft across a crash: `herald controller` processes, SIGKILLed, on the embedded API
 * server. While the controller is down an older Service's request changes to an address (or
 * a pool) a younger Service holds; on start the younger keeps it and the older is refused
 * (or served elsewhere) — the start-up replay first re-claims what every unchanged Service
 * shows, and only then serves the changed ones.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { NAMESPACES, SERVICES, heraldResource, type KubeObject } from '../../../src/k8s/index.js';
import { eventually, startTestCluster, type TestCluster } from '../../support/apiserver.js';
import { spawnController, type ControllerProcess } from '../../support/controller-process.js';

const POOLS = heraldResource('IPAddressPool');
const NS = 'herald-system';

interface Cond {
  type: string;
  reason: string;
  message: string;
}

describe('controller: no address taken from another Service across a SIGKILL', function () {
  this.timeout(60_000);
  let c: TestCluster;
  let dir: string;
  let kubeconfig: string;
  let ctl: ControllerProcess | undefined;

  const ips = (o: KubeObject): string[] =>
    ((o['status'] as { loadBalancer?: { ingress?: { ip: string }[] } }).loadBalancer?.ingress ?? []).map((i) => i.ip);
  const cond = (o: KubeObject): Cond | undefined =>
    ((o['status'] as { conditions?: Cond[] }).conditions ?? []).find((x) => x.type === 'herald.dev/AddressAssigned');
  const get = (name: string) => c.client.get(SERVICES, 'default', name);
  const waitIPs = (name: string, want: string[]) =>
    eventually(
      async () => {
        const o = await get(name);
        return JSON.stringify(ips(o)) === JSON.stringify(want) ? o : undefined;
      },
      `${name} to show ${want.join(',') || 'nothing'}`,
      20_000,
    );
  const create = (name: string, annotations: Record<string, string> = {}) =>
    c.client.create(SERVICES, {
      metadata: { name, namespace: 'default', annotations },
      spec: { type: 'LoadBalancer', ports: [{ port: 80 }] },
    });

  before(async () => {
    c = await startTestCluster({ herald: true });
    dir = mkdtempSync(join(tmpdir(), 'herald-theft-'));
    kubeconfig = join(dir, 'kubeconfig');
    c.server.writeKubeconfig(kubeconfig);
    await c.client.create(NAMESPACES, { metadata: { name: NS } });
  });
  afterEach(async () => {
    await ctl?.kill('SIGKILL');
    ctl = undefined;
    for (const s of (await c.client.list(SERVICES, { namespace: 'default' })).items)
      if (s.metadata.name !== 'kubernetes') await c.client.delete(SERVICES, 'default', s.metadata.name);
    for (const p of (await c.client.list(POOLS, { namespace: NS })).items)
      await c.client.delete(POOLS, NS, p.metadata.name);
  });
  after(async () => {
    await ctl?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    await c.server.stop();
  });

  it("an older Service that now requests the younger one's address gets RequestedIPInUse; the younger keeps it", async () => {
    await c.client.create(POOLS, {
      metadata: { name: 'main', namespace: NS },
      spec: { addresses: ['198.51.100.0/29'] },
    } as KubeObject);
    ctl = spawnController(kubeconfig);
    await create('a');
    await waitIPs('a', ['198.51.100.0']);
    await create('b');
    await waitIPs('b', ['198.51.100.1']);
    await ctl.kill('SIGKILL');
    await c.client.patch(SERVICES, 'default', 'a', {
      metadata: { annotations: { 'herald.dev/load-balancer-ips': '198.51.100.1' } },
    });
    ctl = spawnController(kubeconfig);
    const a = await eventually(
      async () => {
        const o = await get('a');
        return cond(o)?.reason === 'RequestedIPInUse' ? o : undefined;
      },
      'a refused with RequestedIPInUse',
      20_000,
    );
    expect(ips(a)).to.deep.equal([]);
    expect(cond(a)!.message).to.include('198.51.100.1 is in use by default/b');
    expect(ips(await get('b'))).to.deep.equal(['198.51.100.1']);
    expect(ctl.log()).to.not.include('IPConflict');
  });

  it("an older Service that now names the younger one's pool gets another address of it; the younger keeps its own", async () => {
    await c.client.create(POOLS, {
      metadata: { name: 'p1', namespace: NS },
      spec: { addresses: ['198.51.100.0/30'] },
    } as KubeObject);
    await c.client.create(POOLS, {
      metadata: { name: 'p2', namespace: NS },
      spec: { addresses: ['198.51.100.8/30'], autoAssign: false },
    } as KubeObject);
    ctl = spawnController(kubeconfig);
    await create('a');
    await waitIPs('a', ['198.51.100.0']);
    await create('b', { 'herald.dev/address-pool': 'p2' });
    await waitIPs('b', ['198.51.100.8']);
    await ctl.kill('SIGKILL');
    await c.client.patch(SERVICES, 'default', 'a', { metadata: { annotations: { 'herald.dev/address-pool': 'p2' } } });
    ctl = spawnController(kubeconfig);
    const a = await waitIPs('a', ['198.51.100.9']);
    expect(a.metadata.annotations?.['herald.dev/ip-allocated-from-pool']).to.equal('p2');
    expect(ips(await get('b'))).to.deep.equal(['198.51.100.8']);
  });
});
