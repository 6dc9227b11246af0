/**
 * Authentication by bearer token and RBAC authorization over the stored Roles,
 * ClusterRoles and their bindings, following kube-apiserver's rule matching.
 */

export interface UserInfo {
  readonly name: string;
  readonly groups: readonly string[];
}

export interface Attributes {
  readonly user: UserInfo;
  readonly verb: string;
  /** Resource requests. */
  readonly apiGroup?: string;
  readonly resource?: string;
  readonly subresource?: string;
  readonly namespace?: string;
  readonly name?: string;
  /** Non-resource requests (discovery, /version). */
  readonly path?: string;
}

interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

interface Subject {
  kind: string;
  name: string;
  namespace?: string;
}

interface RoleRef {
  kind: string;
  name: string;
}

type Obj = Record<string, unknown>;

export interface RbacSource {
  clusterRoles(): readonly Obj[];
  clusterRoleBindings(): readonly Obj[];
  roles(namespace: string): readonly Obj[];
  roleBindings(namespace: string): readonly Obj[];
}

export function serviceAccountUser(namespace: string, name: string): UserInfo {
  return {
    name: `system:serviceaccount:${namespace}:${name}`,
    groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'],
  };
}

function subjectMatches(s: Subject, user: UserInfo, bindingNamespace: string | undefined): boolean {
  switch (s.kind) {
    case 'User':
      return s.name === user.name;
    case 'Group':
      return user.groups.includes(s.name);
    case 'ServiceAccount': {
      const ns = s.namespace ?? bindingNamespace;
      return user.name === `system:serviceaccount:${ns ?? ''}:${s.name}`;
    }
    default:
      return false;
  }
}

function has(list: readonly string[] | undefined, value: string): boolean {
  return (list ?? []).some((x) => x === '*' || x === value);
}

function ruleAllows(rule: PolicyRule, a: Attributes): boolean {
  if (!has(rule.verbs, a.verb)) return false;
  if (a.path !== undefined) {
    return (rule.nonResourceURLs ?? []).some(
      (u) => u === '*' || u === a.path || (u.endsWith('*') && a.path!.startsWith(u.slice(0, -1))),
    );
  }
  if (!has(rule.apiGroups, a.apiGroup ?? '')) return false;
  const full = a.subresource ? `${a.resource ?? ''}/${a.subresource}` : (a.resource ?? '');
  const resOk = (rule.resources ?? []).some(
    (r) =>
      r === '*' ||
      r === full ||
      (a.subresource !== undefined && r === `*/${a.subresource}`) ||
      (a.subresource === undefined ? false : r === `${a.resource ?? ''}/*`),
  );
  if (!resOk) return false;
  if (rule.resourceNames && rule.resourceNames.length > 0) {
    return a.name !== undefined && rule.resourceNames.includes(a.name);
  }
  return true;
}

/** Paths every authenticated user may read, like kube's system:discovery and system:public-info-viewer. */
const PUBLIC_PATHS = [
  /^\/api(\/v1)?\/?$/,
  /^\/apis(\/[^/]+(\/[^/]+)?)?\/?$/,
  /^\/version\/?$/,
  /^\/healthz/,
  /^\/readyz/,
  /^\/livez/,
  /^\/openapi\//,
];

/** What kube's system:basic-user grants every authenticated user: asking about itself. */
const SELF_REVIEWS = new Set(['selfsubjectaccessreviews', 'selfsubjectrulesreviews']);

function describeSubject(s: Subject): string {
  return s.kind === 'ServiceAccount' && s.namespace ? `${s.kind} "${s.namespace}/${s.name}"` : `${s.kind} "${s.name}"`;
}

/** Whether RBAC allows the request, and which binding allowed it (kube-apiserver's reason text). */
export function authorize(src: RbacSource, a: Attributes): { allowed: boolean; reason?: string } {
  if (a.user.groups.includes('system:masters')) return { allowed: true };
  const authenticated = a.user.groups.includes('system:authenticated');
  if (authenticated && a.path !== undefined && a.verb === 'get' && PUBLIC_PATHS.some((p) => p.test(a.path!)))
    return { allowed: true };
  if (
    authenticated &&
    a.verb === 'create' &&
    a.apiGroup === 'authorization.k8s.io' &&
    SELF_REVIEWS.has(a.resource ?? '') &&
    a.subresource === undefined
  )
    return { allowed: true };
  const rulesOf = (ref: RoleRef, ns: string | undefined): PolicyRule[] => {
    const pool = ref.kind === 'ClusterRole' ? src.clusterRoles() : ns ? src.roles(ns) : [];
    const role = pool.find((r) => (r['metadata'] as Obj)['name'] === ref.name);
    return (role?.['rules'] as PolicyRule[] | undefined) ?? [];
  };
  for (const b of src.clusterRoleBindings()) {
    const subject = ((b['subjects'] as Subject[] | undefined) ?? []).find((s) => subjectMatches(s, a.user, undefined));
    if (!subject) continue;
    const ref = b['roleRef'] as RoleRef;
    if (rulesOf(ref, undefined).some((r) => ruleAllows(r, a))) {
      return {
        allowed: true,
        reason: `RBAC: allowed by ClusterRoleBinding "${String((b['metadata'] as Obj)['name'])}" of ClusterRole "${ref.name}" to ${describeSubject(subject)}`,
      };
    }
  }
  if (a.namespace) {
    for (const b of src.roleBindings(a.namespace)) {
      const subject = ((b['subjects'] as Subject[] | undefined) ?? []).find((s) =>
        subjectMatches(s, a.user, a.namespace),
      );
      if (!subject) continue;
      // A RoleBinding grants only inside its namespace, even when it points at a ClusterRole.
      const ref = b['roleRef'] as RoleRef;
      if (rulesOf(ref, a.namespace).some((r) => ruleAllows(r, a))) {
        return {
          allowed: true,
          reason: `RBAC: allowed by RoleBinding "${String((b['metadata'] as Obj)['name'])}/${a.namespace}" of ${ref.kind} "${ref.name}" to ${describeSubject(subject)}`,
        };
      }
    }
  }
  return { allowed: false };
}

export function forbiddenMessage(a: Attributes): string {
  if (a.path !== undefined) return `forbidden: User "${a.user.name}" cannot ${a.verb} path "${a.path}"`;
  const res = a.subresource ? `${a.resource ?? ''}/${a.subresource}` : (a.resource ?? '');
  const subject = a.name ? `${a.resource ?? ''} "${a.name}"` : (a.resource ?? '');
  const scope = a.namespace ? ` in the namespace "${a.namespace}"` : a.resource ? ' at the cluster scope' : '';
  return `${subject} is forbidden: User "${a.user.name}" cannot ${a.verb} resource "${res}" in API group "${a.apiGroup ?? ''}"${scope}`;
}
