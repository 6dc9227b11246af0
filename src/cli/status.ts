/** `herald status [-o json]`: one screen per cluster, read through the Kubernetes API. Also `kubectl herald status`. */
import type { Argv } from 'yargs';
import type { Command, GlobalArgs } from './command.js';
import { EVENTS, SERVICES, heraldResource, KubeClient, type KubeObject } from '../k8s/index.js';
import type { CliIO } from './io.js';
import { renderStatus } from './status-render.js';
import { buildStatusReport, type StatusReport } from './status-report.js';
import { HERALD_NAMESPACE } from '../api/names.js';

export interface StatusOptions {
  readonly namespace: string;
  readonly output: 'text' | 'json';
  readonly lbClass?: string;
}

/** Reads what the report needs: Herald's objects in its namespace, Services and the speakers' announceFailed Events everywhere. */
export async function readStatus(
  client: KubeClient,
  opts: { namespace: string; lbClass?: string },
): Promise<StatusReport> {
  const herald = async (kind: string): Promise<KubeObject[]> =>
    (await client.listAll(heraldResource(kind), { namespace: opts.namespace })).items;
  // Both BGP status kinds: speakers may run either --service-status mode (a cluster switching shows every Service).
  const [pools, peers, l2Statuses, bgpStatuses, bgpNodeStatuses, sessions, configStates, services, events] =
    await Promise.all([
      herald('IPAddressPool'),
      herald('BGPPeer'),
      herald('ServiceL2Status'),
      herald('ServiceBGPStatus'),
      herald('BGPNodeStatus'),
      herald('BGPSessionState'),
      herald('ConfigurationState'),
      client.listAll(SERVICES).then((r) => r.items),
      client.listAll(EVENTS, { fieldSelector: 'reason=announceFailed' }).then((r) => r.items),
    ]);
  return buildStatusReport({
    pools,
    peers,
    services,
    l2Statuses,
    bgpStatuses,
    bgpNodeStatuses,
    sessions,
    configStates,
    events,
    ...(opts.lbClass !== undefined ? { lbClass: opts.lbClass } : {}),
  });
}

/** Exit status 1 when something is wrong (a Service pending, a session not Established, a configuration error). */
export async function runStatus(client: KubeClient, opts: StatusOptions, io: CliIO): Promise<number> {
  const report = await readStatus(client, opts);
  const cluster = client.kubeConfig.getCurrentCluster()?.server ?? client.kubeConfig.getCurrentContext();
  if (opts.output === 'json')
    io.stdout.write(JSON.stringify({ cluster, healthy: report.problems.length === 0, ...report }, null, 2) + '\n');
  else io.stdout.write(renderStatus(report, cluster));
  return report.problems.length > 0 ? 1 : 0;
}

const builder = (y: Argv<GlobalArgs>) =>
  y
    .option('kubeconfig', {
      type: 'string',
      describe: 'kubeconfig file (default: in-cluster, then $KUBECONFIG, then ~/.kube/config)',
    })
    .option('namespace', { alias: 'n', type: 'string', default: HERALD_NAMESPACE, describe: "Herald's namespace" })
    .option('output', {
      alias: 'o',
      choices: ['text', 'json'] as const,
      default: 'text' as const,
      describe: 'output format',
    })
    .option('lb-class', {
      type: 'string',
      describe: 'Services with this spec.loadBalancerClass (default: those with none)',
    });

export function statusCommand(io: CliIO, setExit: (code: number) => void): Command<typeof builder> {
  return {
    command: 'status',
    describe:
      'one screen: pools, Services with their announcing nodes, BGP sessions, configuration errors; exit 1 when something is wrong',
    builder,
    handler: async (args) => {
      const client = args.kubeconfig ? KubeClient.fromFile(args.kubeconfig) : KubeClient.fromDefault();
      try {
        setExit(
          await runStatus(
            client,
            {
              namespace: args.namespace,
              output: args.output,
              ...(args['lb-class'] ? { lbClass: args['lb-class'] } : {}),
            },
            io,
          ),
        );
      } finally {
        client.close();
      }
    },
  };
}
