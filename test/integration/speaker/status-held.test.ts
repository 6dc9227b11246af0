/**
 * Decision 015 end to end, one `herald speaker` process in a node namespace
 * (test/support/speaker-cluster.ts) reaching the API server through a proxy that can hold
 * requests. Step 0: while every write of its Service status objects hangs, Services assigned
 * meanwhile still get their routes at BIRD, and once the writes go through the status catches
 * up. Step 1: by default the speaker writes one BGPNodeStatus shard listing its Services; with
 * `--service-status=per-service` a ServiceBGPStatus per Service, and the shard a killed speaker
 * left behind is deleted; one deleted by hand is written again. Step 2: nodeAssigned Events per announced Service only per-service.
 */
import { expect } from 'chai';
import { ENDPOINT_SLICES, EVENTS, SERVICES, heraldResource, type KubeObject } from '../../../src/k8s/index.js';
import { eventually } from '../../support/apiserver.js';
import { kubeLane } from '../../support/kube-cluster.js';
import { useSpeakerCluster } from '../../support/speaker-cluster.js';

const NS = 'herald-system';
const BGP_STATUS = heraldResource('ServiceBGPStatus');
const NODE_STATUS = heraldResource('BGPNodeStatus');

interface Shard {
  node?: string;
  peers?: string[];
  services?: { namespace: string; name: string; peers?: number[] }[];
}
/** A write (not a read or a watch) of a Service status object. */
const STATUS_WRITE =
  /\/apis\/herald\.dev\/v1beta1\/namespaces\/[^/]+\/(servicebgpstatuses|servicel2statuses|bgpnodestatuses)(\/|\?|$)/;

describe(`speaker status writes held (${kubeLane()} API server, one node, BIRD): routes never wait for status`, function () {
  this.timeout(180_000);
  const e = useSpeakerCluster(NS, { 'node-a': '192.0.2.1' }, { holdingProxy: true });

  const service = async (name: string): Promise<string> => {
    const c = e.c!;
    await c.client.create(SERVICES, {
      metadata: { name, namespace: 'default', annotations: { 'herald.dev/address-pool': 'routed' } },
      spec: { type: 'LoadBalancer', selector: { app: name }, ports: [{ port: 80 }] },
    });
    await c.client.create(ENDPOINT_SLICES, {
      metadata: { name: `${name}-1`, namespace: 'default', labels: { 'kubernetes.io/service-name': name } },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['192.0.2.1'], nodeName: 'node-a', conditions: { ready: true } }],
      ports: [{ port: 80 }],
    } as KubeObject);
    return eventually(
      async () =>
        ((await c.client.get(SERVICES, 'default', name))['status'] as { loadBalancer?: { ingress?: { ip: string }[] } })
          .loadBalancer?.ingress?.[0]?.ip,
      `${name} to get an address`,
    );
  };
  const routeAtBird = (ip: string, what: string): Promise<true> =>
    eventually(() => (e.bird!.routes('master4').includes(`${ip}/32`) ? true : undefined), what, 60_000, 200);
  /** The nodeAssigned Events on Services in `default`, as `service: message`. */
  const nodeAssigned = async (): Promise<string[]> =>
    (await e.c!.client.list(EVENTS, { namespace: 'default' })).items
      .filter((x) => x['reason'] === 'nodeAssigned')
      .map((x) => `${String((x['involvedObject'] as { name?: string }).name)}: ${String(x['message'])}`);
  const statusOf = (name: string): Promise<KubeObject | undefined> =>
    e.c!.client.tryGet(BGP_STATUS, NS, `bgp-default-${name}-node-a`);
  /** The Services node-a's only shard lists (names in `default`), once it lists all of `want`. */
  const shardListing = (want: string[], what: string): Promise<Shard> =>
    eventually(
      async () => {
        const st = (await e.c!.client.tryGet(NODE_STATUS, NS, 'node-a-0'))?.['status'] as Shard | undefined;
        const names = new Set((st?.services ?? []).map((x) => x.name));
        return st && want.every((n) => names.has(n)) ? st : undefined;
      },
      what,
      60_000,
      200,
    );

  afterEach(function () {
    if (this.currentTest?.state === 'failed')
      process.stderr.write(`speaker log:\n${(e.logs['node-a'] ?? '').split('\n').slice(-40).join('\n')}\n`);
    if (e.proxy) {
      e.proxy.hold = undefined;
      e.proxy.release();
    }
  });

  it('step 0, per-node (the default): Services assigned while every status write hangs reach BIRD; the BGPNodeStatus follows once writes go through', async () => {
    const proxy = e.proxy!;
    // Before: the status writes go through (the speaker is up and its session established).
    const first = await service('before');
    await routeAtBird(first, 'the first route at BIRD');
    await shardListing(['before'], 'the BGPNodeStatus listing the first Service');

    proxy.hold = (method, path) => method !== 'GET' && STATUS_WRITE.test(path);
    const held = await service('held-1');
    await routeAtBird(held, 'a route at BIRD while status writes hang');
    // The speaker did try to write its status, and that write is the one hanging.
    await eventually(
      () =>
        proxy.held.some((r) => r.path.includes('bgpnodestatuses') && r.body.includes('held-1')) ? true : undefined,
      'the held status write listing held-1',
      30_000,
      100,
    );
    // A pass after that (the status pass still hangs) announces the next Service too.
    const next = await service('held-2');
    await routeAtBird(next, 'a second route at BIRD while the status pass hangs');
    const stale = (await e.c!.client.get(NODE_STATUS, NS, 'node-a-0'))['status'] as Shard;
    expect(stale.services?.map((x) => x.name)).to.deep.equal(['before']);

    // Writes go through again: the dropped connections are retried and the status catches up.
    proxy.hold = undefined;
    proxy.release();
    const st = await shardListing(['before', 'held-1', 'held-2'], 'the BGPNodeStatus listing every Service');
    expect(st).to.deep.include({ node: 'node-a', peers: ['router'] });
    expect(st.services).to.deep.equal(
      ['before', 'held-1', 'held-2'].map((name) => ({ namespace: 'default', name, peers: [0] })),
    );
    expect(e.logs['node-a']).to.match(/could not write BGPNodeStatus node-a-0, will retry/);
    // Per node, not per Service: no ServiceBGPStatus, and no Event per announced Service.
    expect((await e.c!.client.list(BGP_STATUS, { namespace: NS })).items).to.deep.equal([]);
    expect(await nodeAssigned()).to.deep.equal([]);
    // Deleted by someone else: written again (its informer asks the status writer to compare).
    await e.c!.client.delete(NODE_STATUS, NS, 'node-a-0');
    await shardListing(['before', 'held-1', 'held-2'], 'the deleted BGPNodeStatus written again');
  });

  it('step 1, --service-status=per-service: a ServiceBGPStatus per Service; the shard a killed per-node speaker left is deleted', async () => {
    const old = e.speakers['node-a']!;
    const gone = new Promise((resolve) => old.once('exit', resolve));
    old.kill('SIGKILL');
    await gone;
    expect(await e.c!.client.tryGet(NODE_STATUS, NS, 'node-a-0'), 'a killed speaker leaves its shard').to.not.equal(
      undefined,
    );
    e.spawnSpeaker('node-a', undefined, ['--service-status=per-service']);
    for (const name of ['before', 'held-1', 'held-2']) {
      const st = await eventually(
        async () => (await statusOf(name))?.['status'] as { serviceName?: string; peers?: string[] } | undefined,
        `the ServiceBGPStatus of ${name}`,
        60_000,
        200,
      );
      expect(st).to.deep.include({ node: 'node-a', serviceName: name, serviceNamespace: 'default', peers: ['router'] });
    }
    await eventually(
      async () => ((await e.c!.client.tryGet(NODE_STATUS, NS, 'node-a-0')) === undefined ? true : undefined),
      'the leftover BGPNodeStatus deleted',
      30_000,
      200,
    );
    await e.c!.client.delete(BGP_STATUS, NS, 'bgp-default-held-1-node-a');
    await eventually(
      async () => ((await statusOf('held-1'))?.['status'] ? true : undefined),
      'the deleted ServiceBGPStatus written again',
      30_000,
      200,
    );
    // Per-service keeps MetalLB's nodeAssigned Event per announced Service.
    const told = await eventually(
      async () => ((await nodeAssigned()).length >= 3 ? nodeAssigned() : undefined),
      'nodeAssigned Events in per-service mode',
      30_000,
      200,
    );
    expect(told.map((m) => m.replace(/announcing \S+ /, 'announcing IP ')).sort()).to.deep.equal(
      ['before', 'held-1', 'held-2'].map((n) => `${n}: announcing IP from node node-a via BGP to router`),
    );
  });
});
