/**
 * Delegated authentication and authorization through the API server, as kube-rbac-proxy
 * and Kubernetes' own components do it: a TokenReview says who a bearer token belongs to, a
 * SubjectAccessReview whether RBAC lets that user make a request. The calling process needs
 * `create` on tokenreviews (authentication.k8s.io) and subjectaccessreviews
 * (authorization.k8s.io), the rules of kube's system:auth-delegator.
 */
import { HttpMethod } from './client-node.js';
import type { KubeClient } from './client.js';

export interface ReviewedUser {
  readonly username: string;
  readonly uid?: string;
  readonly groups: readonly string[];
  readonly extra?: Readonly<Record<string, readonly string[]>>;
}

export type TokenReviewResult =
  | { readonly authenticated: true; readonly user: ReviewedUser }
  | { readonly authenticated: false; readonly error: string };

/** A request to authorize: a non-resource URL (`/metrics`) and a verb (`get`). */
export interface NonResourceRequest {
  readonly path: string;
  readonly verb: string;
}

export interface AccessReviewResult {
  readonly allowed: boolean;
  readonly reason: string;
}

/** What delegated auth needs from the API server; tests may pass a recording fake. */
export interface Reviewer {
  tokenReview(token: string, audiences: readonly string[]): Promise<TokenReviewResult>;
  subjectAccessReview(user: ReviewedUser, request: NonResourceRequest): Promise<AccessReviewResult>;
}

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** A Reviewer that asks the API server `client` talks to. */
export function apiServerReviewer(client: KubeClient): Reviewer {
  return {
    async tokenReview(token, audiences) {
      const out = await client.request(
        HttpMethod.POST,
        '/apis/authentication.k8s.io/v1/tokenreviews',
        {},
        {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenReview',
          spec: { token, ...(audiences.length > 0 ? { audiences } : {}) },
        },
      );
      const status = isObj(out) && isObj(out['status']) ? out['status'] : {};
      const user = isObj(status['user']) ? status['user'] : {};
      if (status['authenticated'] !== true || typeof user['username'] !== 'string') {
        return {
          authenticated: false,
          error:
            typeof status['error'] === 'string' && status['error'] !== '' ? status['error'] : 'token not authenticated',
        };
      }
      const extra = isObj(user['extra'])
        ? Object.fromEntries(Object.entries(user['extra']).map(([k, v]) => [k, strings(v)]))
        : undefined;
      return {
        authenticated: true,
        user: {
          username: user['username'],
          ...(typeof user['uid'] === 'string' ? { uid: user['uid'] } : {}),
          groups: strings(user['groups']),
          ...(extra ? { extra } : {}),
        },
      };
    },
    async subjectAccessReview(user, request) {
      const out = await client.request(
        HttpMethod.POST,
        '/apis/authorization.k8s.io/v1/subjectaccessreviews',
        {},
        {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SubjectAccessReview',
          spec: {
            user: user.username,
            groups: user.groups,
            ...(user.uid !== undefined ? { uid: user.uid } : {}),
            ...(user.extra !== undefined ? { extra: user.extra } : {}),
            nonResourceAttributes: { path: request.path, verb: request.verb },
          },
        },
      );
      const status = isObj(out) && isObj(out['status']) ? out['status'] : {};
      return {
        allowed: status['allowed'] === true && status['denied'] !== true,
        reason: typeof status['reason'] === 'string' ? status['reason'] : '',
      };
    },
  };
}
