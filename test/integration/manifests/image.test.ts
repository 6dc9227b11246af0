/**
 * The container image without a Docker engine (none runs on these machines): every path the
 * Dockerfile copies exists, and the runtime stage's layout — package.json, production
 * dependencies only (no tsx), dist/ from `npm run build`, bin/, the native addon, crds/ —
 * runs the CLI from compiled JavaScript: `validate` on the samples, the subcommands' help,
 * the bundled Kubernetes client against the embedded API server, and the addon loads from
 * its image path.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { expect } from 'chai';
import { startKubeCluster } from '../../support/kube-cluster.js';
import { REPO_ROOT } from '../../support/crds.js';

describe('container image layout (the Dockerfile, built without Docker)', function () {
  this.timeout(180_000);
  let root: string;

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'herald-image-'));
  });
  after(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  const dockerfile = (): string[] => readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8').split('\n');

  it('every path the build stage copies from the repository exists', () => {
    const copies = dockerfile().filter((l) => l.startsWith('COPY ') && !l.includes('--from='));
    expect(copies.length).to.be.greaterThan(5);
    for (const line of copies) {
      const parts = line.split(/\s+/).slice(1, -1);
      for (const p of parts) expect(existsSync(join(REPO_ROOT, p)), `${p} (${line})`).to.equal(true);
    }
  });

  it('the runtime stage runs the compiled CLI with production dependencies only', async () => {
    // Stage 1: `npm run build` (into our own directory, not the repository's dist/).
    const dist = join(root, 'dist');
    const build = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'build.mjs'), '--outDir', dist], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    });
    expect(build.status, build.stdout + build.stderr).to.equal(0);
    // client-node arrives as a bundle of what Herald uses, not as the whole package.
    const bundled = readFileSync(join(dist, 'src', 'k8s', 'client-node.js'), 'utf8');
    expect(bundled).to.not.match(/from ['"]@kubernetes\/client-node['"]/);
    expect(bundled).to.match(/\bKubeConfig\b/);
    expect(bundled).to.not.include('CoreV1Api');
    // Stage 2: what the Dockerfile copies from the build stage.
    const runtime = dockerfile().filter((l) => l.startsWith('COPY --from=build'));
    const copied = runtime.map((l) => l.split(/\s+/)[2]!.replace('/src/', ''));
    expect(copied).to.have.members([
      'package.json',
      'node_modules',
      'dist',
      'bin',
      'build/Release/herald_native.node',
      'crds',
    ]);
    const img = join(root, 'herald');
    mkdirSync(img);
    cpSync(join(REPO_ROOT, 'package.json'), join(img, 'package.json'));
    cpSync(join(REPO_ROOT, 'bin'), join(img, 'bin'), { recursive: true });
    cpSync(join(REPO_ROOT, 'crds'), join(img, 'crds'), { recursive: true });
    cpSync(dist, join(img, 'dist'), { recursive: true });
    mkdirSync(join(img, 'build', 'Release'), { recursive: true });
    cpSync(
      join(REPO_ROOT, 'build', 'Release', 'herald_native.node'),
      join(img, 'build', 'Release', 'herald_native.node'),
    );
    // node_modules after `npm prune --omit=dev`: links to the production packages only.
    const prod = spawnSync('npm', ['ls', '--omit=dev', '--parseable', '--all'], { cwd: REPO_ROOT, encoding: 'utf8' })
      .stdout.split('\n')
      .filter((p) => p.startsWith(join(REPO_ROOT, 'node_modules') + '/'));
    for (const p of new Set(prod)) {
      const rel = relative(join(REPO_ROOT, 'node_modules'), p);
      if (rel.includes('node_modules')) continue;
      const to = join(img, 'node_modules', rel);
      mkdirSync(dirname(to), { recursive: true });
      if (!existsSync(to)) symlinkSync(p, to, 'dir');
    }
    expect(existsSync(join(img, 'node_modules', 'tsx'))).to.equal(false);
    const herald = (...args: string[]): { status: number | null; out: string } => {
      const r = spawnSync(process.execPath, [join(img, 'bin', 'herald.js'), ...args], {
        cwd: img,
        encoding: 'utf8',
        env: { ...process.env, NODE_ENV: 'production', NODE_OPTIONS: '' },
      });
      return { status: r.status, out: r.stdout + r.stderr };
    };
    const valid = herald('validate', '-f', join(REPO_ROOT, 'crds', 'samples'));
    expect(valid.status, valid.out).to.equal(0);
    for (const cmd of ['controller', 'speaker', 'apiserver']) {
      const help = herald(cmd, '--help');
      expect(help.status, help.out).to.equal(0);
      expect(help.out).to.include(`herald ${cmd}`);
    }
    // The bundled client talks to a real (embedded) API server: list, create, watch.
    const cluster = await startKubeCluster();
    try {
      const kubeconfig = join(root, 'kubeconfig');
      writeFileSync(kubeconfig, cluster.kubeconfig());
      const script = `
        const { KubeClient, NAMESPACES } = await import('${join(img, 'dist', 'src', 'k8s', 'index.js')}');
        const c = KubeClient.fromFile('${kubeconfig}');
        const list = await c.list(NAMESPACES);
        const seen = new Promise((resolve) => {
          void c.watch(NAMESPACES, { resourceVersion: list.resourceVersion }, (type, o) => { if (o.metadata.name === 'from-image') resolve(type); }, () => undefined);
        });
        await c.create(NAMESPACES, { metadata: { name: 'from-image' } });
        console.log('watch saw', await seen);
        process.exit(0);`;
      const r = await new Promise<string>((resolve) => {
        const p = spawn(process.execPath, ['--input-type=module', '-e', script], {
          cwd: img,
          env: { ...process.env, NODE_OPTIONS: '' },
        });
        let out = '';
        p.stdout.on('data', (d: Buffer) => (out += d.toString()));
        p.stderr.on('data', (d: Buffer) => (out += d.toString()));
        p.on('exit', () => resolve(out));
      });
      expect(r).to.include('watch saw ADDED');
    } finally {
      cluster.client.close();
      await cluster.stop();
    }
    const addon = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import('${join(img, 'dist', 'native', 'index.js')}').then((m) => { m.loadNative(); console.log('addon ok'); })`,
      ],
      { cwd: img, encoding: 'utf8' },
    );
    expect(addon.stdout + addon.stderr).to.include('addon ok');
  });
});
