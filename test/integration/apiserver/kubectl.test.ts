/** kubectl, unchanged, drives the embedded API server. */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { eventually, startTestCluster, type TestCluster } from '../../support/apiserver.js';
import { CRD_DIR } from '../../support/crds.js';
import { EVENTS, type KubeObject } from '../../../src/k8s/index.js';
import { requireTool } from '../../support/tools.js';
import { KINDS } from '../../../src/api/group.js';

describe('embedded API server: kubectl', function () {
  let c: TestCluster;
  let dir: string;
  let kubeconfig: string;
  // Asynchronous: the API server runs in this process and must keep serving meanwhile.
  const kubectl = (...args: string[]): Promise<{ code: number; out: string; err: string }> =>
    new Promise((resolve) => {
      const p = spawn('kubectl', args, { env: { ...process.env, KUBECONFIG: kubeconfig } });
      let out = '';
      let err = '';
      p.stdout.on('data', (d: Buffer) => (out += d.toString()));
      p.stderr.on('data', (d: Buffer) => (err += d.toString()));
      p.on('close', (code) => resolve({ code: code ?? -1, out, err }));
    });
  const ok = async (...args: string[]): Promise<string> => {
    const r = await kubectl(...args);
    expect(r.code, `kubectl ${args.join(' ')}: ${r.err}`).to.equal(0);
    return r.out;
  };

  before(async function () {
    requireTool(this, 'kubectl');
    c = await startTestCluster();
    dir = mkdtempSync(join(tmpdir(), 'herald-kubectl-'));
    kubeconfig = join(dir, 'kubeconfig');
    c.server.writeKubeconfig(kubeconfig);
  });
  after(async () => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    await c?.server.stop();
  });

  it('applies the CRDs and the samples, and a second apply changes nothing', async () => {
    // crds/ holds only CRDs (its kustomize recipe is `Kustomization`, which -f skips): both forms work.
    const plain = (await ok('apply', '-f', CRD_DIR)).trim().split('\n');
    expect(plain, plain.join('\n')).to.have.length(KINDS.length);
    expect(
      plain.every((l) => / created$/.test(l)),
      plain.join('\n'),
    ).to.equal(true);
    const kustomized = (await ok('apply', '-k', CRD_DIR)).trim().split('\n');
    expect(
      kustomized.filter((l) => / unchanged$/.test(l)),
      kustomized.join('\n'),
    ).to.have.length(KINDS.length);
    writeFileSync(join(dir, 'ns.yaml'), 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: herald-system\n');
    expect(await ok('create', '-f', join(dir, 'ns.yaml'))).to.include('namespace/herald-system created');
    const first = await ok('apply', '-f', join(CRD_DIR, 'samples', 'ipaddresspool.yaml'));
    expect(first).to.include('ipaddresspool.herald.dev/lan-v4 created');
    const second = await ok('apply', '-f', join(CRD_DIR, 'samples', 'ipaddresspool.yaml'));
    expect(second).to.include('ipaddresspool.herald.dev/lan-v4 unchanged');
  });

  it('prints CRD printer columns in kubectl get', async () => {
    const out = await ok('get', 'ipaddresspools', '-n', 'herald-system');
    expect(out.split('\n')[0]).to.match(/^NAME\s+AUTO ASSIGN\s+AVOID BUGGY IPS\s+ADDRESSES\s+AGE/);
    expect(out).to.include('lan-v4');
  });

  it('reports a schema violation with the field, as kube-apiserver does', async () => {
    writeFileSync(
      join(dir, 'bad.yaml'),
      'apiVersion: herald.dev/v1beta1\nkind: IPAddressPool\nmetadata:\n  name: bad\n  namespace: herald-system\nspec:\n  addresses: ["192.0.2.0/28"]\n  autoAssign: "sometimes"\n',
    );
    const r = await kubectl('apply', '-f', join(dir, 'bad.yaml'));
    expect(r.code).to.not.equal(0);
    expect(r.err).to.include('spec.autoAssign');
  });

  it('patch, get -o jsonpath, get -w and delete', async () => {
    writeFileSync(
      join(dir, 'svc.yaml'),
      'apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: default\nspec:\n  type: LoadBalancer\n  ports:\n  - name: http\n    port: 80\n',
    );
    await ok('apply', '-f', join(dir, 'svc.yaml'));
    const watcher = spawn(
      'kubectl',
      ['get', 'svc', 'web', '-w', '-o', 'jsonpath={.status.loadBalancer.ingress[0].ip}{"\\n"}'],
      { env: { ...process.env, KUBECONFIG: kubeconfig } },
    );
    let watched = '';
    watcher.stdout.on('data', (d: Buffer) => (watched += d.toString()));
    try {
      await eventually(() => watched.includes('\n'), 'kubectl get -w to print the first state');
      await ok(
        'patch',
        'svc',
        'web',
        '--subresource=status',
        '--type=merge',
        '-p',
        '{"status":{"loadBalancer":{"ingress":[{"ip":"192.0.2.10"}]}}}',
      );
      await eventually(() => watched.includes('192.0.2.10'), 'kubectl get -w to print the new ingress IP');
    } finally {
      watcher.kill();
    }
    await ok('patch', 'svc', 'web', '-p', '{"spec":{"ports":[{"name":"http","port":80,"targetPort":8080}]}}');
    expect(await ok('get', 'svc', 'web', '-o', 'jsonpath={.spec.ports[0].targetPort}')).to.equal('8080');
    expect(await ok('get', 'svc', 'web')).to.match(
      /web\s+LoadBalancer\s+198\.19\.\d+\.\d+\s+192\.0\.2\.10\s+80:3\d{4}\/TCP/,
    );
    expect(await ok('delete', 'svc', 'web')).to.include('service "web" deleted');
    const gone = await kubectl('get', 'svc', 'web');
    expect(gone.err).to.include('services "web" not found');
  });

  it("a new user's everyday commands (protobuf bodies): create namespace, deployment, service loadbalancer, expose, run, secret, configmap, role, rolebinding, scale", async () => {
    expect(await ok('create', 'namespace', 'shop')).to.include('namespace/shop created');
    expect(await ok('create', 'deployment', 'web', '--image=herald/demo', '--replicas=2', '-n', 'shop')).to.include(
      'deployment.apps/web created',
    );
    expect(await ok('create', 'service', 'loadbalancer', 'web', '--tcp=80:8080', '-n', 'shop')).to.include(
      'service/web created',
    );
    expect(
      await ok(
        'expose',
        'deployment',
        'web',
        '--name=web2',
        '--port=80',
        '--target-port=8080',
        '--type=LoadBalancer',
        '-n',
        'shop',
      ),
    ).to.include('service/web2 exposed');
    expect(await ok('run', 'p1', '--image=herald/demo', '-n', 'shop')).to.include('pod/p1 created');
    expect(await ok('create', 'secret', 'generic', 's1', '--from-literal=k=v', '-n', 'shop')).to.include(
      'secret/s1 created',
    );
    expect(await ok('create', 'configmap', 'c1', '--from-literal=k=v', '-n', 'shop')).to.include(
      'configmap/c1 created',
    );
    expect(await ok('create', 'role', 'r1', '--verb=get', '--resource=pods', '-n', 'shop')).to.include('created');
    expect(
      await ok('create', 'rolebinding', 'rb1', '--role=r1', '--serviceaccount=shop:default', '-n', 'shop'),
    ).to.include('created');
    const deploy = JSON.parse(await ok('get', 'deployment', 'web', '-n', 'shop', '-o', 'json')) as {
      spec: { replicas: number; selector: unknown; template: { spec: { containers: { image: string }[] } } };
    };
    expect(deploy.spec.replicas).to.equal(2);
    expect(deploy.spec.selector).to.deep.equal({ matchLabels: { app: 'web' } });
    expect(deploy.spec.template.spec.containers[0]!.image).to.equal('herald/demo');
    expect(
      await ok(
        'get',
        'svc',
        'web',
        '-n',
        'shop',
        '-o',
        'jsonpath={.spec.ports[0].targetPort} {.spec.selector.app} {.spec.type}',
      ),
    ).to.equal('8080 web LoadBalancer');
    expect(await ok('get', 'secret', 's1', '-n', 'shop', '-o', 'jsonpath={.data.k}')).to.equal(
      Buffer.from('v').toString('base64'),
    );
    expect(await ok('scale', 'deployment', 'web', '--replicas=3', '-n', 'shop')).to.include(
      'deployment.apps/web scaled',
    );
    expect(await ok('get', 'deployment', 'web', '-n', 'shop', '-o', 'jsonpath={.spec.replicas}')).to.equal('3');
    expect(JSON.parse(await ok('get', '--raw', '/apis/apps/v1/namespaces/shop/deployments/web/scale'))).to.deep.include(
      { kind: 'Scale', spec: { replicas: 3 }, status: { replicas: 0, selector: 'app=web' } },
    );
  });

  it('prints the columns kube-apiserver prints for built-in kinds', async () => {
    await c.client.create(EVENTS, {
      metadata: { name: 'web.1', namespace: 'shop' },
      involvedObject: { kind: 'Service', name: 'web', namespace: 'shop' },
      type: 'Warning',
      reason: 'AllocationFailed',
      message: 'no available IPs',
      source: { component: 'herald-controller' },
      lastTimestamp: new Date().toISOString(),
      count: 1,
    } as KubeObject);
    const header = async (...args: string[]): Promise<string> =>
      (await ok('get', ...args, '-n', 'shop')).split('\n')[0]!.trim().replace(/\s+/g, ' ');
    const cases: [string[], string][] = [
      [['events'], 'LAST SEEN TYPE REASON OBJECT MESSAGE'],
      [['deployments'], 'NAME READY UP-TO-DATE AVAILABLE AGE'],
      [['deployments', '-o', 'wide'], 'NAME READY UP-TO-DATE AVAILABLE AGE CONTAINERS IMAGES SELECTOR'],
      [['pods'], 'NAME READY STATUS RESTARTS AGE'],
      [['pods', '-o', 'wide'], 'NAME READY STATUS RESTARTS AGE IP NODE NOMINATED NODE READINESS GATES'],
      [['services', '-o', 'wide'], 'NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE SELECTOR'],
      [['secrets'], 'NAME TYPE DATA AGE'],
      [['configmaps'], 'NAME DATA AGE'],
      [['roles'], 'NAME CREATED AT'],
      [['rolebindings'], 'NAME ROLE AGE'],
    ];
    for (const [args, want] of cases) expect(await header(...args), args.join(' ')).to.equal(want);
    expect(await ok('get', 'events', '-n', 'shop')).to.match(
      /Warning\s+AllocationFailed\s+service\/web\s+no available IPs/,
    );
  });

  it('herald apiserver runs standalone, applies crds/ and stops cleanly on SIGTERM', async () => {
    const out = join(dir, 'standalone.kubeconfig');
    const proc = spawn(
      process.execPath,
      [
        join(CRD_DIR, '..', 'bin', 'herald.js'),
        'apiserver',
        '--port',
        '0',
        '--kubeconfig-out',
        out,
        '--apply',
        CRD_DIR,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let log = '';
    proc.stdout.on('data', (d: Buffer) => (log += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (log += d.toString()));
    const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
    try {
      await eventually(() => log.includes('listening on https://'), 'herald apiserver to listen', 20_000);
      expect(log).to.match(/applied (\d+) of \1 objects/);
      const saved = kubeconfig;
      kubeconfig = out;
      try {
        const crds = await ok('get', 'crds', '-o', 'name');
        expect(crds.trim().split('\n')).to.have.length(KINDS.length);
      } finally {
        kubeconfig = saved;
      }
    } finally {
      proc.kill('SIGTERM');
    }
    expect(await exited).to.equal(0);
  });
});
