/**
 * `herald status` and `herald collect` against the embedded API server, with every object
 * (status kinds included) created by the test as the controller and speakers would.
 */
import { expect } from 'chai';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { capture } from '../../support/capture.js';
import { collectBundle, runCollect } from '../../../src/cli/collect.js';
import { runStatus } from '../../../src/cli/status.js';
import {
  EVENTS,
  NAMESPACES,
  NODES,
  PODS,
  SECRETS,
  SERVICES,
  heraldResource,
  type KubeObject,
  type ResourceType,
} from '../../../src/k8s/index.js';
import { startTestCluster, type TestCluster } from '../../support/apiserver.js';
import { requireTool } from '../../support/tools.js';

const NS = 'herald-system';

describe('herald status and collect on the embedded API server', function () {
  this.timeout(60_000);
  let c: TestCluster;
  let dir: string;

  const withStatus = async (
    t: ResourceType,
    name: string,
    status: Record<string, unknown>,
    ns = NS,
    extra: Record<string, unknown> = { spec: {} },
  ): Promise<void> => {
    await c.client.create(t, { metadata: { name, namespace: ns }, ...extra });
    await c.client.patch(t, ns, name, { status }, { kind: 'merge', status: true });
  };
  const svc = async (name: string, ingress: string[], pool?: string, conditions?: unknown[]): Promise<void> => {
    await c.client.create(SERVICES, {
      metadata: {
        name,
        namespace: 'default',
        ...(pool ? { annotations: { 'herald.dev/ip-allocated-from-pool': pool } } : {}),
      },
      spec: { type: 'LoadBalancer', selector: { app: name }, ports: [{ name: 'http', port: 80 }] },
    });
    await c.client.patch(
      SERVICES,
      'default',
      name,
      {
        status: {
          loadBalancer: ingress.length > 0 ? { ingress: ingress.map((ip) => ({ ip })) } : {},
          ...(conditions ? { conditions } : {}),
        },
      },
      { kind: 'merge', status: true },
    );
  };
  const speakerState = (node: string) =>
    withStatus(heraldResource('ConfigurationState'), `speaker-${node}`, {
      component: 'speaker',
      node,
      result: 'Valid',
    });
  const status = async (output: 'text' | 'json') => {
    const cap = capture();
    const code = await runStatus(c.client, { namespace: NS, output }, cap.io);
    return { code, out: cap.out() };
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'herald-status-'));
    c = await startTestCluster({ herald: true });
    await c.client.create(NAMESPACES, { metadata: { name: NS } });
    for (const n of ['node-a', 'node-b', 'node-c']) await c.client.create(NODES, { metadata: { name: n } });
    await withStatus(
      heraldResource('IPAddressPool'),
      'lan',
      { assignedIPv4: '1', availableIPv4: '13', assignedIPv6: '0', availableIPv6: '0' },
      NS,
      { spec: { addresses: ['192.0.2.0/28'] } },
    );
    await withStatus(
      heraldResource('IPAddressPool'),
      'wan',
      { assignedIPv4: '1', availableIPv4: '3', assignedIPv6: '0', availableIPv6: '0' },
      NS,
      { spec: { addresses: ['203.0.113.0/30'] } },
    );
    for (const n of ['node-a', 'node-b', 'node-c']) await speakerState(n);
    await withStatus(heraldResource('ConfigurationState'), 'controller', { component: 'controller', result: 'Valid' });
    await svc('web-l2', ['192.0.2.1'], 'lan');
    await withStatus(heraldResource('ServiceL2Status'), 'l2-default-web-l2-node-b', {
      node: 'node-b',
      serviceName: 'web-l2',
      serviceNamespace: 'default',
      interfaces: [{ name: 'eth0' }],
    });
    await svc('web-bgp', ['203.0.113.1'], 'wan');
    // A cluster switching --service-status: node-a still per Service, node-c per node (a BGPNodeStatus shard); both show.
    await withStatus(heraldResource('ServiceBGPStatus'), 'bgp-default-web-bgp-node-a', {
      node: 'node-a',
      serviceName: 'web-bgp',
      serviceNamespace: 'default',
      peers: ['router'],
    });
    await withStatus(heraldResource('BGPNodeStatus'), 'node-c-0', {
      node: 'node-c',
      shard: 0,
      shards: 1,
      serviceCount: 1,
      peers: ['router'],
      services: [{ namespace: 'default', name: 'web-bgp', peers: [0] }],
    });
    await c.client.create(EVENTS, {
      metadata: { name: 'web-bgp.1', namespace: 'default' },
      involvedObject: { kind: 'Service', namespace: 'default', name: 'web-bgp' },
      reason: 'announceFailed',
      type: 'Warning',
      message: 'node node-b cannot announce 203.0.113.1 to BGP peer router: session is Active',
      source: { component: 'herald-speaker' },
    });
    for (const n of ['node-a', 'node-c'])
      await withStatus(heraldResource('BGPSessionState'), `${n}-router`, {
        node: n,
        peer: 'router',
        peerAddress: '192.0.2.254',
        state: 'Established',
        prefixesSent: 1,
        bfd: { state: 'Up' },
      });
    await c.client.create(SECRETS, {
      metadata: { name: 'bgp-password', namespace: NS },
      type: 'kubernetes.io/basic-auth',
      stringData: { username: 'herald', password: 'hunter2-secret' },
    });
    await c.client.create(heraldResource('BGPPeer'), {
      metadata: {
        name: 'plain',
        namespace: NS,
        annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"spec":{"password":"plain-pw-42"}}' },
      },
      spec: { myASN: 64500, peerASN: 64501, peerAddress: '192.0.2.254', password: 'plain-pw-42' },
    });
    await c.client.create(PODS, {
      metadata: { name: 'herald-controller-0', namespace: NS },
      spec: { containers: [{ name: 'controller', image: 'herald' }] },
    });
  });
  after(async () => {
    await c?.server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('healthy cluster: pools, Services with mode and announcing nodes, sessions; exit 0', async () => {
    const r = await status('text');
    expect(r.code).to.equal(0, r.out);
    const lines = r.out.split('\n');
    expect(lines.find((l) => l.startsWith('lan '))).to.match(/^lan\s+192\.0\.2\.0\/28\s+1\s+13\s+0\s+0$/);
    expect(lines.find((l) => l.startsWith('default/web-l2 '))).to.match(
      /^default\/web-l2\s+192\.0\.2\.1\s+lan\s+L2\s+node-b\(eth0\)\s+node-a: not the elected owner .*; node-c: not the elected owner/,
    );
    expect(lines.find((l) => l.startsWith('default/web-bgp '))).to.match(
      /^default\/web-bgp\s+203\.0\.113\.1\s+wan\s+BGP\s+node-a\(router\) node-c\(router\)\s+node-b: cannot announce 203\.0\.113\.1 to BGP peer router: session is Active$/,
    );
    expect(lines.find((l) => l.startsWith('node-a '))).to.match(
      /^node-a\s+router\s+192\.0\.2\.254\s+Established\s+1\s+Up\s+-$/,
    );
    expect(r.out).to.include('no errors reported');
    expect(r.out.trimEnd().endsWith('OK: nothing wrong')).to.equal(true);
  });

  it('a pending Service, a session not Established and a configuration error: exit 1, each named', async () => {
    await svc('pending', [], undefined, [
      {
        type: 'herald.dev/AddressAssigned',
        status: 'False',
        reason: 'PoolExhausted',
        message: 'no free address in pool "wan"',
        lastTransitionTime: '2026-01-01T00:00:00Z',
      },
    ]);
    await withStatus(heraldResource('BGPSessionState'), 'node-b-router', {
      node: 'node-b',
      peer: 'router',
      peerAddress: '192.0.2.254',
      state: 'Active',
      prefixesSent: 0,
      lastError: 'connect ECONNREFUSED 192.0.2.254:179',
    });
    const cfgErr = {
      kind: 'IPAddressPool',
      namespace: NS,
      name: 'broken',
      field: 'spec.addresses[0]',
      reason: '"192.0.2.300/32" is not a CIDR',
    };
    await c.client.patch(
      heraldResource('ConfigurationState'),
      NS,
      'controller',
      { status: { result: 'Invalid', errors: [cfgErr] } },
      { kind: 'merge', status: true },
    );
    await c.client.patch(
      heraldResource('ConfigurationState'),
      NS,
      'speaker-node-a',
      { status: { result: 'Invalid', errors: [cfgErr] } },
      { kind: 'merge', status: true },
    );
    const r = await status('text');
    expect(r.code).to.equal(1);
    expect(r.out).to.match(/default\/pending\s+<pending> PoolExhausted/);
    const problems = r.out.slice(r.out.indexOf('PROBLEMS (3)')).split('\n').slice(1, 4);
    expect(problems).to.deep.equal([
      '- Service default/pending is pending: PoolExhausted: no free address in pool "wan"',
      '- BGP session node-b → router (192.0.2.254) is Active: connect ECONNREFUSED 192.0.2.254:179',
      '- configuration error (controller, speaker node-a): IPAddressPool herald-system/broken: spec.addresses[0]: "192.0.2.300/32" is not a CIDR',
    ]);

    const j = await status('json');
    expect(j.code).to.equal(1);
    const doc = JSON.parse(j.out) as {
      healthy: boolean;
      problems: string[];
      services: { name: string; announcedBy: string[]; mode: string; pool: string; ips: string[] }[];
      sessions: { node: string; state: string }[];
    };
    expect(doc.healthy).to.equal(false);
    expect(doc.problems.length).to.equal(3);
    expect(doc.services.map((s) => [s.name, s.ips, s.pool, s.mode, s.announcedBy])).to.deep.equal([
      ['pending', [], '', '', []],
      ['web-bgp', ['203.0.113.1'], 'wan', 'BGP', ['node-a', 'node-c']],
      ['web-l2', ['192.0.2.1'], 'lan', 'L2', ['node-b']],
    ]);
    expect(doc.sessions.map((s) => `${s.node}:${s.state}`)).to.deep.equal([
      'node-a:Established',
      'node-b:Active',
      'node-c:Established',
    ]);
  });

  it('kubectl-herald runs status through a kubeconfig (the kubectl plugin)', async () => {
    const kc = join(dir, 'kubeconfig');
    await writeFile(kc, c.server.kubeconfig());
    // Asynchronously: the API server answers from this very process.
    const r = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = execFile(
        process.execPath,
        ['bin/kubectl-herald', 'status', '--kubeconfig', kc, '-o', 'json'],
        { encoding: 'utf8', timeout: 60_000 },
        (_err, stdout, stderr) => resolve({ status: child.exitCode, stdout, stderr }),
      );
    });
    expect(r.status, r.stderr).to.equal(1);
    expect((JSON.parse(r.stdout) as { services: unknown[] }).services.length).to.equal(3);
  });

  it('kubectl finds the plugin on PATH: `kubectl herald status` with KUBECONFIG', async function () {
    requireTool(this, 'kubectl');
    const kc = join(dir, 'kubeconfig-plugin');
    await writeFile(kc, c.server.kubeconfig());
    const env = { ...process.env, PATH: `${join(process.cwd(), 'bin')}:${process.env['PATH'] ?? ''}`, KUBECONFIG: kc };
    const r = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = execFile(
        'kubectl',
        ['herald', 'status'],
        { encoding: 'utf8', timeout: 60_000, env },
        (_err, stdout, stderr) => resolve({ status: child.exitCode, stdout, stderr }),
      );
    });
    expect(r.status, r.stderr).to.equal(1);
    expect(r.stdout).to.match(/^Herald status of https:\/\/127\.0\.0\.1:\d+\n/);
    expect(r.stdout).to.match(/PROBLEMS \(3\)/);
  });

  it('collect writes a directory: every Herald kind, Services, EndpointSlices, Events, pods, redacted Secrets and passwords, and what it could not read', async () => {
    const out = join(dir, 'bundle');
    const cap = capture();
    expect(
      await runCollect(c.client, { namespace: NS, output: out, created: new Date('2026-01-02T03:04:05Z') }, cap.io),
    ).to.equal(0);
    const files = (await readdir(out, { recursive: true })).map(String).sort();
    for (const f of [
      'herald/ipaddresspools.yaml',
      'herald/bgppeers.yaml',
      'herald/servicel2statuses.yaml',
      'herald/bgpsessionstates.yaml',
      'herald/configurationstates.yaml',
      'cluster/nodes.yaml',
      'namespaces/default/services.yaml',
      'namespaces/default/endpointslices.yaml',
      'namespaces/default/events.yaml',
      `namespaces/${NS}/secrets.yaml`,
      `namespaces/${NS}/pods.yaml`,
      'status.txt',
      'status.json',
      'errors.txt',
      'manifest.json',
    ]) {
      expect(files, f).to.include(f);
    }
    const all = (
      await Promise.all(files.filter((f) => f.includes('.')).map((f) => readFile(join(out, f), 'utf8')))
    ).join('\n');
    for (const secret of ['hunter2-secret', Buffer.from('hunter2-secret').toString('base64'), 'plain-pw-42'])
      expect(all).to.not.include(secret);
    const secrets = await readFile(join(out, `namespaces/${NS}/secrets.yaml`), 'utf8');
    expect(secrets).to.include('password: REDACTED').and.include('username: REDACTED');
    expect(await readFile(join(out, 'herald/bgppeers.yaml'), 'utf8')).to.include('password: REDACTED');
    expect(await readFile(join(out, 'namespaces/default/events.yaml'), 'utf8')).to.include('announceFailed');
    // The embedded API server has no pods/log: the bundle says so instead of leaving the log out silently.
    expect(await readFile(join(out, 'errors.txt'), 'utf8')).to.match(
      /^logs of pod herald-system\/herald-controller-0 container controller: /m,
    );
    expect(cap.err()).to.include('could not read logs of pod herald-system/herald-controller-0');
  });

  it('collect writes a .tar.gz that tar reads, with the pod log when the pods/log API answers', async () => {
    const created = new Date('2026-01-02T03:04:05Z');
    // A client whose pods/log answers, as kube-apiserver's does; everything else goes to the server.
    const client = Object.create(c.client) as typeof c.client;
    client.getText = (path: string) =>
      path.endsWith('/pods/herald-controller-0/log') ? Promise.resolve('line one\nline two\n') : c.client.getText(path);
    const { files, errors } = await collectBundle(client, { namespace: NS, created });
    expect(errors).to.deep.equal([]);
    expect(files.find((f) => f.path === 'logs/herald-controller-0/controller.log')?.data).to.equal(
      'line one\nline two\n',
    );
    const tgz = join(dir, 'support.tar.gz');
    expect(await runCollect(client, { namespace: NS, output: tgz, created }, capture().io)).to.equal(0);
    const list = spawnSync('tar', ['-tzvf', tgz], { encoding: 'utf8' });
    expect(list.status, list.stderr).to.equal(0);
    expect(list.stdout)
      .to.include('support/herald/ipaddresspools.yaml')
      .and.include('support/logs/herald-controller-0/controller.log');
    const log = spawnSync('tar', ['-xzOf', tgz, 'support/logs/herald-controller-0/controller.log'], {
      encoding: 'utf8',
    });
    expect(log.stdout).to.equal('line one\nline two\n');
    const manifest = JSON.parse(
      spawnSync('tar', ['-xzOf', tgz, 'support/manifest.json'], { encoding: 'utf8' }).stdout,
    ) as { created: string; files: string[] };
    expect(manifest.created).to.equal('2026-01-02T03:04:05.000Z');
    expect(manifest.files).to.include('status.txt');
  });

  it("a Service of another loadBalancerClass is not Herald's and not listed", async () => {
    await c.client.create(SERVICES, {
      metadata: { name: 'other', namespace: 'default' },
      spec: { type: 'LoadBalancer', loadBalancerClass: 'example.com/lb', ports: [{ name: 'http', port: 80 }] },
    } as KubeObject);
    const r = await status('json');
    expect((JSON.parse(r.out) as { services: { name: string }[] }).services.map((s) => s.name)).to.not.include('other');
  });
});
