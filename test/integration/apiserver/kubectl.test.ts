/** kubectl, unchanged, drives the embedded API server. */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { eventually, startTestCluster, type TestCluster } from '../../support/apiserver.js';
import { CRD_DIR } from '../../support/crds.js';
import { requireTool } from '../../support/tools.js';

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
    expect(plain, plain.join('\n')).to.have.length(10);
    expect(plain.every((l) => / created$/.test(l)), plain.join('\n')).to.equal(true);
    const kustomized = (await ok('apply', '-k', CRD_DIR)).trim().split('\n');
    expect(kustomized.filter((l) => / unchanged$/.test(l)), kustomized.join('\n')).to.have.length(10);
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
    writeFileSync(join(dir, 'bad.yaml'), 'apiVersion: herald.dev/v1beta1\nkind: IPAddressPool\nmetadata:\n  name: bad\n  namespace: herald-system\nspec:\n  addresses: ["192.0.2.0/28"]\n  autoAssign: "sometimes"\n');
    const r = await kubectl('apply', '-f', join(dir, 'bad.yaml'));
    expect(r.code).to.not.equal(0);
    expect(r.err).to.include('spec.autoAssign');
  });

  it('patch, get -o jsonpath, get -w and delete', async () => {
    writeFileSync(join(dir, 'svc.yaml'), 'apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: default\nspec:\n  type: LoadBalancer\n  ports:\n  - name: http\n    port: 80\n');
    await ok('apply', '-f', join(dir, 'svc.yaml'));
    const watcher = spawn('kubectl', ['get', 'svc', 'web', '-w', '-o', 'jsonpath={.status.loadBalancer.ingress[0].ip}{"\\n"}'], { env: { ...process.env, KUBECONFIG: kubeconfig } });
    let watched = '';
    watcher.stdout.on('data', (d: Buffer) => (watched += d.toString()));
    try {
      await eventually(() => watched.includes('\n'), 'kubectl get -w to print the first state');
      await ok('patch', 'svc', 'web', '--subresource=status', '--type=merge', '-p', '{"status":{"loadBalancer":{"ingress":[{"ip":"192.0.2.10"}]}}}');
      await eventually(() => watched.includes('192.0.2.10'), 'kubectl get -w to print the new ingress IP');
    } finally {
      watcher.kill();
    }
    await ok('patch', 'svc', 'web', '-p', '{"spec":{"ports":[{"name":"http","port":80,"targetPort":8080}]}}');
    expect(await ok('get', 'svc', 'web', '-o', 'jsonpath={.spec.ports[0].targetPort}')).to.equal('8080');
    expect(await ok('get', 'svc', 'web')).to.match(/web\s+LoadBalancer\s+198\.51\.100\.\d+\s+192\.0\.2\.10\s+80:3\d{4}\/TCP/);
    expect(await ok('delete', 'svc', 'web')).to.include('service "web" deleted');
    const gone = await kubectl('get', 'svc', 'web');
    expect(gone.err).to.include('services "web" not found');
  });

  it('herald apiserver runs standalone, applies crds/ and stops cleanly on SIGTERM', async () => {
    const out = join(dir, 'standalone.kubeconfig');
    const proc = spawn(process.execPath, [join(CRD_DIR, '..', 'bin', 'herald.js'), 'apiserver', '--port', '0', '--kubeconfig-out', out, '--apply', CRD_DIR], { stdio: ['ignore', 'pipe', 'pipe'] });
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
        expect(crds.trim().split('\n')).to.have.length(10);
      } finally {
        kubeconfig = saved;
      }
    } finally {
      proc.kill('SIGTERM');
    }
    expect(await exited).to.equal(0);
  });
});
