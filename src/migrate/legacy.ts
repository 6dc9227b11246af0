/**
 * MetalLB's configuration before CRDs: the ConfigMap `config` (data key `config`, YAML with
 * address-pools, peers, bgp-communities, bfd-profiles) and the AddressPool kind that
 * briefly replaced it. A pool names its protocol, so each pool becomes an IPAddressPool
 * plus an L2Advertisement or one BGPAdvertisement per bgp-advertisements entry; peers
 * apply to every BGP pool, as they did in MetalLB.
 */
import { isObject, type JsonObject } from '../config/reader.js';
import { API_VERSION } from '../api/group.js';
import { mapSpec } from './crs.js';
import type { IssueSink, OutputObject } from './types.js';

/** Legacy key → CR field, per section. */
const PEER_KEYS: Readonly<Record<string, string>> = {
  'my-asn': 'myASN',
  'peer-asn': 'peerASN',
  'peer-address': 'peerAddress',
  'peer-port': 'peerPort',
  'source-address': 'sourceAddress',
  'hold-time': 'holdTime',
  'keepalive-time': 'keepaliveTime',
  'router-id': 'routerID',
  password: 'password',
  'bfd-profile': 'bfdProfile',
  'ebgp-multihop': 'ebgpMultiHop',
  vrf: 'vrf',
  'node-selectors': 'nodeSelectors',
};
const POOL_KEYS: Readonly<Record<string, string>> = {
  addresses: 'addresses',
  'auto-assign': 'autoAssign',
  'avoid-buggy-ips': 'avoidBuggyIPs',
};
const ADV_KEYS: Readonly<Record<string, string>> = {
  'aggregation-length': 'aggregationLength',
  'aggregation-length-v6': 'aggregationLengthV6',
  localpref: 'localPref',
  communities: 'communities',
};
const BFD_KEYS: Readonly<Record<string, string>> = {
  'receive-interval': 'receiveInterval',
  'transmit-interval': 'transmitInterval',
  'detect-multiplier': 'detectMultiplier',
  'echo-interval': 'echoInterval',
  'echo-mode': 'echoMode',
  'passive-mode': 'passiveMode',
  'minimum-ttl': 'minimumTtl',
};
/** The AddressPool kind's (camelCase) keys. */
const ADDRESS_POOL_KEYS: Readonly<Record<string, string>> = {
  addresses: 'addresses',
  autoAssign: 'autoAssign',
  avoidBuggyIPs: 'avoidBuggyIPs',
};
const ADDRESS_POOL_ADV_KEYS: Readonly<Record<string, string>> = {
  aggregationLength: 'aggregationLength',
  aggregationLengthV6: 'aggregationLengthV6',
  localPref: 'localPref',
  communities: 'communities',
};

function obj(kind: string, name: string, namespace: string, spec: Record<string, unknown>): OutputObject {
  return { apiVersion: API_VERSION, kind, metadata: { name, namespace }, spec };
}

/** Renames keys by `keys`; every other key is reported as unsupported under `path`. */
function rename(
  src: JsonObject,
  keys: Readonly<Record<string, string>>,
  path: string,
  sink: IssueSink,
  skip: readonly string[] = [],
): JsonObject {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(src)) {
    if (skip.includes(k) || v === undefined || v === null) continue;
    const to = keys[k];
    if (to === undefined)
      sink.unsupported(`${path}.${k}`, `unknown key "${k}" (known: ${Object.keys(keys).join(', ')}); left out`);
    else out[to] = v;
  }
  return out;
}

/** Legacy `node-selectors` entries use match-labels / match-expressions. */
function selectors(v: unknown, path: string, sink: IssueSink): unknown[] {
  if (!Array.isArray(v)) return [];
  return v
    .filter(isObject)
    .map((s, i) =>
      rename(s, { 'match-labels': 'matchLabels', 'match-expressions': 'matchExpressions' }, `${path}[${i}]`, sink),
    );
}

function list(v: unknown): JsonObject[] {
  return Array.isArray(v) ? v.filter(isObject) : [];
}

/** Maps one pool (protocol + advertisements) into IPAddressPool + advertisement objects. */
function mapPool(
  pool: JsonObject,
  at: string,
  ns: string,
  sink: IssueSink,
  keys: { pool: Readonly<Record<string, string>>; adv: Readonly<Record<string, string>>; advField: string },
): OutputObject[] {
  const name = typeof pool['name'] === 'string' ? pool['name'] : '';
  if (!name) {
    sink.unsupported(at, 'a pool without a name cannot be imported');
    return [];
  }
  const out: OutputObject[] = [];
  const spec = rename(pool, keys.pool, at, sink, ['name', 'protocol', keys.advField]);
  const mapped = mapSpec('IPAddressPool', spec, sink);
  if (mapped) out.push(obj('IPAddressPool', name, ns, mapped));
  const protocol = pool['protocol'];
  if (protocol === 'layer2') {
    out.push(obj('L2Advertisement', `${name}-l2`, ns, { ipAddressPools: [name] }));
    if (pool[keys.advField] !== undefined)
      sink.unsupported(
        `${at}.${keys.advField}`,
        'BGP advertisements on a layer2 pool were ignored by MetalLB too; left out',
      );
    sink.note(at, `protocol layer2 → L2Advertisement "${name}-l2"`);
  } else if (protocol === 'bgp') {
    const advs = list(pool[keys.advField]);
    const entries = advs.length > 0 ? advs : [{}];
    entries.forEach((a, i) => {
      const advName = entries.length === 1 ? `${name}-bgp` : `${name}-bgp-${i + 1}`;
      const advSpec =
        mapSpec('BGPAdvertisement', rename(a, keys.adv, `${at}.${keys.advField}[${i}]`, sink), sink) ?? {};
      out.push(obj('BGPAdvertisement', advName, ns, { ...advSpec, ipAddressPools: [name] }));
    });
    sink.note(
      at,
      `protocol bgp → BGPAdvertisement ${entries.map((_, i) => (entries.length === 1 ? `"${name}-bgp"` : `"${name}-bgp-${i + 1}"`)).join(', ')} (to every peer)`,
    );
  } else {
    sink.unsupported(
      `${at}.protocol`,
      `${JSON.stringify(protocol)} is not layer2 or bgp: the pool is imported without an advertisement, so its addresses are assigned but not announced`,
    );
  }
  return out;
}

/** The ConfigMap's `config` document, already parsed. */
export function mapLegacyConfig(cfg: JsonObject, ns: string, sink: IssueSink): OutputObject[] {
  const out: OutputObject[] = [];
  for (const key of Object.keys(cfg)) {
    if (!['peers', 'address-pools', 'bgp-communities', 'bfd-profiles'].includes(key)) {
      sink.unsupported(
        `data.config.${key}`,
        `unknown section "${key}" (known: peers, address-pools, bgp-communities, bfd-profiles); left out`,
      );
    }
  }
  const communities = cfg['bgp-communities'];
  if (isObject(communities) && Object.keys(communities).length > 0) {
    const entries = Object.entries(communities).map(([name, value]) => ({ name, value: String(value) }));
    out.push(obj('Community', 'communities', ns, { communities: entries }));
    sink.note('data.config.bgp-communities', 'aliases → Community "communities"');
  }
  list(cfg['bfd-profiles']).forEach((p, i) => {
    const at = `data.config.bfd-profiles[${i}]`;
    const name = typeof p['name'] === 'string' ? p['name'] : '';
    if (!name) return sink.unsupported(at, 'a BFD profile without a name cannot be imported');
    const spec = mapSpec('BFDProfile', rename(p, BFD_KEYS, at, sink, ['name']), sink);
    if (spec) out.push(obj('BFDProfile', name, ns, spec));
  });
  list(cfg['peers']).forEach((p, i) => {
    const at = `data.config.peers[${i}]`;
    const spec: Record<string, unknown> = { ...rename(p, PEER_KEYS, at, sink) };
    if (spec['nodeSelectors'] !== undefined)
      spec['nodeSelectors'] = selectors(p['node-selectors'], `${at}.node-selectors`, sink);
    const mapped = mapSpec('BGPPeer', spec, sink);
    if (!mapped) return;
    const name = `peer-${i + 1}`;
    out.push(obj('BGPPeer', name, ns, mapped));
    sink.note(at, `→ BGPPeer "${name}"`);
  });
  list(cfg['address-pools']).forEach((p, i) => {
    out.push(
      ...mapPool(p, `data.config.address-pools[${i}]`, ns, sink, {
        pool: POOL_KEYS,
        adv: ADV_KEYS,
        advField: 'bgp-advertisements',
      }),
    );
  });
  return out;
}

/** The AddressPool kind (metallb.io v1alpha1/v1beta1): a legacy pool with its protocol. */
export function mapAddressPool(raw: JsonObject, name: string, ns: string, sink: IssueSink): OutputObject[] {
  const spec = isObject(raw['spec']) ? raw['spec'] : {};
  return mapPool({ ...spec, name }, 'spec', ns, sink, {
    pool: ADDRESS_POOL_KEYS,
    adv: ADDRESS_POOL_ADV_KEYS,
    advField: 'bgpAdvertisements',
  });
}
