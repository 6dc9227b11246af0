/** The speaker's composition root: options in, dependencies wired, run until stopped. */
import { systemClock } from '../src/core/clock.js';
import type { Logger } from '../src/core/logger.js';
import type { KubeClient } from '../src/k8s/index.js';
import { createMetricsRegistry, startOpsServer } from '../src/metrics.js';
import { loadNative } from '../native/index.js';
import { Speaker } from './speaker.js';

export interface SpeakerMainOptions {
  readonly client: KubeClient;
  readonly logger: Logger;
  readonly node: string;
  readonly namespace: string;
  readonly lbClass?: string;
  readonly metricsPort: number;
  readonly metricsHost?: string;
  readonly memberExpireMs?: number;
  readonly memberPort?: number;
  readonly bgpListen?: boolean;
  readonly stopSignal: Promise<void>;
}

export async function runSpeaker(opts: SpeakerMainOptions): Promise<{ done: Promise<void>; speaker: Speaker; metricsPort: number }> {
  const clock = systemClock();
  const registry = createMetricsRegistry({ labels: { component: 'speaker', node: opts.node } });
  let native: ReturnType<typeof loadNative> | { error: string };
  try {
    native = loadNative();
  } catch (err) {
    native = { error: (err as Error).message };
  }
  const speaker = new Speaker({ client: opts.client, clock, logger: opts.logger, registry, node: opts.node, namespace: opts.namespace, native, ...(opts.lbClass ? { lbClass: opts.lbClass } : {}), ...(opts.memberExpireMs ? { memberExpireMs: opts.memberExpireMs } : {}), ...(opts.memberPort !== undefined ? { memberPort: opts.memberPort } : {}), ...(opts.bgpListen !== undefined ? { bgpListen: opts.bgpListen } : {}) });
  const ops = await startOpsServer({ registry, port: opts.metricsPort, ...(opts.metricsHost ? { host: opts.metricsHost } : {}), logger: opts.logger, notReadyReason: () => speaker.notReadyReason() });
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
  return { done, speaker, metricsPort: ops.port };
}
