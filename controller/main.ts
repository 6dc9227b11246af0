/**
 * The controller's composition root: options in, dependencies wired, run until stopped.
 * With leader election only the Lease holder runs the controller; a standby that takes over
 * builds its state from the cluster.
 */
import { CONTROLLER_LEASE, CONTROLLER_NAME } from '../src/api/names.js';
import { hostname } from 'node:os';
import { systemClock, type Clock } from '../src/core/clock.js';
import { HeraldError } from '../src/core/errors.js';
import type { Logger } from '../src/core/logger.js';
import { LeaderElector, type KubeClient } from '../src/k8s/index.js';
import { createMetricsRegistry, startOpsServer } from '../src/metrics.js';
import { metricsServiceNames, secureMetrics } from '../src/metrics-auth.js';
import { Controller } from './controller.js';

export interface ControllerMainOptions {
  readonly client: KubeClient;
  readonly logger: Logger;
  readonly namespace: string;
  readonly lbClass?: string;
  readonly leaderElect: boolean;
  readonly leaseName?: string;
  readonly identity?: string;
  readonly leaseDurationMs?: number;
  readonly renewDeadlineMs?: number;
  readonly retryPeriodMs?: number;
  readonly metricsPort: number;
  readonly metricsHost?: string;
  /** A plain-HTTP port for /healthz and /readyz only (probes); they are on the metrics port too. */
  readonly healthPort?: number;
  /**
   * Serve /metrics over HTTPS to authenticated, authorized tokens only (TokenReview and
   * SubjectAccessReview), with these certificate files or a self-signed certificate; plain
   * HTTP, open to anyone who reaches the port, without.
   */
  readonly metricsSecurity?: { readonly certFile?: string; readonly keyFile?: string };
  readonly clock?: Clock;
  /** Resolves when the program should stop. */
  readonly stopSignal: Promise<void>;
}

export interface RunningController {
  readonly metricsPort: number;
  readonly healthPort?: number;
  /** The running controller while this process leads (or always, without election). */
  current(): Controller | undefined;
  /** Resolves when the process has stopped, with why. */
  readonly done: Promise<'stopped' | 'lostLeadership'>;
}

/**
 * `--lb-class` needs spec.loadBalancerClass (Kubernetes 1.21 behind a feature gate, on from
 * 1.22): an older server drops the field, no Service could name the class, and the
 * controller would silently serve nothing. Refuse to start instead.
 */
export async function checkLoadBalancerClass(client: KubeClient, lbClass: string, log: Logger): Promise<void> {
  const v = await client.serverVersion();
  if (v.major === 1 && v.minor < 21) {
    throw new HeraldError(
      'Unsupported',
      `--lb-class ${lbClass}: the API server (${v.gitVersion}) has no spec.loadBalancerClass (Kubernetes 1.21 or newer), so no Service can name a class and this controller would serve nothing; run without --lb-class or upgrade the cluster`,
    );
  }
  if (v.major === 1 && v.minor === 21)
    log.warn(
      '--lb-class needs the ServiceLoadBalancerClass feature gate on Kubernetes 1.21; without it Services cannot name a class',
      { server: v.gitVersion, lbClass },
    );
}

export async function runController(opts: ControllerMainOptions): Promise<RunningController> {
  if (opts.lbClass !== undefined) await checkLoadBalancerClass(opts.client, opts.lbClass, opts.logger);
  const clock = opts.clock ?? systemClock();
  const registry = createMetricsRegistry({ labels: { component: 'controller' } });
  const log = opts.logger.child({ component: 'controller' });
  let controller: Controller | undefined;
  let leading = !opts.leaderElect;
  const sec = opts.metricsSecurity;
  const secure = sec
    ? await secureMetrics({
        client: opts.client,
        clock,
        logger: log.child({ component: 'metrics' }),
        commonName: CONTROLLER_NAME,
        dnsNames: metricsServiceNames(`${CONTROLLER_NAME}-metrics`, opts.namespace),
        ...(opts.metricsHost ? { host: opts.metricsHost } : {}),
        ...(sec.certFile !== undefined ? { certFile: sec.certFile } : {}),
        ...(sec.keyFile !== undefined ? { keyFile: sec.keyFile } : {}),
      })
    : undefined;
  const ops = await startOpsServer({
    registry,
    port: opts.metricsPort,
    ...(opts.metricsHost ? { host: opts.metricsHost } : {}),
    ...(secure ? { secure } : {}),
    ...(opts.healthPort !== undefined ? { healthPort: opts.healthPort } : {}),
    logger: log,
    // A standby is ready (it can take over at once); the active controller once its caches
    // are synced and its start-up replay is done.
    notReadyReason: () => {
      if (opts.leaderElect && !leading) return undefined;
      return controller ? controller.notReadyReason() : 'starting';
    },
  });
  const make = (): Controller =>
    new Controller({
      client: opts.client,
      clock,
      logger: log,
      registry,
      namespace: opts.namespace,
      ...(opts.lbClass !== undefined ? { lbClass: opts.lbClass } : {}),
    });

  let resolveDone: (why: 'stopped' | 'lostLeadership') => void = () => undefined;
  const done = new Promise<'stopped' | 'lostLeadership'>((r) => (resolveDone = r));

  if (!opts.leaderElect) {
    controller = make();
    await controller.start();
    void opts.stopSignal.then(async () => {
      await controller?.stop();
      await ops.close();
      resolveDone('stopped');
    });
    return {
      metricsPort: ops.port,
      ...(ops.healthPort !== undefined ? { healthPort: ops.healthPort } : {}),
      current: () => controller,
      done,
    };
  }

  let stopping = false;
  const elector = new LeaderElector({
    client: opts.client,
    clock,
    logger: log.child({ component: 'leader-election' }),
    namespace: opts.namespace,
    name: opts.leaseName ?? CONTROLLER_LEASE,
    identity: opts.identity ?? `${hostname()}-${process.pid}`,
    ...(opts.leaseDurationMs !== undefined ? { leaseDurationMs: opts.leaseDurationMs } : {}),
    ...(opts.renewDeadlineMs !== undefined ? { renewDeadlineMs: opts.renewDeadlineMs } : {}),
    ...(opts.retryPeriodMs !== undefined ? { retryPeriodMs: opts.retryPeriodMs } : {}),
    onStartedLeading: () => {
      leading = true;
      controller = make();
      controller
        .start()
        .catch((err: unknown) => log.error('controller failed to start', { event: 'startFailed', error: String(err) }));
    },
    onStoppedLeading: () => {
      const was = controller;
      controller = undefined;
      leading = false;
      void was?.stop().then(async () => {
        if (!stopping) {
          // Like client-go users: a process that lost the lease exits and starts clean.
          log.error('lost leadership; stopping', { event: 'leadershipLost' });
          await ops.close();
          resolveDone('lostLeadership');
        }
      });
    },
    onNewLeader: (id) => log.info('controller leader', { event: 'leaderChanged', leader: id }),
  });
  elector.start();
  void opts.stopSignal.then(async () => {
    stopping = true;
    await elector.stop();
    await controller?.stop();
    await ops.close();
    resolveDone('stopped');
  });
  return {
    metricsPort: ops.port,
    ...(ops.healthPort !== undefined ? { healthPort: ops.healthPort } : {}),
    current: () => controller,
    done,
  };
}
