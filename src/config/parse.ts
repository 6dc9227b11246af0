/**
 * Turns API objects (`unknown`, as read from YAML or from informers) into the readonly
 * Config model plus a per-object error list. One bad object never disables the good ones:
 * invalid objects are left out of the model, objects with only transient errors (a
 * reference to something that does not exist yet) stay in.
 */
import { API_VERSION, GROUP as HERALD_GROUP, KINDS } from '../api/group.js';
import type { ConfigError, ObjectRef } from '../core/errors.js';
import { readBgpAdvertisement, readL2Advertisement } from './advertisements.js';
import { readNamespace, readNode, readSecret } from './cluster.js';
import { readEnvelope, type Envelope } from './envelope.js';
import type {
  BfdProfile,
  BgpAdvertisement,
  CommunityAlias,
  Config,
  L2Advertisement,
  NamespaceInfo,
  NodeInfo,
  Peer,
  Pool,
  SecretInfo,
} from './model.js';
import { readBfdProfile, readCommunityAliases, readPeer } from './peers.js';
import { readPool, rejectOverlappingPools, type PoolEntry } from './pools.js';
import { ErrorSink } from './reader.js';

const HERALD_API_VERSION = API_VERSION;
/** Herald kinds that carry configuration. */
const CONFIG_KINDS: readonly string[] = KINDS.filter((k) => !k.statusOnly).map((k) => k.kind);
/** Herald kinds that hold status only; accepted and not part of the model. */
const STATUS_KINDS: readonly string[] = KINDS.filter((k) => k.statusOnly).map((k) => k.kind);

export interface ParseOptions {
  /** When set, Herald objects outside this namespace are ignored (with an error). */
  readonly namespace?: string;
}

export interface ParseResult {
  readonly config: Config;
  readonly errors: readonly ConfigError[];
  /** Objects of kinds the model does not use (Services, Deployments, …). */
  readonly ignored: readonly ObjectRef[];
  /** How many objects of each kind were accepted into the model. */
  readonly counts: Readonly<Record<string, number>>;
  /** Position in the input of the object an error names (by identity of `error.object`). */
  readonly inputIndex: ReadonlyMap<ObjectRef, number>;
  /**
   * IPAddressPools that exist but were refused, with the first reason: a Service naming
   * one is told the pool is invalid rather than missing.
   */
  readonly invalidPools: ReadonlyMap<string, string>;
}

const CORE_KINDS: Readonly<Record<string, string>> = { Node: 'v1', Namespace: 'v1', Secret: 'v1' };

export function parseConfig(objects: readonly unknown[], opts: ParseOptions = {}): ParseResult {
  const sink = new ErrorSink();
  const byKind = new Map<string, Envelope[]>();
  const ignored: ObjectRef[] = [];
  const seen = new Set<string>();
  const inputIndex = new Map<ObjectRef, number>();

  objects.forEach((raw, i) => {
    const before = sink.size;
    const env = readEnvelope(sink, raw, `#${i + 1}`);
    for (const e of sink.keptSince(before)) inputIndex.set(e.object, i);
    if (!env) return;
    inputIndex.set(env.ref, i);
    const group = env.apiVersion.includes('/') ? env.apiVersion.slice(0, env.apiVersion.indexOf('/')) : '';
    if (group === 'metallb.io' || group === 'metallb.universe.tf') {
      env.root.error(
        'apiVersion',
        `"${env.apiVersion}" is MetalLB's; for Herald use apiVersion: ${HERALD_API_VERSION} in Herald's namespace; 'herald import -f FILE' converts MetalLB objects`,
      );
      return;
    }
    if (group === HERALD_GROUP) {
      const known = CONFIG_KINDS.includes(env.kind) || STATUS_KINDS.includes(env.kind);
      if (!known) {
        env.root.error(
          'kind',
          `unknown Herald kind "${env.kind}" (known: ${[...CONFIG_KINDS, ...STATUS_KINDS].join(', ')})`,
        );
        return;
      }
      if (env.apiVersion !== HERALD_API_VERSION) {
        env.root.error('apiVersion', `"${env.apiVersion}" is not served; use ${HERALD_API_VERSION}`);
        return;
      }
      if (opts.namespace !== undefined && (env.meta.namespace ?? opts.namespace) !== opts.namespace) {
        env.root.error('metadata.namespace', `Herald reads its configuration from namespace "${opts.namespace}" only`);
        return;
      }
      if (STATUS_KINDS.includes(env.kind)) return;
    } else if (CORE_KINDS[env.kind] !== env.apiVersion) {
      ignored.push(env.ref);
      return;
    }
    const key = `${env.kind}/${env.meta.namespace ?? ''}/${env.meta.name}`;
    if (seen.has(key)) {
      env.root.error('metadata.name', `a second ${env.kind} named "${env.meta.name}"; names must be unique`);
      return;
    }
    seen.add(key);
    const list = byKind.get(env.kind) ?? [];
    list.push(env);
    byKind.set(env.kind, list);
  });
  const of = (kind: string): Envelope[] => byKind.get(kind) ?? [];

  const nodes = new Map<string, NodeInfo>(of('Node').map((e) => [e.meta.name, readNode(e)]));
  const namespaces = new Map<string, NamespaceInfo>(of('Namespace').map((e) => [e.meta.name, readNamespace(e)]));
  const secrets = new Map<string, SecretInfo>();
  for (const e of of('Secret')) {
    const s = readSecret(e);
    secrets.set(`${s.namespace}/${s.name}`, s);
  }

  const communities = new Map<string, CommunityAlias>();
  for (const e of of('Community')) for (const a of readCommunityAliases(e, communities)) communities.set(a.name, a);

  const poolCandidates: Array<{ env: Envelope; pool: Pool; entries: PoolEntry[] }> = [];
  for (const e of of('IPAddressPool')) {
    const r = readPool(e);
    if (r) poolCandidates.push({ env: e, ...r });
  }
  const pools = new Map<string, Pool>();
  const poolEntries = new Map<string, readonly PoolEntry[]>();
  for (const c of rejectOverlappingPools(poolCandidates)) {
    pools.set(c.pool.name, c.pool);
    poolEntries.set(c.pool.name, c.entries);
  }

  const firstHard = new Map<ObjectRef, ConfigError>();
  for (const x of sink.keptSince(0)) if (!x.transient && !firstHard.has(x.object)) firstHard.set(x.object, x);
  const invalidPools = new Map<string, string>();
  for (const e of of('IPAddressPool')) {
    if (pools.has(e.meta.name)) continue;
    const first = firstHard.get(e.ref);
    invalidPools.set(e.meta.name, first ? `${first.field}: ${first.reason}` : 'invalid');
  }

  const bfdProfiles = new Map<string, BfdProfile>();
  for (const e of of('BFDProfile')) {
    const p = readBfdProfile(e);
    if (p) bfdProfiles.set(p.name, p);
  }
  const peers = new Map<string, Peer>();
  const bfdNames = new Set(bfdProfiles.keys());
  for (const e of of('BGPPeer')) {
    const p = readPeer(e, { secrets, bfdProfiles: bfdNames, secretsKnown: true });
    if (p) peers.set(p.name, p);
  }
  const l2Advertisements = new Map<string, L2Advertisement>();
  for (const e of of('L2Advertisement')) {
    const a = readL2Advertisement(e, pools);
    if (a) l2Advertisements.set(a.name, a);
  }
  const bgpAdvertisements = new Map<string, BgpAdvertisement>();
  const peerNames = new Set(peers.keys());
  for (const e of of('BGPAdvertisement')) {
    const a = readBgpAdvertisement(e, { pools, poolEntries, aliases: communities, peerNames });
    if (a) bgpAdvertisements.set(a.name, a);
  }

  const config: Config = {
    pools,
    l2Advertisements,
    bgpAdvertisements,
    peers,
    bfdProfiles,
    communities,
    nodes,
    namespaces,
    secrets,
  };
  return {
    config,
    errors: sink.errors,
    ignored,
    inputIndex,
    invalidPools,
    counts: {
      IPAddressPool: pools.size,
      L2Advertisement: l2Advertisements.size,
      BGPAdvertisement: bgpAdvertisements.size,
      BGPPeer: peers.size,
      BFDProfile: bfdProfiles.size,
      Community: of('Community').length,
      Node: nodes.size,
      Namespace: namespaces.size,
      Secret: secrets.size,
    },
  };
}
