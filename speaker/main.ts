/** The speaker's composition root: options in, dependencies wired, run until stopped. */
import { SPEAKER_NAME } from '../src/api/names.js';
import { systemClock } from '../src/core/clock.js';
import type { Logger } from '../src/core/logger.js';
import type { KubeClient } from '../src/k8s/index.js';
import { createMetricsRegistry, startOpsServer } from '../src/metrics.js';
import { metricsServiceNames, secureMetrics } from '../src/metrics-auth.js';
import { loadNative } from '../native/index.js';
import { DEFAULT_ANNOUNCE_RATE, defaultBurst } from './layer2/announcer.js';
import { Speaker } from './speaker.js';
import type { ServiceStatusMode } from './status-sets.js';

export interface SpeakerMainOptions {
  readonly client: KubeClient;
  readonly logger: Logger;
  readonly node: string;
  readonly namespace: string;
  readonly lbClass?: string;
  readonly metricsPort: number;
  readonly metricsHost?: string;
  /** A plain-HTTP port for /healthz and /readyz only (probes); they are on the metrics port too. */
  readonly healthPort?: number;
  /** HTTPS and delegated auth for /metrics (see ControllerMainOptions.metricsSecurity); plain HTTP without. */
  readonly metricsSecurity?: { readonly certFile?: string; readonly keyFile?: string };
  /** Interface name globs Layer 2 never answers on unless an L2Advertisement names them (DEFAULT_EXCLUDED_INTERFACES without). */
  readonly excludeInterfaces?: readonly string[];
  /** Gratuitous ARP/NA frames a second per interface (DEFAULT_ANNOUNCE_RATE without). */
  readonly announceRate?: number;
  readonly memberExpireMs?: number;
  readonly memberPort?: number;
  readonly bgpListen?: boolean;
  readonly serviceStatus?: ServiceStatusMode;
  readonly stopSignal: Promise<void>;
}

export async function runSpeaker(
  opts: SpeakerMainOptions,
): Promise<{ done: Promise<void>; speaker: Speaker; metricsPort: number; healthPort?: number }> {
  const clock = systemClock();
  const registry = createMetricsRegistry({ labels: { component: 'speaker', node: opts.node } });
  let native: ReturnType<typeof loadNative> | { error: string };
  try {
    native = loadNative();
  } catch (err) {
    native = { error: (err as Error).message };
  }
  if (opts.excludeInterfaces)
    opts.logger.child({ component: 'layer2' }).info('interfaces never picked unless an L2Advertisement names them', {
      excludeInterfaces: opts.excludeInterfaces.join(',') || '(none)',
    });
  const announceRate = opts.announceRate ?? DEFAULT_ANNOUNCE_RATE;
  opts.logger.child({ component: 'layer2' }).info('gratuitous ARP/NA paced per interface', {
    framesPerSecond: announceRate,
    burst: defaultBurst(announceRate),
  });
  const speaker = new Speaker({
    client: opts.client,
    clock,
    logger: opts.logger,
    registry,
    node: opts.node,
    namespace: opts.namespace,
    native,
    ...(opts.lbClass ? { lbClass: opts.lbClass } : {}),
    ...(opts.memberExpireMs ? { memberExpireMs: opts.memberExpireMs } : {}),
    ...(opts.memberPort !== undefined ? { memberPort: opts.memberPort } : {}),
    ...(opts.bgpListen !== undefined ? { bgpListen: opts.bgpListen } : {}),
    ...(opts.excludeInterfaces ? { excludeInterfaces: opts.excludeInterfaces } : {}),
    ...(opts.serviceStatus ? { serviceStatus: opts.serviceStatus } : {}),
    announceRate,
  });
  const sec = opts.metricsSecurity;
  const secure = sec
    ? await secureMetrics({
        client: opts.client,
        clock,
        logger: opts.logger.child({ component: 'metrics' }),
        commonName: SPEAKER_NAME,
        dnsNames: metricsServiceNames(`${SPEAKER_NAME}-metrics`, opts.namespace),
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
    logger: opts.logger.child({ component: 'metrics' }),
    notReadyReason: () => speaker.notReadyReason(),
  });
  await speaker.start();
  const timer = setInterval(() => {
    void speaker.writeSessionStates();
    speaker.resync();
  }, 5000);
  timer.unref();
  const done = opts.stopSignal.then(async () => {
    clearInterval(timer);
    await speaker.stop();
    await ops.close();
  });
  return {
    done,
    speaker,
    metricsPort: ops.port,
    ...(ops.healthPort !== undefined ? { healthPort: ops.healthPort } : {}),
  };
}
