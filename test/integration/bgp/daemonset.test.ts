/**
 * The speaker run exactly as manifests/speaker.yaml runs it: the uid, capabilities and
 * no-new-privs are read from the DaemonSet itself and reproduced with setpriv (PEERS.md,
 * "Running as the DaemonSet does") in a node namespace of the end-to-end fixture
 * (test/support/speaker-cluster.ts). /proc/PID/status shows what the process really holds;
 * then ARP, NDP, an active session, and TCP-MD5 on an active and on a passive session (the
 * listener on port 179) all work with exactly that.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { expect } from 'chai';
import { parseAllDocuments } from 'yaml';
import { ENDPOINT_SLICES, SECRETS, SERVICES, heraldResource, type KubeObject } from '../../../src/k8s/index.js';
import { eventually } from '../../support/apiserver.js';
import type { KubeCluster } from '../../support/kube-cluster.js';
import { Bird } from '../../support/bgp-peers.js';
import { birdConf, type BirdNeighbor } from '../../support/bird-conf.js';
import { REPO_ROOT } from '../../support/crds.js';
import { canUseNetns, type Netns } from '../../support/netns.js';
import { SpeakerCluster } from '../../support/speaker-cluster.js';
import { requireTool } from '../../support/tools.js';

const NS = 'herald-system';
const NODE = 'node-a';
const NODE_IP = '192.0.2.1';

/** Capability numbers (linux/capability.h) of the names a manifest may add. */
const CAP_BITS: Record<string, number> = {
  CHOWN: 0,
  DAC_OVERRIDE: 1,
  NET_BIND_SERVICE: 10,
  NET_BROADCAST: 11,
  NET_ADMIN: 12,
  NET_RAW: 13,
  SYS_ADMIN: 21,
};

interface SecurityContext {
  runAsUser?: number;
  allowPrivilegeEscalation?: boolean;
  capabilities?: { drop?: string[]; add?: string[] };
}

/** The speaker container's securityContext, from the manifest file. */
function manifestSecurity(): SecurityContext {
  const docs = parseAllDocuments(readFileSync(join(REPO_ROOT, 'manifests', 'speaker.yaml'), 'utf8')).map(
    (d) =>
      d.toJS() as {
        kind?: string;
        spec?: { template: { spec: { containers: { name: string; securityContext?: SecurityContext }[] } } };
      },
  );
  const ds = docs.find((d) => d.kind === 'DaemonSet');
  const c = ds?.spec?.template.spec.containers.find((x) => x.name === 'speaker');
  if (!c?.securityContext) throw new Error('manifests/speaker.yaml: no speaker container with a securityContext');
  return c.securityContext;
}

/** setpriv arguments giving a process what a container with this securityContext gets. */
function setprivFor(sc: SecurityContext): string[] {
  if (!sc.capabilities?.drop?.includes('ALL'))
    throw new Error('the manifest must drop ALL capabilities (the test reproduces only that case)');
  const add = (sc.capabilities.add ?? []).map((c) => `+${c.toLowerCase()}`);
  const uid = sc.runAsUser ?? 0;
  const args = [
    'setpriv',
    `--reuid=${uid}`,
    `--regid=${uid}`,
    '--clear-groups',
    `--bounding-set=-all${add.length ? `,${add.join(',')}` : ''}`,
  ];
  // uid 0 gets its bounding set at exec; another uid keeps only ambient capabilities.
  args.push(
    uid === 0 ? '--inh-caps=-all' : `--inh-caps=-all${add.length ? `,${add.join(',')}` : ''}`,
    uid === 0 ? '--ambient-caps=-all' : `--ambient-caps=-all${add.length ? `,${add.join(',')}` : ''}`,
  );
  if (sc.allowPrivilegeEscalation === false) args.push('--no-new-privs');
  return [...args, '--'];
}

function capMask(names: readonly string[]): bigint {
  let m = 0n;
  for (const n of names) {
    const bit = CAP_BITS[n];
    if (bit === undefined) throw new Error(`unknown capability ${n}`);
    m |= 1n << BigInt(bit);
  }
  return m;
}

describe("the speaker under the DaemonSet's exact privileges (setpriv from manifests/speaker.yaml)", function () {
  this.timeout(120_000);
  const sc = manifestSecurity();
  const e = new SpeakerCluster(NS, { [NODE]: NODE_IP }, { wrap: setprivFor(sc) });
  let net: Netns;
  let c: KubeCluster;
  let bird: Bird;

  before(async function () {
    for (const t of ['bird', 'arping', 'ndisc6', 'setpriv']) requireTool(this, t);
    if (!canUseNetns()) {
      if (process.env['CI'] === 'true') throw new Error('netns tests need root');
      this.skip();
    }
    await e.start();
    [net, c, bird] = [e.net!, e.c!, e.bird!];
  });

  after(() => e.stop());

  const lbIP = (name: string): Promise<string> =>
    eventually(
      async () =>
        ((await c.client.get(SERVICES, 'default', name))['status'] as { loadBalancer?: { ingress?: { ip: string }[] } })
          .loadBalancer?.ingress?.[0]?.ip,
      `${name} to get an address`,
    );

  const service = async (name: string, pool: string, family: 'IPv4' | 'IPv6'): Promise<string> => {
    await c.client.create(SERVICES, {
      metadata: { name, namespace: 'default', annotations: { 'herald.dev/address-pool': pool } },
      spec: { type: 'LoadBalancer', ipFamilies: [family], selector: { app: name }, ports: [{ port: 80 }] },
    });
    await c.client.create(ENDPOINT_SLICES, {
      metadata: { name: `${name}-1`, namespace: 'default', labels: { 'kubernetes.io/service-name': name } },
      addressType: family,
      endpoints: [
        { addresses: [family === 'IPv4' ? NODE_IP : '2001:db8::1'], nodeName: NODE, conditions: { ready: true } },
      ],
      ports: [{ port: 80 }],
    } as KubeObject);
    return lbIP(name);
  };

  it("the process holds exactly the manifest's capabilities, as uid 0 with no-new-privs", () => {
    const pid = e.speakers[NODE]!.pid!;
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (k: string): string => status.match(new RegExp(`^${k}:\\s*(.+)$`, 'm'))?.[1]?.trim() ?? '';
    expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')).to.include('speaker');
    const want = capMask(sc.capabilities?.add ?? []);
    expect(want).to.equal(capMask(['NET_RAW', 'NET_BIND_SERVICE']));
    for (const k of ['CapEff', 'CapPrm', 'CapBnd']) expect(BigInt(`0x${field(k)}`), k).to.equal(want);
    expect(BigInt(`0x${field('CapInh')}`)).to.equal(0n);
    expect(BigInt(`0x${field('CapAmb')}`)).to.equal(0n);
    expect(field('NoNewPrivs')).to.equal(sc.allowPrivilegeEscalation === false ? '1' : '0');
    expect(field('Uid').split(/\s+/)).to.deep.equal(Array(4).fill(String(sc.runAsUser ?? 0)));
  });

  it("Layer 2: ARP for an IPv4 and NDP for an IPv6 service address are answered with the node's MAC", async () => {
    const cli = net.name('cli');
    net.exec(e.nodeNs(NODE), ['ip', 'addr', 'add', '2001:db8::1/64', 'dev', 'eth0', 'nodad']);
    net.exec(cli, ['ip', 'addr', 'add', '2001:db8::200/64', 'dev', 'eth0', 'nodad']);
    const mac = e.macs[NODE]!;
    const v4 = await service('web', 'lan', 'IPv4');
    await eventually(
      () => {
        const r = spawnSync('ip', ['netns', 'exec', cli, 'arping', '-c', '1', '-w', '1', '-I', 'eth0', v4], {
          encoding: 'utf8',
        });
        return r.status === 0 && r.stdout.toUpperCase().includes(`[${mac}]`) ? true : undefined;
      },
      'an ARP answer from node-a',
      30_000,
      200,
    );
    await c.client.create(heraldResource('IPAddressPool'), {
      metadata: { name: 'lan6', namespace: NS },
      spec: { addresses: ['2001:db8::64:0/124'] },
    } as KubeObject);
    await c.client.create(heraldResource('L2Advertisement'), {
      metadata: { name: 'lan6', namespace: NS },
      spec: { ipAddressPools: ['lan6'] },
    } as KubeObject);
    const v6 = await service('web6', 'lan6', 'IPv6');
    const na = await eventually(
      () => {
        const r = spawnSync('ip', ['netns', 'exec', cli, 'ndisc6', '-1', '-r', '1', '-w', '1000', v6, 'eth0'], {
          encoding: 'utf8',
        });
        return r.status === 0 && r.stdout.toUpperCase().includes(mac) ? r.stdout : undefined;
      },
      'an NDP answer from node-a',
      30_000,
      200,
    );
    expect(na).to.match(/Target link-layer address/i);
  });

  it('BGP: an active session, TCP-MD5 on an active session, and a passive session with TCP-MD5 on the listener (port 179)', async () => {
    // Two more routers: .251 waits for node-a (node-a connects, MD5), .250 connects to
    // node-a's port 179 (node-a is passive, MD5 key on its listening socket).
    const router = (role: string, ip: string, as: number, neighbor: Partial<BirdNeighbor>): Bird => {
      const rns = net.add(role);
      net.attach(e.lanNs, rns, [`${ip}/24`]);
      return new Bird(
        net,
        rns,
        birdConf({
          routerId: ip,
          as,
          neighbors: [{ name: role, address: NODE_IP, as: 65000, local: ip, ...neighbor }],
        }),
      );
    };
    const act = router('act', '192.0.2.251', 65003, { password: 'act-key-1' });
    const pas = router('pas', '192.0.2.250', 65004, { passive: false, fastRetry: true, password: 'pas-key-2' });
    try {
      await act.ready();
      await pas.ready();
      for (const [name, pw] of [
        ['act-md5', 'act-key-1'],
        ['pas-md5', 'pas-key-2'],
      ] as const) {
        await c.client.create(SECRETS, {
          metadata: { name, namespace: NS },
          type: 'kubernetes.io/basic-auth',
          data: { password: Buffer.from(pw).toString('base64') },
        });
      }
      await c.client.create(heraldResource('BGPPeer'), {
        metadata: { name: 'act-md5', namespace: NS },
        spec: {
          myASN: 65000,
          peerASN: 65003,
          peerAddress: '192.0.2.251',
          holdTime: '9s',
          passwordSecret: { name: 'act-md5' },
        },
      } as KubeObject);
      await c.client.create(heraldResource('BGPPeer'), {
        metadata: { name: 'pas-md5', namespace: NS },
        spec: {
          myASN: 65000,
          peerASN: 65004,
          peerAddress: '192.0.2.250',
          holdTime: '9s',
          passive: true,
          passwordSecret: { name: 'pas-md5' },
        },
      } as KubeObject);
      const ip = await service('api', 'routed', 'IPv4');
      await eventually(
        () => bird.routes('master4').includes(`${ip}/32`) || undefined,
        'the route at the first router (active, plain)',
        60_000,
        200,
      );
      for (const r of [act, pas])
        await eventually(
          () => r.routes('master4').includes(`${ip}/32`) || undefined,
          'the route over an MD5 session',
          60_000,
          200,
        );
      // Who connected to whom: node-a's side of the passive session is port 179.
      const conns = net
        .exec(e.nodeNs(NODE), ['ss', '-Htn', 'state', 'established'])
        .replace(/\[::ffff:([0-9.]+)\]/g, '$1');
      expect(conns).to.match(/192\.0\.2\.1:179\s+192\.0\.2\.250:\d+/);
      expect(conns).to.match(/192\.0\.2\.1:\d+\s+192\.0\.2\.251:179/);
      for (const peer of ['router', 'act-md5', 'pas-md5']) {
        const st = await eventually(
          async () => {
            const o = await c.client.tryGet(heraldResource('BGPSessionState'), NS, `${NODE}-${peer}`);
            return (o?.['status'] as { state?: string } | undefined)?.state === 'Established'
              ? (o!['status'] as { lastError?: string })
              : undefined;
          },
          `the BGPSessionState of ${peer} to say Established`,
          30_000,
          200,
        );
        expect(st.lastError ?? '').to.not.include('cannot listen');
      }
      expect(e.logs[NODE]).to.not.match(/EACCES|listener failed/);
    } finally {
      act.stop();
      pas.stop();
    }
  });

  it("without NET_BIND_SERVICE the listen fails with EACCES: the passive peer's BGPSessionState says so, and so does the active peer's", async () => {
    const old = e.speakers[NODE]!;
    old.kill('SIGKILL');
    await eventually(() => old.exitCode !== null || old.signalCode !== null || undefined, 'the speaker to die');
    e.spawnSpeaker(
      NODE,
      setprivFor({
        ...sc,
        capabilities: { drop: ['ALL'], add: (sc.capabilities?.add ?? []).filter((x) => x !== 'NET_BIND_SERVICE') },
      }),
    );
    await c.client.create(heraldResource('BGPPeer'), {
      metadata: { name: 'denied', namespace: NS },
      spec: { myASN: 65000, peerASN: 65005, peerAddress: '192.0.2.249', passive: true },
    } as KubeObject);
    const errorOf = (peer: string): Promise<string> =>
      eventually(
        async () => {
          const o = await c.client.tryGet(heraldResource('BGPSessionState'), NS, `${NODE}-${peer}`);
          const err = (o?.['status'] as { lastError?: string } | undefined)?.lastError;
          return err?.includes('EACCES') ? err : undefined;
        },
        `the BGPSessionState of ${peer} to show EACCES`,
        30_000,
        200,
      );
    expect(await errorOf('denied')).to.match(/^cannot listen on BGP port 179: .*EACCES/);
    expect(await errorOf('router')).to.include("the peer's connections to this node fail");
    const line = await eventually(
      () => e.logs[NODE]!.split('\n').find((l) => l.includes('"event":"listenerFailed"') && l.includes('denied')),
      'the log line naming the peers',
    );
    expect(line).to.include('EACCES').and.include('router');
  });
});
