/**
 * The resource types the server serves: built-in ones, and custom resources registered
 * when a CustomResourceDefinition is created.
 */
import type { CompiledSchema } from './schema.js';

export interface PrinterColumn {
  readonly name: string;
  readonly type: string;
  readonly jsonPath: string;
  readonly description?: string;
  readonly priority?: number;
  readonly format?: string;
}

export interface ResourceInfo {
  readonly group: string;
  readonly version: string;
  /** Plural, lower case: `services`. */
  readonly resource: string;
  readonly singular: string;
  readonly kind: string;
  readonly namespaced: boolean;
  readonly shortNames: readonly string[];
  readonly categories: readonly string[];
  readonly hasStatus: boolean;
  /** Serves the `/scale` subresource (autoscaling/v1 Scale over spec.replicas). */
  readonly hasScale?: boolean;
  /** Field selectors accepted beyond metadata.name and metadata.namespace. */
  readonly fields: readonly string[];
  /** Present for custom resources. */
  readonly schema?: CompiledSchema;
  readonly printerColumns?: readonly PrinterColumn[];
  /** Name of the CRD that defines this resource. */
  readonly crd?: string;
  /**
   * A review (TokenReview, SubjectAccessReview, ...): only `create`, answered at once and
   * never stored, like kube-apiserver's authentication.k8s.io and authorization.k8s.io.
   */
  readonly review?: true;
}

export const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'] as const;

export function groupVersion(info: Pick<ResourceInfo, 'group' | 'version'>): string {
  return info.group === '' ? info.version : `${info.group}/${info.version}`;
}

export function resourceKey(info: Pick<ResourceInfo, 'group' | 'resource'>): string {
  return info.group === '' ? info.resource : `${info.resource}.${info.group}`;
}

function builtin(
  group: string,
  version: string,
  resource: string,
  kind: string,
  opts: {
    namespaced?: boolean;
    shortNames?: string[];
    hasStatus?: boolean;
    hasScale?: boolean;
    fields?: string[];
    categories?: string[];
    review?: true;
  } = {},
): ResourceInfo {
  return {
    group,
    version,
    resource,
    singular: kind.toLowerCase(),
    kind,
    namespaced: opts.namespaced ?? true,
    shortNames: opts.shortNames ?? [],
    categories: opts.categories ?? [],
    hasStatus: opts.hasStatus ?? false,
    ...(opts.hasScale ? { hasScale: true } : {}),
    fields: opts.fields ?? [],
    ...(opts.review ? { review: true as const } : {}),
  };
}

/** The verbs a resource type serves (discovery, OpenAPI, and 405 for the others). */
export function verbsOf(info: Pick<ResourceInfo, 'review'>): readonly string[] {
  return info.review ? ['create'] : ALL_VERBS;
}

const EVENT_FIELDS = [
  'involvedObject.kind',
  'involvedObject.name',
  'involvedObject.namespace',
  'involvedObject.uid',
  'involvedObject.apiVersion',
  'reason',
  'type',
  'source',
  'reportingComponent',
];

export const BUILTIN_RESOURCES: readonly ResourceInfo[] = [
  builtin('', 'v1', 'namespaces', 'Namespace', {
    namespaced: false,
    shortNames: ['ns'],
    hasStatus: true,
    fields: ['status.phase'],
  }),
  builtin('', 'v1', 'services', 'Service', {
    shortNames: ['svc'],
    hasStatus: true,
    fields: ['spec.type', 'spec.clusterIP'],
    categories: ['all'],
  }),
  builtin('', 'v1', 'nodes', 'Node', {
    namespaced: false,
    shortNames: ['no'],
    hasStatus: true,
    fields: ['spec.unschedulable'],
  }),
  builtin('', 'v1', 'pods', 'Pod', {
    shortNames: ['po'],
    hasStatus: true,
    fields: ['spec.nodeName', 'status.phase', 'status.podIP', 'spec.serviceAccountName'],
    categories: ['all'],
  }),
  builtin('', 'v1', 'secrets', 'Secret', { fields: ['type'] }),
  builtin('', 'v1', 'configmaps', 'ConfigMap', { shortNames: ['cm'] }),
  builtin('', 'v1', 'serviceaccounts', 'ServiceAccount', { shortNames: ['sa'] }),
  builtin('', 'v1', 'endpoints', 'Endpoints', { shortNames: ['ep'] }),
  builtin('', 'v1', 'events', 'Event', { shortNames: ['ev'], fields: EVENT_FIELDS }),
  builtin('events.k8s.io', 'v1', 'events', 'Event', {
    shortNames: ['ev'],
    fields: ['regarding.kind', 'regarding.name', 'regarding.namespace', 'reason', 'type', 'reportingController'],
  }),
  builtin('discovery.k8s.io', 'v1', 'endpointslices', 'EndpointSlice', { fields: ['addressType'] }),
  builtin('coordination.k8s.io', 'v1', 'leases', 'Lease', { fields: ['spec.holderIdentity'] }),
  builtin('rbac.authorization.k8s.io', 'v1', 'roles', 'Role'),
  builtin('rbac.authorization.k8s.io', 'v1', 'rolebindings', 'RoleBinding'),
  builtin('rbac.authorization.k8s.io', 'v1', 'clusterroles', 'ClusterRole', { namespaced: false }),
  builtin('rbac.authorization.k8s.io', 'v1', 'clusterrolebindings', 'ClusterRoleBinding', { namespaced: false }),
  builtin('apiextensions.k8s.io', 'v1', 'customresourcedefinitions', 'CustomResourceDefinition', {
    namespaced: false,
    shortNames: ['crd', 'crds'],
    hasStatus: true,
  }),
  builtin('apps', 'v1', 'deployments', 'Deployment', {
    shortNames: ['deploy'],
    hasStatus: true,
    hasScale: true,
    categories: ['all'],
  }),
  builtin('apps', 'v1', 'replicasets', 'ReplicaSet', {
    shortNames: ['rs'],
    hasStatus: true,
    hasScale: true,
    categories: ['all'],
  }),
  builtin('apps', 'v1', 'daemonsets', 'DaemonSet', { shortNames: ['ds'], hasStatus: true, categories: ['all'] }),
  builtin('networking.k8s.io', 'v1', 'networkpolicies', 'NetworkPolicy', { shortNames: ['netpol'] }),
  builtin('policy', 'v1', 'poddisruptionbudgets', 'PodDisruptionBudget', { shortNames: ['pdb'], hasStatus: true }),
  builtin('networking.k8s.io', 'v1', 'networkpolicies', 'NetworkPolicy', { shortNames: ['netpol'] }),
  builtin('authentication.k8s.io', 'v1', 'tokenreviews', 'TokenReview', { namespaced: false, review: true }),
  builtin('authorization.k8s.io', 'v1', 'subjectaccessreviews', 'SubjectAccessReview', {
    namespaced: false,
    review: true,
  }),
  builtin('authorization.k8s.io', 'v1', 'selfsubjectaccessreviews', 'SelfSubjectAccessReview', {
    namespaced: false,
    review: true,
  }),
  builtin('authorization.k8s.io', 'v1', 'localsubjectaccessreviews', 'LocalSubjectAccessReview', { review: true }),
];

/** Looks resource types up by group/version/plural. */
export class Registry {
  private readonly byPath = new Map<string, ResourceInfo>();

  constructor(initial: readonly ResourceInfo[] = BUILTIN_RESOURCES) {
    for (const r of initial) this.add(r);
  }

  private static path(group: string, version: string, resource: string): string {
    return `${group}/${version}/${resource}`;
  }

  add(info: ResourceInfo): void {
    this.byPath.set(Registry.path(info.group, info.version, info.resource), info);
  }

  removeCrd(crdName: string): ResourceInfo[] {
    const removed = [...this.byPath.values()].filter((r) => r.crd === crdName);
    for (const r of removed) this.byPath.delete(Registry.path(r.group, r.version, r.resource));
    return removed;
  }

  lookup(group: string, version: string, resource: string): ResourceInfo | undefined {
    return this.byPath.get(Registry.path(group, version, resource));
  }

  all(): ResourceInfo[] {
    return [...this.byPath.values()];
  }

  groups(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const r of this.byPath.values()) {
      const versions = out.get(r.group) ?? [];
      if (!versions.includes(r.version)) versions.push(r.version);
      out.set(r.group, versions);
    }
    return out;
  }
}
