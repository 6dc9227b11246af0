/**
 * The controller on the embedded API server, through client-node: every condition reason
 * and Event, pool status, ConfigurationState, restarts and pool edits.
 */
import { expect } from 'chai';
import { Controller } from '../../../controller/controller.js';
import { systemClock } from '../../../src/core/clock.js';
import { RecordingLogger } from '../../../src/core/logger.js';
import { createMetricsRegistry } from '../../../src/metrics.js';
import { EVENTS, NAMESPACES, SERVICES, heraldResource, type KubeObject } from '../../../src/k8s/index.js';
import { eventually } from '../../support/apiserver.js';
import { type KubeCluster, kubeLane, startKubeCluster } from '../../support/kube-cluster.js';

const POOLS = heraldResource('IPAddressPool');
const CONFIG_STATES = heraldResource('ConfigurationState');
const NS = 'herald-system';

interface Cond {
  type: string;
  status: string;
  reason: string;
  message: string;
}

function svc(
  name: string,
  opts: {
    annotations?: Record<string, string>;
    spec?: Record<string, unknown>;
    labels?: Record<string, string>;
    namespace?: string;
  } = {},
): KubeObject {
  return {
    metadata: {
      name,
      namespace: opts.namespace ?? 'default',
      ...(opts.annotations ? { annotations: opts.annotations } : {}),
      ...(opts.labels ? { labels: opts.labels } : {}),
    },
    spec: { type: 'LoadBalancer', selector: { app: name }, ports: [{ name: 'http', port: 80 }], ...opts.spec },
  };
}

describe(`controller on the ${kubeLane()} API server`, function () {
  let c: KubeCluster;
  let controller: Controller;
  const logger = new RecordingLogger();

  const startController = async (): Promise<Controller> => {
    const ctl = new Controller({
      client: c.client,
      clock: systemClock(),
      logger,
      registry: createMetricsRegistry({ defaultMetrics: false }),
      namespace: NS,
      workers: 4,
      poolStatusDelayMs: 10,
    });
    await ctl.start();
    return ctl;
  };
  const pool = (name: string, spec: Record<string, unknown>) =>
    c.client.create(POOLS, { metadata: { name, namespace: NS }, spec });
  const get = (name: string, ns = 'default') => c.client.get(SERVICES, ns, name);
  const ips = (o: KubeObject): string[] =>
    ((o['status'] as { loadBalancer?: { ingress?: { ip: string }[] } }).loadBalancer?.ingress ?? []).map((i) => i.ip);
  const cond = (o: KubeObject): Cond | undefined =>
    ((o['status'] as { conditions?: Cond[] }).conditions ?? []).find((x) => x.type === 'herald.dev/AddressAssigned');
  const waitCond = (name: string, reason: string, ns = 'default') =>
    eventually(async () => {
      const o = await get(name, ns);
      return cond(o)?.reason === reason ? o : undefined;
    }, `${ns}/${name} condition ${reason}`);
  const events = async (name: string, ns = 'default') =>
    (await c.client.list(EVENTS, { namespace: ns, fieldSelector: `involvedObject.name=${name}` })).items.map(
      (e) => `${String(e['reason'])}: ${String(e['message'])}`,
    );
  const waitEvent = (name: string, reason: string, ns = 'default') =>
    eventually(
      async () => (await events(name, ns)).find((e) => e.startsWith(`${reason}:`)),
      `${ns}/${name} event ${reason}`,
    );

  before(async () => {
    c = await startKubeCluster({ herald: true });
    await c.client.create(NAMESPACES, { metadata: { name: NS } });
    await c.client.create(NAMESPACES, { metadata: { name: 'team', labels: { env: 'prod' } } });
    await pool('main', { addresses: ['192.0.2.0/30'] });
    await pool('manual', { addresses: ['198.51.100.0/30'], autoAssign: false });
    await pool('team', {
      addresses: ['203.0.113.0/30'],
      serviceAllocation: { priority: 1, namespaceSelectors: [{ matchLabels: { env: 'prod' } }] },
    });
    await pool('dual', { addresses: ['203.0.113.64/30', '2001:db8::/126'], autoAssign: false });
    controller = await startController();
  });
  after(async () => {
    await controller?.stop();
    await c.stop();
  });

  it('assigns the lowest free address, with annotation, condition and an IPAllocated Event', async () => {
    await c.client.create(SERVICES, svc('web'));
    const o = await waitCond('web', 'Assigned');
    expect(ips(o)).to.deep.equal(['192.0.2.0']);
    expect(o.metadata.annotations?.['herald.dev/ip-allocated-from-pool']).to.equal('main');
    expect(
      (o['status'] as { loadBalancer: { ingress: { ipMode: string }[] } }).loadBalancer.ingress[0]!.ipMode,
    ).to.equal('VIP');
    expect(await waitEvent('web', 'IPAllocated')).to.equal('IPAllocated: assigned 192.0.2.0 from pool "main"');
  });

  it('serves a namespace-selected pool first by priority', async () => {
    await c.client.create(SERVICES, svc('api', { namespace: 'team' }));
    const o = await waitCond('api', 'Assigned', 'team');
    expect(ips(o)).to.deep.equal(['203.0.113.0']);
  });

  it('honours requested pools and addresses, and names what is wrong', async () => {
    await c.client.create(SERVICES, svc('pinned', { spec: { loadBalancerIP: '198.51.100.2' } }));
    expect(ips(await waitCond('pinned', 'Assigned'))).to.deep.equal(['198.51.100.2']);
    await c.client.create(SERVICES, svc('named', { annotations: { 'herald.dev/address-pool': 'manual' } }));
    expect(ips(await waitCond('named', 'Assigned'))).to.deep.equal(['198.51.100.0']);
    await c.client.create(SERVICES, svc('taken', { spec: { loadBalancerIP: '198.51.100.2' } }));
    expect((await waitCond('taken', 'RequestedIPInUse')).status).to.not.equal(undefined);
    expect(await waitEvent('taken', 'AllocationFailed')).to.include('198.51.100.2 is in use by default/pinned');
    await c.client.create(SERVICES, svc('outside', { annotations: { 'herald.dev/load-balancer-ips': '192.0.2.200' } }));
    expect(cond(await waitCond('outside', 'RequestedIPNotInPool'))!.status).to.equal('False');
    await c.client.create(SERVICES, svc('nopool', { annotations: { 'herald.dev/address-pool': 'absent' } }));
    await waitCond('nopool', 'PoolNotFound');
    await c.client.create(SERVICES, svc('excluded', { annotations: { 'herald.dev/address-pool': 'team' } }));
    expect(cond(await waitCond('excluded', 'NoMatchingPool'))!.message).to.include('does not serve default/excluded');
    await c.client.create(SERVICES, svc('garbage', { annotations: { 'herald.dev/load-balancer-ips': 'not-an-ip' } }));
    expect(cond(await waitCond('garbage', 'InvalidRequest'))!.message).to.include('"not-an-ip" is not an IP address');
  });

  it('shares an address under one key and refuses mismatched keys and port conflicts', async () => {
    await c.client.create(
      SERVICES,
      svc('dns-tcp', {
        annotations: { 'herald.dev/allow-shared-ip': 'dns' },
        spec: { ports: [{ name: 'dns', port: 53, protocol: 'TCP' }] },
      }),
    );
    const first = ips(await waitCond('dns-tcp', 'Assigned'));
    await c.client.create(
      SERVICES,
      svc('dns-udp', {
        annotations: { 'herald.dev/allow-shared-ip': 'dns', 'herald.dev/load-balancer-ips': first[0]! },
        spec: { ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] },
      }),
    );
    expect(ips(await waitCond('dns-udp', 'Assigned'))).to.deep.equal(first);
    await c.client.create(
      SERVICES,
      svc('other-key', {
        annotations: { 'herald.dev/allow-shared-ip': 'x', 'herald.dev/load-balancer-ips': first[0]! },
        spec: { ports: [{ name: 'h', port: 8080 }] },
      }),
    );
    await waitCond('other-key', 'SharingKeyMismatch');
    await c.client.create(
      SERVICES,
      svc('same-port', {
        annotations: { 'herald.dev/allow-shared-ip': 'dns', 'herald.dev/load-balancer-ips': first[0]! },
        spec: { ports: [{ name: 'dns', port: 53, protocol: 'TCP' }] },
      }),
    );
    await waitCond('same-port', 'PortConflict');
  });

  it('says when the pools are exhausted, and serves the Service once a pool grows', async () => {
    // main (192.0.2.0/30) now holds web and dns-tcp; fill it.
    await c.client.create(SERVICES, svc('fill-1'));
    await c.client.create(SERVICES, svc('fill-2'));
    await waitCond('fill-2', 'Assigned');
    await c.client.create(SERVICES, svc('late'));
    await waitCond('late', 'PoolExhausted');
    expect(await waitEvent('late', 'AllocationFailed')).to.include('PoolExhausted');
    await c.client.patch(POOLS, NS, 'main', { spec: { addresses: ['192.0.2.0/29'] } });
    expect(ips(await waitCond('late', 'Assigned'))).to.deep.equal(['192.0.2.4']);
  });

  it('gives dual-stack Services one address per family in ipFamilies order', async () => {
    await c.client.create(
      SERVICES,
      svc('dual', {
        annotations: { 'herald.dev/address-pool': 'dual' },
        spec: { ipFamilyPolicy: 'RequireDualStack', ipFamilies: ['IPv6', 'IPv4'] },
      }),
    );
    expect(ips(await waitCond('dual', 'Assigned'))).to.deep.equal(['2001:db8::', '203.0.113.64']);
  });

  it('honours MetalLB annotations and says so once', async () => {
    await c.client.create(SERVICES, svc('migrated', { annotations: { 'metallb.universe.tf/address-pool': 'manual' } }));
    expect(ips(await waitCond('migrated', 'Assigned'))).to.deep.equal(['198.51.100.1']);
    const ev = await waitEvent('migrated', 'MetalLBAnnotation');
    expect(ev).to.include('metallb.universe.tf/address-pool');
  });

  it('releases and clears status when the type changes away or the class is not ours', async () => {
    await c.client.create(SERVICES, svc('leaving'));
    const had = ips(await waitCond('leaving', 'Assigned'));
    await c.client.patch(SERVICES, 'default', 'leaving', { spec: { type: 'ClusterIP' } });
    const cleared = await eventually(async () => {
      const o = await get('leaving');
      // The status is cleared first, the pool annotation (what says Herald gave it) last.
      return ips(o).length === 0 &&
        !cond(o) &&
        o.metadata.annotations?.['herald.dev/ip-allocated-from-pool'] === undefined
        ? o
        : undefined;
    }, 'status and pool annotation cleared');
    expect(cleared.metadata.annotations ?? {}).to.not.have.property('herald.dev/ip-allocated-from-pool');
    expect(await waitEvent('leaving', 'IPReleased')).to.include(had[0]!);
    await c.client.create(SERVICES, svc('foreign', { spec: { loadBalancerClass: 'example.com/other' } }));
    await c.client.create(SERVICES, svc('marker'));
    await waitCond('marker', 'Assigned');
    expect(cond(await get('foreign'))).to.equal(undefined);
  });

  it('leaves the addresses another implementation wrote on a Service of its loadBalancerClass', async () => {
    // Found by bench/scale: every such Service got an update clearing its status.
    await c.client.create(SERVICES, svc('foreign-held', { spec: { loadBalancerClass: 'example.com/other' } }));
    await c.client.patch(
      SERVICES,
      'default',
      'foreign-held',
      { status: { loadBalancer: { ingress: [{ ip: '203.0.113.77', ipMode: 'VIP' }] } } },
      { status: true },
    );
    await c.client.create(SERVICES, svc('marker-2'));
    await waitCond('marker-2', 'Assigned');
    // Touch it again, so the controller certainly reconciled it after seeing the address.
    await c.client.patch(SERVICES, 'default', 'foreign-held', { metadata: { labels: { touched: 'yes' } } });
    await c.client.create(SERVICES, svc('marker-3'));
    await waitCond('marker-3', 'Assigned');
    const o = await get('foreign-held');
    expect(ips(o)).to.deep.equal(['203.0.113.77']);
    expect(cond(o)).to.equal(undefined);
    // The main pool is small: give the markers' addresses back for the tests after this one.
    for (const n of ['marker-2', 'marker-3', 'foreign-held']) await c.client.delete(SERVICES, 'default', n);
  });

  it('keeps a working address when its pool shrinks, with IPNotInPool', async () => {
    const before = ips(await get('pinned'));
    await c.client.patch(POOLS, NS, 'manual', { spec: { addresses: ['198.51.100.0/31'] } });
    const o = await waitCond('pinned', 'IPNotInPool');
    expect(ips(o)).to.deep.equal(before);
    expect(await waitEvent('pinned', 'IPNotInPool')).to.include('198.51.100.2');
  });

  it('writes pool status counts and a Valid condition, and ConfigurationState', async () => {
    const inMain = new Set(
      (await c.client.list(SERVICES)).items.flatMap(ips).filter((ip) => /^192\.0\.2\.[0-7]$/.test(ip)),
    );
    const p = await eventually(async () => {
      const o = await c.client.get(POOLS, NS, 'main');
      const st = o['status'] as { assignedIPv4?: string; conditions?: Cond[] };
      return st?.assignedIPv4 === String(inMain.size) ? o : undefined;
    }, `main pool status with ${inMain.size} assigned`);
    const st = p['status'] as Record<string, unknown>;
    expect([st['assignedIPv4'], st['availableIPv4'], st['assignedIPv6'], st['availableIPv6']]).to.deep.equal([
      String(inMain.size),
      String(8 - inMain.size),
      '0',
      '0',
    ]);
    expect((st['conditions'] as Cond[])[0]).to.include({ type: 'Valid', status: 'True' });
    const cs = await eventually(async () => {
      const o = await c.client.tryGet(CONFIG_STATES, NS, 'controller');
      return o?.['status'] ? o : undefined;
    }, 'ConfigurationState with its status');
    expect((cs['status'] as { result: string }).result).to.equal('Valid');
  });

  it('marks an invalid pool, keeps the good ones serving, and reports it in ConfigurationState', async () => {
    await pool('overlap', { addresses: ['192.0.2.4/30'] });
    const bad = await eventually(async () => {
      for (const name of ['overlap', 'main']) {
        const o = await c.client.get(POOLS, NS, name);
        const v = ((o['status'] as { conditions?: Cond[] })?.conditions ?? []).find((x) => x.type === 'Valid');
        if (v?.status === 'False') return v;
      }
      return undefined;
    }, 'a pool marked invalid');
    expect(bad.message).to.include('overlap');
    const cs = await eventually(async () => {
      const o = await c.client.get(CONFIG_STATES, NS, 'controller');
      return (o['status'] as { result: string }).result === 'Invalid' ? o : undefined;
    }, 'ConfigurationState Invalid');
    expect((cs['status'] as { errors: { name: string }[] }).errors.map((e) => e.name)).to.satisfy(
      (n: string[]) => n.includes('overlap') || n.includes('main'),
    );
    await c.client.delete(POOLS, NS, 'overlap');
  });

  it('a restart keeps every address; of two Services claiming one address the older keeps it', async () => {
    const before = new Map<string, string[]>();
    for (const s of (await c.client.list(SERVICES)).items)
      before.set(`${s.metadata.namespace}/${s.metadata.name}`, ips(s));
    await controller.stop();
    // A Service restored from a backup with an address another Service holds.
    await c.client.create(SERVICES, svc('restored'));
    await c.client.patch(
      SERVICES,
      'default',
      'restored',
      { status: { loadBalancer: { ingress: [{ ip: '192.0.2.0' }] } } },
      { status: true },
    );
    controller = await startController();
    await eventually(() => controller.isIdle(), 'controller idle after restart');
    const after = new Map<string, string[]>();
    for (const s of (await c.client.list(SERVICES)).items)
      after.set(`${s.metadata.namespace}/${s.metadata.name}`, ips(s));
    for (const [k, v] of before) expect(after.get(k), k).to.deep.equal(v);
    const restored = await waitCond('restored', 'Assigned');
    expect(ips(restored)).to.not.deep.equal(['192.0.2.0']);
    expect(await waitEvent('restored', 'IPConflict')).to.include('192.0.2.0 is held by default/web');
  });
});
