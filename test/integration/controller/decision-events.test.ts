/**
 * Events that tell a decision survive a SIGKILL of `herald controller` before they are
 * written: IPConflict and IPReleased (written before the status write that carries the
 * decision out, so the decision waits while their write hangs) and MetalLBAnnotation (told
 * again from the Service's annotations by the next start, once). The controller talks to
 * the API server through a proxy that holds every Event create (no answer) until the kill;
 * what the server kept is then compared with what must be there. A SIGTERM while a decision
 * waits for its Event exits at once. Runs on both lanes.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { EVENTS, NAMESPACES, SERVICES, heraldResource, type KubeObject } from '../../../src/k8s/index.js';
import { eventually } from '../../support/apiserver.js';
import { spawnController, type ControllerProcess } from '../../support/controller-process.js';
import { startHoldingProxy, type HoldingProxy } from '../../support/holding-proxy.js';
import { kubeLane, startKubeCluster, type KubeCluster } from '../../support/kube-cluster.js';

const NS = 'herald-system';
const POOL = 'herald.dev/ip-allocated-from-pool';

describe(`controller decision Events across a SIGKILL (${kubeLane()} API server)`, function () {
  this.timeout(120_000);
  let c: KubeCluster;
  let proxy: HoldingProxy;
  let dir: string;
  let kubeconfig: string;
  let ctl: ControllerProcess | undefined;

  const svc = (name: string, annotations?: Record<string, string>): KubeObject => ({
    metadata: { name, namespace: 'default', ...(annotations ? { annotations } : {}) },
    spec: { type: 'LoadBalancer', ports: [{ port: 80 }] },
  });
  const get = (name: string) => c.client.get(SERVICES, 'default', name);
  const ips = (o: KubeObject): string[] =>
    ((o['status'] as { loadBalancer?: { ingress?: { ip: string }[] } } | undefined)?.loadBalancer?.ingress ?? []).map(
      (i) => i.ip,
    );
  const assigned = (name: string) =>
    eventually(
      async () => (ips(await get(name)).length > 0 ? ips(await get(name)) : undefined),
      `${name} assigned`,
      30_000,
    );
  /** What the server kept: "reason: message" of every Event about the Service. */
  const kept = async (name: string, reason: string): Promise<string[]> =>
    (await c.client.list(EVENTS, { namespace: 'default', fieldSelector: `involvedObject.name=${name}` })).items
      .filter((e) => e['reason'] === reason)
      .map((e) => String(e['message']));
  const heldReasons = (): string[] => proxy.held.map((h) => String((JSON.parse(h.body) as { reason?: string }).reason));
  const t0 = Date.now();
  const step = (what: string): void => {
    if (process.env['HERALD_TEST_STEPS']) process.stderr.write(`${((Date.now() - t0) / 1000).toFixed(1)}s ${what}\n`);
  };
  const start = (): ControllerProcess => {
    step('controller start');
    return spawnController(kubeconfig);
  };
  const started = (p: ControllerProcess) =>
    eventually(() => p.log().includes('controller started'), 'the controller started', 30_000);
  const holdEvents = (): void => {
    proxy.hold = (method, path) => method === 'POST' && /\/api\/v1\/namespaces\/[^/]+\/events(\?|$)/.test(path);
  };
  /** Kills the controller while Event writes hang, then lets writes through again. */
  const crash = async (): Promise<void> => {
    step('SIGKILL');
    await ctl!.kill('SIGKILL');
    ctl = undefined;
    proxy.hold = undefined;
    proxy.release();
  };
  /** Every Event queued before it is written once a Service created now has its IPAllocated Event on the server (one recorder writes in order). */
  const barrier = async (name: string): Promise<void> => {
    await c.client.create(SERVICES, svc(name));
    await eventually(async () => (await kept(name, 'IPAllocated')).length > 0, `${name}'s IPAllocated Event`, 30_000);
  };

  before(async () => {
    c = await startKubeCluster({ herald: true });
    proxy = await startHoldingProxy(c.kc);
    dir = mkdtempSync(join(tmpdir(), 'herald-decision-events-'));
    kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, proxy.kubeconfig());
    await c.client.create(NAMESPACES, { metadata: { name: NS } });
    await c.client.create(heraldResource('IPAddressPool'), {
      metadata: { name: 'main', namespace: NS },
      spec: { addresses: ['192.0.2.0/28'] },
    } as KubeObject);
  });
  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && ctl)
      process.stderr.write(`controller log:\n${ctl.log().split('\n').slice(-30).join('\n')}\n`);
    proxy.hold = undefined;
    proxy.release();
    await ctl?.kill('SIGKILL');
    ctl = undefined;
  });
  after(async () => {
    await proxy?.close();
    rmSync(dir, { recursive: true, force: true });
    await c?.stop();
  });

  it('IPConflict: the move waits for its Event; after a SIGKILL the next start tells it and moves', async () => {
    ctl = start();
    await c.client.create(SERVICES, svc('holder'));
    const held = (await assigned('holder'))[0]!;
    await ctl.kill('SIGKILL');
    // A Service restored from a backup showing the address another Service holds.
    await c.client.create(SERVICES, svc('restored'));
    await c.client.patch(
      SERVICES,
      'default',
      'restored',
      { status: { loadBalancer: { ingress: [{ ip: held }] } } },
      { status: true },
    );
    holdEvents();
    ctl = start();
    await eventually(
      () => ctl!.log().includes('the IPConflict Event for default/restored is not written yet'),
      'the move to wait for its IPConflict Event',
      30_000,
    );
    expect(ips(await get('restored')), 'the move waits for its Event').to.deep.equal([held]);
    await crash();
    expect(await kept('restored', 'IPConflict')).to.deep.equal([]);
    ctl = start();
    const moved = await eventually(
      async () => (ips(await get('restored')).some((ip) => ip !== held) ? ips(await get('restored')) : undefined),
      'restored moved',
      30_000,
    );
    const told = await kept('restored', 'IPConflict');
    expect(told, 'one IPConflict Event').to.have.length(1);
    expect(told[0]).to.match(
      new RegExp(
        `^${held.replace(/\./g, '\\.')} is held by default/holder \\(\\w+\\); assigned ${moved.join(', ').replace(/\./g, '\\.')} instead$`,
      ),
    );
    expect(ips(await get('holder'))).to.deep.equal([held]);
  });

  it('IPReleased: the release waits for its Event; after a SIGKILL the next start tells it and releases', async () => {
    ctl = start();
    await c.client.create(SERVICES, svc('leaving'));
    const had = await assigned('leaving');
    await started(ctl);
    holdEvents();
    await c.client.patch(SERVICES, 'default', 'leaving', { spec: { type: 'ClusterIP' } });
    await eventually(
      () => ctl!.log().includes('the IPReleased Event for default/leaving is not written yet'),
      'the release to wait for its IPReleased Event',
      30_000,
    );
    const waiting = await get('leaving');
    // A real server clears status.loadBalancer itself on the type change; the embedded one does not.
    if (c.lane === 'embedded') expect(ips(waiting), 'the release waits for its Event').to.deep.equal(had);
    expect(
      waiting.metadata.annotations?.[POOL],
      'the pool annotation (what says Herald gave addresses) stays',
    ).to.equal('main');
    await crash();
    expect(await kept('leaving', 'IPReleased')).to.deep.equal([]);
    ctl = start();
    await eventually(
      async () => {
        const o = await get('leaving');
        return ips(o).length === 0 && o.metadata.annotations?.[POOL] === undefined;
      },
      'leaving released',
      30_000,
    );
    const what = c.lane === 'embedded' ? had.join(', ') : 'its addresses from pool "main"';
    expect(await kept('leaving', 'IPReleased')).to.deep.equal([
      `released ${what}: the Service is no longer of type LoadBalancer`,
    ]);
  });

  it('SIGTERM while a release waits for its hung Event exits within 5 s; the next start tells it and releases', async () => {
    ctl = start();
    await c.client.create(SERVICES, svc('leaving-term'));
    const had = await assigned('leaving-term');
    await started(ctl);
    holdEvents();
    await c.client.patch(SERVICES, 'default', 'leaving-term', { spec: { type: 'ClusterIP' } });
    await eventually(
      () => ctl!.log().includes('the IPReleased Event for default/leaving-term is not written yet'),
      'the release to wait for its IPReleased Event',
      30_000,
    );
    const { exit, ms } = await ctl.kill('SIGTERM');
    ctl = undefined;
    expect(exit).to.equal(0);
    expect(ms, 'SIGTERM to exit').to.be.below(5000);
    proxy.hold = undefined;
    proxy.release();
    expect(await kept('leaving-term', 'IPReleased')).to.deep.equal([]);
    ctl = start();
    await eventually(
      async () => (await get('leaving-term')).metadata.annotations?.[POOL] === undefined,
      'leaving-term released',
      30_000,
    );
    const what = c.lane === 'embedded' ? had.join(', ') : 'its addresses from pool "main"';
    expect(await kept('leaving-term', 'IPReleased')).to.deep.equal([
      `released ${what}: the Service is no longer of type LoadBalancer`,
    ]);
  });

  it('MetalLBAnnotation: told by the next start after a SIGKILL, and not again by the one after', async () => {
    ctl = start();
    await started(ctl);
    holdEvents();
    await c.client.create(SERVICES, svc('from-metallb', { 'metallb.universe.tf/address-pool': 'main' }));
    await assigned('from-metallb');
    await eventually(
      () => heldReasons().includes('MetalLBAnnotation') || undefined,
      'the MetalLBAnnotation Event write to hang',
      30_000,
    );
    await crash();
    expect(await kept('from-metallb', 'MetalLBAnnotation')).to.deep.equal([]);
    ctl = start();
    await eventually(
      async () => (await kept('from-metallb', 'MetalLBAnnotation')).length > 0,
      'the MetalLBAnnotation Event',
      30_000,
    );
    await ctl.kill('SIGKILL');
    ctl = start();
    await started(ctl);
    await barrier('after-metallb');
    expect(await kept('from-metallb', 'MetalLBAnnotation')).to.deep.equal([
      "honouring MetalLB annotation(s) metallb.universe.tf/address-pool; Herald's herald.dev/ names are preferred",
    ]);
    expect(await kept('from-metallb', 'IPAllocated'), 'the lost IPAllocated Event is re-derived too').to.have.length(1);
  });
});
