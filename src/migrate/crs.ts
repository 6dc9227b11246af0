/**
 * MetalLB custom resources (metallb.io v1beta1 and v1beta2) → Herald objects. Herald's
 * kinds keep MetalLB's field names and meanings, so most fields copy over; each one that
 * does not is named with the reason, never dropped silently.
 */
import { isObject, type JsonObject } from '../config/reader.js';
import { API_VERSION } from '../api/group.js';
import type { IssueSink, OutputObject } from './types.js';

/** Per kind: fields copied as they are, and fields refused with the reason. */
interface KindMap {
  readonly copy: readonly string[];
  /** Field → reason; `object: true` means the object cannot be imported at all when set. */
  readonly refuse?: Readonly<
    Record<string, { reason: string; object?: boolean; when?: (v: unknown, spec: JsonObject) => boolean }>
  >;
}

const PEER_FIELDS = [
  'myASN',
  'peerASN',
  'dynamicASN',
  'peerAddress',
  'sourceAddress',
  'peerPort',
  'holdTime',
  'keepaliveTime',
  'connectTime',
  'routerID',
  'nodeSelectors',
  'password',
  'passwordSecret',
  'bfdProfile',
  'enableGracefulRestart',
  'ebgpMultiHop',
  'disableMP',
  'dualStackAddressFamily',
];

export const KIND_MAPS: Readonly<Record<string, KindMap>> = {
  IPAddressPool: { copy: ['addresses', 'autoAssign', 'avoidBuggyIPs', 'serviceAllocation'] },
  L2Advertisement: { copy: ['ipAddressPools', 'ipAddressPoolSelectors', 'nodeSelectors', 'interfaces'] },
  BGPAdvertisement: {
    copy: [
      'aggregationLength',
      'aggregationLengthV6',
      'localPref',
      'communities',
      'ipAddressPools',
      'ipAddressPoolSelectors',
      'nodeSelectors',
      'peers',
    ],
  },
  BGPPeer: {
    copy: [...PEER_FIELDS, 'vrf'],
    refuse: {
      vrf: {
        reason:
          "sessions in a VRF are not supported by Herald's speaker (it peers from the default routing table, which may reach a different network); the peer is not imported",
        object: true,
        when: (v) => v !== '',
      },
      interface: {
        reason:
          'unnumbered BGP (a peer found on an interface) is not supported by Herald; the peer is not imported: give it a peerAddress',
        object: true,
      },
      localASN: {
        reason:
          'a per-session local AS is not supported by Herald (every session uses myASN); the peer is not imported',
        object: true,
        when: (v, spec) => v !== spec['myASN'],
      },
    },
  },
  BFDProfile: {
    copy: [
      'receiveInterval',
      'transmitInterval',
      'detectMultiplier',
      'echoInterval',
      'echoMode',
      'passiveMode',
      'minimumTtl',
    ],
    refuse: {
      echoMode: {
        reason:
          "echo mode is not supported by Herald's BFD; echoMode is left out (false): failures are detected at the profile's asynchronous intervals",
        when: (v) => v === true,
      },
    },
  },
  Community: { copy: ['communities'] },
};

/** MetalLB kinds that carry status only: written by MetalLB, nothing to import. */
export const METALLB_STATUS_KINDS: readonly string[] = ['ServiceL2Status', 'ServiceBGPStatus', 'ConfigurationState'];

/** Metadata carried over: name, labels (selectors match them) and user annotations. */
export function outputMeta(meta: unknown, name: string, namespace: string): OutputObject['metadata'] {
  const out: OutputObject['metadata'] = { name, namespace };
  if (!isObject(meta)) return out;
  const labels = stringMap(meta['labels']);
  if (labels) out.labels = labels;
  const ann = stringMap(meta['annotations']);
  if (ann) {
    delete ann['kubectl.kubernetes.io/last-applied-configuration'];
    if (Object.keys(ann).length > 0) out.annotations = ann;
  }
  return out;
}

function stringMap(v: unknown): Record<string, string> | undefined {
  if (!isObject(v)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out[k] = x;
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * Maps the spec of one MetalLB object of a known kind. Returns undefined when a refused
 * field makes the whole object unsafe to import (the sink says why).
 */
export function mapSpec(kind: string, spec: JsonObject, sink: IssueSink): Record<string, unknown> | undefined {
  const m = KIND_MAPS[kind];
  if (!m) return undefined;
  const out: Record<string, unknown> = {};
  let importable = true;
  for (const [key, value] of Object.entries(spec)) {
    if (value === undefined || value === null) continue;
    const refuse = m.refuse?.[key];
    if (refuse && (refuse.when ? refuse.when(value, spec) : true)) {
      sink.unsupported(`spec.${key}`, `${JSON.stringify(value)}: ${refuse.reason}`);
      if (refuse.object) importable = false;
      continue;
    }
    if (m.copy.includes(key)) {
      // An empty vrf is the default table; Herald's own default.
      if (kind === 'BGPPeer' && key === 'vrf') continue;
      out[key] = value;
    } else if (refuse) {
      sink.note(`spec.${key}`, `${JSON.stringify(value)} is what Herald does anyway; left out`);
    } else {
      sink.unsupported(`spec.${key}`, `unknown ${kind} field "${key}" (Herald knows: ${m.copy.join(', ')}); left out`);
    }
  }
  return importable ? out : undefined;
}

/** A MetalLB CR of a mapped kind → the Herald object (or undefined when it cannot be imported). */
export function mapResource(
  raw: JsonObject,
  kind: string,
  name: string,
  namespace: string,
  sink: IssueSink,
): OutputObject | undefined {
  const spec = isObject(raw['spec']) ? raw['spec'] : {};
  const mapped = mapSpec(kind, spec, sink);
  if (!mapped) return undefined;
  if (kind === 'BGPPeer' && isObject(mapped['passwordSecret'])) {
    const ps = mapped['passwordSecret'];
    const from = typeof ps['namespace'] === 'string' ? ps['namespace'] : undefined;
    const secretName = String(ps['name']);
    const rest = { ...ps };
    delete rest['namespace'];
    mapped['passwordSecret'] = rest;
    sink.note(
      'spec.passwordSecret',
      `Herald reads the Secret from ${namespace}: copy Secret ${from ?? 'metallb-system'}/${secretName} (type kubernetes.io/basic-auth) there (the import does so when the Secret is among its inputs)`,
    );
  }
  return { apiVersion: API_VERSION, kind, metadata: outputMeta(raw['metadata'], name, namespace), spec: mapped };
}
