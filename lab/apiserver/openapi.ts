/**
 * A small OpenAPI v3 surface, enough for kubectl: the root index and one document per
 * group/version whose operations declare the `fieldValidation` parameter (so kubectl leaves
 * validation to the server) and whose schemas carry the custom resources' OpenAPI schemas.
 */
import { createHash } from 'node:crypto';
import { groupVersion, type Registry, type ResourceInfo } from './registry.js';

function gvPath(group: string, version: string): string {
  return group === '' ? `api/${version}` : `apis/${group}/${version}`;
}

function schemaName(info: ResourceInfo): string {
  const g = info.group === '' ? 'io.k8s.api.core' : info.group.split('.').reverse().join('.');
  return `${g}.${info.version}.${info.kind}`;
}

export function openApiRoot(registry: Registry): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const [group, versions] of registry.groups()) {
    for (const version of versions) {
      const doc = JSON.stringify(openApiGroupVersion(registry, group, version));
      const hash = createHash('sha512').update(doc).digest('hex').slice(0, 32).toUpperCase();
      paths[gvPath(group, version)] = { serverRelativeURL: `/openapi/v3/${gvPath(group, version)}?hash=${hash}` };
    }
  }
  return { paths };
}

export function openApiGroupVersion(
  registry: Registry,
  group: string,
  version: string,
): Record<string, unknown> | undefined {
  const infos = registry.all().filter((r) => r.group === group && r.version === version);
  if (infos.length === 0) return undefined;
  const paths: Record<string, unknown> = {};
  const schemas: Record<string, unknown> = {};
  const query = (name: string): Record<string, unknown> => ({
    name,
    in: 'query',
    schema: { type: 'string', uniqueItems: true },
  });
  for (const info of infos) {
    const gvk = { group: info.group, version: info.version, kind: info.kind };
    const op = (action: string): Record<string, unknown> => ({
      operationId: `${action}${info.kind}`,
      parameters:
        action === 'patch' || action === 'post' || action === 'put'
          ? [query('dryRun'), query('fieldManager'), query('fieldValidation')]
          : [],
      responses: {
        '200': {
          description: 'OK',
          content: { 'application/json': { schema: { $ref: `#/components/schemas/${schemaName(info)}` } } },
        },
      },
      'x-kubernetes-action': action,
      'x-kubernetes-group-version-kind': gvk,
    });
    const base = `/${gvPath(info.group, info.version)}${info.namespaced ? '/namespaces/{namespace}' : ''}/${info.resource}`;
    if (info.review) {
      paths[base] = { post: op('post') };
    } else {
      paths[base] = { get: op('list'), post: op('post') };
      paths[`${base}/{name}`] = { get: op('get'), put: op('put'), patch: op('patch'), delete: op('delete') };
    }
    if (info.hasStatus) paths[`${base}/{name}/status`] = { get: op('get'), put: op('put'), patch: op('patch') };
    const declared = info.schema?.schema ?? { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
    schemas[schemaName(info)] = { ...declared, 'x-kubernetes-group-version-kind': [gvk] };
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: `herald ${groupVersion({ group, version })}` },
    paths,
    components: { schemas },
  };
}
