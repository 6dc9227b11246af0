/**
 * `herald lab --kubernetes real`: the lab on a real control plane — etcd, kube-apiserver and
 * kube-controller-manager (with its Deployment, ReplicaSet, EndpointSlice, namespace, garbage
 * collector and ServiceAccount controllers) started by scripts/kube-up.sh in the lab's state
 * directory, on loopback. No kube-scheduler and no kubelet run there, so the lab binds Pods
 * itself (lab/scheduler.ts) and its node agents write Pod status and end deleted Pods; the
 * lab reads the cluster through informers (the view the rest of the lab shares with the
 * embedded server). ServiceAccount kubeconfigs carry tokens from the TokenRequest API.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { systemClock } from '../src/core/clock.js';
import type { Logger, LogFields } from '../src/core/logger.js';
import {
  ENDPOINT_SLICES,
  EVENTS,
  heraldResource,
  Informer,
  KubeClient,
  LEASES,
  NODES,
  PODS,
  SECRETS,
  SERVICES,
  type ResourceType,
} from '../src/k8s/index.js';
import type { LabCluster, LabObj, LabView } from './cluster.js';
import { applyWithClient, forwardUnixSocket, kubeconfigWithToken, requestToken } from './real-api.js';
import { KUBE_DIR } from './names.js';
import { startScheduler } from './scheduler.js';

const HERALD_KINDS = [
  'ServiceL2Status',
  'ServiceBGPStatus',
  'BGPNodeStatus',
  'BGPSessionState',
  'IPAddressPool',
  'L2Advertisement',
  'BGPAdvertisement',
  'BGPPeer',
  'BFDProfile',
  'Community',
];

/** Store resource name -> what to watch (and where). */
function mirrored(heraldNamespace: string): Map<string, { type: ResourceType; namespace?: string }> {
  const m = new Map<string, { type: ResourceType; namespace?: string }>([
    ['pods', { type: PODS }],
    ['services', { type: SERVICES }],
    ['nodes', { type: NODES }],
    ['events', { type: EVENTS }],
    ['endpointslices.discovery.k8s.io', { type: ENDPOINT_SLICES }],
    ['leases.coordination.k8s.io', { type: LEASES, namespace: heraldNamespace }],
    ['secrets', { type: SECRETS, namespace: heraldNamespace }],
  ]);
  for (const kind of HERALD_KINDS) {
    const type = heraldResource(kind);
    m.set(`${type.plural}.${type.group}`, { type });
  }
  return m;
}

/** Runs scripts/kube-up.sh; its stdout, or an error with the end of its stderr. */
function kubeUp(root: string, args: string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn('sh', [join(root, 'scripts', 'kube-up.sh'), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
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
              `scripts/kube-up.sh ${args[0] ?? ''} failed (exit ${String(code)}): ${err.trim().split('\n').slice(-15).join('\n')}`,
            ),
          ),
    );
  });
}

/** PIDs noted by kube-up.sh in its directory. */
export function kubePids(dir: string): number[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.pid'))
    .map((f) => Number(readFileSync(join(dir, f), 'utf8').trim()))
    .filter((n) => n > 0);
}

function lineLogger(log: (msg: string) => void, base: LogFields = {}): Logger {
  const at =
    (level: string) =>
    (message: string, fields: LogFields = {}): void => {
      if (level !== 'debug') log(`${level} ${message} ${JSON.stringify({ ...base, ...fields })}`);
    };
  return {
    error: at('error'),
    warn: at('warn'),
    info: at('info'),
    debug: at('debug'),
    child: (f) => lineLogger(log, { ...base, ...f }),
  };
}

export interface RealClusterOptions {
  readonly root: string;
  readonly stateDir: string;
  /** The API server's port on 127.0.0.1 (0: any free port). */
  readonly port: number;
  readonly socket: string;
  readonly heraldNamespace: string;
  readonly log: (msg: string) => void;
}

export async function startRealCluster(o: RealClusterOptions): Promise<LabCluster> {
  const dir = join(o.stateDir, KUBE_DIR);
  const out = await kubeUp(o.root, ['start', dir], {
    HERALD_KUBE_WORKLOADS: '1',
    ...(o.port !== 0 ? { HERALD_KUBE_API_PORT: String(o.port) } : {}),
  });
  const env = new Map(
    out
      .split('\n')
      .flatMap((l) =>
        /^[A-Z_]+=/.test(l) ? [[l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const] : [],
      ),
  );
  const url = env.get('HERALD_KUBE_URL');
  const kubeconfigPath = env.get('KUBECONFIG');
  const stopPlane = (): Promise<void> => kubeUp(o.root, ['stop', dir], {}).then(() => undefined);
  if (!url || !kubeconfigPath) {
    await stopPlane();
    throw new Error(`scripts/kube-up.sh start printed no HERALD_KUBE_URL/KUBECONFIG: ${out}`);
  }
  try {
    return await connect(o, { url, adminKubeconfig: readFileSync(kubeconfigPath, 'utf8'), stopPlane });
  } catch (err) {
    await stopPlane();
    throw err;
  }
}

/** The lab's side of a started control plane: its client, socket forwarder, informers and scheduler. */
async function connect(
  o: RealClusterOptions,
  plane: { url: string; adminKubeconfig: string; stopPlane: () => Promise<void> },
): Promise<LabCluster> {
  const { url, adminKubeconfig, stopPlane } = plane;
  const dir = join(o.stateDir, KUBE_DIR);
  const admin = KubeClient.fromString(adminKubeconfig, { userAgent: 'herald-lab' });
  const forwarder = await forwardUnixSocket(o.socket, Number(new URL(url).port));

  // The view: one informer per resource the lab reads, and change listeners on top.
  const listeners = new Map<string, Set<() => void>>();
  const informers = new Map<string, Informer>();
  const logger = lineLogger(o.log, { component: 'lab-informer' });
  for (const [resource, w] of mirrored(o.heraldNamespace)) {
    const inf = new Informer({
      client: admin,
      type: w.type,
      clock: systemClock(),
      logger: logger.child({ resource }),
      ...(w.namespace ? { namespace: w.namespace } : {}),
      resyncMs: 0,
    });
    const fire = (): void => {
      for (const l of listeners.get(resource) ?? []) l();
    };
    inf.addHandlers({ onAdd: fire, onUpdate: fire, onDelete: fire });
    informers.set(resource, inf);
  }
  // Herald's kinds exist once its CRDs are applied (apply() starts their informers).
  const builtIn = [...informers].filter(([r]) => !r.endsWith('.herald.dev'));
  const herald = [...informers].filter(([r]) => r.endsWith('.herald.dev'));
  const startAll = async (which: readonly (readonly [string, Informer])[]): Promise<void> => {
    for (const [, i] of which) i.start();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `the lab's watches did not sync within 60 s: ${which
                .filter(([, i]) => !i.hasSynced())
                .map(([r]) => r)
                .join(', ')}`,
            ),
          ),
        60_000,
      );
    });
    await Promise.race([Promise.all(which.map(([, i]) => i.waitForSync())), late]).finally(() => clearTimeout(timer));
  };
  await startAll(builtIn);
  const view: LabView = {
    list: (r, ns) => {
      const all = (informers.get(r)?.list() ?? []) as LabObj[];
      return ns === undefined ? all : all.filter((x) => x.metadata.namespace === ns);
    },
    get: (r, ns, name) => informers.get(r)?.get(ns ? `${ns}/${name}` : name) as LabObj | undefined,
    onChange: (resources, listener) => {
      for (const r of resources) {
        let set = listeners.get(r);
        if (!set) listeners.set(r, (set = new Set()));
        set.add(listener);
      }
      return () => resources.forEach((r) => listeners.get(r)?.delete(listener));
    },
  };
  const scheduler = startScheduler(view, admin, o.log);

  return {
    kind: 'real',
    url,
    view,
    admin,
    socket: o.socket,
    apply: async (objects) => {
      const failed = (await applyWithClient(admin, objects)).filter((r) => !r.ok).map((r) => `${r.ref}: ${r.message}`);
      if (objects.some((x) => x['kind'] === 'CustomResourceDefinition') && herald.some(([, i]) => !i.hasSynced()))
        await startAll(herald);
      return failed;
    },
    writeServiceAccountKubeconfig: async (path, ns, name) =>
      writeFileSync(path, kubeconfigWithToken(admin, await requestToken(admin, ns, name), ns), { mode: 0o600 }),
    writeAdminKubeconfig: (path) => writeFileSync(path, adminKubeconfig, { mode: 0o600 }),
    writePodStatus: async (ns, name, status) => {
      await admin.patch(PODS, ns, name, { status }, { status: true });
    },
    finishPodDeletion: async (ns, name, uid) => {
      await admin.delete(PODS, ns, name, { preconditions: { uid }, gracePeriodSeconds: 0 });
    },
    pids: kubePids(dir),
    stop: async () => {
      scheduler.stop();
      for (const i of informers.values()) i.stop();
      admin.close();
      await forwarder.close();
      await stopPlane();
    },
  };
}
