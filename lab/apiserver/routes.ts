/**
 * Kubernetes REST paths (`/api/v1/namespaces/x/services/y/status`, `/apis/g/v/...`, and the
 * deprecated `/watch/` prefix) parsed into a resource route, and the request verb a method
 * on that route means.
 */
import type { Registry, ResourceInfo } from './registry.js';
import { ApiError } from './status.js';

export interface Route {
  readonly info: ResourceInfo;
  readonly namespace?: string;
  readonly name?: string;
  readonly sub?: 'status' | 'scale';
  /** The deprecated `/watch/` path prefix. */
  readonly legacyWatch: boolean;
}

/**
 * The resource a path names, `discovery` for a group or version document, or undefined for
 * a path outside /api and /apis. Throws ApiError 404 for an unknown resource or subresource.
 */
export function parseRoute(registry: Registry, path: string): Route | 'discovery' | undefined {
  const segs = path.split('/').filter((s) => s !== '');
  let group: string;
  let version: string;
  let rest: string[];
  if (segs[0] === 'api') {
    if (segs.length <= 2) return 'discovery';
    group = '';
    version = segs[1]!;
    rest = segs.slice(2);
  } else if (segs[0] === 'apis') {
    if (segs.length <= 3) return 'discovery';
    group = segs[1]!;
    version = segs[2]!;
    rest = segs.slice(3);
  } else return undefined;
  const legacyWatch = rest[0] === 'watch';
  if (legacyWatch) rest = rest.slice(1);
  let namespace: string | undefined;
  if (
    rest[0] === 'namespaces' &&
    rest.length >= 3 &&
    !(rest.length === 3 && (rest[2] === 'status' || rest[2] === 'finalize'))
  ) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const info = registry.lookup(group, version, rest[0] ?? '');
  if (!info) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
  if (namespace !== undefined && !info.namespaced)
    throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
  const name = rest[1];
  const subText = rest[2];
  if (
    rest.length > 3 ||
    (subText !== undefined &&
      !(subText === 'status' && info.hasStatus) &&
      !(subText === 'scale' && info.hasScale) &&
      subText !== 'finalize')
  ) {
    throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
  }
  return {
    info,
    ...(namespace !== undefined ? { namespace } : {}),
    ...(name !== undefined ? { name } : {}),
    ...(subText === 'status' ? { sub: 'status' as const } : subText === 'scale' ? { sub: 'scale' as const } : {}),
    legacyWatch,
  };
}

/** The RBAC verb of a request: get or list, watch, create, update, patch, delete or deletecollection. */
export function verbOf(method: string, r: Route, watch: boolean): string {
  switch (method) {
    case 'GET':
      return watch ? 'watch' : r.name !== undefined ? 'get' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return r.name !== undefined ? 'delete' : 'deletecollection';
    default:
      throw new ApiError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`);
  }
}
