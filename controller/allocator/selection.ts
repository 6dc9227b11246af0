/** Which pools may serve a Service, in which order; and whether two Services may share an IP. */
import { anySelectorMatches } from '../../src/config/label-selector.js';
import type { Pool } from '../../src/config/model.js';
import type { IPFamily } from '../../src/net/ip.js';
import type { FailureReason, ServiceRequest } from './types.js';

/** A pool's serviceAllocation constraints (namespaces, namespace and service selectors) hold. */
export function poolServes(pool: Pool, req: ServiceRequest): boolean {
  const sa = pool.serviceAllocation;
  if (!sa) return true;
  if (sa.namespaces.length > 0 && !sa.namespaces.includes(req.namespace)) return false;
  if (sa.namespaceSelectors.length > 0 && !anySelectorMatches(sa.namespaceSelectors, req.namespaceLabels)) return false;
  if (sa.serviceSelectors.length > 0 && !anySelectorMatches(sa.serviceSelectors, req.labels)) return false;
  return true;
}

/** Lower priority first, pools without one last, then by name. */
export function comparePools(a: Pool, b: Pool): number {
  const pa = a.serviceAllocation?.priority ?? Number.POSITIVE_INFINITY;
  const pb = b.serviceAllocation?.priority ?? Number.POSITIVE_INFINITY;
  if (pa !== pb) return pa < pb ? -1 : 1;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

function sameSelector(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && a[k] === b[k]);
}

/**
 * Whether `req` may use an IP that `holder` already uses (MetalLB's rules): both carry the
 * same sharing key, no protocol+port is used by both, and both are Cluster, or both Local
 * with identical selectors (so both would be announced from the same nodes).
 */
export function sharingProblem(
  req: ServiceRequest,
  holder: ServiceRequest,
): { reason: FailureReason; message: string } | undefined {
  if (!req.sharingKey || !holder.sharingKey) {
    return {
      reason: 'RequestedIPInUse',
      message: `in use by ${holder.key}${holder.sharingKey ? '' : ' (no sharing key)'}`,
    };
  }
  if (req.sharingKey !== holder.sharingKey) {
    return {
      reason: 'SharingKeyMismatch',
      message: `shared by ${holder.key} with key "${holder.sharingKey}", not "${req.sharingKey}"`,
    };
  }
  for (const p of req.ports) {
    if (holder.ports.some((h) => h.port === p.port && h.protocol === p.protocol)) {
      return { reason: 'PortConflict', message: `${p.protocol}/${p.port} is already used on this IP by ${holder.key}` };
    }
  }
  if (req.trafficPolicy !== holder.trafficPolicy) {
    return {
      reason: 'PolicyMismatch',
      message: `externalTrafficPolicy ${req.trafficPolicy} differs from ${holder.key}'s ${holder.trafficPolicy}`,
    };
  }
  if (req.trafficPolicy === 'Local' && !sameSelector(req.selector, holder.selector)) {
    return {
      reason: 'PolicyMismatch',
      message: `externalTrafficPolicy Local needs the same selector as ${holder.key}`,
    };
  }
  return undefined;
}

export function otherFamily(f: IPFamily): IPFamily {
  return f === 'IPv4' ? 'IPv6' : 'IPv4';
}

/** The families to assign, in the Service's order. */
export function wantedFamilies(req: ServiceRequest): IPFamily[] {
  if (req.requestedIPs.length > 0) {
    const fams = req.requestedIPs.map((ip) => ip.family);
    return [...fams].sort((a, b) => req.families.indexOf(a) - req.families.indexOf(b));
  }
  const primary = req.families[0] ?? 'IPv4';
  if (req.familyPolicy === 'SingleStack') return [primary];
  return [primary, req.families[1] ?? otherFamily(primary)];
}

/** Why the request cannot be served at all, whatever the pools. */
export function requestProblem(req: ServiceRequest): string | undefined {
  const fams = req.requestedIPs.map((ip) => ip.family);
  if (new Set(fams).size !== fams.length) return 'at most one requested address per family';
  if (req.familyPolicy === 'SingleStack' && req.requestedIPs.length > 1)
    return 'a SingleStack Service takes one address';
  if (req.requestedIPs.length === 1 && req.familyPolicy === 'RequireDualStack')
    return 'RequireDualStack needs one requested address per family';
  return undefined;
}
