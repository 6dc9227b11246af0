/**
 * One scripted sequence of the requests Herald's components make (create, update, patch,
 * status, list with continue, watch, conflicts, finalizers, delete, dry-run and server-side
 * apply; Services of every type × ipFamilyPolicy × loadBalancerClass; EndpointSlices, Leases,
 * Events), run against one API server. Each step yields an outcome string with the values
 * that differ by nature (uids, resourceVersions, timestamps, allocated IPs and ports) masked,
 * so two servers' runs can be compared step by step.
 */
import { HttpMethod } from '@kubernetes/client-node';
import type { KubeClient, KubeObject } from '../../src/k8s/index.js';

export const CONFORMANCE_NS = 'conformance';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Masks what legitimately differs between servers; drops managedFields (the embedded server keeps none: docs/apiserver.md). */
export function shape(v: unknown, key = ''): Json {
  if (Array.isArray(v)) return v.map((x) => shape(x, key === 'clusterIPs' ? 'clusterIP' : key));
  if (v !== null && typeof v === 'object') {
    const out: Record<string, Json> = {};
    for (const k of Object.keys(v).sort()) {
      if (k === 'managedFields') continue;
      out[k] = shape((v as Record<string, unknown>)[k], k);
    }
    return out;
  }
  if (typeof v === 'string') {
    if (['uid', 'resourceVersion', 'creationTimestamp', 'deletionTimestamp', 'continue'].includes(key)) return '<set>';
    if (key === 'clusterIP') return v === 'None' ? 'None' : v.includes(':') ? '<v6>' : '<v4>';
  }
  if (typeof v === 'number' && (key === 'nodePort' || key === 'healthCheckNodePort')) return '<port>';
  return v as Json;
}

async function outcome(p: Promise<unknown>, pick: (body: unknown) => unknown = (b) => b): Promise<string> {
  try {
    return `ok ${JSON.stringify(shape(pick(await p)))}`;
  } catch (err) {
    const e = err as {
      statusCode?: number;
      reason?: string;
      status?: { details?: { causes?: { field?: string; reason?: string }[] } };
    };
    if (e.statusCode === undefined || e.statusCode === 0) throw err;
    const causes = (e.status?.details?.causes ?? []).map((c) => `${c.reason ?? ''}:${c.field ?? ''}`).sort();
    return `${e.statusCode} ${String(e.reason)} [${causes.join(', ')}]`;
  }
}

const meta = (o: unknown): Json => shape((o as KubeObject).metadata);
const specStatus = (o: unknown): unknown => ({
  spec: (o as { spec?: unknown }).spec,
  status: (o as { status?: unknown }).status,
});
const items = (o: unknown): unknown => ({
  n: (o as { items: unknown[] }).items.length,
  continue: (o as { metadata: { continue?: string } }).metadata.continue ?? '',
});

/** Runs the script; returns [step id, outcome] pairs in order. */
export async function runConformanceScript(c: KubeClient): Promise<[string, string][]> {
  const out: [string, string][] = [];
  const step = async (id: string, p: Promise<unknown>, pick?: (b: unknown) => unknown): Promise<void> => {
    out.push([id, await outcome(p, pick)]);
  };
  const ns = CONFORMANCE_NS;
  const cm = `/api/v1/namespaces/${ns}/configmaps`;
  const r = (
    method: HttpMethod,
    path: string,
    body?: unknown,
    query: Record<string, string> = {},
    type?: string,
  ): Promise<unknown> => c.request(method, path, query, body, type);
  await r(HttpMethod.POST, '/api/v1/namespaces', { metadata: { name: ns } });

  // Objects, versions and conflicts.
  const created = (await r(HttpMethod.POST, cm, {
    metadata: { name: 'a', labels: { tier: 'x' } },
    data: { k: '1' },
  })) as KubeObject;
  out.push(['configmap create', `ok ${JSON.stringify(meta(created))}`]);
  const rv1 = created.metadata.resourceVersion;
  await step(
    'configmap merge patch',
    r(HttpMethod.PATCH, `${cm}/a`, { data: { k2: '2' } }, {}, 'application/merge-patch+json'),
    (b) => (b as { data: unknown }).data,
  );
  await step(
    'configmap update with a stale resourceVersion',
    r(HttpMethod.PUT, `${cm}/a`, { metadata: { name: 'a', resourceVersion: rv1 }, data: {} }),
  );
  await step(
    'configmap update without resourceVersion',
    r(HttpMethod.PUT, `${cm}/a`, { metadata: { name: 'a' }, data: { k: '3' } }),
    (b) => (b as { data: unknown }).data,
  );
  await step(
    'configmap json patch with a failing test',
    r(HttpMethod.PATCH, `${cm}/a`, [{ op: 'test', path: '/data/k', value: 'nope' }], {}, 'application/json-patch+json'),
  );
  await step(
    'configmap strategic merge patch',
    r(
      HttpMethod.PATCH,
      `${cm}/a`,
      { metadata: { labels: { tier: null, more: 'y' } } },
      {},
      'application/strategic-merge-patch+json',
    ),
    (b) => (b as KubeObject).metadata.labels,
  );
  await step(
    'configmap create, dryRun=All',
    r(HttpMethod.POST, cm, { metadata: { name: 'dry' } }, { dryRun: 'All' }),
    meta,
  );
  await step('get after a dry-run create', r(HttpMethod.GET, `${cm}/dry`));
  await step(
    'server-side apply without fieldManager',
    r(
      HttpMethod.PATCH,
      `${cm}/ssa`,
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ssa' } },
      {},
      'application/apply-patch+yaml',
    ),
    meta,
  );
  await step(
    'server-side apply with fieldManager',
    r(
      HttpMethod.PATCH,
      `${cm}/ssa`,
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ssa' }, data: { x: '1' } },
      { fieldManager: 'herald' },
      'application/apply-patch+yaml',
    ),
    (b) => (b as { data: unknown }).data,
  );
  await step(
    'create with an invalid label value',
    r(HttpMethod.POST, cm, { metadata: { name: 'badlabel', labels: { tier: 'not valid!' } } }),
  );
  await step(
    'create with an invalid finalizer name',
    r(HttpMethod.POST, cm, { metadata: { name: 'badfin', finalizers: ['no_slash'] } }),
  );

  // Lists with continue, and a watch.
  for (const n of ['p1', 'p2', 'p3']) await r(HttpMethod.POST, cm, { metadata: { name: n, labels: { page: 'yes' } } });
  const page1 = (await r(HttpMethod.GET, cm, undefined, { labelSelector: 'page=yes', limit: '2' })) as {
    metadata: { continue?: string };
  };
  out.push(['list page 1 of 2', `ok ${JSON.stringify(shape(items(page1)))}`]);
  await step(
    'list page 2',
    r(HttpMethod.GET, cm, undefined, {
      labelSelector: 'page=yes',
      limit: '2',
      continue: page1.metadata.continue ?? '',
    }),
    items,
  );
  await step('list items carry kind', r(HttpMethod.GET, cm, undefined, { labelSelector: 'page=yes' }), (b) =>
    (b as { items: Record<string, unknown>[] }).items.map(
      (i) => `${String(i['kind'] ?? '-')}/${String(i['apiVersion'] ?? '-')}`,
    ),
  );
  await step(
    'list from a resourceVersion far in the future',
    r(HttpMethod.GET, cm, undefined, { resourceVersion: '999999999', resourceVersionMatch: 'NotOlderThan' }),
    items,
  );
  await step(
    'watch with an unsupported field selector',
    r(HttpMethod.GET, cm, undefined, { watch: 'true', fieldSelector: 'data.k=1', timeoutSeconds: '1' }),
  );
  out.push(['watch events', await watchEvents(c)]);

  // Finalizers and delete.
  await r(HttpMethod.POST, cm, { metadata: { name: 'fin', finalizers: ['herald.dev/hold'] } });
  await step('delete with a finalizer', r(HttpMethod.DELETE, `${cm}/fin`), (b) => ({
    kind: (b as { kind?: string }).kind,
    deletionTimestamp: (b as KubeObject).metadata?.deletionTimestamp,
    finalizers: (b as KubeObject).metadata?.finalizers,
  }));
  await step(
    'add a finalizer while deleting',
    r(
      HttpMethod.PATCH,
      `${cm}/fin`,
      { metadata: { finalizers: ['herald.dev/hold', 'herald.dev/more'] } },
      {},
      'application/merge-patch+json',
    ),
    meta,
  );
  await step(
    'remove the last finalizer',
    r(HttpMethod.PATCH, `${cm}/fin`, { metadata: { finalizers: null } }, {}, 'application/merge-patch+json'),
    (b) => (b as KubeObject).metadata.finalizers ?? [],
  );
  await step('get after the finalizer went', r(HttpMethod.GET, `${cm}/fin`));
  await step('delete without finalizers', r(HttpMethod.DELETE, `${cm}/a`), (b) => (b as { kind?: string }).kind);

  // A custom resource, a watch from resourceVersion 1, a namespace being deleted.
  const pools = `/apis/herald.dev/v1beta1/namespaces/${ns}/ipaddresspools`;
  await r(HttpMethod.POST, pools, {
    apiVersion: 'herald.dev/v1beta1',
    kind: 'IPAddressPool',
    metadata: { name: 'pool' },
    spec: { addresses: ['192.0.2.0/28'] },
  });
  await step(
    'custom resource update without resourceVersion',
    r(HttpMethod.PUT, `${pools}/pool`, {
      apiVersion: 'herald.dev/v1beta1',
      kind: 'IPAddressPool',
      metadata: { name: 'pool' },
      spec: { addresses: ['192.0.2.0/29'] },
    }),
    (b) => (b as { spec: unknown }).spec,
  );
  out.push(['watch from resourceVersion 1', await watchFromOne(c)]);
  await r(HttpMethod.POST, '/api/v1/namespaces', { metadata: { name: `${ns}-gone` } });
  await r(HttpMethod.POST, `/api/v1/namespaces/${ns}-gone/configmaps`, { metadata: { name: 'held' } });
  await step('delete a namespace that holds objects', r(HttpMethod.DELETE, `/api/v1/namespaces/${ns}-gone`), (b) => ({
    kind: (b as { kind?: string }).kind,
    phase: (b as { status?: { phase?: string } }).status?.phase ?? '-',
  }));

  // Services: every type × ipFamilyPolicy × loadBalancerClass.
  const svc = `/api/v1/namespaces/${ns}/services`;
  let i = 0;
  for (const type of ['ClusterIP', 'NodePort', 'LoadBalancer']) {
    for (const policy of [undefined, 'SingleStack', 'PreferDualStack', 'RequireDualStack']) {
      for (const lbClass of [undefined, 'herald.dev/lb']) {
        const spec = {
          type,
          ports: [{ name: 'http', port: 80 }],
          ...(policy ? { ipFamilyPolicy: policy } : {}),
          ...(lbClass ? { loadBalancerClass: lbClass } : {}),
        };
        await step(
          `Service ${type} ipFamilyPolicy=${policy ?? '-'} loadBalancerClass=${lbClass ?? '-'}`,
          r(HttpMethod.POST, svc, { metadata: { name: `s${i++}` }, spec }),
          specStatus,
        );
      }
    }
  }
  await step(
    'Service headless PreferDualStack',
    r(HttpMethod.POST, svc, {
      metadata: { name: 'headless' },
      spec: { clusterIP: 'None', ipFamilyPolicy: 'PreferDualStack', ports: [{ port: 80 }] },
    }),
    specStatus,
  );
  await step(
    'Service LoadBalancer with clusterIP None',
    r(HttpMethod.POST, svc, {
      metadata: { name: 'lbnone' },
      spec: { type: 'LoadBalancer', clusterIP: 'None', ports: [{ port: 80 }] },
    }),
  );
  await step(
    'Service ClusterIP with externalTrafficPolicy Local',
    r(HttpMethod.POST, svc, {
      metadata: { name: 'etp' },
      spec: { externalTrafficPolicy: 'Local', ports: [{ port: 80 }] },
    }),
    specStatus,
  );
  await step(
    'Service bogus sessionAffinity',
    r(HttpMethod.POST, svc, {
      metadata: { name: 'aff' },
      spec: { sessionAffinity: 'Sometimes', ports: [{ port: 80 }] },
    }),
  );
  await step(
    'Service status ingress',
    r(
      HttpMethod.PATCH,
      `${svc}/s16/status`,
      { status: { loadBalancer: { ingress: [{ ip: '192.0.2.1' }] } } },
      {},
      'application/merge-patch+json',
    ),
    (b) => (b as { status: unknown }).status,
  );
  await step(
    'Service status ingress with ipMode',
    r(
      HttpMethod.PATCH,
      `${svc}/s16/status`,
      { status: { loadBalancer: { ingress: [{ ip: '192.0.2.1', ipMode: 'Proxy' }] } } },
      {},
      'application/merge-patch+json',
    ),
    (b) => (b as { status: unknown }).status,
  );
  await step(
    'Service status condition without lastTransitionTime',
    r(
      HttpMethod.PATCH,
      `${svc}/s16/status`,
      {
        status: {
          conditions: [{ type: 'herald.dev/AddressAssigned', status: 'True', reason: 'Assigned', message: 'm' }],
        },
      },
      {},
      'application/merge-patch+json',
    ),
    (b) => (b as { status: unknown }).status,
  );

  // EndpointSlices, Leases, Events.
  const eps = `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`;
  await step(
    'EndpointSlice create',
    r(HttpMethod.POST, eps, {
      metadata: { name: 'web-1', labels: { 'kubernetes.io/service-name': 's0' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['192.0.2.10'], conditions: { ready: true }, nodeName: 'node-a' }],
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    }),
    (b) => ({ endpoints: (b as { endpoints: unknown }).endpoints, ports: (b as { ports: unknown }).ports }),
  );
  const leases = `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases`;
  await step(
    'Lease create',
    r(HttpMethod.POST, leases, {
      metadata: { name: 'l' },
      spec: {
        holderIdentity: 'a',
        leaseDurationSeconds: 15,
        renewTime: '2026-01-01T00:00:00.000000Z',
        acquireTime: '2026-01-01T00:00:00.000000Z',
        leaseTransitions: 0,
      },
    }),
    (b) => (b as { spec: unknown }).spec,
  );
  await step(
    'Lease with an invalid time',
    r(HttpMethod.POST, leases, { metadata: { name: 'bad' }, spec: { holderIdentity: 'a', renewTime: 'yesterday' } }),
  );
  const events = `/api/v1/namespaces/${ns}/events`;
  const involved = { kind: 'Service', namespace: ns, name: 's16', apiVersion: 'v1' };
  await step(
    'Event create',
    r(HttpMethod.POST, events, {
      metadata: { name: 'e1' },
      involvedObject: involved,
      reason: 'IPAllocated',
      message: 'm',
      type: 'Normal',
      source: { component: 'herald-controller' },
      count: 1,
      firstTimestamp: '2026-01-01T00:00:00Z',
      lastTimestamp: '2026-01-01T00:00:00Z',
    }),
    (b) => {
      const e = b as Record<string, unknown>;
      return {
        eventTime: e['eventTime'] ?? '-',
        reportingComponent: e['reportingComponent'] ?? '-',
        count: e['count'],
      };
    },
  );
  await step(
    'Event about an object in another namespace',
    r(HttpMethod.POST, events, {
      metadata: { name: 'e2' },
      involvedObject: { ...involved, namespace: 'default' },
      reason: 'R',
      message: 'm',
      type: 'Normal',
    }),
  );
  return out;
}

/** Creates, patches and deletes one ConfigMap under a watch from the current resourceVersion; the event types and names seen. */
async function watchEvents(c: KubeClient): Promise<string> {
  const t = { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap', namespaced: true };
  const list = await c.list(t, { namespace: CONFORMANCE_NS });
  const seen: string[] = [];
  let done!: () => void;
  const finished = new Promise<void>((res) => (done = res));
  const w = await c.watch(
    t,
    { namespace: CONFORMANCE_NS, resourceVersion: list.resourceVersion },
    (type, o) => {
      seen.push(`${type} ${o.metadata.name}`);
      if (type === 'DELETED' && o.metadata.name === 'w') done();
    },
    () => undefined,
  );
  try {
    await c.create(t, { metadata: { name: 'w', namespace: CONFORMANCE_NS } });
    await c.patch(t, CONFORMANCE_NS, 'w', { data: { a: '1' } });
    await c.delete(t, CONFORMANCE_NS, 'w');
    await Promise.race([finished, new Promise((res) => setTimeout(res, 10_000))]);
  } finally {
    w.stop();
  }
  return seen.join(', ');
}

/** The first thing a ConfigMap watch from resourceVersion 1 delivers: an event type, or the error that ended it. */
async function watchFromOne(c: KubeClient): Promise<string> {
  const t = { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap', namespaced: true };
  let first = '';
  let settle!: () => void;
  const done = new Promise<void>((res) => (settle = res));
  const w = await c.watch(
    t,
    { namespace: CONFORMANCE_NS, resourceVersion: '1', timeoutSeconds: 2 },
    (type, o) => {
      if (!first) first = type === 'ERROR' ? `ERROR ${String((o as unknown as { code?: number }).code)}` : type;
      settle();
    },
    (err) => {
      if (!first)
        first = err
          ? `ended: ${String((err as { statusCode?: number }).statusCode ?? (err as Error).message)}`
          : 'ended';
      settle();
    },
  );
  try {
    await Promise.race([done, new Promise((res) => setTimeout(res, 5_000))]);
  } finally {
    w.stop();
  }
  return first || 'nothing in 5 s';
}
