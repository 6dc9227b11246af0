/**
 * A failed Kubernetes API call as Herald's error: the HTTP status, the Status object's reason
 * and a stable `code` callers branch on (never the status number or the message text).
 */
import { HeraldError, type KubeApiErrorCode } from '../core/errors.js';

export type KubeErrorReason =
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Invalid'
  | 'Forbidden'
  | 'Unauthorized'
  | 'Expired'
  | 'Gone'
  | 'TooManyRequests'
  | 'InternalError'
  | 'BadRequest'
  | 'Timeout'
  | 'ServiceUnavailable'
  | 'Unknown';

/** The code for an HTTP status (0: no answer) and the Status object's reason. */
export function kubeApiErrorCode(statusCode: number, reason: KubeErrorReason): KubeApiErrorCode {
  if (statusCode === 404) return 'NotFound';
  if (statusCode === 409) return reason === 'AlreadyExists' ? 'AlreadyExists' : 'Conflict';
  if (statusCode === 410) return 'Gone';
  if (statusCode === 400 || statusCode === 422) return 'Invalid';
  if (statusCode === 401) return 'Unauthorized';
  if (statusCode === 403) return 'Forbidden';
  if (statusCode === 429) return 'TooManyRequests';
  if (statusCode === 504 || reason === 'Timeout') return 'Timeout';
  if (statusCode === 0 || statusCode >= 500) return 'Unavailable';
  return 'ApiError';
}

/** A failed API call: the HTTP status and the Status object's reason and message; `code` says which kind. */
export class KubeApiError extends HeraldError {
  override readonly code: KubeApiErrorCode;
  constructor(
    readonly statusCode: number,
    readonly reason: KubeErrorReason,
    message: string,
    opts: { readonly status?: Record<string, unknown>; readonly cause?: unknown } = {},
  ) {
    const code = kubeApiErrorCode(statusCode, reason);
    super(code, message, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.code = code;
    this.status = opts.status;
    this.name = 'KubeApiError';
  }

  /** The Status object the server answered with, if any. */
  readonly status: Record<string, unknown> | undefined;
}

export function isNotFound(err: unknown): boolean {
  return err instanceof KubeApiError && err.code === 'NotFound';
}

export function isConflict(err: unknown): boolean {
  return err instanceof KubeApiError && err.code === 'Conflict';
}

export function isAlreadyExists(err: unknown): boolean {
  return err instanceof KubeApiError && err.code === 'AlreadyExists';
}

export function isGone(err: unknown): boolean {
  return err instanceof KubeApiError && err.code === 'Gone';
}

/** The Status reason, or the one the HTTP status implies. */
export function knownReason(r: unknown, code: number): KubeErrorReason {
  const reasons: KubeErrorReason[] = [
    'NotFound',
    'AlreadyExists',
    'Conflict',
    'Invalid',
    'Forbidden',
    'Unauthorized',
    'Expired',
    'Gone',
    'TooManyRequests',
    'InternalError',
    'BadRequest',
    'Timeout',
    'ServiceUnavailable',
  ];
  if (typeof r === 'string' && (reasons as string[]).includes(r)) return r as KubeErrorReason;
  if (code === 404) return 'NotFound';
  if (code === 409) return 'Conflict';
  if (code === 410) return 'Expired';
  if (code === 429) return 'TooManyRequests';
  if (code === 503) return 'ServiceUnavailable';
  if (code >= 500) return 'InternalError';
  return 'Unknown';
}
