/** `herald controller`: assigns LoadBalancer addresses. */
import { CONTROLLER_LEASE, CONTROLLER_NAME, HERALD_NAMESPACE } from '../src/api/names.js';
import type { Argv } from 'yargs';
import type { Command, GlobalArgs } from '../src/cli/command.js';
import type { CliIO } from '../src/cli/io.js';
import { createWinstonLogger } from '../src/cli/logging.js';
import { metricsSecurityFrom, metricsSecurityOptions } from '../src/cli/metrics-flags.js';
import { KubeClient } from '../src/k8s/index.js';
import { exitWhenStuck } from './exit-when-stuck.js';

const builder = (y: Argv<GlobalArgs>) =>
  metricsSecurityOptions(y)
    .option('kubeconfig', {
      type: 'string',
      describe: 'kubeconfig file (default: in-cluster, then $KUBECONFIG, then ~/.kube/config)',
    })
    .option('namespace', {
      type: 'string',
      default: process.env['POD_NAMESPACE'] ?? HERALD_NAMESPACE,
      describe: "namespace of Herald's configuration",
    })
    .option('lb-class', {
      type: 'string',
      describe: 'serve only Services with this spec.loadBalancerClass (default: those with none)',
    })
    .option('leader-elect', {
      type: 'boolean',
      default: false,
      describe: 'run only while holding the Lease (for more than one replica)',
    })
    .option('lease-name', { type: 'string', default: CONTROLLER_LEASE })
    .option('lease-duration', { type: 'number', default: 15, describe: 'seconds' })
    .option('renew-deadline', { type: 'number', default: 10, describe: 'seconds' })
    .option('retry-period', { type: 'number', default: 2, describe: 'seconds' })
    .option('metrics-port', { type: 'number', default: 7472 })
    .option('metrics-host', { type: 'string', default: '0.0.0.0' })
    .option('health-port', {
      type: 'number',
      describe: 'also serve /healthz and /readyz over plain HTTP on this port (for probes when /metrics is HTTPS)',
    });

export function controllerCommand(
  io: CliIO,
  waitForStop: () => Promise<void>,
  setExit: (code: number) => void,
): Command<typeof builder> {
  return {
    command: 'controller',
    describe: 'assign external IPs to Services of type LoadBalancer from IPAddressPools',
    builder,
    handler: async (args) => {
      const { runController } = await import('../controller/main.js');
      const security = metricsSecurityFrom(args);
      const logger = createWinstonLogger({ level: args['log-level'], stream: io.stderr });
      const client = args.kubeconfig
        ? KubeClient.fromFile(args.kubeconfig, { userAgent: CONTROLLER_NAME })
        : KubeClient.fromDefault({ userAgent: CONTROLLER_NAME });
      const running = await runController({
        client,
        logger,
        namespace: args.namespace,
        ...(args['lb-class'] ? { lbClass: args['lb-class'] } : {}),
        leaderElect: args['leader-elect'],
        leaseName: args['lease-name'],
        ...(process.env['POD_NAME'] ? { identity: process.env['POD_NAME'] } : {}),
        leaseDurationMs: args['lease-duration'] * 1000,
        renewDeadlineMs: args['renew-deadline'] * 1000,
        retryPeriodMs: args['retry-period'] * 1000,
        metricsPort: args['metrics-port'],
        metricsHost: args['metrics-host'],
        ...(security ? { metricsSecurity: security } : {}),
        ...(args['health-port'] !== undefined ? { healthPort: args['health-port'] } : {}),
        stopSignal: waitForStop(),
      }).catch((err: unknown) => {
        client.close();
        throw err;
      });
      const why = await running.done;
      client.close();
      if (why === 'lostLeadership') setExit(1);
      exitWhenStuck();
    },
  };
}
