/** `herald speaker`: announces service IPs from one node (Layer 2 and BGP). */
import type { CommandModule } from 'yargs';
import type { CliIO } from '../src/cli/io.js';
import { createWinstonLogger } from '../src/cli/logging.js';
import { HeraldError } from '../src/core/errors.js';
import type { LogLevel } from '../src/core/logger.js';
import { KubeClient } from '../src/k8s/index.js';
import { exitWhenStuck } from './exit-when-stuck.js';

interface Args {
  kubeconfig?: string;
  node?: string;
  namespace: string;
  'lb-class'?: string;
  'metrics-port': number;
  'metrics-host': string;
  'member-expire': number;
  'member-port': number;
  'log-level': LogLevel;
}

export function speakerCommand(io: CliIO, waitForStop: () => Promise<void>): CommandModule<object, Args> {
  return {
    command: 'speaker',
    describe: "announce this node's service IPs (ARP/NDP and BGP)",
    builder: (y) =>
      y
        .option('kubeconfig', { type: 'string', describe: 'kubeconfig file (default: in-cluster, then $KUBECONFIG)' })
        .option('node', { type: 'string', default: process.env['NODE_NAME'], describe: 'this node (default $NODE_NAME)' })
        .option('namespace', { type: 'string', default: process.env['POD_NAMESPACE'] ?? 'herald-system' })
        .option('lb-class', { type: 'string', describe: 'serve only Services with this loadBalancerClass' })
        .option('metrics-port', { type: 'number', default: 7473 })
        .option('metrics-host', { type: 'string', default: '0.0.0.0' })
        .option('member-expire', { type: 'number', default: 3, describe: 'seconds without a Lease renewal before a speaker is taken for dead (until the UDP detector runs)' })
        .option('member-port', { type: 'number', default: 7946, describe: 'UDP port of the SWIM failure detector; 0 disables it' })
        .option('bgp-listen', { type: 'boolean', default: true, describe: "accept routers' BGP connections on the peers' ports (passive peers need it); --no-bgp-listen when another BGP daemon owns the port" }) as never,
    handler: async (args) => {
      const { runSpeaker } = await import('../speaker/main.js');
      if (!args.node) throw new HeraldError('Usage', 'the node name is needed: --node or $NODE_NAME');
      const logger = createWinstonLogger({ level: args['log-level'], stream: io.stderr }).child({ node: args.node });
      const client = args.kubeconfig ? KubeClient.fromFile(args.kubeconfig, { userAgent: 'herald-speaker' }) : KubeClient.fromDefault({ userAgent: 'herald-speaker' });
      const r = await runSpeaker({ client, logger, node: args.node, namespace: args.namespace, ...(args['lb-class'] ? { lbClass: args['lb-class'] } : {}), metricsPort: args['metrics-port'], metricsHost: args['metrics-host'], memberExpireMs: args['member-expire'] * 1000, memberPort: args['member-port'], bgpListen: args['bgp-listen'] !== false, stopSignal: waitForStop() });
      await r.done;
      client.close();
      exitWhenStuck();
    },
  };
}
