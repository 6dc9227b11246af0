/**
 * End to end on one machine (test/support/speaker-cluster.ts): the embedded API server, the
 * controller, and three speakers as processes in node namespaces on a bridged LAN with a BIRD
 * router and a client namespace. L2: arping from the client reaches the elected owner's MAC;
 * readiness, partition and failover. BGP: BIRD learns the /32 from every node; deleting the
 * Service withdraws it; BGPPeer and BGPAdvertisement options reach other routers. Status
 * objects (a BGPNodeStatus per node, no Event per announced Service), Events and metrics follow.
 */
import { spawnSync } from 'node:child_process';
import { expect } from 'chai';
import { HttpMethod } from '@kubernetes/client-node';
import { electOwner } from '../../../speaker/election.js';
import {
  ENDPOINT_SLICES,
  EVENTS,
  PODS,
  SECRETS,
  SERVICES,
  heraldResource,
  type KubeObject,
} from '../../../src/k8s/index.js';
import { eventually } from '../../support/apiserver.js';
import { kubeLane, type KubeCluster } from '../../support/kube-cluster.js';
import { Bird } from '../../support/bgp-peers.js';
import { birdConf, type BirdConfOptions } from '../../support/bird-conf.js';
import { startTcpdump } from '../../support/tcpdump.js';
import { parseExposition, type Sample } from '../../support/prom-text.js';
import { canUseNetns, type Netns } from '../../support/netns.js';
import { SpeakerCluster } from '../../support/speaker-cluster.js';
import { requireTool } from '../../support/tools.js';

const NS = 'herald-system';
const NODE_IPS: Record<string, string> = { 'node-a': '192.0.2.1', 'node-b': '192.0.2.2', 'node-c': '192.0.2.3' };
const ALL = Object.keys(NODE_IPS).map((node) => ({ node, weight: 0 }));

describe(`speakers end to end (${kubeLane()} API server, controller, 3 node namespaces, BIRD, client)`, function () {
  this.timeout(120_000);
  const e = new SpeakerCluster(NS, NODE_IPS);
  const { macs, speakers, ports, logs } = e;
  let net: Netns;
  let c: KubeCluster;
  let bird: Bird;
  let lanNs = '';

  before(async function () {
    requireTool(this, 'bird');
    requireTool(this, 'arping');
    if (!canUseNetns()) {
      if (process.env['CI'] === 'true') throw new Error('netns tests need root');
      this.skip();
    }
    await e.start();
    [net, c, bird, lanNs] = [e.net!, e.c!, e.bird!, e.lanNs];
  });

  after(() => e.stop());

  /** Another BIRD router on the LAN, at `ip`, with these protocols. */
  const lanRouter = (role: string, ip: string, conf: Omit<BirdConfOptions, 'routerId'>): Bird => {
    const ns = net.add(role);
    net.attach(lanNs, ns, [`${ip}/24`]);
    return new Bird(net, ns, birdConf({ routerId: ip, ...conf }));
  };

  const service = async (name: string, pool: string): Promise<string> => {
    await c.client.create(SERVICES, {
      metadata: { name, namespace: 'default', annotations: { 'herald.dev/address-pool': pool } },
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

  it('Layer 2: the elected owner answers ARP for the service IP with its MAC', async () => {
    const ip = await service('web', 'lan');
    const owner = electOwner(ip, ALL).owner!;
    // While the speakers first find each other both may answer; wait until only the owner does.
    const others = Object.keys(NODE_IPS).filter((n) => n !== owner);
    const out = await eventually(
      () => {
        const r = spawnSync(
          'ip',
          ['netns', 'exec', net.name('cli'), 'arping', '-c', '2', '-w', '2', '-I', 'eth0', ip],
          { encoding: 'utf8' },
        );
        const text = r.stdout.toUpperCase();
        return r.status === 0 &&
          text.includes(`[${macs[owner]!}]`) &&
          others.every((o) => !text.includes(`[${macs[o]!}]`))
          ? text
          : undefined;
      },
      'ARP answers from the owner only',
      30_000,
      200,
    );
    expect(out).to.include(`[${macs[owner]!}]`);
    const st = await eventually(
      async () =>
        (await c.client.tryGet(heraldResource('ServiceL2Status'), NS, `l2-default-web-${owner}`))?.['status'] as
          { interfaces?: { name: string }[] } | undefined,
      'ServiceL2Status of the owner',
      20_000,
    );
    // The interface it really answers on (the engine chose it by subnet: never an empty list).
    expect(st.interfaces).to.deep.equal([{ name: 'eth0' }]);
    // Its metrics name the IP, the Service and the node, and count its takeover; the others announce nothing for it.
    const metricsOf = (node: string): string =>
      spawnSync('ip', ['netns', 'exec', e.nodeNs(node), 'curl', '-s', 'http://127.0.0.1:7473/metrics'], {
        encoding: 'utf8',
      }).stdout;
    const announced = new RegExp(
      `^herald_speaker_ip_announced\\{ip="${ip.replace(/\./g, '\\.')}",service="default/web",protocol="layer2",node="([^"]+)"[^}]*\\} 1$`,
      'm',
    );
    await eventually(
      () =>
        metricsOf(owner).match(announced)?.[1] === owner && others.every((o) => !announced.test(metricsOf(o)))
          ? true
          : undefined,
      'the per-IP announced gauge on the owner only',
    );
    expect(metricsOf(owner)).to.match(
      new RegExp(`^herald_speaker_l2_ownership_changes_total\\{ip="${ip.replace(/\./g, '\\.')}"[^}]*\\} [1-9]`, 'm'),
    );
    // kubectl describe finds a Service's Events by its uid: the speaker's must carry it.
    const uid = (await c.client.get(SERVICES, 'default', 'web')).metadata.uid;
    const evs = await eventually(async () => {
      const items = (await c.client.list(EVENTS, { namespace: 'default', fieldSelector: `involvedObject.uid=${uid}` }))
        .items;
      return items.some(
        (e) => e['reason'] === 'nodeAssigned' && e['message'] === `announcing ${ip} from node ${owner} via L2`,
      )
        ? items
        : undefined;
    }, "the owner's nodeAssigned Event under the Service's uid");
    expect(
      evs
        .filter((e) => e['reason'] === 'nodeAssigned')
        .every((e) => (e['source'] as { component?: string } | undefined)?.component === 'herald-speaker'),
    ).to.equal(true);
    // A normal start is no partition: no speaker said so (SWIM's view is used once it has heard everyone).
    for (const n of Object.keys(NODE_IPS)) expect(logs[n], `${n}'s log`).to.not.match(/split-brain|partition minority/);
  });

  it('Layer 2: a speaker whose pod is not Ready is no candidate; the next node in the order takes over', async () => {
    const ip = await eventually(
      async () =>
        (
          (await c.client.get(SERVICES, 'default', 'web'))['status'] as {
            loadBalancer?: { ingress?: { ip: string }[] };
          }
        ).loadBalancer?.ingress?.[0]?.ip,
      'web to have an address',
    );
    const owner = electOwner(ip, ALL).owner!;
    const next = electOwner(
      ip,
      ALL.filter((n) => n.node !== owner),
    ).owner!;
    for (const node of Object.keys(NODE_IPS)) {
      await c.client.create(PODS, {
        metadata: { name: `speaker-${node}`, namespace: NS, labels: { 'app.kubernetes.io/component': 'speaker' } },
        spec: { nodeName: node, containers: [{ name: 'speaker', image: 'herald' }] },
      });
      await c.client.patch(
        PODS,
        NS,
        `speaker-${node}`,
        { status: { conditions: [{ type: 'Ready', status: node === owner ? 'False' : 'True' }] } },
        { status: true },
      );
    }
    try {
      await eventually(
        () => {
          const r = spawnSync(
            'ip',
            ['netns', 'exec', net.name('cli'), 'arping', '-c', '2', '-w', '2', '-I', 'eth0', ip],
            { encoding: 'utf8' },
          );
          const text = r.stdout.toUpperCase();
          return r.status === 0 && text.includes(`[${macs[next]!}]`) && !text.includes(`[${macs[owner]!}]`)
            ? true
            : undefined;
        },
        `ARP answers from ${next} only`,
        30_000,
        200,
      );
      await eventually(
        () => c.client.tryGet(heraldResource('ServiceL2Status'), NS, `l2-default-web-${next}`),
        'ServiceL2Status of the new owner',
        20_000,
      );
    } finally {
      // Grace period 0: no kubelet runs to finish a graceful Pod deletion on a real server.
      for (const node of Object.keys(NODE_IPS))
        await c.client.request(HttpMethod.DELETE, `/api/v1/namespaces/${NS}/pods/speaker-${node}`, {
          gracePeriodSeconds: 0,
        });
    }
    // Pods gone: the owner by the hash order answers again.
    await eventually(
      () => {
        const r = spawnSync(
          'ip',
          ['netns', 'exec', net.name('cli'), 'arping', '-c', '2', '-w', '2', '-I', 'eth0', ip],
          { encoding: 'utf8' },
        );
        return r.status === 0 && r.stdout.toUpperCase().includes(`[${macs[owner]!}]`) ? true : undefined;
      },
      `ARP answers from ${owner} again`,
      30_000,
      200,
    );
  });

  it('Layer 2 pacing: the owner restarted with --l2-announce-rate 1 reports its repeats queued and delayed; at the default nothing waits', async () => {
    const ip = (
      (await c.client.get(SERVICES, 'default', 'web'))['status'] as { loadBalancer: { ingress: { ip: string }[] } }
    ).loadBalancer.ingress[0]!.ip;
    const owner = electOwner(ip, ALL).owner!;
    const samples = (): Sample[] =>
      parseExposition(
        spawnSync('ip', ['netns', 'exec', e.nodeNs(owner), 'curl', '-s', 'http://127.0.0.1:7473/metrics'], {
          encoding: 'utf8',
        }).stdout,
      ).samples;
    const pacing = (ss: Sample[]): Record<'first' | 'repeat' | 'delayed', number | undefined> => {
      const q = (kind: string): number | undefined =>
        ss.find(
          (x) =>
            x.name === 'herald_speaker_l2_announcements_queued' &&
            x.labels['interface'] === 'eth0' &&
            x.labels['kind'] === kind,
        )?.value;
      return {
        first: q('first'),
        repeat: q('repeat'),
        delayed: ss.find((x) => x.name === 'herald_speaker_l2_announcements_delayed_total')?.value,
      };
    };
    // The default pace (2000 frames/s, 200 at once): one IP's announcements never wait.
    expect(pacing(samples())).to.deep.equal({ first: 0, repeat: 0, delayed: 0 });
    const restart = async (args: string[]): Promise<void> => {
      const old = speakers[owner]!;
      const gone = new Promise((resolve) => old.once('exit', resolve));
      old.kill('SIGKILL');
      await gone;
      e.spawnSpeaker(owner, undefined, args);
    };
    // One frame a second, a burst of 2: the first announcement (2 frames) goes at once, each
    // repeat falls due a second later with one token and waits a second more.
    await restart(['--l2-announce-rate', '1']);
    try {
      let sawRepeatQueued = false;
      const seen = await eventually(
        () => {
          const p = pacing(samples());
          if ((p.repeat ?? 0) > 0) sawRepeatQueued = true;
          return sawRepeatQueued && (p.delayed ?? 0) >= 1 ? p : undefined;
        },
        `${owner} to report a repeat queued, then delayed`,
        40_000,
        100,
      );
      expect(seen.first).to.equal(0);
    } finally {
      await restart([]);
      await eventually(
        () => {
          const r = spawnSync(
            'ip',
            ['netns', 'exec', net.name('cli'), 'arping', '-c', '2', '-w', '2', '-I', 'eth0', ip],
            { encoding: 'utf8' },
          );
          return r.status === 0 && r.stdout.toUpperCase().includes(`[${macs[owner]!}]`) ? true : undefined;
        },
        `ARP answers from ${owner} again at the default pace`,
        30_000,
        200,
      );
    }
  });

  it('BGP: the router learns the /32 from every node; deleting the Service withdraws it', async () => {
    const ip = await service('api', 'routed');
    await eventually(
      () => {
        const t = bird.routes('master4');
        const start = t.indexOf(`${ip}/32`);
        if (start < 0) return undefined;
        return t.includes('via 192.0.2.1') && t.includes('via 192.0.2.2') && t.includes('via 192.0.2.3')
          ? true
          : undefined;
      },
      'the route from every node at BIRD',
      60_000,
      200,
    );
    // With no routerID on the BGPPeer, each node's BGP identifier is its Node's InternalIP.
    for (const [proto, id] of [
      ['node_a', '192.0.2.1'],
      ['node_b', '192.0.2.2'],
      ['node_c', '192.0.2.3'],
    ] as const) {
      expect(bird.birdc('show', 'protocols', 'all', proto)).to.match(
        new RegExp(`Neighbor ID:\\s+${id.replace(/\./g, '\\.')}\\n`),
      );
    }
    // Each speaker reports its view of the configuration.
    const cs = await eventually(
      async () => {
        const o = await c.client.tryGet(heraldResource('ConfigurationState'), NS, 'speaker-node-a');
        return o?.['status'] ? o : undefined;
      },
      'the speaker ConfigurationState with its status',
      20_000,
      200,
    );
    expect(cs['status']).to.deep.include({ component: 'speaker', node: 'node-a', result: 'Valid' });
    // The speaker's metrics say the same.
    const metrics = await eventually(
      () => {
        const r = spawnSync('ip', ['netns', 'exec', net.name('na'), 'curl', '-s', 'http://127.0.0.1:7473/metrics'], {
          encoding: 'utf8',
        });
        return r.stdout.includes('herald_speaker_bgp_session_up{peer="router"') ? r.stdout : undefined;
      },
      'speaker metrics',
      20_000,
      200,
    );
    expect(metrics).to.match(/herald_speaker_bgp_session_up\{peer="router"[^}]*\} 1/);
    expect(metrics).to.match(/herald_speaker_bgp_messages_total\{peer="router",kind="prefixesAnnounced"[^}]*\} [1-9]/);
    // Which node announces it is status, one BGPNodeStatus shard per node (the default
    // --service-status=per-node), not an Event per Service per node (decision 015).
    for (const n of ['node-a', 'node-b', 'node-c']) {
      const st = await eventually(
        async () => {
          const s = (await c.client.tryGet(heraldResource('BGPNodeStatus'), NS, `${n}-0`))?.['status'] as
            { peers?: string[]; services?: { namespace: string; name: string; peers?: number[] }[] } | undefined;
          return s?.services?.some((x) => x.name === 'api') ? s : undefined;
        },
        `the BGPNodeStatus of ${n} listing default/api`,
        20_000,
        200,
      );
      expect(st.services?.find((x) => x.name === 'api')).to.deep.equal({
        namespace: 'default',
        name: 'api',
        peers: [st.peers!.indexOf('router')],
      });
    }
    const told = (
      await c.client.list(EVENTS, { namespace: 'default', fieldSelector: 'involvedObject.name=api' })
    ).items.filter((e) => e['reason'] === 'nodeAssigned');
    expect(told.map((e) => String(e['message']))).to.deep.equal([]);
    await c.client.delete(SERVICES, 'default', 'api');
    await eventually(
      () => !bird.routes('master4').includes(`${ip}/32`) || undefined,
      'the withdrawal at BIRD',
      30_000,
      200,
    );
  });

  it('BGP with externalTrafficPolicy Local: only nodes with a ready local endpoint announce', async () => {
    await c.client.create(SERVICES, {
      metadata: { name: 'local', namespace: 'default', annotations: { 'herald.dev/address-pool': 'routed' } },
      spec: { type: 'LoadBalancer', externalTrafficPolicy: 'Local', selector: { app: 'local' }, ports: [{ port: 80 }] },
    });
    await c.client.create(ENDPOINT_SLICES, {
      metadata: { name: 'local-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'local' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['192.0.2.2'], nodeName: 'node-b', conditions: { ready: true } }],
      ports: [{ port: 80 }],
    } as KubeObject);
    const ip = await eventually(
      async () =>
        (
          (await c.client.get(SERVICES, 'default', 'local'))['status'] as {
            loadBalancer?: { ingress?: { ip: string }[] };
          }
        ).loadBalancer?.ingress?.[0]?.ip,
      'local to get an address',
    );
    const entry = (): string => {
      const t = bird.routes('master4');
      const i = t.indexOf(`${ip}/32`);
      if (i < 0) return '';
      const rest = t.slice(i + 1);
      const next = rest.search(/\n\S/);
      return t.slice(i, next < 0 ? undefined : i + 1 + next);
    };
    await eventually(() => entry().includes('via 192.0.2.2') || undefined, 'the route from node-b', 30_000, 200);
    expect(entry()).to.not.include('via 192.0.2.1');
    expect(entry()).to.not.include('via 192.0.2.3');
    // The endpoint moves to node-c: node-b withdraws, node-c announces.
    await c.client.patch(ENDPOINT_SLICES, 'default', 'local-1', {
      endpoints: [{ addresses: ['192.0.2.3'], nodeName: 'node-c', conditions: { ready: true } }],
    });
    await eventually(
      () => (entry().includes('via 192.0.2.3') && !entry().includes('via 192.0.2.2')) || undefined,
      'the route to follow the endpoint',
      30_000,
      200,
    );
    await c.client.delete(SERVICES, 'default', 'local');
  });

  it("BGPPeer ebgpMultiHop: the sessions carry TTL 255 and pass a router's TTL security (GTSM); aggregationLength, a Community alias and a large community reach it", async () => {
    // A second router that drops every segment of a session whose TTL is below 255.
    const gtsm = lanRouter('gtsm', '192.0.2.252', {
      as: 65002,
      neighbors: ['192.0.2.1', '192.0.2.2', '192.0.2.3'].map((address, i) => ({
        name: `node_${'abc'[i]!}`,
        address,
        as: 65000,
        local: '192.0.2.252',
        holdTime: 3,
        ttlSecurity: true,
      })),
    });
    try {
      await gtsm.ready();
      const pool = heraldResource('IPAddressPool');
      await c.client.create(pool, {
        metadata: { name: 'gtsm', namespace: NS },
        spec: { addresses: ['203.0.113.48/28'] },
      } as KubeObject);
      await c.client.create(heraldResource('BGPPeer'), {
        metadata: { name: 'gtsm-router', namespace: NS },
        spec: { myASN: 65000, peerASN: 65002, peerAddress: '192.0.2.252', holdTime: '3s', ebgpMultiHop: true },
      } as KubeObject);
      // The advertisement also aggregates to /28 and tags a Community alias and a large community.
      await c.client.create(heraldResource('Community'), {
        metadata: { name: 'edge', namespace: NS },
        spec: { communities: [{ name: 'edge-in', value: '65000:300' }] },
      } as KubeObject);
      await c.client.create(heraldResource('BGPAdvertisement'), {
        metadata: { name: 'gtsm', namespace: NS },
        spec: {
          ipAddressPools: ['gtsm'],
          peers: ['gtsm-router'],
          aggregationLength: 28,
          communities: ['edge-in', 'large:65000:4:5'],
        },
      } as KubeObject);
      const ip = await service('gtsm', 'gtsm');
      // An UPDATE gets through only with TTL 255: the route from every node is the proof.
      const entry = await eventually(
        () => {
          const t = gtsm.routes('master4');
          return t.includes('203.0.113.48/28') &&
            ['192.0.2.1', '192.0.2.2', '192.0.2.3'].every((n) => t.includes(`via ${n}`))
            ? t
            : undefined;
        },
        'the route from every node at the GTSM router',
        60_000,
        200,
      );
      expect(entry).to.not.include(`${ip}/32`);
      expect(entry).to.include('BGP.community: (65000,300)').and.include('BGP.large_community: (65000, 4, 5)');
      const state = await eventually(
        async () => {
          const o = await c.client.tryGet(heraldResource('BGPSessionState'), NS, 'node-a-gtsm-router');
          return (o?.['status'] as { state?: string } | undefined)?.state === 'Established' ? o : undefined;
        },
        'the BGPSessionState of the peer to say Established',
        30_000,
        200,
      );
      expect(state['status']).to.deep.include({ peer: 'gtsm-router', state: 'Established' });
      await c.client.delete(SERVICES, 'default', 'gtsm');
      await eventually(
        () => !gtsm.routes('master4').includes('203.0.113.48/28') || undefined,
        'the withdrawal at the GTSM router',
        30_000,
        200,
      );
      await c.client.delete(heraldResource('BGPAdvertisement'), NS, 'gtsm');
      await c.client.delete(heraldResource('Community'), NS, 'edge');
      await c.client.delete(heraldResource('BGPPeer'), NS, 'gtsm-router');
    } finally {
      gtsm.stop();
    }
  });

  it('BGPPeer options end to end: sourceAddress, routerID, peerPort and a passwordSecret (TCP-MD5) on the one selected node; the password is in no log', async () => {
    const password = 'md5-e2e-9f3c';
    // node-a gets a second address to source the session from; the router accepts only that
    // address, on port 1179, with the TCP-MD5 key.
    const na = net.name('na');
    net.exec(na, ['ip', 'addr', 'add', '192.0.2.11/24', 'dev', 'eth0']);
    const router = lanRouter('opts', '192.0.2.251', {
      as: 65003,
      bfd: 'interface "*" { interval 100 ms; };',
      neighbors: [
        {
          name: 'node_a',
          address: '192.0.2.11',
          as: 65000,
          local: '192.0.2.251',
          localPort: 1179,
          password,
          bfd: true,
        },
      ],
    });
    try {
      await router.ready();
      await c.client.create(SECRETS, {
        metadata: { name: 'router-md5', namespace: NS },
        type: 'kubernetes.io/basic-auth',
        data: { password: Buffer.from(password).toString('base64') },
      });
      const pool = heraldResource('IPAddressPool');
      await c.client.create(pool, {
        metadata: { name: 'opts', namespace: NS },
        spec: { addresses: ['203.0.113.64/28'] },
      } as KubeObject);
      await c.client.create(heraldResource('BFDProfile'), {
        metadata: { name: 'fast', namespace: NS },
        spec: { transmitInterval: 100, receiveInterval: 100 },
      } as KubeObject);
      await c.client.create(heraldResource('BGPPeer'), {
        metadata: { name: 'opts-router', namespace: NS },
        spec: {
          myASN: 65000,
          peerASN: 65003,
          peerAddress: '192.0.2.251',
          peerPort: 1179,
          sourceAddress: '192.0.2.11',
          routerID: '198.51.100.77',
          holdTime: '9s',
          passwordSecret: { name: 'router-md5' },
          bfdProfile: 'fast',
          nodeSelectors: [{ matchLabels: { 'kubernetes.io/hostname': 'node-a' } }],
        },
      } as KubeObject);
      await c.client.create(heraldResource('BGPAdvertisement'), {
        metadata: { name: 'opts', namespace: NS },
        spec: { ipAddressPools: ['opts'], peers: ['opts-router'] },
      } as KubeObject);
      const ip = await service('opts', 'opts');
      await eventually(
        () => router.routes('master4').includes(`${ip}/32`) || undefined,
        'the route at the router',
        60_000,
        200,
      );
      const info = router.birdc('show', 'protocols', 'all', 'node_a');
      expect(info).to.match(/Neighbor address:\s+192\.0\.2\.11/);
      expect(info).to.match(/Neighbor ID:\s+198\.51\.100\.77/);
      // Only node-a is selected: the other nodes have no session with this peer.
      expect(await c.client.tryGet(heraldResource('BGPSessionState'), NS, 'node-b-opts-router')).to.equal(undefined);
      // The object may exist a moment before its status is written: wait for the status.
      const state = await eventually(
        async () => {
          const o = await c.client.tryGet(heraldResource('BGPSessionState'), NS, 'node-a-opts-router');
          return (o?.['status'] as { state?: string } | undefined)?.state === 'Established' ? o : undefined;
        },
        'the BGPSessionState of node-a to say Established',
        30_000,
        200,
      );
      expect(state['status']).to.deep.include({ peer: 'opts-router', state: 'Established' });
      // The bfdProfile runs BFD from the sourceAddress; BIRD (bfd on) sees it Up, and so does the status.
      const bfd = await eventually(
        async () => {
          const o = await c.client.tryGet(heraldResource('BGPSessionState'), NS, 'node-a-opts-router');
          const b = (o?.['status'] as { bfd?: { state?: string } } | undefined)?.bfd;
          return b?.state === 'Up' ? b : undefined;
        },
        'BFD Up in the BGPSessionState',
        30_000,
        200,
      );
      // Detection: BIRD's default multiplier 5 x max(our 100 ms, BIRD's 100 ms).
      expect(bfd).to.deep.equal({ state: 'Up', transmitInterval: 100, detectionTime: 500 });
      expect(router.birdc('show', 'bfd', 'sessions')).to.match(/192\.0\.2\.11\s+eth0\s+Up/);
      // node-a's metrics: the session up, messages counted both ways.
      const metricsOf = (): string =>
        spawnSync('ip', ['netns', 'exec', na, 'curl', '-s', 'http://127.0.0.1:7473/metrics'], { encoding: 'utf8' })
          .stdout;
      const m = await eventually(
        () => {
          const t = metricsOf();
          return /herald_speaker_bgp_messages_total\{peer="opts-router",kind="keepalivesReceived"[^}]*\} [1-9]/.test(t)
            ? t
            : undefined;
        },
        "node-a's metrics for the peer",
        30_000,
        200,
      );
      expect(m).to.match(/herald_speaker_bgp_session_up\{peer="opts-router"[^}]*\} 1/);
      expect(m).to.match(/herald_speaker_bfd_session_up\{peer="opts-router"[^}]*\} 1/);
      for (const kind of ['updatesSent', 'keepalivesSent', 'prefixesAnnounced'])
        expect(m).to.match(
          new RegExp(`herald_speaker_bgp_messages_total\\{peer="opts-router",kind="${kind}"[^}]*\\} [1-9]`),
        );
      expect(m).to.match(/herald_speaker_bgp_messages_total\{peer="opts-router",kind="notificationsReceived"[^}]*\} 0/);
      await c.client.delete(SERVICES, 'default', 'opts');
      await eventually(
        () => !router.routes('master4').includes(`${ip}/32`) || undefined,
        'the withdrawal at the router',
        30_000,
        200,
      );
      await c.client.delete(heraldResource('BGPAdvertisement'), NS, 'opts');
      await c.client.delete(heraldResource('BGPPeer'), NS, 'opts-router');
      await c.client.delete(SECRETS, NS, 'router-md5');
      // The peer gone, its series go too.
      await eventually(
        () => !metricsOf().includes('peer="opts-router"') || undefined,
        "the peer's series to leave node-a's metrics",
        30_000,
        200,
      );
      for (const [node, text] of Object.entries(logs))
        expect(text.includes(password), `${node}'s log holds the password`).to.equal(false);
      expect(logs['node-a']).to.include('opts-router');
      await c.client.delete(heraldResource('BFDProfile'), NS, 'fast');
    } finally {
      router.stop();
      net.exec(na, ['ip', 'addr', 'del', '192.0.2.11/24', 'dev', 'eth0']);
    }
  });

  it('an L2Advertisement naming an interface the node lacks gives an announceFailed Event', async () => {
    const pool = heraldResource('IPAddressPool');
    await c.client.create(pool, {
      metadata: { name: 'odd', namespace: NS },
      spec: { addresses: ['192.0.2.96/28'] },
    } as KubeObject);
    await c.client.create(heraldResource('L2Advertisement'), {
      metadata: { name: 'odd', namespace: NS },
      spec: { ipAddressPools: ['odd'], interfaces: ['missing0'] },
    } as KubeObject);
    await service('odd', 'odd');
    const events = await eventually(
      async () => {
        const evs = (await c.client.list(EVENTS, { namespace: 'default', fieldSelector: 'involvedObject.name=odd' }))
          .items;
        return evs.find((e) => e['reason'] === 'announceFailed');
      },
      'an announceFailed Event',
      30_000,
      200,
    );
    expect(String(events['message'])).to.include('missing0');
    await c.client.delete(SERVICES, 'default', 'odd');
  });

  it('a BGPPeer whose password Secret is missing gives announceFailed Events and a BGPSessionState with the cause', async () => {
    const pool = heraldResource('IPAddressPool');
    await c.client.create(pool, {
      metadata: { name: 'locked', namespace: NS },
      spec: { addresses: ['203.0.113.32/28'] },
    } as KubeObject);
    await c.client.create(heraldResource('BGPPeer'), {
      metadata: { name: 'locked-peer', namespace: NS },
      spec: {
        myASN: 65000,
        peerASN: 65001,
        peerAddress: '192.0.2.253',
        passwordSecret: { name: 'no-such-secret', namespace: NS },
      },
    } as KubeObject);
    await c.client.create(heraldResource('BGPAdvertisement'), {
      metadata: { name: 'locked', namespace: NS },
      spec: { ipAddressPools: ['locked'], peers: ['locked-peer'] },
    } as KubeObject);
    const ip = await service('locked', 'locked');
    const ev = await eventually(
      async () => {
        const evs = (await c.client.list(EVENTS, { namespace: 'default', fieldSelector: 'involvedObject.name=locked' }))
          .items;
        return evs.find((e) => e['reason'] === 'announceFailed');
      },
      'an announceFailed Event',
      30_000,
      200,
    );
    expect(String(ev['message'])).to.include(ip).and.include('locked-peer').and.include('no-such-secret');
    const state = await eventually(
      async () => {
        const o = await c.client.tryGet(heraldResource('BGPSessionState'), NS, 'node-a-locked-peer');
        return (o?.['status'] as { lastError?: string } | undefined)?.lastError ? o : undefined;
      },
      'the BGPSessionState of the peer with its cause',
      30_000,
      200,
    );
    expect(state['status']).to.deep.include({ peer: 'locked-peer', state: 'Idle' });
    expect(String((state['status'] as { lastError?: string }).lastError)).to.include('no-such-secret');
    await c.client.delete(SERVICES, 'default', 'locked');
    await c.client.delete(heraldResource('BGPAdvertisement'), NS, 'locked');
    await c.client.delete(heraldResource('BGPPeer'), NS, 'locked-peer');
  });

  it('partition: the owner cut off alone stops announcing; the majority elects a new owner', async () => {
    const ip = (
      (await c.client.get(SERVICES, 'default', 'web'))['status'] as { loadBalancer: { ingress: { ip: string }[] } }
    ).loadBalancer.ingress[0]!.ip;
    const owner = electOwner(ip, ALL).owner!;
    const next = electOwner(
      ip,
      ALL.filter((x) => x.node !== owner),
    ).owner!;
    netns_exec(lanNs, ['ip', 'link', 'set', ports[owner]!, 'down']);
    try {
      // The isolated speaker still reaches the API (through its namespace's loopback) and withdraws its claim.
      await eventually(
        async () =>
          (await c.client.tryGet(heraldResource('ServiceL2Status'), NS, `l2-default-web-${owner}`)) === undefined
            ? true
            : undefined,
        `${owner} to stop announcing`,
        20_000,
        200,
      );
      const out = await eventually(
        () => {
          const r = spawnSync(
            'ip',
            ['netns', 'exec', net.name('cli'), 'arping', '-c', '1', '-w', '1', '-I', 'eth0', ip],
            { encoding: 'utf8' },
          );
          return r.status === 0 && r.stdout.toUpperCase().includes(`[${macs[next]!}]`) ? r.stdout : undefined;
        },
        `${next} to answer`,
        20_000,
        200,
      );
      expect(out).to.not.equal(undefined);
    } finally {
      netns_exec(lanNs, ['ip', 'link', 'set', ports[owner]!, 'up']);
    }
    // Healed: the original owner is elected again and answers alone.
    await eventually(
      () => {
        const r = spawnSync(
          'ip',
          ['netns', 'exec', net.name('cli'), 'arping', '-c', '2', '-w', '2', '-I', 'eth0', ip],
          { encoding: 'utf8' },
        );
        const text = r.stdout.toUpperCase();
        return r.status === 0 && text.includes(`[${macs[owner]!}]`) && !text.includes(`[${macs[next]!}]`)
          ? true
          : undefined;
      },
      'the partition to heal',
      30_000,
      200,
    );
  });

  it('failover: the owner dies (SIGKILL), the other speaker takes over and the client ARP entry moves', async () => {
    const ip = (
      (await c.client.get(SERVICES, 'default', 'web'))['status'] as { loadBalancer: { ingress: { ip: string }[] } }
    ).loadBalancer.ingress[0]!.ip;
    const owner = electOwner(ip, ALL).owner!;
    const other = electOwner(
      ip,
      ALL.filter((c) => c.node !== owner),
    ).owner!;
    // The endpoint is on node-a; policy Cluster lets either node own the IP.
    const client = net.name('cli');
    spawnSync('ip', ['netns', 'exec', client, 'sysctl', '-qw', 'net.ipv4.conf.eth0.arp_accept=1']);
    // tcpdump at the client sees the new owner's gratuitous announcements.
    const dump = await startTcpdump(client, ['-l', '-n', '-e', '-i', 'eth0', 'arp']);
    let seen = '';
    dump.proc.stdout!.on('data', (d: Buffer) => (seen += d.toString()));
    speakers[owner]!.kill('SIGKILL');
    const out = await eventually(
      () => {
        const r = spawnSync('ip', ['netns', 'exec', client, 'arping', '-c', '1', '-w', '1', '-I', 'eth0', ip], {
          encoding: 'utf8',
        });
        return r.status === 0 && r.stdout.toUpperCase().includes(`[${macs[other]!}]`) ? r.stdout : undefined;
      },
      `${other} to answer for ${ip}`,
      30_000,
      200,
    );
    expect(out.toUpperCase()).to.not.include(`[${macs[owner]!}]`);
    try {
      await eventually(
        () => {
          const garp = seen
            .split('\n')
            .find(
              (l) =>
                l.toLowerCase().includes(`${macs[other]!.toLowerCase()} > ff:ff:ff:ff:ff:ff`) && l.includes(` ${ip}`),
            );
          return garp;
        },
        `a gratuitous ARP for ${ip} from ${other}`,
        10_000,
        100,
      );
    } finally {
      await dump.stop();
    }
    // The gratuitous announcement moved the client's neighbour entry too.
    await eventually(
      () =>
        spawnSync('ip', ['netns', 'exec', client, 'ip', 'neigh', 'show', ip], { encoding: 'utf8' })
          .stdout.toUpperCase()
          .includes(macs[other]!) || undefined,
      'the neighbour entry to move',
      20_000,
      200,
    );
  });
});

function netns_exec(ns: string, args: string[]): void {
  spawnSync('ip', ['netns', 'exec', ns, ...args]);
}
