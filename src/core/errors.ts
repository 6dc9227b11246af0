/**
 * Herald's one error family. Callers branch on `code`, never on message text.
 * Every subclass narrows `code` to its own literal union. Each code is thrown somewhere;
 * a code nobody throws is removed, so the union says what can really happen.
 */

/** A failed Kubernetes API call (KubeApiError in src/k8s), by what the caller can do about it. */
export type KubeApiErrorCode =
  /** 404: the object (or the resource) does not exist. */
  | 'NotFound'
  /** 409 AlreadyExists: a create found the name taken. */
  | 'AlreadyExists'
  /** 409 Conflict: a write carried a stale resourceVersion; read again and retry. */
  | 'Conflict'
  /** 410: a watch or list resourceVersion is too old; list again. */
  | 'Gone'
  /** 400 and 422: the server refused the object or the request as invalid. */
  | 'Invalid'
  | 'Unauthorized'
  | 'Forbidden'
  | 'TooManyRequests'
  /** No answer within the time allowed (ours, or the server's 504). */
  | 'Timeout'
  /** No connection, or a server error (5xx): worth another try. */
  | 'Unavailable'
  /** Any other HTTP status. */
  | 'ApiError';

export type HeraldErrorCode =
  | KubeApiErrorCode
  | 'ConfigInvalid'
  | 'ParseError'
  | 'Unsupported'
  /** A broken invariant inside Herald (a bug), e.g. the BGP decoder throwing. */
  | 'Internal'
  /** A BGP message that cannot be encoded (too large for the negotiated size). */
  | 'BgpMessage'
  /** A BGP connection could not be made (the socket, the connect, its timeout). */
  | 'BgpConnect'
  | 'NativeUnavailable'
  | 'Usage';

export class HeraldError extends Error {
  readonly code: HeraldErrorCode;

  constructor(code: HeraldErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HeraldError';
    this.code = code;
  }
}

/** Where in a Kubernetes object a configuration problem sits. */
export interface ObjectRef {
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
}

export function formatObjectRef(ref: ObjectRef): string {
  return ref.namespace ? `${ref.kind} ${ref.namespace}/${ref.name}` : `${ref.kind} ${ref.name}`;
}

/**
 * A bad field in a configuration object. `transient` errors (a reference to an object
 * that does not exist yet) are reported but may heal on their own.
 */
export class ConfigError extends HeraldError {
  override readonly code = 'ConfigInvalid' as const;
  readonly object: ObjectRef;
  /** JSONPath-like path inside the object, e.g. `spec.addresses[2]`. */
  readonly field: string;
  readonly reason: string;
  readonly transient: boolean;

  constructor(init: { object: ObjectRef; field: string; reason: string; transient?: boolean; cause?: unknown }) {
    super('ConfigInvalid', `${formatObjectRef(init.object)}: ${init.field}: ${init.reason}`, { cause: init.cause });
    this.name = 'ConfigError';
    this.object = init.object;
    this.field = init.field;
    this.reason = init.reason;
    this.transient = init.transient ?? false;
  }
}

/** Bad text handed to a parser (an address, a CIDR, a community). */
export class ParseError extends HeraldError {
  override readonly code = 'ParseError' as const;
  readonly input: string;

  constructor(input: string, message: string, options?: { cause?: unknown }) {
    super('ParseError', message, options);
    this.name = 'ParseError';
    this.input = input;
  }
}

/** A message for any thrown value, for logs. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
