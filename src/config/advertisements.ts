/** L2Advertisement and BGPAdvertisement. */
import { looksLikeLiteralCommunity, parseCommunity, formatCommunity, type CommunityValue } from './community.js';
import type { Envelope } from './envelope.js';
import { anySelectorMatches, readLabelSelector, type LabelSelector } from './label-selector.js';
import type { BgpAdvertisement, CommunityAlias, L2Advertisement, Pool, PreferredNodeSelector } from './model.js';
import type { FieldReader } from './reader.js';
import { formatCIDR } from '../net/cidr.js';
import type { PoolEntry } from './pools.js';

const IFNAME = /^[^\s/:]{1,15}$/;

function poolRefs(spec: FieldReader, pools: ReadonlyMap<string, Pool>): string[] {
  const names = spec.stringList('ipAddressPools');
  names.forEach((n, i) => {
    if (!pools.has(n)) spec.error(`ipAddressPools[${i}]`, `IPAddressPool "${n}" does not exist (or is invalid)`, true);
  });
  return names;
}

export function readL2Advertisement(env: Envelope, pools: ReadonlyMap<string, Pool>): L2Advertisement | undefined {
  const spec = env.root.object('spec');
  const s = spec ?? env.root;
  if (spec) {
    spec.only([
      'ipAddressPools',
      'ipAddressPoolSelectors',
      'nodeSelectors',
      'preferredNodeSelectors',
      'interfaces',
      'serviceSelectors',
    ]);
  }
  const interfaces = spec ? spec.stringList('interfaces') : [];
  interfaces.forEach((name, i) => {
    if (!IFNAME.test(name))
      s.error(`interfaces[${i}]`, `"${name}" is not an interface name (1-15 characters, no spaces, '/' or ':')`);
  });
  const preferred: PreferredNodeSelector[] = [];
  for (const p of spec ? spec.objectList('preferredNodeSelectors') : []) {
    p.only(['weight', 'preference']);
    const weight = p.int('weight', 1, 100);
    if (!p.has('weight')) p.error('weight', 'required (1-100)');
    const pref = p.object('preference');
    if (!pref) p.error('preference', 'required');
    if (weight !== undefined && pref) preferred.push({ weight, preference: readLabelSelector(pref) });
  }
  const ad: L2Advertisement = {
    meta: env.meta,
    name: env.meta.name,
    ipAddressPools: spec ? poolRefs(spec, pools) : [],
    ipAddressPoolSelectors: spec ? spec.objectList('ipAddressPoolSelectors').map(readLabelSelector) : [],
    nodeSelectors: spec ? spec.objectList('nodeSelectors').map(readLabelSelector) : [],
    preferredNodeSelectors: preferred,
    interfaces,
    serviceSelectors: spec ? spec.objectList('serviceSelectors').map(readLabelSelector) : [],
  };
  return hasHardErrors(env) ? undefined : ad;
}

/** Pools an advertisement applies to: named ones, selected ones, or all when neither is given. */
export function selectedPools(
  names: readonly string[],
  selectors: readonly LabelSelector[],
  pools: ReadonlyMap<string, Pool>,
): Pool[] {
  if (names.length === 0 && selectors.length === 0) return [...pools.values()];
  return [...pools.values()].filter(
    (p) => names.includes(p.name) || (selectors.length > 0 && anySelectorMatches(selectors, p.meta.labels)),
  );
}

export function readBgpAdvertisement(
  env: Envelope,
  ctx: {
    pools: ReadonlyMap<string, Pool>;
    poolEntries: ReadonlyMap<string, readonly PoolEntry[]>;
    aliases: ReadonlyMap<string, CommunityAlias>;
    peerNames: ReadonlySet<string>;
  },
): BgpAdvertisement | undefined {
  const spec = env.root.object('spec');
  const s = spec ?? env.root;
  if (spec) {
    spec.only([
      'aggregationLength',
      'aggregationLengthV6',
      'localPref',
      'communities',
      'ipAddressPools',
      'ipAddressPoolSelectors',
      'nodeSelectors',
      'peers',
      'serviceSelectors',
    ]);
  }
  const aggregationLength = spec?.int('aggregationLength', 0, 32) ?? 32;
  const aggregationLengthV6 = spec?.int('aggregationLengthV6', 0, 128) ?? 128;
  const localPref = spec?.int('localPref', 0, 4294967295);
  const communities: CommunityValue[] = [];
  const seen = new Set<string>();
  (spec ? spec.stringList('communities') : []).forEach((text, i) => {
    let value: CommunityValue | undefined;
    if (looksLikeLiteralCommunity(text)) {
      const parsed = parseCommunity(text);
      if (parsed.ok) value = parsed.value;
      else s.error(`communities[${i}]`, parsed.reason);
    } else {
      const alias = ctx.aliases.get(text);
      if (alias) value = alias.value;
      else
        s.error(
          `communities[${i}]`,
          `"${text}" is neither a community (a:b, large:a:b:c) nor a Community alias that exists`,
          true,
        );
    }
    if (value && !seen.has(formatCommunity(value))) {
      seen.add(formatCommunity(value));
      communities.push(value);
    }
  });
  const peers = spec ? spec.stringList('peers') : [];
  peers.forEach((p, i) => {
    if (!ctx.peerNames.has(p)) s.error(`peers[${i}]`, `BGPPeer "${p}" does not exist (or is invalid)`, true);
  });
  const ipAddressPools = spec ? poolRefs(spec, ctx.pools) : [];
  const ipAddressPoolSelectors = spec ? spec.objectList('ipAddressPoolSelectors').map(readLabelSelector) : [];
  // Aggregation must not cover addresses outside a pool: each address entry's widest CIDR
  // must be at least as long as the aggregation length (MetalLB's rule).
  for (const pool of selectedPools(ipAddressPools, ipAddressPoolSelectors, ctx.pools)) {
    for (const entry of ctx.poolEntries.get(pool.name) ?? []) {
      const widest = Math.min(...entry.cidrs.map((c) => c.prefixLength));
      const [field, agg] =
        entry.range.family === 'IPv4'
          ? ['aggregationLength', aggregationLength]
          : ['aggregationLengthV6', aggregationLengthV6];
      if (agg < widest) {
        const cidr = entry.cidrs.find((c) => c.prefixLength === widest)!;
        s.error(
          field,
          `${agg} is shorter than prefix ${formatCIDR(cidr)} of IPAddressPool ${pool.name} ("${entry.text}"): ` +
            `the aggregate would announce addresses outside the pool; use ${widest} or more`,
        );
      }
    }
  }
  const ad: BgpAdvertisement = {
    meta: env.meta,
    name: env.meta.name,
    aggregationLength,
    aggregationLengthV6,
    ...(localPref !== undefined ? { localPref } : {}),
    communities,
    ipAddressPools,
    ipAddressPoolSelectors,
    nodeSelectors: spec ? spec.objectList('nodeSelectors').map(readLabelSelector) : [],
    peers,
    serviceSelectors: spec ? spec.objectList('serviceSelectors').map(readLabelSelector) : [],
  };
  return hasHardErrors(env) ? undefined : ad;
}

export function hasHardErrors(env: Envelope): boolean {
  return env.root.sink.hardCountFor(env.ref) > 0;
}
