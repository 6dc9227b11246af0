/** `meta.k8s.io/v1 Table` responses, which kubectl asks for when it prints `get` output. */
import type { ResourceInfo } from './registry.js';
import { simpleJsonPath } from './schema.js';
import type { Obj } from './store.js';
import { builtinColumns, type Column } from './table-builtin.js';

export function age(created: string | undefined, now: number): string {
  if (!created) return '<unknown>';
  const s = Math.max(0, Math.floor((now - Date.parse(created)) / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 120) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

function field(o: Obj, path: string): unknown {
  return simpleJsonPath(o, path);
}

function servicePorts(o: Obj): string {
  const ports = (field(o, '.spec.ports') as Record<string, unknown>[] | undefined) ?? [];
  if (ports.length === 0) return '<none>';
  return ports
    .map(
      (p) =>
        `${String(p['port'])}${p['nodePort'] ? `:${String(p['nodePort'])}` : ''}/${String(p['protocol'] ?? 'TCP')}`,
    )
    .join(',');
}

function externalIPs(o: Obj): string {
  const ingress = (field(o, '.status.loadBalancer.ingress') as Record<string, unknown>[] | undefined) ?? [];
  const ips = ingress.map((i) => String(i['ip'] ?? i['hostname'] ?? ''));
  if (ips.length > 0) return ips.join(',');
  return field(o, '.spec.type') === 'LoadBalancer' ? '<pending>' : '<none>';
}

function columnsFor(info: ResourceInfo, now: number): Column[] {
  const name: Column = { name: 'Name', type: 'string', format: 'name', cell: (o) => o.metadata.name };
  const ageCol: Column = { name: 'Age', type: 'string', cell: (o) => age(o.metadata.creationTimestamp, now) };
  if (info.printerColumns && info.printerColumns.length > 0) {
    return [
      name,
      ...info.printerColumns.map((c) => ({
        name: c.name,
        type: c.type,
        ...(c.format !== undefined ? { format: c.format } : {}),
        ...(c.priority !== undefined ? { priority: c.priority } : {}),
        cell: (o: Obj) => {
          const v = field(o, c.jsonPath);
          if (c.type === 'date' && typeof v === 'string') return age(v, now);
          if (v === undefined || v === null) return '<none>';
          return typeof v === 'object' ? JSON.stringify(v) : v;
        },
      })),
    ];
  }
  if (info.group === '' && info.resource === 'services') {
    return [
      name,
      { name: 'Type', type: 'string', cell: (o) => field(o, '.spec.type') ?? 'ClusterIP' },
      { name: 'Cluster-IP', type: 'string', cell: (o) => field(o, '.spec.clusterIP') ?? '<none>' },
      { name: 'External-IP', type: 'string', cell: externalIPs },
      { name: 'Port(s)', type: 'string', cell: servicePorts },
      ageCol,
      {
        name: 'Selector',
        type: 'string',
        priority: 1,
        cell: (o) =>
          Object.entries((field(o, '.spec.selector') ?? {}) as Record<string, string>)
            .map(([k, v]) => `${k}=${v}`)
            .join(',') || '<none>',
      },
    ];
  }
  if (info.group === '' && info.resource === 'namespaces') {
    return [name, { name: 'Status', type: 'string', cell: (o) => field(o, '.status.phase') ?? '' }, ageCol];
  }
  return (
    builtinColumns(info.group, info.resource, name, (t) => age(typeof t === 'string' ? t : undefined, now)) ?? [
      name,
      ageCol,
    ]
  );
}

export function wantsTable(accept: string | undefined): boolean {
  return (accept ?? '').split(',').some((part) => part.includes('as=Table'));
}

export function toTable(
  info: ResourceInfo,
  objects: readonly Obj[],
  now: number,
  listMeta: Record<string, unknown> = {},
): Record<string, unknown> {
  const cols = columnsFor(info, now);
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: listMeta,
    columnDefinitions: cols.map((c) => ({
      name: c.name,
      type: c.type,
      format: c.format ?? '',
      description: c.description ?? c.name,
      priority: c.priority ?? 0,
    })),
    rows: objects.map((o) => ({ cells: cols.map((c) => c.cell(o)), object: o })),
  };
}
