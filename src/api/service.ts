/**
 * The Service rules the controller and the speaker share (pure): whether Herald is
 * responsible for a Service (type LoadBalancer, its loadBalancerClass), the addresses its
 * status shows, and its external traffic policy. Written once so the program that assigns
 * an IP and the one that announces it can never disagree about a Service.
 */
import { tryParseIP, type IP } from '../net/ip.js';

/** The fields of a core/v1 Service that Herald reads (a wire subset; everything optional). */
export interface ServiceObject {
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    creationTimestamp?: string;
    resourceVersion?: string;
    deletionTimestamp?: string;
  };
  spec?: ServiceSpecRules & {
    loadBalancerIP?: string;
    ipFamilies?: string[];
    ipFamilyPolicy?: string;
    ports?: { protocol?: string; port?: number }[];
    selector?: Record<string, string>;
  };
  status?: ServiceStatusRules & { conditions?: unknown[] };
  [k: string]: unknown;
}

/** The spec fields the rules read. `loadBalancerClass` may arrive as null from JSON. */
export interface ServiceSpecRules {
  type?: string;
  loadBalancerClass?: string | null;
  externalTrafficPolicy?: string;
}

export interface ServiceStatusRules {
  loadBalancer?: { ingress?: { ip?: string; hostname?: string; ipMode?: string }[] };
}

/** Why Herald leaves a Service alone. */
export type NotResponsible = 'notLoadBalancer' | 'otherLoadBalancerClass';

export type Responsibility = { readonly yes: true } | { readonly yes: false; readonly reason: NotResponsible };

export type TrafficPolicy = 'Cluster' | 'Local';

/** `namespace/name`; a Service without a namespace is in `default`. */
export function serviceKey(obj: { metadata: { name: string; namespace?: string } }): string {
  // join makes one flat string; a template literal makes a rope of three that every Map keeping the key retains (100k Services).
  return [obj.metadata.namespace ?? 'default', obj.metadata.name].join('/');
}

/**
 * Whether the Herald instance serving `lbClass` (undefined: the default, class-less
 * instance) is responsible for a Service: type LoadBalancer and exactly that class.
 */
export function responsibility(spec: ServiceSpecRules | undefined, lbClass: string | undefined): Responsibility {
  if (spec?.type !== 'LoadBalancer') return { yes: false, reason: 'notLoadBalancer' };
  if ((spec.loadBalancerClass ?? undefined) !== lbClass) return { yes: false, reason: 'otherLoadBalancerClass' };
  return { yes: true };
}

/** The addresses in status.loadBalancer.ingress, in order; hostnames and unparsable text left out. */
export function ingressIPs(status: ServiceStatusRules | undefined): IP[] {
  const out: IP[] = [];
  for (const i of status?.loadBalancer?.ingress ?? []) {
    const ip = i.ip ? tryParseIP(i.ip) : undefined;
    if (ip) out.push(ip);
  }
  return out;
}

/** `Local` only when asked for exactly; anything else (absent, misspelt) is `Cluster`, as kube-proxy reads it. */
export function trafficPolicy(spec: ServiceSpecRules | undefined): TrafficPolicy {
  return spec?.externalTrafficPolicy === 'Local' ? 'Local' : 'Cluster';
}
