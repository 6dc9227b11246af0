import { expect } from 'chai';
import { buildStatusReport, type ApiObject, type StatusInput } from '../../../src/cli/status-report.js';

const o = (name: string, status: unknown, extra: Record<string, unknown> = {}): ApiObject => ({
  metadata: { name, namespace: 'herald-system' },
  status,
  ...extra,
});
const svc = (name: string, ips: string[], extra: Record<string, unknown> = {}): ApiObject => ({
  metadata: { name, namespace: 'default' },
  spec: { type: 'LoadBalancer', ...extra },
  status: { loadBalancer: { ingress: ips.map((ip) => ({ ip })) } },
});
const speakers = (...nodes: string[]) =>
  nodes.map((n) => o(`speaker-${n}`, { component: 'speaker', node: n, result: 'Valid' }));
const empty: StatusInput = {
  pools: [],
  services: [],
  l2Statuses: [],
  bgpStatuses: [],
  sessions: [],
  configStates: [],
  events: [],
};

describe('status report (pure)', () => {
  it('a Service announced in both modes, with interfaces and peers per node', () => {
    const r = buildStatusReport({
      ...empty,
      services: [svc('web', ['192.0.2.1'])],
      l2Statuses: [
        o('a', { node: 'n1', serviceName: 'web', serviceNamespace: 'default', interfaces: [{ name: 'eth0' }] }),
      ],
      bgpStatuses: [o('b', { node: 'n2', serviceName: 'web', serviceNamespace: 'default', peers: ['r1', 'r2'] })],
      configStates: speakers('n1', 'n2', 'n3'),
    });
    expect(r.services[0]).to.deep.include({
      mode: 'L2+BGP',
      announcedBy: ['n1', 'n2'],
      via: { n1: ['eth0'], n2: ['r1', 'r2'] },
      notAnnouncing: [],
    });
    expect(r.problems).to.deep.equal([]);
  });

  it('BGP from both status kinds (a cluster switching --service-status): ServiceBGPStatus and BGPNodeStatus shards merge per node', () => {
    const shard = (
      node: string,
      k: number,
      peers: string[],
      services: { namespace: string; name: string; peers: number[] }[],
    ): ApiObject => o(`${node}-${k}`, { node, shard: k, shards: 2, serviceCount: services.length, peers, services });
    const r = buildStatusReport({
      ...empty,
      services: [svc('web', ['203.0.113.1']), svc('db', ['203.0.113.2']), svc('cache', ['203.0.113.3'])],
      bgpStatuses: [o('b', { node: 'n1', serviceName: 'web', serviceNamespace: 'default', peers: ['r1'] })],
      bgpNodeStatuses: [
        shard(
          'n2',
          0,
          ['r1', 'r2'],
          [
            { namespace: 'default', name: 'web', peers: [1] },
            { namespace: 'default', name: 'db', peers: [0, 1] },
          ],
        ),
        shard('n2', 1, ['r2'], [{ namespace: 'default', name: 'cache', peers: [0] }]),
        // A peer index out of range names no peer (a shard being rewritten), the Service still counts.
        shard('n3', 1, ['r1'], [{ namespace: 'default', name: 'cache', peers: [0, 5] }]),
      ],
      configStates: speakers('n1', 'n2', 'n3'),
    });
    const row = (name: string) => r.services.find((x) => x.name === name)!;
    expect(row('web')).to.deep.include({ mode: 'BGP', announcedBy: ['n1', 'n2'], via: { n1: ['r1'], n2: ['r2'] } });
    expect(row('db')).to.deep.include({ mode: 'BGP', announcedBy: ['n2'], via: { n2: ['r1', 'r2'] } });
    expect(row('cache')).to.deep.include({ mode: 'BGP', announcedBy: ['n2', 'n3'], via: { n2: ['r2'], n3: ['r1'] } });
    expect(r.warnings).to.deep.equal([]);
  });

  it("an address nobody announces is a warning naming the speakers' reasons, not a problem", () => {
    const r = buildStatusReport({
      ...empty,
      services: [svc('web', ['192.0.2.1'], { externalTrafficPolicy: 'Local' })],
      events: [
        {
          metadata: { name: 'e' },
          reason: 'announceFailed',
          involvedObject: { namespace: 'default', name: 'web' },
          message: 'node n1 cannot announce 192.0.2.1 via L2: eth9 is down',
        },
      ],
      configStates: speakers('n1'),
    });
    expect(r.problems).to.deep.equal([]);
    expect(r.warnings).to.deep.equal([
      'Service default/web (192.0.2.1) is announced by no node: n1 cannot announce 192.0.2.1 via L2: eth9 is down',
    ]);
    expect(r.services[0]!.notAnnouncing).to.deep.equal([
      { node: 'n1', reason: 'cannot announce 192.0.2.1 via L2: eth9 is down' },
    ]);
  });

  it('BFD not Up on an Established session is a problem; a full pool a warning', () => {
    const r = buildStatusReport({
      ...empty,
      pools: [o('p', { assignedIPv4: '4', availableIPv4: '0' }, { spec: { addresses: ['192.0.2.0/30'] } })],
      sessions: [
        o('s', {
          node: 'n1',
          peer: 'r',
          peerAddress: '192.0.2.254',
          state: 'Established',
          prefixesSent: 3,
          bfd: { state: 'Down' },
        }),
      ],
    });
    expect(r.problems).to.deep.equal(['BFD n1 → r (192.0.2.254) is Down']);
    expect(r.warnings).to.deep.equal(['pool p is full']);
  });

  it("a session without peerAddress (as the speaker writes it) takes the BGPPeer's", () => {
    const r = buildStatusReport({
      ...empty,
      peers: [o('router', undefined, { spec: { peerAddress: '2001:db8::1' } })],
      sessions: [
        o('s', { node: 'n1', peer: 'router', state: 'Connect' }),
        o('t', { node: 'n1', peer: 'gone', state: 'Idle' }),
      ],
    });
    expect(r.sessions.map((s) => s.peerAddress)).to.deep.equal(['', '2001:db8::1']);
    expect(r.problems).to.deep.equal([
      'BGP session n1 → gone is Idle',
      'BGP session n1 → router (2001:db8::1) is Connect',
    ]);
  });

  it('the same configuration error from several reporters is one row; Invalid without errors still counts', () => {
    const err = { kind: 'BGPPeer', namespace: 'herald-system', name: 'r', field: 'spec.vrf', reason: 'not supported' };
    const r = buildStatusReport({
      ...empty,
      configStates: [
        o('controller', { component: 'controller', result: 'Invalid', errors: [err] }),
        o('speaker-n1', { component: 'speaker', node: 'n1', result: 'Invalid', errors: [err] }),
        o('speaker-n2', { component: 'speaker', node: 'n2', result: 'Invalid' }),
      ],
    });
    expect(r.configErrors.map((e) => `${e.reporter} | ${e.object} | ${e.field} | ${e.reason}`)).to.deep.equal([
      'controller, speaker n1 | BGPPeer herald-system/r | spec.vrf | not supported',
      'speaker n2 | ConfigurationState speaker-n2 |  | configuration is Invalid',
    ]);
    expect(r.problems.length).to.equal(2);
  });

  it('Services of other types or another loadBalancerClass are left out unless asked for', () => {
    const services = [
      svc('mine', []),
      svc('theirs', [], { loadBalancerClass: 'x/y' }),
      { metadata: { name: 'cip', namespace: 'default' }, spec: { type: 'ClusterIP' } },
    ];
    expect(buildStatusReport({ ...empty, services }).services.map((s) => s.name)).to.deep.equal(['mine']);
    expect(buildStatusReport({ ...empty, services, lbClass: 'x/y' }).services.map((s) => s.name)).to.deep.equal([
      'theirs',
    ]);
  });
});
