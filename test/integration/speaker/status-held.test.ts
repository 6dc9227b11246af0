/**
 * Decision 015, step 0, end to end: a speaker whose status writes hang still announces. The
 * speaker (a `herald speaker` process in a node namespace, test/support/speaker-cluster.ts)
 * reaches the API server through a proxy that holds every write of its Service status
 * objects (never answered); Services assigned meanwhile still get their routes at BIRD,
 * and once the writes are let through the status objects catch up.
 */
import { expect } from 'chai';
import { ENDPOINT_SLICES, SERVICES, heraldResource, type KubeObject } from '../../../src/k8s/index.js';
import { eventually } from '../../support/apiserver.js';
import { kubeLane } from '../../support/kube-cluster.js';
import { useSpeakerCluster } from '../../support/speaker-cluster.js';

const NS = 'herald-system';
const BGP_STATUS = heraldResource('ServiceBGPStatus');
/** A write (not a read or a watch) of a Service status object. */
const STATUS_WRITE = /\/apis\/herald\.dev\/v1beta1\/namespaces\/[^/]+\/(servicebgpstatuses|servicel2statuses|bgpnodestatuses)(\/|\?|$)/;

describe(`speaker status writes held (${kubeLane()} API server, one node, BIRD): routes never wait for status`, function () {
  this.timeout(180_000);
  const e = useSpeakerCluster(NS, { 'node-a': '192.0.2.1' }, { holdingProxy: true });

  const service = async (name: string): Promise<string> => {
    const c = e.c!;
    await c.client.create(SERVICES, { metadata: { name, namespace: 'default', annotations: { 'herald.dev/address-pool': 'routed' } }, spec: { type: 'LoadBalancer', selector: { app: name }, ports: [{ port: 80 }] } });
    await c.client.create(ENDPOINT_SLICES, { metadata: { name: `${name}-1`, namespace: 'default', labels: { 'kubernetes.io/service-name': name } }, addressType: 'IPv4', endpoints: [{ addresses: ['192.0.2.1'], nodeName: 'node-a', conditions: { ready: true } }], ports: [{ port: 80 }] } as KubeObject);
    return eventually(async () => ((await c.client.get(SERVICES, 'default', name))['status'] as { loadBalancer?: { ingress?: { ip: string }[] } }).loadBalancer?.ingress?.[0]?.ip, `${name} to get an address`);
  };
  const routeAtBird = (ip: string, what: string): Promise<true> => eventually(() => (e.bird!.routes('master4').includes(`${ip}/32`) ? true : undefined), what, 60_000, 200);
  const statusOf = (name: string): Promise<KubeObject | undefined> => e.c!.client.tryGet(BGP_STATUS, NS, `bgp-default-${name}-node-a`);

  afterEach(function () {
    if (this.currentTest?.state === 'failed') process.stderr.write(`speaker log:\n${(e.logs['node-a'] ?? '').split('\n').slice(-40).join('\n')}\n`);
    if (e.proxy) {
      e.proxy.hold = undefined;
      e.proxy.release();
    }
  });

  it('Services assigned while every status write hangs reach BIRD; the status objects follow once writes go through', async () => {
    const proxy = e.proxy!;
    // Before: the status writes go through (the speaker is up and its session established).
    const first = await service('before');
    await routeAtBird(first, 'the first route at BIRD');
    await eventually(async () => ((await statusOf('before'))?.['status'] ? true : undefined), 'the first ServiceBGPStatus', 30_000, 200);

    proxy.hold = (method, path) => method !== 'GET' && STATUS_WRITE.test(path);
    const held = await service('held-1');
    await routeAtBird(held, 'a route at BIRD while status writes hang');
    // The speaker did try to write its status, and that write is the one hanging.
    await eventually(() => (proxy.held.some((r) => r.path.includes('servicebgpstatuses') && r.body.includes('held-1')) ? true : undefined), 'the held status write of held-1', 30_000, 100);
    // A pass after that (a status pass still hangs) announces the next Service too.
    const next = await service('held-2');
    await routeAtBird(next, 'a second route at BIRD while the status pass hangs');
    expect(await statusOf('held-1')).to.equal(undefined);
    expect(await statusOf('held-2')).to.equal(undefined);

    // Writes go through again: the dropped connections are retried and the status catches up.
    proxy.hold = undefined;
    proxy.release();
    for (const name of ['held-1', 'held-2']) {
      const st = await eventually(async () => (await statusOf(name))?.['status'] as { serviceName?: string; peers?: string[] } | undefined, `the ServiceBGPStatus of ${name}`, 60_000, 200);
      expect(st).to.deep.include({ serviceName: name, peers: ['router'] });
    }
    expect(e.logs['node-a']).to.match(/could not write ServiceBGPStatus bgp-default-held-[12]-node-a, will retry/);
  });
});
