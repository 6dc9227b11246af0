/**
 * The lab table's Layer 2 check with real packets: the client flushes its neighbour entry and
 * asks (arping, ndisc6); the MAC that answers must be the node ServiceL2Status names as owner.
 * A non-owner answering (its kernel holds the address on eth0) is a failure that names both
 * nodes; the owner answering is a pass; nobody answering says so.
 */
import { expect } from 'chai';
import { storeView } from '../../../lab/cluster.js';
import { observe, type LabRow } from '../../../lab/observe.js';
import { heraldResource, SERVICES, type KubeObject } from '../../../src/k8s/index.js';
import { startTestCluster, type TestCluster } from '../../support/apiserver.js';
import { useNetns } from '../../support/netns.js';

describe('lab table: the ARP/NDP answer must come from the Layer 2 owner', function () {
  this.timeout(60_000);
  const net = useNetns(this, ['arping', 'ndisc6', 'curl']);
  let c: TestCluster;
  before(async () => {
    c = await startTestCluster({ herald: true });
    await c.client.create(
      { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false },
      { metadata: { name: 'herald-system' } },
    );
  });
  after(async () => {
    await c?.server.stop();
  });

  for (const ip of ['192.0.2.70', '2001:db8::70']) {
    it(`${ip}: non-owner answers -> failure naming both; owner answers -> pass; nobody -> says so`, async () => {
      const n = net();
      const lan = n.add('lan');
      n.bridge(lan);
      const client = n.add('cli');
      n.attach(lan, client, ['192.0.2.200/24', '2001:db8::200/64']);
      const nodes = ['node-a', 'node-b'].map((name, i) => {
        const ns = n.add(name);
        n.attach(lan, ns, [`192.0.2.${i + 1}/24`, `2001:db8::${i + 1}/64`]);
        return { name, ns, mac: n.exec(ns, ['cat', '/sys/class/net/eth0/address']).trim() };
      });
      const macs = new Map(nodes.map((x) => [x.mac, x.name]));
      const name = `svc-${ip.includes(':') ? 'v6' : 'v4'}`;
      await c.client.create(SERVICES, {
        metadata: { name, namespace: 'default' },
        spec: { type: 'LoadBalancer', ipFamilies: [ip.includes(':') ? 'IPv6' : 'IPv4'], ports: [{ port: 80 }] },
      });
      await c.client.patch(
        SERVICES,
        'default',
        name,
        { status: { loadBalancer: { ingress: [{ ip }] } } },
        { status: true },
      );
      await c.client.create(heraldResource('ServiceL2Status'), {
        metadata: { name: `${name}-node-a`, namespace: 'herald-system' },
      } as KubeObject);
      await c.client.patch(
        heraldResource('ServiceL2Status'),
        'herald-system',
        `${name}-node-a`,
        { status: { node: 'node-a', serviceName: name, serviceNamespace: 'default', interfaces: [{ name: 'eth0' }] } },
        { status: true },
      );
      const row = async (): Promise<LabRow> =>
        (
          await observe({
            view: storeView(c.server.core.store),
            client,
            macs,
            heraldNamespace: 'herald-system',
            now: () => Date.now(),
          })
        ).find((r) => r.service === `default/${name}`)!;
      const host = `${ip}/${ip.includes(':') ? 128 : 32}`;
      const dad = ip.includes(':') ? ['nodad'] : [];

      const none = await row();
      expect(none.neighbour).to.deep.equal({ ok: false, owner: 'node-a' });
      expect(none.reason).to.include(`no ${ip.includes(':') ? 'NDP' : 'ARP'} answer for ${ip}`);

      n.exec(nodes[1]!.ns, ['ip', 'addr', 'add', host, 'dev', 'eth0', ...dad]);
      const wrong = await row();
      expect(wrong.neighbour).to.deep.equal({ ok: false, mac: nodes[1]!.mac, node: 'node-b', owner: 'node-a' });
      expect(wrong.reason).to.include(`answered by node-b (${nodes[1]!.mac}), but the owner is node-a`);

      n.exec(nodes[1]!.ns, ['ip', 'addr', 'del', host, 'dev', 'eth0']);
      n.exec(nodes[0]!.ns, ['ip', 'addr', 'add', host, 'dev', 'eth0', ...dad]);
      const right = await row();
      expect(right.neighbour).to.deep.equal({ ok: true, mac: nodes[0]!.mac, node: 'node-a', owner: 'node-a' });
    });
  }
});
