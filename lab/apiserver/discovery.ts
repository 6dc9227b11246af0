/**
 * API discovery documents, as clients fetch them to learn what the server serves:
 * APIVersions at /api, APIGroupList at /apis, APIGroup at /apis/<group>, and an
 * APIResourceList for each group/version.
 */
import { verbsOf, type Registry } from './registry.js';
import { ApiError } from './status.js';

/** The discovery document at `path` (one that parseRoute called `discovery`); 404 when there is none. */
export function discoveryDocument(registry: Registry, path: string): unknown {
  const segs = path.split('/').filter((s) => s !== '');
  const resourceList = (group: string, version: string): unknown => {
    const infos = registry.all().filter((r) => r.group === group && r.version === version);
    if (infos.length === 0) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    return {
      kind: 'APIResourceList',
      apiVersion: 'v1',
      groupVersion: group === '' ? version : `${group}/${version}`,
      resources: infos.flatMap((r) => [
        {
          name: r.resource,
          singularName: r.singular,
          namespaced: r.namespaced,
          kind: r.kind,
          verbs: [...verbsOf(r)],
          ...(r.shortNames.length > 0 ? { shortNames: r.shortNames } : {}),
          ...(r.categories.length > 0 ? { categories: r.categories } : {}),
        },
        ...(r.hasStatus
          ? [
              {
                name: `${r.resource}/status`,
                singularName: '',
                namespaced: r.namespaced,
                kind: r.kind,
                verbs: ['get', 'patch', 'update'],
              },
            ]
          : []),
        ...(r.hasScale
          ? [
              {
                name: `${r.resource}/scale`,
                singularName: '',
                namespaced: r.namespaced,
                group: 'autoscaling',
                version: 'v1',
                kind: 'Scale',
                verbs: ['get', 'patch', 'update'],
              },
            ]
          : []),
      ]),
    };
  };
  if (segs[0] === 'api') {
    if (segs.length === 1)
      return {
        kind: 'APIVersions',
        versions: ['v1'],
        serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: 'localhost' }],
      };
    return resourceList('', segs[1]!);
  }
  const groupDoc = (name: string, versions: string[]): unknown => ({
    name,
    versions: versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v })),
    preferredVersion: { groupVersion: `${name}/${versions[0]!}`, version: versions[0]! },
  });
  const groups = [...registry.groups().entries()].filter(([g]) => g !== '').sort(([a], [b]) => a.localeCompare(b));
  if (segs.length === 1)
    return { kind: 'APIGroupList', apiVersion: 'v1', groups: groups.map(([g, v]) => groupDoc(g, v)) };
  const found = groups.find(([g]) => g === segs[1]);
  if (!found) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
  if (segs.length === 2) return { kind: 'APIGroup', apiVersion: 'v1', ...(groupDoc(found[0], found[1]) as object) };
  return resourceList(segs[1]!, segs[2]!);
}
