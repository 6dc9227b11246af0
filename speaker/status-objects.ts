/**
 * What a speaker writes about itself in herald-system besides its Service status objects
 * (service-status.ts): BGPSessionState per peer, ConfigurationState `speaker-<node>`; and, for
 * a node taking over an IP, the removal of dead members' ServiceL2Status.
 */
import { NODE_LABEL } from '../src/api/names.js';
import { errorMessage } from '../src/core/errors.js';
import type { BGPSessionBFDStatus } from '../src/api/types.js';
import { errorEntries } from '../src/config/report.js';
import type { Logger } from '../src/core/logger.js';
import {
  heraldResource,
  isAlreadyExists,
  isNotFound,
  type KubeClient,
  type KubeObject,
  type ResourceType,
  type StatusWriter,
} from '../src/k8s/index.js';
import { dnsName } from './status-sets.js';
import { sortedJson } from './views.js';

export const L2_STATUS = heraldResource('ServiceL2Status');
export const BGP_STATUS = heraldResource('ServiceBGPStatus');
export const BGP_NODE_STATUS = heraldResource('BGPNodeStatus');
const SESSION_STATE = heraldResource('BGPSessionState');
const CONFIG_STATE = heraldResource('ConfigurationState');

/**
 * This node's status object `name` as it is on the server, created (empty, labelled with the
 * node) when missing: a create ignores `status`, so the caller then writes it through
 * `/status`. One created meanwhile by an earlier write of this node is read instead.
 */
export async function nodeStatusObject(
  client: Pick<KubeClient, 'tryGet' | 'get' | 'create'>,
  type: ResourceType,
  o: { readonly namespace: string; readonly name: string; readonly node: string },
): Promise<KubeObject> {
  const found = await client.tryGet(type, o.namespace, o.name);
  if (found) return found;
  try {
    return await client.create(type, {
      metadata: { name: o.name, namespace: o.namespace, labels: { [NODE_LABEL]: o.node } },
      spec: {},
    });
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
    return client.get(type, o.namespace, o.name);
  }
}

export interface StatusObjectsOptions {
  readonly client: KubeClient;
  readonly writer: StatusWriter;
  readonly namespace: string;
  readonly node: string;
  readonly log: Logger;
}

export interface SessionStatus {
  readonly peer: string;
  readonly state: string;
  readonly lastError?: string;
  readonly establishedSince?: number;
  readonly prefixesSent: number;
  readonly bfd?: BGPSessionBFDStatus;
}

export interface ConfigErrorView {
  readonly object: { readonly kind: string; readonly name: string; readonly namespace?: string };
  readonly field: string;
  readonly reason: string;
  readonly transient: boolean;
}

export class SpeakerStatusObjects {
  private lastConfigState = '';
  private readonly lastSession = new Map<string, { text: string; at: number }>();

  constructor(private readonly o: StatusObjectsOptions) {}

  /** ConfigurationState `speaker-<node>`: Valid, or Invalid with every configuration error this speaker sees. */
  async writeConfigurationState(errors: readonly ConfigErrorView[]): Promise<void> {
    const entries = errorEntries(errors, dnsName('speaker', this.o.node));
    const result = errors.some((e) => !e.transient) ? 'Invalid' : 'Valid';
    const status = { component: 'speaker', node: this.o.node, result, errors: entries };
    const text = JSON.stringify(status);
    if (text === this.lastConfigState) return;
    const name = dnsName('speaker', this.o.node);
    try {
      const obj = await nodeStatusObject(this.o.client, CONFIG_STATE, {
        namespace: this.o.namespace,
        name,
        node: this.o.node,
      });
      await this.o.writer.update(CONFIG_STATE, this.o.namespace, name, () => status, obj);
      this.lastConfigState = text;
    } catch (err) {
      this.o.log.warn('could not write ConfigurationState', { event: 'statusWriteFailed', error: errorMessage(err) });
    }
  }

  /**
   * A speaker that died cannot delete its ServiceL2Status objects: the node that takes an IP
   * over removes the ones of members known to be dead (`dead`) for the same Services.
   */
  async forgetDeadOwners(services: ReadonlySet<string>, dead: (node: string) => boolean): Promise<void> {
    try {
      for (const o of (await this.o.client.list(L2_STATUS, { namespace: this.o.namespace })).items) {
        const st = (o['status'] ?? {}) as { node?: string; serviceName?: string; serviceNamespace?: string };
        if (!st.node || st.node === this.o.node || !dead(st.node)) continue;
        if (services.has(`${st.serviceNamespace ?? ''}/${st.serviceName ?? ''}`))
          await this.o.client.tryDelete(L2_STATUS, this.o.namespace, o.metadata.name);
      }
    } catch (err) {
      this.o.log.warn('could not clean the status of dead speakers', {
        event: 'statusWriteFailed',
        error: errorMessage(err),
      });
    }
  }

  /**
   * BGPSessionState `<node>-<peer>` for each peer. Called every few seconds: a state equal to
   * the one last written is not read back again, except once a minute (someone may have
   * deleted or edited it).
   */
  async writeSessionStates(sessions: readonly SessionStatus[], now: number): Promise<void> {
    for (const s of sessions) {
      const status = {
        node: this.o.node,
        peer: s.peer,
        state: s.state,
        ...(s.lastError ? { lastError: s.lastError } : {}),
        ...(s.establishedSince
          ? { establishedTime: new Date(s.establishedSince).toISOString().replace(/\.\d{3}Z$/, 'Z') }
          : {}),
        prefixesSent: s.prefixesSent,
        ...(s.bfd ? { bfd: s.bfd } : {}),
      };
      const name = dnsName(this.o.node, s.peer);
      const text = sortedJson(status);
      const last = this.lastSession.get(name);
      if (last && last.text === text && now - last.at < 60_000) continue;
      try {
        const obj = await nodeStatusObject(this.o.client, SESSION_STATE, {
          namespace: this.o.namespace,
          name,
          node: this.o.node,
        });
        await this.o.writer.update(
          SESSION_STATE,
          this.o.namespace,
          name,
          (o) => (sortedJson(o['status'] ?? {}) === text ? undefined : status),
          obj,
        );
        this.lastSession.set(name, { text, at: now });
      } catch (err) {
        if (!isNotFound(err) && !isAlreadyExists(err))
          this.o.log.warn('could not write BGPSessionState', {
            event: 'statusWriteFailed',
            peer: s.peer,
            error: errorMessage(err),
          });
      }
    }
  }
}
