/** `herald apiserver`: the embedded Kubernetes API server, standalone. */
import type { Argv } from 'yargs';
import type { Command, GlobalArgs } from '../src/cli/command.js';
import { loadManifests } from '../src/cli/validate.js';
import type { CliIO } from '../src/cli/io.js';

const builder = (y: Argv<GlobalArgs>) =>
  y
    .option('port', { type: 'number', default: 6443, describe: 'port to listen on (0 picks a free one)' })
    .option('host', { type: 'string', default: '127.0.0.1', describe: 'address to listen on' })
    .option('kubeconfig-out', { type: 'string', describe: 'write an admin kubeconfig here' })
    .option('apply', {
      type: 'string',
      array: true,
      default: [] as string[],
      describe: 'manifests (files or folders) to create at start, e.g. crds/',
    })
    .option('enforce-rbac', {
      type: 'boolean',
      default: false,
      describe: 'authorize ServiceAccount tokens with the stored RBAC objects',
    })
    .option('controllers', {
      type: 'boolean',
      default: true,
      describe: 'run the scheduler and the Deployment, ReplicaSet and EndpointSlice controllers',
    })
    .option('service-cidr', {
      type: 'string',
      array: true,
      default: [] as string[],
      describe: 'Service clusterIP ranges, one per family (default 198.19.0.0/16 and 2001:db8:ffff:ffff::/112)',
    });

export function apiserverCommand(io: CliIO, waitForStop: () => Promise<void>): Command<typeof builder> {
  return {
    command: 'apiserver',
    describe: 'run the embedded Kubernetes API server (for kubectl, tests and the lab)',
    builder,
    handler: async (args) => {
      const { applyObjects, startApiServer } = await import('../lab/apiserver/index.js');
      const server = await startApiServer({
        port: args.port,
        host: args.host,
        enforceRbac: args['enforce-rbac'],
        controllers: args.controllers,
        ...(args['service-cidr'].length > 0 ? { serviceCIDRs: args['service-cidr'] } : {}),
      });
      if (args.apply.length > 0) {
        const { objects, problems } = await loadManifests(args.apply);
        for (const p of problems) io.stderr.write(`herald apiserver: ${p.source}: ${p.message}\n`);
        const results = applyObjects(
          server.core,
          objects.map((o) => o.object),
        );
        for (const r of results) if (!r.ok) io.stderr.write(`herald apiserver: ${r.ref}: ${r.message}\n`);
        io.stdout.write(`applied ${results.filter((r) => r.ok).length} of ${results.length} objects\n`);
      }
      if (args['kubeconfig-out']) server.writeKubeconfig(args['kubeconfig-out']);
      io.stdout.write(
        `herald apiserver listening on ${server.url}${args['kubeconfig-out'] ? `; kubeconfig: ${args['kubeconfig-out']}` : ''}\n`,
      );
      await waitForStop();
      await server.stop();
    },
  };
}
