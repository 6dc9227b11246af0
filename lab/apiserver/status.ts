/** Kubernetes `Status` errors, shaped as kube-apiserver sends them. */
import type { FieldCause } from './schema.js';

export type StatusReason =
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Invalid'
  | 'BadRequest'
  | 'Forbidden'
  | 'Unauthorized'
  | 'MethodNotAllowed'
  | 'UnsupportedMediaType'
  | 'Expired'
  | 'Gone'
  | 'TooManyRequests'
  | 'InternalError'
  | 'Timeout'
  | 'NotAcceptable';

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: { reason: string; message: string; field: string }[];
  retryAfterSeconds?: number;
}

export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: StatusReason,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  toStatus(): Record<string, unknown> {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: this.details } : {}),
      code: this.code,
    };
  }
}

export interface Target {
  /** `services`, or `ipaddresspools.herald.dev` style `plural.group`. */
  readonly qualified: string;
  readonly group: string;
  readonly kind: string;
}

export const notFound = (t: Target, name: string): ApiError =>
  new ApiError(404, 'NotFound', `${t.qualified} "${name}" not found`, {
    name,
    group: t.group,
    kind: t.qualified.split('.')[0]!,
  });

export const alreadyExists = (t: Target, name: string): ApiError =>
  new ApiError(409, 'AlreadyExists', `${t.qualified} "${name}" already exists`, {
    name,
    group: t.group,
    kind: t.qualified.split('.')[0]!,
  });

export const conflict = (t: Target, name: string): ApiError =>
  new ApiError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${t.qualified} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    { name, group: t.group, kind: t.qualified.split('.')[0]! },
  );

export const badRequest = (message: string): ApiError => new ApiError(400, 'BadRequest', message);

export function invalidObject(t: Target, name: string, causes: readonly FieldCause[]): ApiError {
  return new ApiError(
    422,
    'Invalid',
    `${t.kind}.${t.group === '' ? '' : t.group} "${name}" is invalid: ${causes.map((c) => c.message).join(', ')}`.replace(
      `${t.kind}. "`,
      `${t.kind} "`,
    ),
    {
      name,
      group: t.group,
      kind: t.kind,
      causes: causes.map((c) => ({ reason: c.reason, message: c.message, field: c.field })),
    },
  );
}

export const gone = (message: string): ApiError => new ApiError(410, 'Expired', message);
