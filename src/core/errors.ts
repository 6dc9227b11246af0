/**
 * Herald's one error family. Callers branch on `code`, never on message text.
 * Every subclass narrows `code` to its own literal union.
 */

export type HeraldErrorCode =
  | 'ConfigInvalid'
  | 'ParseError'
  | 'AllocationFailed'
  | 'NotFound'
  | 'Conflict'
  | 'Unsupported'
  | 'Internal'
  | 'BgpMessage'
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

export function isHeraldError(err: unknown): err is HeraldError {
  return err instanceof HeraldError;
}

/** A message for any thrown value, for logs. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
