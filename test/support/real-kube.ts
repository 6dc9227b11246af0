/**
 * A real control plane (etcd, kube-apiserver, kube-controller-manager) started by
 * scripts/kube-up.sh for one test suite; `stop()` ends the processes by PID and removes
 * the directory holding their keys, data and logs.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './crds.js';

export interface RealKube {
  /** https://127.0.0.1:PORT */
  readonly url: string;
  /** The directory kube-up.sh created (kubeconfig, logs, keys). */
  readonly dir: string;
  /** The admin kubeconfig (a static token in system:masters). */
  readonly kubeconfig: string;
  stop(): Promise<void>;
  /** Kills kube-apiserver only (etcd and the controller manager go on). */
  killApiServer(): Promise<void>;
  /** Starts kube-apiserver again on the same port with the same etcd; resolves once it is ready. */
  restartApiServer(): Promise<void>;
}

const SCRIPT = join(REPO_ROOT, 'scripts', 'kube-up.sh');

function run(args: string[], env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    // A test never pays for the build: scripts/test.sh (or kube-up.sh build) does it first.
    const p = spawn('sh', [SCRIPT, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env, HERALD_KUBE_BUILD: 'never' },
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', reject);
    p.on('close', (code) =>
      code === 0
        ? resolve(out)
        : reject(
            new Error(
              `kube-up.sh ${args.join(' ')} exited ${String(code)}: ${err.trim().split('\n').slice(-20).join('\n')}`,
            ),
          ),
    );
  });
}

/** `settings` passes kube-up.sh's settings (HERALD_KUBE_SERVICE_CIDRS, HERALD_KUBE_WORKLOADS, ...). */
export async function startRealKube(settings: Record<string, string> = {}): Promise<RealKube> {
  // The free ports kube-up.sh picks can be taken by someone else before its servers bind
  // them: one more try (each failed start has removed what it made).
  const out = await run(['start'], settings).catch(() => run(['start'], settings));
  const env = new Map(
    out
      .split('\n')
      .flatMap((l) =>
        /^[A-Z_]+=/.test(l) ? [[l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const] : [],
      ),
  );
  const dir = env.get('HERALD_KUBE_DIR');
  const url = env.get('HERALD_KUBE_URL');
  const kubeconfigPath = env.get('KUBECONFIG');
  if (!dir || !url || !kubeconfigPath)
    throw new Error(`kube-up.sh start printed no HERALD_KUBE_DIR/HERALD_KUBE_URL/KUBECONFIG: ${out}`);
  return {
    url,
    dir,
    kubeconfig: readFileSync(kubeconfigPath, 'utf8'),
    stop: () => run(['stop', dir]).then(() => undefined),
    killApiServer: () => run(['apiserver-stop', dir]).then(() => undefined),
    restartApiServer: () => run(['apiserver-start', dir]).then(() => undefined),
  };
}
