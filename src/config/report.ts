/** Configuration errors as ConfigurationState entries, capped so one bad object cannot bloat the status. */
import type { ConfigError } from '../core/errors.js';
import { capList } from './reader.js';

/** Entries a ConfigurationState lists at most; one more entry counts the rest. */
export const MAX_STATE_ERRORS = 100;

export interface ErrorEntry {
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
  readonly field: string;
  readonly reason: string;
  readonly transient?: boolean;
}

type ErrorLike = Pick<ConfigError, 'object' | 'field' | 'reason' | 'transient'>;

/** `state` is the ConfigurationState's own name: the entry counting the omitted errors names it. */
export function errorEntries(errors: readonly ErrorLike[], state: string, limit = MAX_STATE_ERRORS): ErrorEntry[] {
  const { shown, omitted } = capList(errors, limit);
  const out: ErrorEntry[] = shown.map((e) => ({
    kind: e.object.kind,
    ...(e.object.namespace ? { namespace: e.object.namespace } : {}),
    name: e.object.name,
    field: e.field,
    reason: e.reason,
    ...(e.transient ? { transient: true } : {}),
  }));
  if (omitted > 0) {
    const hard = errors.slice(limit).some((e) => !e.transient);
    out.push({
      kind: 'ConfigurationState',
      name: state,
      field: 'errors',
      reason: `${omitted} more error(s) not listed (${errors.length} in all)`,
      ...(hard ? {} : { transient: true }),
    });
  }
  return out;
}
