/**
 * The columns kube-apiserver prints for its built-in kinds (pkg/printers/internalversion),
 * for `kubectl get` and `kubectl get -o wide` (priority 1 columns).
 */
import type { Obj } from './store.js';

export interface Column {
  readonly name: string;
  readonly type: string;
  readonly format?: string;
  readonly priority?: number;
  readonly description?: string;
  readonly cell: (o: Obj) => unknown;
}

type Rec = Record<string, unknown>;
const get = (o: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Rec)[k] : undefined), o);
const list = (v: unknown): Rec[] => (Array.isArray(v) ? (v as Rec[]) : []);
const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
const str = (v: unknown, dflt = '<none>'): string => (typeof v === 'string' && v !== '' ? v : dflt);
const joinOr = (xs: readonly string[], dflt = '<none>'): string => (xs.length > 0 ? xs.join(',') : dflt);

function labelSelector(sel: unknown): string {
  const m = (get(sel, 'matchLabels') ?? {}) as Record<string, string>;
  const parts = Object.entries(m).map(([k, v]) => `${k}=${v}`);
  for (const e of list(get(sel, 'matchExpressions')))
    parts.push(`${String(e['key'])} ${String(e['operator']).toLowerCase()} (${list(e['values']).join(',')})`);
  return joinOr(parts);
}

function podReady(o: Obj): string {
  const statuses = list(get(o, 'status', 'containerStatuses'));
  const total = list(get(o, 'spec', 'containers')).length;
  return `${statuses.filter((s) => s['ready'] === true).length}/${total}`;
}

function podStatus(o: Obj): string {
  if (o.metadata.deletionTimestamp) return 'Terminating';
  const reason = get(o, 'status', 'reason');
  if (typeof reason === 'string' && reason !== '') return reason;
  for (const s of list(get(o, 'status', 'containerStatuses'))) {
    const waiting = get(s, 'state', 'waiting', 'reason');
    if (typeof waiting === 'string') return waiting;
  }
  return str(get(o, 'status', 'phase'), 'Pending');
}

function endpointsOf(o: Obj): string {
  const out: string[] = [];
  for (const sub of list(get(o, 'subsets'))) {
    const ports = list(sub['ports']).map((p) => num(p['port']));
    for (const a of list(sub['addresses']))
      for (const p of ports.length > 0 ? ports : [0]) out.push(p ? `${String(a['ip'])}:${p}` : String(a['ip']));
  }
  return out.length > 3 ? `${out.slice(0, 3).join(',')} + ${out.length - 3} more...` : joinOr(out);
}

function sliceEndpoints(o: Obj): string {
  const ips = list(get(o, 'endpoints')).flatMap((e) => list(e['addresses']) as unknown as string[]);
  return ips.length > 3 ? `${ips.slice(0, 3).join(',')} + ${ips.length - 3} more...` : joinOr(ips);
}

function slicePorts(o: Obj): string {
  const ps = list(get(o, 'ports')).map((p) => String(p['port'] ?? ''));
  return ps.length === 0 ? '<unset>' : ps.join(',');
}

function containers(o: unknown): { names: string; images: string } {
  const cs = list(get(o, 'spec', 'template', 'spec', 'containers'));
  return { names: joinOr(cs.map((c) => String(c['name']))), images: joinOr(cs.map((c) => String(c['image']))) };
}

function subjects(o: Obj, kind: string): string {
  return joinOr(
    list(get(o, 'subjects'))
      .filter((s) => s['kind'] === kind)
      .map((s) =>
        kind === 'ServiceAccount' ? `${String(s['namespace'] ?? '')}/${String(s['name'])}` : String(s['name']),
      ),
    '',
  );
}

function eventObject(o: Obj): string {
  const ref = (get(o, 'involvedObject') ?? get(o, 'regarding') ?? {}) as Rec;
  return `${String(ref['kind'] ?? '').toLowerCase()}/${String(ref['name'] ?? '')}`;
}

/** Columns for a built-in resource, or undefined for one printed as NAME, AGE. */
export function builtinColumns(
  group: string,
  resource: string,
  name: Column,
  age: (t: unknown) => string,
): Column[] | undefined {
  const ageCol: Column = { name: 'Age', type: 'string', cell: (o) => age(o.metadata.creationTimestamp) };
  const createdAt: Column = { name: 'Created At', type: 'date', cell: (o) => o.metadata.creationTimestamp ?? '' };
  const wide = (c: Omit<Column, 'priority'>): Column => ({ ...c, priority: 1 });
  switch (`${resource}.${group}`) {
    case 'pods.':
      return [
        name,
        { name: 'Ready', type: 'string', cell: podReady },
        { name: 'Status', type: 'string', cell: podStatus },
        {
          name: 'Restarts',
          type: 'string',
          cell: (o) =>
            String(list(get(o, 'status', 'containerStatuses')).reduce((n, s) => n + num(s['restartCount']), 0)),
        },
        ageCol,
        wide({ name: 'IP', type: 'string', cell: (o) => str(get(o, 'status', 'podIP')) }),
        wide({ name: 'Node', type: 'string', cell: (o) => str(get(o, 'spec', 'nodeName')) }),
        wide({ name: 'Nominated Node', type: 'string', cell: (o) => str(get(o, 'status', 'nominatedNodeName')) }),
        wide({ name: 'Readiness Gates', type: 'string', cell: () => '<none>' }),
      ];
    case 'nodes.':
      return [
        name,
        {
          name: 'Status',
          type: 'string',
          cell: (o) => {
            const r = list(get(o, 'status', 'conditions')).find((c) => c['type'] === 'Ready');
            return (
              (r?.['status'] === 'True' ? 'Ready' : r ? 'NotReady' : 'Unknown') +
              (get(o, 'spec', 'unschedulable') === true ? ',SchedulingDisabled' : '')
            );
          },
        },
        {
          name: 'Roles',
          type: 'string',
          cell: (o) =>
            joinOr(
              Object.keys(o.metadata.labels ?? {})
                .filter((k) => k.startsWith('node-role.kubernetes.io/'))
                .map((k) => k.slice('node-role.kubernetes.io/'.length)),
            ),
        },
        ageCol,
        { name: 'Version', type: 'string', cell: (o) => str(get(o, 'status', 'nodeInfo', 'kubeletVersion'), '') },
        wide({
          name: 'Internal-IP',
          type: 'string',
          cell: (o) => str(list(get(o, 'status', 'addresses')).find((a) => a['type'] === 'InternalIP')?.['address']),
        }),
        wide({
          name: 'External-IP',
          type: 'string',
          cell: (o) => str(list(get(o, 'status', 'addresses')).find((a) => a['type'] === 'ExternalIP')?.['address']),
        }),
      ];
    case 'secrets.':
      return [
        name,
        { name: 'Type', type: 'string', cell: (o) => str(get(o, 'type'), '') },
        { name: 'Data', type: 'string', cell: (o) => String(Object.keys((get(o, 'data') ?? {}) as Rec).length) },
        ageCol,
      ];
    case 'configmaps.':
      return [
        name,
        {
          name: 'Data',
          type: 'string',
          cell: (o) =>
            String(
              Object.keys((get(o, 'data') ?? {}) as Rec).length +
                Object.keys((get(o, 'binaryData') ?? {}) as Rec).length,
            ),
        },
        ageCol,
      ];
    case 'serviceaccounts.':
      return [name, { name: 'Secrets', type: 'string', cell: (o) => String(list(get(o, 'secrets')).length) }, ageCol];
    case 'endpoints.':
      return [name, { name: 'Endpoints', type: 'string', cell: endpointsOf }, ageCol];
    case 'events.':
    case 'events.events.k8s.io':
      return [
        {
          name: 'Last Seen',
          type: 'string',
          cell: (o) =>
            age(
              get(o, 'lastTimestamp') ??
                get(o, 'eventTime') ??
                get(o, 'deprecatedLastTimestamp') ??
                o.metadata.creationTimestamp,
            ),
        },
        { name: 'Type', type: 'string', cell: (o) => str(get(o, 'type'), '') },
        { name: 'Reason', type: 'string', cell: (o) => str(get(o, 'reason'), '') },
        { name: 'Object', type: 'string', cell: eventObject },
        wide({ name: 'Subobject', type: 'string', cell: (o) => str(get(o, 'involvedObject', 'fieldPath'), '') }),
        wide({
          name: 'Source',
          type: 'string',
          cell: (o) =>
            str(get(o, 'source', 'component') ?? get(o, 'reportingController') ?? get(o, 'reportingComponent'), ''),
        }),
        { name: 'Message', type: 'string', cell: (o) => str(get(o, 'message') ?? get(o, 'note'), '') },
        wide({
          name: 'First Seen',
          type: 'string',
          cell: (o) => age(get(o, 'firstTimestamp') ?? get(o, 'eventTime') ?? o.metadata.creationTimestamp),
        }),
        wide({
          name: 'Count',
          type: 'string',
          cell: (o) => String(num(get(o, 'count') ?? get(o, 'series', 'count')) || 1),
        }),
        wide({ name: 'Name', type: 'string', cell: (o) => o.metadata.name }),
      ];
    case 'endpointslices.discovery.k8s.io':
      return [
        name,
        { name: 'AddressType', type: 'string', cell: (o) => str(get(o, 'addressType'), '') },
        { name: 'Ports', type: 'string', cell: slicePorts },
        { name: 'Endpoints', type: 'string', cell: sliceEndpoints },
        ageCol,
      ];
    case 'leases.coordination.k8s.io':
      return [name, { name: 'Holder', type: 'string', cell: (o) => str(get(o, 'spec', 'holderIdentity'), '') }, ageCol];
    case 'roles.rbac.authorization.k8s.io':
    case 'clusterroles.rbac.authorization.k8s.io':
    case 'customresourcedefinitions.apiextensions.k8s.io':
      return [name, createdAt];
    case 'rolebindings.rbac.authorization.k8s.io':
    case 'clusterrolebindings.rbac.authorization.k8s.io':
      return [
        name,
        {
          name: 'Role',
          type: 'string',
          cell: (o) => `${str(get(o, 'roleRef', 'kind'), '')}/${str(get(o, 'roleRef', 'name'), '')}`,
        },
        ageCol,
        wide({ name: 'Users', type: 'string', cell: (o) => subjects(o, 'User') }),
        wide({ name: 'Groups', type: 'string', cell: (o) => subjects(o, 'Group') }),
        wide({ name: 'ServiceAccounts', type: 'string', cell: (o) => subjects(o, 'ServiceAccount') }),
      ];
    case 'deployments.apps':
      return [
        name,
        {
          name: 'Ready',
          type: 'string',
          cell: (o) => `${num(get(o, 'status', 'readyReplicas'))}/${num(get(o, 'spec', 'replicas') ?? 1)}`,
        },
        { name: 'Up-to-date', type: 'integer', cell: (o) => num(get(o, 'status', 'updatedReplicas')) },
        { name: 'Available', type: 'integer', cell: (o) => num(get(o, 'status', 'availableReplicas')) },
        ageCol,
        wide({ name: 'Containers', type: 'string', cell: (o) => containers(o).names }),
        wide({ name: 'Images', type: 'string', cell: (o) => containers(o).images }),
        wide({ name: 'Selector', type: 'string', cell: (o) => labelSelector(get(o, 'spec', 'selector')) }),
      ];
    case 'replicasets.apps':
      return [
        name,
        { name: 'Desired', type: 'integer', cell: (o) => num(get(o, 'spec', 'replicas') ?? 1) },
        { name: 'Current', type: 'integer', cell: (o) => num(get(o, 'status', 'replicas')) },
        { name: 'Ready', type: 'integer', cell: (o) => num(get(o, 'status', 'readyReplicas')) },
        ageCol,
        wide({ name: 'Containers', type: 'string', cell: (o) => containers(o).names }),
        wide({ name: 'Images', type: 'string', cell: (o) => containers(o).images }),
        wide({ name: 'Selector', type: 'string', cell: (o) => labelSelector(get(o, 'spec', 'selector')) }),
      ];
    case 'daemonsets.apps':
      return [
        name,
        { name: 'Desired', type: 'integer', cell: (o) => num(get(o, 'status', 'desiredNumberScheduled')) },
        { name: 'Current', type: 'integer', cell: (o) => num(get(o, 'status', 'currentNumberScheduled')) },
        { name: 'Ready', type: 'integer', cell: (o) => num(get(o, 'status', 'numberReady')) },
        { name: 'Up-to-date', type: 'integer', cell: (o) => num(get(o, 'status', 'updatedNumberScheduled')) },
        { name: 'Available', type: 'integer', cell: (o) => num(get(o, 'status', 'numberAvailable')) },
        {
          name: 'Node Selector',
          type: 'string',
          cell: (o) => labelSelector({ matchLabels: get(o, 'spec', 'template', 'spec', 'nodeSelector') }),
        },
        ageCol,
        wide({ name: 'Containers', type: 'string', cell: (o) => containers(o).names }),
        wide({ name: 'Images', type: 'string', cell: (o) => containers(o).images }),
        wide({ name: 'Selector', type: 'string', cell: (o) => labelSelector(get(o, 'spec', 'selector')) }),
      ];
    case 'poddisruptionbudgets.policy': {
      const intOr = (v: unknown): string => (v === undefined ? 'N/A' : String(v));
      return [
        name,
        { name: 'Min Available', type: 'string', cell: (o) => intOr(get(o, 'spec', 'minAvailable')) },
        { name: 'Max Unavailable', type: 'string', cell: (o) => intOr(get(o, 'spec', 'maxUnavailable')) },
        { name: 'Allowed Disruptions', type: 'integer', cell: (o) => num(get(o, 'status', 'disruptionsAllowed')) },
        ageCol,
      ];
    }
    default:
      return undefined;
  }
}
