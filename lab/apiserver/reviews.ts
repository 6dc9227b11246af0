/**
 * The review APIs delegated authentication and authorization rely on (kube-rbac-proxy,
 * Herald's secured /metrics): TokenReview (authentication.k8s.io/v1) asks who a bearer token
 * belongs to; SubjectAccessReview, LocalSubjectAccessReview and SelfSubjectAccessReview
 * (authorization.k8s.io/v1) ask whether RBAC allows a request. Like kube-apiserver, each is
 * create-only, answered at once with the request echoed and `status` filled in, and never
 * stored. Validation and messages follow kube-apiserver's (pkg/registry/authentication and
 * pkg/apis/authorization/validation).
 */
import { isObj } from './objects.js';
import { authorize, type Attributes, type RbacSource, type UserInfo } from './rbac.js';
import type { ResourceInfo } from './registry.js';
import type { FieldCause } from './schema.js';
import { ApiError, badRequest, invalidObject } from './status.js';
import type { Obj } from './store.js';

export interface ReviewContext {
  readonly rbac: RbacSource;
  /** The user a bearer token authenticates as, if any. */
  readonly lookupToken: (token: string) => UserInfo | undefined;
  /** Who sent the review (the subject of a SelfSubjectAccessReview). */
  readonly requester: UserInfo;
  /** The namespace in the request path (LocalSubjectAccessReview). */
  readonly namespace?: string;
  /** Whether the server enforces RBAC; without it every request is allowed, as the server itself does. */
  readonly enforceRbac: boolean;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** The answer to a review: the request's own apiVersion, kind, metadata and spec, and the computed status. */
export function review(info: ResourceInfo, body: unknown, ctx: ReviewContext): Obj {
  if (!isObj(body)) throw badRequest(`the body of a ${info.kind} must be a JSON object`);
  const spec = isObj(body['spec']) ? body['spec'] : {};
  const meta = isObj(body['metadata']) ? body['metadata'] : {};
  const status = info.resource === 'tokenreviews' ? tokenReviewStatus(spec, ctx) : accessReviewStatus(info, spec, ctx);
  return {
    apiVersion: `${info.group}/${info.version}`,
    kind: info.kind,
    metadata: { ...meta, creationTimestamp: null },
    spec,
    status,
  } as unknown as Obj;
}

function tokenReviewStatus(spec: Record<string, unknown>, ctx: ReviewContext): Record<string, unknown> {
  const token = str(spec['token']);
  if (token === '') throw badRequest('token is required for TokenReview in authentication');
  const audiences = strings(spec['audiences']);
  const user = ctx.lookupToken(token);
  // The server's tokens are audience-agnostic (like a static token file): they are good for
  // any audience asked for, and the status names exactly those.
  if (!user) return { user: {}, error: 'invalid bearer token' };
  const groups = user.groups.includes('system:authenticated')
    ? [...user.groups]
    : [...user.groups, 'system:authenticated'];
  return { authenticated: true, user: { username: user.name, groups }, ...(audiences.length > 0 ? { audiences } : {}) };
}

interface AccessSpec {
  readonly user: UserInfo;
  readonly resource?: Record<string, unknown>;
  readonly nonResource?: Record<string, unknown>;
}

function accessReviewStatus(
  info: ResourceInfo,
  spec: Record<string, unknown>,
  ctx: ReviewContext,
): Record<string, unknown> {
  const s = parseAccessSpec(info, spec, ctx);
  if (!ctx.enforceRbac) return { allowed: true, reason: 'RBAC is not enforced by this server' };
  const a: Attributes = s.nonResource
    ? { user: s.user, verb: str(s.nonResource['verb']), path: str(s.nonResource['path']) }
    : {
        user: s.user,
        verb: str(s.resource!['verb']),
        apiGroup: str(s.resource!['group']),
        resource: str(s.resource!['resource']),
        ...(str(s.resource!['subresource']) !== '' ? { subresource: str(s.resource!['subresource']) } : {}),
        ...(str(s.resource!['namespace']) !== '' ? { namespace: str(s.resource!['namespace']) } : {}),
        ...(str(s.resource!['name']) !== '' ? { name: str(s.resource!['name']) } : {}),
      };
  const verdict = authorize(ctx.rbac, a);
  return verdict.allowed
    ? { allowed: true, ...(verdict.reason ? { reason: verdict.reason } : {}) }
    : { allowed: false };
}

const describe = (v: Record<string, unknown> | undefined): string =>
  v
    ? JSON.stringify(Object.fromEntries(Object.entries(v).map(([k, x]) => [k[0]!.toUpperCase() + k.slice(1), x])))
    : 'null';

function parseAccessSpec(info: ResourceInfo, spec: Record<string, unknown>, ctx: ReviewContext): AccessSpec {
  const resource = isObj(spec['resourceAttributes']) ? spec['resourceAttributes'] : undefined;
  const nonResource = isObj(spec['nonResourceAttributes']) ? spec['nonResourceAttributes'] : undefined;
  const self = info.resource === 'selfsubjectaccessreviews';
  const local = info.resource === 'localsubjectaccessreviews';
  const causes: FieldCause[] = [];
  const cause = (field: string, value: string, detail: string): void => {
    causes.push({ reason: 'FieldValueInvalid', field, message: `${field}: Invalid value: ${value}: ${detail}` });
  };
  if (local && nonResource)
    cause('spec.nonResourceAttributes', describe(nonResource), 'disallowed on this kind of request');
  else if (!resource === !nonResource)
    cause(
      'spec',
      describe(nonResource),
      'exactly one of nonResourceAttributes or resourceAttributes must be specified',
    );
  const name = str(spec['user']);
  const groups = strings(spec['groups']);
  if (!self && name === '' && groups.length === 0)
    cause('spec.user', '""', 'at least one of user or group must be specified');
  if (local && resource && str(resource['namespace']) !== (ctx.namespace ?? ''))
    cause(
      'spec.resourceAttributes.namespace',
      JSON.stringify(str(resource['namespace'])),
      'must match metadata.namespace',
    );
  // kube-apiserver names no kind in these messages (`.authorization.k8s.io "" is invalid: ...`).
  if (causes.length > 0)
    throw invalidObject({ qualified: `${info.resource}.${info.group}`, group: info.group, kind: '' }, '', causes);
  // A SelfSubjectAccessReview asks about the sender; the others about the user they name,
  // with exactly the groups they name (kube adds none).
  const user: UserInfo = self ? ctx.requester : { name, groups };
  return { user, ...(resource ? { resource } : {}), ...(nonResource ? { nonResource } : {}) };
}

/** 405 for anything but create on a review resource. */
export function reviewMethodNotAllowed(): ApiError {
  return new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
}
