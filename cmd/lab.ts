/** `herald lab` and `herald lab down`. */
import { join } from 'node:path';
import type { Argv } from 'yargs';
import type { Command, GlobalArgs } from '../src/cli/command.js';
import type { CliIO } from '../src/cli/io.js';
import { HeraldError } from '../src/core/errors.js';
import { SCENARIOS } from '../lab/scenarios.js';
import { ROUTERS, type RouterKind } from '../lab/routers.js';
import { LAB_KUBERNETES, type LabKubernetes } from '../lab/names.js';

/** The builder; the default state directory lies under the checkout `root`. */
const builderFor = (root: string) => (y: Argv<GlobalArgs>) =>
  y
    .positional('action', { type: 'string', choices: ['up', 'down'] as const, default: 'up' as const })
    .option('nodes', { type: 'number', default: 3, describe: 'node namespaces (1-9)' })
    .option('scenario', {
      type: 'string',
      choices: SCENARIOS,
      describe:
        'run a scenario and report it: failover (kill the L2 owner), bgp-withdraw (stop one BGP speaker), local (externalTrafficPolicy Local)',
    })
    .option('port', { type: 'number', default: 6443, describe: 'API server port on 127.0.0.1 (for kubectl)' })
    .option('state-dir', {
      type: 'string',
      default: join(root, '.lab'),
      describe: "kubeconfigs, logs and sockets; the lab's names derive from it",
    })
    .option('name', {
      type: 'string',
      describe: "name the lab's namespaces (1-6 lower-case letters or digits) instead of deriving it from --state-dir",
    })
    .option('web', {
      type: 'number',
      describe: 'serve a live picture of the lab at http://127.0.0.1:PORT/ (0: any free port)',
    })
    .option('router', {
      type: 'string',
      choices: ROUTERS,
      default: 'bird' as const,
      describe: 'the BGP router upstream of the nodes',
    })
    .option('kubernetes', {
      type: 'string',
      choices: LAB_KUBERNETES,
      default: 'embedded' as const,
      describe:
        "the control plane: Herald's embedded API server, or real etcd + kube-apiserver + kube-controller-manager (scripts/kube-up.sh; built once per machine)",
    })
    .option('rounds', { type: 'number', describe: 'stop after printing the table this many times' })
    .option('once', {
      type: 'boolean',
      describe:
        'wait until every demo Service answers, print once, run the scenario, clean up; exit 1 unless all of it worked',
    })
    .option('once-timeout', { type: 'number', default: 180, describe: 'seconds --once waits for the demo Services' })
    .option('json', {
      type: 'boolean',
      describe: 'print JSON (one document per table, with the scenario result) instead of the table',
    });

export function labCommand(
  io: CliIO,
  root: string,
  waitForStop: () => Promise<void>,
  setExit: (code: number) => void = () => undefined,
): Command<ReturnType<typeof builderFor>> {
  return {
    command: 'lab [action]',
    describe: 'run Herald end to end on this machine (network namespaces, BIRD, real packets); "lab down" cleans up',
    builder: builderFor(root),
    handler: async (args) => {
      const { labDown, labPreflight, runLab } = await import('../lab/lab.js');
      const router: RouterKind = args.router;
      const why = labPreflight(router);
      if (why) throw new HeraldError('Usage', why);
      if (args.name !== undefined && !/^[a-z0-9]{1,6}$/.test(args.name))
        throw new HeraldError('Usage', `--name must be 1-6 lower-case letters or digits, not "${args.name}"`);
      if (args.action === 'down') {
        const n = labDown(args['state-dir'], args.name);
        io.stdout.write(`herald lab: removed ${n.namespaces} namespaces (${n.prefix}-*)\n`);
        return;
      }
      if (args.nodes < 1 || args.nodes > 9) throw new HeraldError('Usage', '--nodes must be between 1 and 9');
      const result = await runLab({
        root,
        nodes: args.nodes,
        stateDir: args['state-dir'],
        router,
        kubernetes: args.kubernetes as LabKubernetes,
        ...(args.web !== undefined ? { web: args.web } : {}),
        ...(args.name !== undefined ? { name: args.name } : {}),
        ...(args['log-level'] !== undefined ? { logLevel: args['log-level'] } : {}),
        port: args.port,
        ...(args.scenario ? { scenario: args.scenario } : {}),
        out: io.stdout,
        stop: waitForStop(),
        ...(args.rounds !== undefined ? { rounds: args.rounds } : {}),
        ...(args.once ? { once: true, onceTimeoutMs: args['once-timeout'] * 1000 } : {}),
        ...(args.json ? { json: true } : {}),
        err: io.stderr,
      });
      if (args.once && !result.ok) setExit(1);
    },
  };
}
