/**
 * Service defaulting and allocation as kube-apiserver does it: type, ipFamilies and
 * ipFamilyPolicy, clusterIP(s) from a service CIDR per family, nodePorts for NodePort and
 * LoadBalancer Services (unless allocateLoadBalancerNodePorts is false), healthCheckNodePort
 * for externalTrafficPolicy Local, and the immutable fields.
 */
import { cidrContains, cidrToRange, parseCIDR, type CIDR } from '../../src/net/cidr.js';
import { formatIP, tryParseIP, type IPFamily } from '../../src/net/ip.js';
import type { FieldCause } from './schema.js';

type Obj = Record<string, unknown>;

export interface ServiceNetworkOptions {
  /** One CIDR per family; the first is the cluster's primary family. */
  readonly serviceCIDRs?: readonly string[];
  readonly nodePortRange?: readonly [number, number];
}

export class ServiceInvalid extends Error {
  constructor(readonly causes: FieldCause[]) {
    super(causes.map((c) => c.message).join(', '));
  }
}

function invalid(field: string, message: string, reason: FieldCause['reason'] = 'FieldValueInvalid'): never {
  throw new ServiceInvalid([{ field, reason, message: `${field}: ${message}` }]);
}

function asObj(v: unknown): Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {};
}

/**
 * Cluster IPs never leave the API server, so they come from ranges no user writes in a pool:
 * 198.19.0.0/16 (RFC 2544's benchmark block, 65,534 addresses) and the last /112 of the
 * IPv6 documentation prefix.
 */
export const DEFAULT_SERVICE_CIDRS: readonly string[] = ['198.19.0.0/16', '2001:db8:ffff:ffff::/112'];

export class ServiceNetwork {
  private readonly cidrs: CIDR[];
  private readonly usedIPs = new Set<string>();
  private readonly usedPorts = new Set<number>();
  /** What the admit in progress took, to give back if it fails. */
  private journal: { ips: string[]; ports: number[] } | undefined;
  private readonly portRange: readonly [number, number];
  private readonly cursor = new Map<IPFamily, bigint>();
  private portCursor: number;

  constructor(opts: ServiceNetworkOptions = {}) {
    this.cidrs = (opts.serviceCIDRs ?? DEFAULT_SERVICE_CIDRS).map(parseCIDR);
    this.portRange = opts.nodePortRange ?? [30000, 32767];
    this.portCursor = this.portRange[0];
  }

  families(): IPFamily[] {
    return this.cidrs.map((c) => c.family);
  }

  private cidrFor(family: IPFamily): CIDR | undefined {
    return this.cidrs.find((c) => c.family === family);
  }

  private allocateIP(family: IPFamily, field: string): string {
    const cidr = this.cidrFor(family);
    if (!cidr) invalid(field, `Invalid value: "${family}": this cluster has no ${family} service CIDR`);
    const r = cidrToRange(cidr);
    const first = r.first + 1n;
    const last = family === 'IPv4' ? r.last - 1n : r.last;
    const span = last - first + 1n;
    let v = this.cursor.get(family) ?? first;
    for (let i = 0n; i < span; i++) {
      if (v > last) v = first;
      const text = formatIP({ family, value: v });
      v++;
      if (!this.usedIPs.has(text)) {
        this.usedIPs.add(text);
        this.journal?.ips.push(text);
        this.cursor.set(family, v);
        return text;
      }
    }
    return invalid(field, `Internal error: failed to allocate a serviceIP: range is full`);
  }

  private reserveIP(ip: string, field: string): string {
    const parsed = tryParseIP(ip);
    if (!parsed) invalid(field, `Invalid value: "${ip}": must be a valid IP address`);
    const cidr = this.cidrFor(parsed.family);
    if (!cidr || !cidrContains(cidr, parsed)) {
      invalid(
        field,
        `Invalid value: "${ip}": provided IP is not in the valid range. The range of valid IPs is ${this.cidrs.map((c) => `${formatIP({ family: c.family, value: c.base })}/${c.prefixLength}`).join(',')}`,
      );
    }
    const text = formatIP(parsed);
    if (this.usedIPs.has(text)) invalid(field, `Invalid value: "${ip}": provided IP is already allocated`);
    this.usedIPs.add(text);
    this.journal?.ips.push(text);
    return text;
  }

  private allocatePort(field: string): number {
    const [lo, hi] = this.portRange;
    for (let i = 0; i <= hi - lo; i++) {
      const p = this.portCursor;
      this.portCursor = this.portCursor >= hi ? lo : this.portCursor + 1;
      if (!this.usedPorts.has(p)) {
        this.usedPorts.add(p);
        this.journal?.ports.push(p);
        return p;
      }
    }
    return invalid(field, 'Internal error: failed to allocate a nodePort: range is full');
  }

  private reservePort(p: number, field: string): number {
    const [lo, hi] = this.portRange;
    if (p < lo || p > hi)
      invalid(
        field,
        `Invalid value: ${p}: provided port is not in the valid range. The range of valid ports is ${lo}-${hi}`,
      );
    if (this.usedPorts.has(p)) invalid(field, `Invalid value: ${p}: provided port is already allocated`);
    this.usedPorts.add(p);
    this.journal?.ports.push(p);
    return p;
  }

  /** Frees what a stored Service holds. */
  release(svc: Obj): void {
    const spec = asObj(svc['spec']);
    for (const ip of (spec['clusterIPs'] as string[] | undefined) ?? []) this.usedIPs.delete(ip);
    for (const p of (spec['ports'] as Obj[] | undefined) ?? [])
      if (typeof p['nodePort'] === 'number') this.usedPorts.delete(p['nodePort']);
    if (typeof spec['healthCheckNodePort'] === 'number') this.usedPorts.delete(spec['healthCheckNodePort']);
  }

  /**
   * Defaults and allocates for a create (`old` undefined) or an update. Allocation is
   * transactional: on error nothing stays reserved.
   */
  admit(svc: Obj, old: Obj | undefined): Obj {
    if (old) this.release(old);
    this.journal = { ips: [], ports: [] };
    try {
      return this.admitInner(structuredClone(svc), old);
    } catch (err) {
      for (const ip of this.journal.ips) this.usedIPs.delete(ip);
      for (const p of this.journal.ports) this.usedPorts.delete(p);
      if (old) this.retake(old);
      throw err;
    } finally {
      this.journal = undefined;
    }
  }

  /** Re-marks what a stored Service holds (after a failed update released it). */
  private retake(svc: Obj): void {
    const spec = asObj(svc['spec']);
    for (const ip of (spec['clusterIPs'] as string[] | undefined) ?? []) if (ip !== 'None') this.usedIPs.add(ip);
    for (const p of (spec['ports'] as Obj[] | undefined) ?? [])
      if (typeof p['nodePort'] === 'number') this.usedPorts.add(p['nodePort']);
    if (typeof spec['healthCheckNodePort'] === 'number') this.usedPorts.add(spec['healthCheckNodePort']);
  }

  private admitInner(svc: Obj, old: Obj | undefined): Obj {
    const spec = asObj(svc['spec']);
    svc['spec'] = spec;
    const oldSpec = old ? asObj(old['spec']) : undefined;
    const type = (spec['type'] as string | undefined) ?? 'ClusterIP';
    if (!['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'].includes(type)) {
      invalid(
        'spec.type',
        `Unsupported value: "${type}": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"`,
        'FieldValueNotSupported',
      );
    }
    spec['type'] = type;
    spec['sessionAffinity'] ??= 'None';
    const ports = ((spec['ports'] as Obj[] | undefined) ?? []).map((p) => ({ ...p }));
    if (type !== 'ExternalName' && spec['clusterIP'] !== 'None' && ports.length === 0) {
      invalid('spec.ports', 'Required value', 'FieldValueRequired');
    }
    ports.forEach((p, i) => {
      p['protocol'] ??= 'TCP';
      if (typeof p['port'] !== 'number' || p['port'] < 1 || p['port'] > 65535) {
        invalid(
          `spec.ports[${i}].port`,
          `Invalid value: ${JSON.stringify(p['port'])}: must be between 1 and 65535, inclusive`,
        );
      }
      p['targetPort'] ??= p['port'];
      if (ports.length > 1 && !p['name']) invalid(`spec.ports[${i}].name`, 'Required value', 'FieldValueRequired');
    });
    const seen = new Set<string>();
    ports.forEach((p, i) => {
      const k = `${String(p['protocol'])}/${String(p['port'])}`;
      if (seen.has(k))
        invalid(
          `spec.ports[${i}]`,
          `Duplicate value: {"port":${String(p['port'])},"protocol":"${String(p['protocol'])}"}`,
        );
      seen.add(k);
    });
    spec['ports'] = ports;

    if (
      oldSpec &&
      type === 'LoadBalancer' &&
      oldSpec['type'] === 'LoadBalancer' &&
      (oldSpec['loadBalancerClass'] ?? null) !== (spec['loadBalancerClass'] ?? null)
    ) {
      invalid(
        'spec.loadBalancerClass',
        'Invalid value: "' + String(spec['loadBalancerClass'] ?? 'null') + '": may not change once set',
      );
    }
    if (spec['loadBalancerClass'] !== undefined && type !== 'LoadBalancer') {
      invalid(
        'spec.loadBalancerClass',
        "Forbidden: may only be used when `type` is 'LoadBalancer'",
        'FieldValueForbidden',
      );
    }

    if (type === 'ExternalName') {
      delete spec['clusterIP'];
      delete spec['clusterIPs'];
      delete spec['ipFamilies'];
      delete spec['ipFamilyPolicy'];
      return svc;
    }

    this.assignClusterIPs(spec, oldSpec);
    this.assignNodePorts(spec, oldSpec, type);
    if (type === 'LoadBalancer' || type === 'NodePort') spec['externalTrafficPolicy'] ??= 'Cluster';
    else delete spec['externalTrafficPolicy'];
    spec['internalTrafficPolicy'] ??= 'Cluster';
    return svc;
  }

  private assignClusterIPs(spec: Obj, oldSpec: Obj | undefined): void {
    // An update that omits allocated values keeps them (kube's patchAllocatedValues).
    if (
      oldSpec &&
      spec['clusterIP'] === undefined &&
      spec['clusterIPs'] === undefined &&
      oldSpec['clusterIP'] !== undefined
    ) {
      spec['clusterIP'] = oldSpec['clusterIP'];
      spec['clusterIPs'] = oldSpec['clusterIPs'];
      spec['ipFamilies'] ??= oldSpec['ipFamilies'];
      spec['ipFamilyPolicy'] ??= oldSpec['ipFamilyPolicy'];
    }
    if (oldSpec && oldSpec['clusterIP'] !== undefined && spec['clusterIP'] !== oldSpec['clusterIP']) {
      invalid(
        'spec.clusterIPs[0]',
        `Invalid value: ${JSON.stringify(spec['clusterIP'] ?? '')}: may not change once set`,
      );
    }
    const headless = spec['clusterIP'] === 'None';
    const requested: string[] = (
      (spec['clusterIPs'] as string[] | undefined) ?? (spec['clusterIP'] ? [spec['clusterIP'] as string] : [])
    ).filter((x) => x !== '');
    const cluster = this.families();
    const policy = (spec['ipFamilyPolicy'] as string | undefined) ?? 'SingleStack';
    if (!['SingleStack', 'PreferDualStack', 'RequireDualStack'].includes(policy)) {
      invalid(
        'spec.ipFamilyPolicy',
        `Unsupported value: "${policy}": supported values: "PreferDualStack", "RequireDualStack", "SingleStack"`,
        'FieldValueNotSupported',
      );
    }
    let families = (spec['ipFamilies'] as IPFamily[] | undefined) ?? [];
    families.forEach((f, i) => {
      if (f !== 'IPv4' && f !== 'IPv6')
        invalid(
          `spec.ipFamilies[${i}]`,
          `Unsupported value: "${String(f)}": supported values: "IPv4", "IPv6"`,
          'FieldValueNotSupported',
        );
      if (!headless && !cluster.includes(f) && (policy !== 'PreferDualStack' || i === 0)) {
        invalid(`spec.ipFamilies[${i}]`, `Invalid value: "${f}": not configured on this cluster`);
      }
    });
    if (families.length === 2 && families[0] === families[1])
      invalid('spec.ipFamilies[1]', `Duplicate value: "${families[1]!}"`);
    if (families.length === 0) {
      families = requested.filter((ip) => ip !== 'None').map((ip) => tryParseIP(ip)?.family ?? 'IPv4');
    }
    if (families.length === 0) families = [cluster[0] ?? 'IPv4'];
    if (policy === 'SingleStack') {
      if (families.length > 1)
        invalid(
          'spec.ipFamilies',
          `Invalid value: ${JSON.stringify(families)}: when spec.ipFamilyPolicy is SingleStack, at most one family may be specified`,
        );
    } else if (families.length === 1) {
      const other = cluster.find((f) => f !== families[0]);
      if (other) families = [families[0]!, other];
      else if (policy === 'RequireDualStack')
        invalid(
          'spec.ipFamilyPolicy',
          'Invalid value: "RequireDualStack": this cluster is not configured for dual-stack services',
        );
    }
    families = families.filter((f) => cluster.includes(f) || headless);
    spec['ipFamilyPolicy'] = policy;
    spec['ipFamilies'] = families;
    if (headless) {
      spec['clusterIP'] = 'None';
      spec['clusterIPs'] = ['None'];
      return;
    }
    const ips = families.map((f, i) => {
      const want = requested[i];
      if (want !== undefined) {
        if (tryParseIP(want)?.family !== f)
          invalid(`spec.clusterIPs[${i}]`, `Invalid value: "${want}": expected an ${f} address`);
        return this.reserveIP(want, `spec.clusterIPs[${i}]`);
      }
      return this.allocateIP(f, `spec.clusterIPs[${i}]`);
    });
    spec['clusterIP'] = ips[0];
    spec['clusterIPs'] = ips;
  }

  private assignNodePorts(spec: Obj, oldSpec: Obj | undefined, type: string): void {
    const ports = spec['ports'] as Obj[];
    const oldPorts = (oldSpec?.['ports'] as Obj[] | undefined) ?? [];
    if (type === 'LoadBalancer') spec['allocateLoadBalancerNodePorts'] ??= true;
    else delete spec['allocateLoadBalancerNodePorts'];
    const wantPorts =
      type === 'NodePort' || (type === 'LoadBalancer' && spec['allocateLoadBalancerNodePorts'] !== false);
    ports.forEach((p, i) => {
      const field = `spec.ports[${i}].nodePort`;
      if (type === 'ClusterIP') {
        delete p['nodePort'];
        return;
      }
      if (typeof p['nodePort'] === 'number' && p['nodePort'] !== 0) {
        p['nodePort'] = this.reservePort(p['nodePort'], field);
        return;
      }
      const prior = oldPorts.find((o) => o['port'] === p['port'] && (o['protocol'] ?? 'TCP') === p['protocol']);
      if (typeof prior?.['nodePort'] === 'number') p['nodePort'] = this.reservePort(prior['nodePort'], field);
      else if (wantPorts) p['nodePort'] = this.allocatePort(field);
      else delete p['nodePort'];
    });
    const local = spec['externalTrafficPolicy'] === 'Local' && type === 'LoadBalancer';
    if (local) {
      const hc = spec['healthCheckNodePort'] ?? oldSpec?.['healthCheckNodePort'];
      spec['healthCheckNodePort'] =
        typeof hc === 'number' && hc !== 0
          ? this.reservePort(hc, 'spec.healthCheckNodePort')
          : this.allocatePort('spec.healthCheckNodePort');
    } else delete spec['healthCheckNodePort'];
  }
}
