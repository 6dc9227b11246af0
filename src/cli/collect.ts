/**
 * `herald collect -o FILE|DIR`: a support bundle. Every Herald object, the status report,
 * Nodes, and in Herald's namespace and every namespace with a LoadBalancer Service: Services,
 * EndpointSlices and Events; Herald's pods and their logs (when the pods/log API answers);
 * Secrets reduced to their keys. Passwords in BGPPeers and last-applied annotations are
 * redacted. What could not be read is listed in errors.txt, never silently missing.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { stringify } from 'yaml';
import type { Argv } from 'yargs';
import type { Command, GlobalArgs } from './command.js';
import { KINDS } from '../api/group.js';
import { errorMessage } from '../core/errors.js';
import {
  ENDPOINT_SLICES,
  EVENTS,
  heraldResource,
  KubeClient,
  NODES,
  PODS,
  SECRETS,
  SERVICES,
  type KubeObject,
  type ResourceType,
} from '../k8s/index.js';
import type { CliIO } from './io.js';
import { renderStatus } from './status-render.js';
import { readStatus } from './status.js';
import { tarArchive } from './tar.js';
import { HERALD_NAMESPACE } from '../api/names.js';

export const REDACTED = 'REDACTED';
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** Removes what may hold secrets: Secret values, BGPPeer passwords, last-applied copies; and managedFields (noise). */
export function redact(o: KubeObject): KubeObject {
  const metadata = { ...o.metadata } as Record<string, unknown>;
  delete metadata['managedFields'];
  const ann = o.metadata.annotations;
  if (ann?.[LAST_APPLIED] !== undefined) metadata['annotations'] = { ...ann, [LAST_APPLIED]: REDACTED };
  const out: KubeObject = { ...o, metadata: metadata as unknown as KubeObject['metadata'] };
  if (o.kind === 'Secret') {
    for (const field of ['data', 'stringData']) {
      const d = o[field];
      if (d && typeof d === 'object') out[field] = Object.fromEntries(Object.keys(d).map((k) => [k, REDACTED]));
    }
  }
  const spec = o['spec'] as Record<string, unknown> | undefined;
  if (o.kind === 'BGPPeer' && spec && spec['password'] !== undefined) out['spec'] = { ...spec, password: REDACTED };
  return out;
}

export interface BundleFile {
  readonly path: string;
  readonly data: string;
}

function listDoc(t: ResourceType, items: KubeObject[]): string {
  return stringify({
    apiVersion: t.group ? `${t.group}/${t.version}` : t.version,
    kind: 'List',
    items: items.map((i) =>
      redact({ apiVersion: t.group ? `${t.group}/${t.version}` : t.version, kind: t.kind, ...i }),
    ),
  });
}

/** Reads the bundle's files; failures become lines of errors.txt. */
export async function collectBundle(
  client: KubeClient,
  opts: { namespace: string; created: Date },
): Promise<{ files: BundleFile[]; errors: string[] }> {
  const files: BundleFile[] = [];
  const errors: string[] = [];
  const tryList = async (
    t: ResourceType,
    what: string,
    o: { namespace?: string } = {},
  ): Promise<KubeObject[] | undefined> => {
    try {
      return (await client.listAll(t, o)).items;
    } catch (err) {
      errors.push(`${what}: ${errorMessage(err)}`);
      return undefined;
    }
  };
  for (const k of KINDS) {
    const t = heraldResource(k.kind);
    const items = await tryList(t, `list ${k.plural}`);
    if (items) files.push({ path: `herald/${k.plural}.yaml`, data: listDoc(t, items) });
  }
  const nodes = await tryList(NODES, 'list nodes');
  if (nodes) files.push({ path: 'cluster/nodes.yaml', data: listDoc(NODES, nodes) });
  const services = (await tryList(SERVICES, 'list services')) ?? [];
  const namespaces = [
    ...new Set([
      opts.namespace,
      ...services
        .filter((s) => (s['spec'] as { type?: string } | undefined)?.type === 'LoadBalancer')
        .map((s) => s.metadata.namespace ?? 'default'),
    ]),
  ].sort();
  for (const ns of namespaces) {
    files.push({
      path: `namespaces/${ns}/services.yaml`,
      data: listDoc(
        SERVICES,
        services.filter((s) => (s.metadata.namespace ?? 'default') === ns),
      ),
    });
    for (const [t, file] of [
      [ENDPOINT_SLICES, 'endpointslices'],
      [EVENTS, 'events'],
    ] as const) {
      const items = await tryList(t, `list ${file} in ${ns}`, { namespace: ns });
      if (items) files.push({ path: `namespaces/${ns}/${file}.yaml`, data: listDoc(t, items) });
    }
  }
  const secrets = await tryList(SECRETS, `list secrets in ${opts.namespace}`, { namespace: opts.namespace });
  if (secrets) files.push({ path: `namespaces/${opts.namespace}/secrets.yaml`, data: listDoc(SECRETS, secrets) });
  const pods = await tryList(PODS, `list pods in ${opts.namespace}`, { namespace: opts.namespace });
  if (pods) {
    files.push({ path: `namespaces/${opts.namespace}/pods.yaml`, data: listDoc(PODS, pods) });
    for (const pod of pods) {
      const containers = ((pod['spec'] as { containers?: { name: string }[] } | undefined)?.containers ?? []).map(
        (c) => c.name,
      );
      for (const container of containers) {
        const path = `/api/v1/namespaces/${encodeURIComponent(opts.namespace)}/pods/${encodeURIComponent(pod.metadata.name)}/log`;
        try {
          files.push({
            path: `logs/${pod.metadata.name}/${container}.log`,
            data: await client.getText(path, { container }),
          });
        } catch (err) {
          errors.push(
            `logs of pod ${opts.namespace}/${pod.metadata.name} container ${container}: ${errorMessage(err)}`,
          );
        }
      }
    }
  }
  try {
    const report = await readStatus(client, { namespace: opts.namespace });
    const cluster = client.kubeConfig.getCurrentCluster()?.server ?? '';
    files.push({ path: 'status.txt', data: renderStatus(report, cluster) });
    files.push({ path: 'status.json', data: JSON.stringify(report, null, 2) + '\n' });
  } catch (err) {
    errors.push(`status report: ${errorMessage(err)}`);
  }
  files.push({ path: 'errors.txt', data: errors.map((e) => `${e}\n`).join('') });
  files.push({
    path: 'manifest.json',
    data:
      JSON.stringify(
        { created: opts.created.toISOString(), namespace: opts.namespace, files: files.map((f) => f.path), errors },
        null,
        2,
      ) + '\n',
  });
  return { files, errors };
}

/** Writes the bundle as a .tar.gz (when the name ends so) or into a directory. */
export async function writeBundle(output: string, files: readonly BundleFile[], created: Date): Promise<void> {
  if (/\.(tar\.gz|tgz)$/.test(output)) {
    const root = output.replace(/^.*\//, '').replace(/\.(tar\.gz|tgz)$/, '');
    const tar = tarArchive(
      files.map((f) => ({ name: `${root}/${f.path}`, data: Buffer.from(f.data), mtime: created.getTime() / 1000 })),
    );
    await mkdir(dirname(output), { recursive: true });
    await writeFile(output, gzipSync(tar));
    return;
  }
  for (const f of files) {
    const p = join(output, f.path);
    await mkdir(dirname(p), { recursive: true });
    await writeFile(p, f.data);
  }
}

export async function runCollect(
  client: KubeClient,
  opts: { namespace: string; output: string; created: Date },
  io: CliIO,
): Promise<number> {
  const { files, errors } = await collectBundle(client, opts);
  await writeBundle(opts.output, files, opts.created);
  for (const e of errors) io.stderr.write(`herald collect: could not read ${e}\n`);
  io.stderr.write(
    `herald collect: wrote ${files.length} file(s) to ${opts.output}${errors.length > 0 ? ` (${errors.length} thing(s) could not be read; see errors.txt)` : ''}\n`,
  );
  return 0;
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
      type: 'string',
      demandOption: true,
      describe: 'FILE.tar.gz (or .tgz), or a directory',
    });

export function collectCommand(io: CliIO, setExit: (code: number) => void): Command<typeof builder> {
  return {
    command: 'collect',
    describe:
      'write a support bundle (.tar.gz or a directory): Herald objects, Services, EndpointSlices, Events, pod logs, Secrets redacted',
    builder,
    handler: async (args) => {
      const client = args.kubeconfig ? KubeClient.fromFile(args.kubeconfig) : KubeClient.fromDefault();
      try {
        setExit(await runCollect(client, { namespace: args.namespace, output: args.output, created: new Date() }, io));
      } finally {
        client.close();
      }
    },
  };
}
