/** `herald speaker`: announces service IPs from one node (Layer 2 and BGP). */
import { HERALD_NAMESPACE, SPEAKER_NAME } from '../src/api/names.js';
import type { Argv } from 'yargs';
import type { Command, GlobalArgs } from '../src/cli/command.js';
import type { CliIO } from '../src/cli/io.js';
import { createWinstonLogger } from '../src/cli/logging.js';
import { metricsSecurityFrom, metricsSecurityOptions } from '../src/cli/metrics-flags.js';
import { HeraldError } from '../src/core/errors.js';
import { KubeClient } from '../src/k8s/index.js';
import { checkAnnounceRate, DEFAULT_ANNOUNCE_RATE } from '../speaker/layer2/announcer.js';
import { DEFAULT_EXCLUDED_INTERFACES, parseInterfaceExclusions } from '../speaker/layer2/interface-filter.js';
import { SERVICE_STATUS_MODES } from '../speaker/status-sets.js';
import { exitWhenStuck } from './exit-when-stuck.js';

const builder = (y: Argv<GlobalArgs>) =>
  metricsSecurityOptions(y)
    .option('kubeconfig', { type: 'string', describe: 'kubeconfig file (default: in-cluster, then $KUBECONFIG)' })
    .option('node', { type: 'string', default: process.env['NODE_NAME'], describe: 'this node (default $NODE_NAME)' })
    .option('namespace', { type: 'string', default: process.env['POD_NAMESPACE'] ?? HERALD_NAMESPACE })
    .option('lb-class', { type: 'string', describe: 'serve only Services with this loadBalancerClass' })
    .option('metrics-port', { type: 'number', default: 7473 })
    .option('metrics-host', { type: 'string', default: '0.0.0.0' })
    .option('health-port', {
      type: 'number',
      describe: 'also serve /healthz and /readyz over plain HTTP on this port (for probes when /metrics is HTTPS)',
    })
    .option('member-expire', {
      type: 'number',
      default: 3,
      describe: 'seconds without a Lease renewal before a speaker is taken for dead (until the UDP detector runs)',
    })
    .option('l2-exclude-interfaces', {
      type: 'string',
      default: process.env['HERALD_L2_EXCLUDE_INTERFACES'] ?? 'default',
      describe: `interface name globs Layer 2 never picks unless an L2Advertisement names them; "default" stands for ${DEFAULT_EXCLUDED_INTERFACES.join(',')} (e.g. "default,eth9*"); "" excludes nothing (default $HERALD_L2_EXCLUDE_INTERFACES, else "default")`,
    })
    .option('l2-announce-rate', {
      type: 'number',
      default: DEFAULT_ANNOUNCE_RATE,
      describe:
        'gratuitous ARP / unsolicited NA frames a second per interface when taking IPs over (a burst of a tenth of it goes at once; first announcements before repeats)',
    })
    .option('member-port', {
      type: 'number',
      default: 7946,
      describe: 'UDP port of the SWIM failure detector; 0 disables it',
    })
    .option('bgp-listen', {
      type: 'boolean',
      default: true,
      describe:
        "accept routers' BGP connections on the peers' ports (passive peers need it); --no-bgp-listen when another BGP daemon owns the port",
    })
    .option('service-status', {
      choices: SERVICE_STATUS_MODES,
      default: 'per-node' as const,
      describe:
        'how announced Services are reported: per-node (BGPNodeStatus shards of ~2,000 Services per node) or per-service (ServiceBGPStatus per Service and node, as MetalLB; for Services x nodes under ~50,000)',
    });

export function speakerCommand(io: CliIO, waitForStop: () => Promise<void>): Command<typeof builder> {
  return {
    command: 'speaker',
    describe: "announce this node's service IPs (ARP/NDP and BGP)",
    builder,
    handler: async (args) => {
      const { runSpeaker } = await import('../speaker/main.js');
      if (!args.node) throw new HeraldError('Usage', 'the node name is needed: --node or $NODE_NAME');
      const security = metricsSecurityFrom(args);
      const excludeInterfaces = parseInterfaceExclusions(args['l2-exclude-interfaces']);
      const announceRate = checkAnnounceRate(args['l2-announce-rate']);
      const logger = createWinstonLogger({ level: args['log-level'], stream: io.stderr }).child({ node: args.node });
      const client = args.kubeconfig
        ? KubeClient.fromFile(args.kubeconfig, { userAgent: SPEAKER_NAME })
        : KubeClient.fromDefault({ userAgent: SPEAKER_NAME });
      const r = await runSpeaker({
        client,
        logger,
        node: args.node,
        namespace: args.namespace,
        ...(args['lb-class'] ? { lbClass: args['lb-class'] } : {}),
        metricsPort: args['metrics-port'],
        metricsHost: args['metrics-host'],
        ...(security ? { metricsSecurity: security } : {}),
        ...(args['health-port'] !== undefined ? { healthPort: args['health-port'] } : {}),
        memberExpireMs: args['member-expire'] * 1000,
        memberPort: args['member-port'],
        excludeInterfaces,
        announceRate,
        bgpListen: args['bgp-listen'],
        serviceStatus: args['service-status'],
        stopSignal: waitForStop(),
      });
      await r.done;
      client.close();
      exitWhenStuck();
    },
  };
}
