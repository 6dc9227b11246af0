/**
 * The controller's writes besides Services: pool status (counts per family and the Valid
 * condition, with a ConfigInvalid Event per error), its ConfigurationState, and the
 * speakers' memberlist Secret; also the condition helper they share.
 */
import { MEMBERLIST_SECRET, MEMBERLIST_SECRET_KEY } from '../src/api/names.js';
import { GROUP, VERSION } from '../src/api/group.js';
import type { Clock } from '../src/core/clock.js';
import type { ConfigError } from '../src/core/errors.js';
import type { Logger } from '../src/core/logger.js';
import {
  SECRETS,
  heraldResource,
  isAlreadyExists,
  isNotFound,
  setCondition,
  type Condition,
  type EventRecorder,
  type KubeClient,
  type KubeObject,
  type StatusWriter,
} from '../src/k8s/index.js';
import type { PoolStats } from './allocator/types.js';
import { errorEntries, MAX_STATE_ERRORS } from '../src/config/report.js';

const POOLS = heraldResource('IPAddressPool');
const CONFIG_STATES = heraldResource('ConfigurationState');

/** The Secret the speakers use to authenticate membership messages; the controller makes it. */

export function conditionsOf(obj: KubeObject): Condition[] {
  return ((obj['status'] as { conditions?: Condition[] } | undefined)?.conditions ?? []).filter(
    (c) => c && typeof c.type === 'string',
  );
}

export interface StatusDeps {
  readonly client: KubeClient;
  readonly writer: StatusWriter;
  readonly clock: Clock;
  readonly log: Logger;
  /** Where Herald's configuration lives. */
  readonly namespace: string;
  readonly configErrors: readonly ConfigError[];
  readonly events: EventRecorder;
}

function now(d: StatusDeps): string {
  return new Date(d.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Pool status: assigned/available per family, observedGeneration, the Valid condition. */
export async function writePoolStatus(d: StatusDeps, obj: KubeObject, stats: PoolStats | undefined): Promise<void> {
  const name = obj.metadata.name;
  const errors = d.configErrors.filter((e) => e.object.kind === 'IPAddressPool' && e.object.name === name);
  const invalid = errors.filter((e) => !e.transient);
  const cond =
    invalid.length > 0
      ? {
          type: 'Valid',
          status: 'False' as const,
          reason: 'Invalid',
          message: invalid.map((e) => `${e.field}: ${e.reason}`).join('; '),
        }
      : { type: 'Valid', status: 'True' as const, reason: 'Valid', message: 'the pool is valid and serving' };
  const at = now(d);
  await d.writer.update(
    POOLS,
    d.namespace,
    name,
    (o) => {
      const st = (o['status'] as Record<string, unknown> | undefined) ?? {};
      const conds = setCondition(conditionsOf(o), { ...cond, observedGeneration: o.metadata.generation ?? 1 }, at);
      const next: Record<string, unknown> = {
        ...st,
        assignedIPv4: String(stats?.IPv4.assigned ?? 0n),
        assignedIPv6: String(stats?.IPv6.assigned ?? 0n),
        availableIPv4: String(stats?.IPv4.available ?? 0n),
        availableIPv6: String(stats?.IPv6.available ?? 0n),
        observedGeneration: o.metadata.generation ?? 1,
        conditions: conds,
      };
      return JSON.stringify(next) === JSON.stringify(st) ? undefined : next;
    },
    obj,
  );
  const ref = {
    apiVersion: `${GROUP}/${VERSION}`,
    kind: 'IPAddressPool',
    name,
    namespace: d.namespace,
    ...(obj.metadata.uid ? { uid: obj.metadata.uid } : {}),
  };
  for (const e of invalid) void d.events.record(ref, 'Warning', 'ConfigInvalid', `${e.field}: ${e.reason}`);
}

/**
 * Creates the speakers' membership key once per installation (like MetalLB's controller).
 * Throws when the server could not be asked (the caller retries: without the Secret no
 * speaker can join the membership); one that exists already is left as it is.
 */
export async function ensureMemberlistSecret(d: StatusDeps, random: (n: number) => Buffer): Promise<void> {
  if (await d.client.tryGet(SECRETS, d.namespace, MEMBERLIST_SECRET)) return;
  const key = random(32).toString('base64');
  try {
    await d.client.create(SECRETS, {
      metadata: { name: MEMBERLIST_SECRET, namespace: d.namespace },
      type: 'Opaque',
      data: { [MEMBERLIST_SECRET_KEY]: Buffer.from(key).toString('base64') },
    });
  } catch (err) {
    if (isAlreadyExists(err)) return;
    throw err;
  }
  d.log.info('created the memberlist secret', {
    event: 'memberlistSecretCreated',
    secret: `${d.namespace}/${MEMBERLIST_SECRET}`,
  });
}

/** ConfigurationState "controller": Valid, or Invalid with every configuration error. */
export async function writeConfigurationState(d: StatusDeps): Promise<void> {
  const name = 'controller';
  const errors = errorEntries(d.configErrors, name);
  const result = d.configErrors.some((e) => !e.transient) ? 'Invalid' : 'Valid';
  const at = now(d);
  let existing = await d.client.tryGet(CONFIG_STATES, d.namespace, name);
  if (!existing) {
    try {
      existing = await d.client.create(CONFIG_STATES, {
        metadata: { name, namespace: d.namespace, labels: { 'app.kubernetes.io/component': 'controller' } },
        spec: {},
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      return;
    }
  }
  await d.writer.update(
    CONFIG_STATES,
    d.namespace,
    name,
    (o) => {
      const st = (o['status'] as Record<string, unknown> | undefined) ?? {};
      const conds = setCondition(
        conditionsOf(o),
        {
          type: 'Valid',
          status: result === 'Valid' ? 'True' : 'False',
          reason: result,
          message:
            result === 'Valid'
              ? 'configuration accepted'
              : `${d.configErrors.length} configuration error(s)${d.configErrors.length > MAX_STATE_ERRORS ? `; the first ${MAX_STATE_ERRORS} are listed` : ''}`,
        },
        at,
      );
      const next = { ...st, component: 'controller', result, errors, conditions: conds };
      return JSON.stringify(next) === JSON.stringify(st) ? undefined : next;
    },
    existing,
  );
}
