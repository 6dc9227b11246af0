/**
 * Request bodies in Kubernetes' protobuf encoding (`application/vnd.kubernetes.protobuf`),
 * which kubectl sends for built-in kinds (`kubectl create namespace|deployment|service ...`):
 * the 4-byte magic `k8s\0`, then a runtime.Unknown envelope naming apiVersion and kind and
 * carrying the object's bytes. The object is turned into the JSON the same client would have
 * sent: Go's omitempty for zero values, inline (embedded) structs flattened, Time as RFC 3339,
 * IntOrString as a number or a string, Quantity as its string, bytes as base64. A field the
 * schema subset does not know is an error naming the type and field number, never dropped.
 */
import protobuf from 'protobufjs';
import { META_PROTO, RESOURCE_PROTO, RUNTIME_PROTO, UTIL_PROTO } from './schema-meta.js';
import { CORE_PROTO } from './schema-core.js';
import {
  APPS_PROTO,
  AUTHORIZATION_PROTO,
  COORDINATION_PROTO,
  DISCOVERY_PROTO,
  POLICY_PROTO,
  RBAC_PROTO,
} from './schema-groups.js';

export const PROTOBUF_MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

/** apiVersion/kind → protobuf message (full name without the leading dot). */
const KINDS: Readonly<Record<string, string>> = {
  'v1/Namespace': 'k8s.io.api.core.v1.Namespace',
  'v1/Service': 'k8s.io.api.core.v1.Service',
  'v1/ConfigMap': 'k8s.io.api.core.v1.ConfigMap',
  'v1/Secret': 'k8s.io.api.core.v1.Secret',
  'v1/ServiceAccount': 'k8s.io.api.core.v1.ServiceAccount',
  'v1/Pod': 'k8s.io.api.core.v1.Pod',
  'apps/v1/Deployment': 'k8s.io.api.apps.v1.Deployment',
  'apps/v1/ReplicaSet': 'k8s.io.api.apps.v1.ReplicaSet',
  'discovery.k8s.io/v1/EndpointSlice': 'k8s.io.api.discovery.v1.EndpointSlice',
  'rbac.authorization.k8s.io/v1/Role': 'k8s.io.api.rbac.v1.Role',
  'rbac.authorization.k8s.io/v1/ClusterRole': 'k8s.io.api.rbac.v1.ClusterRole',
  'rbac.authorization.k8s.io/v1/RoleBinding': 'k8s.io.api.rbac.v1.RoleBinding',
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': 'k8s.io.api.rbac.v1.ClusterRoleBinding',
  'policy/v1/PodDisruptionBudget': 'k8s.io.api.policy.v1.PodDisruptionBudget',
  'coordination.k8s.io/v1/Lease': 'k8s.io.api.coordination.v1.Lease',
  'authorization.k8s.io/v1/SubjectAccessReview': 'k8s.io.api.authorization.v1.SubjectAccessReview',
  'authorization.k8s.io/v1/LocalSubjectAccessReview': 'k8s.io.api.authorization.v1.LocalSubjectAccessReview',
  'authorization.k8s.io/v1/SelfSubjectAccessReview': 'k8s.io.api.authorization.v1.SelfSubjectAccessReview',
  'v1/DeleteOptions': 'k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions',
  'meta.k8s.io/v1/DeleteOptions': 'k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions',
};

/** The kinds a protobuf body may carry (apiVersion/kind). */
export const PROTOBUF_KINDS: readonly string[] = Object.keys(KINDS);

/**
 * Go fields that are pointers (`*int32`, `*bool`): present on the wire only when set, so a
 * zero value is kept. Every other zero scalar is what gogo-protobuf writes for an unset Go
 * value, which encoding/json would omit.
 */
const POINTERS = new Set([
  'DeploymentSpec.replicas',
  'ReplicaSetSpec.replicas',
  'revisionHistoryLimit',
  'progressDeadlineSeconds',
  'terminationGracePeriodSeconds',
  'activeDeadlineSeconds',
  'automountServiceAccountToken',
  'enableServiceLinks',
  'allocateLoadBalancerNodePorts',
  'ready',
  'serving',
  'terminating',
  'immutable',
  'optional',
  'privileged',
  'runAsNonRoot',
  'runAsUser',
  'runAsGroup',
  'readOnlyRootFilesystem',
  'allowPrivilegeEscalation',
  'fsGroup',
  'hostUsers',
  'setHostnameAsFQDN',
  'shareProcessNamespace',
  'defaultMode',
  'mode',
  'tolerationSeconds',
  'controller',
  'blockOwnerDeletion',
  'priority',
  'leaseDurationSeconds',
  'leaseTransitions',
  'deletionGracePeriodSeconds',
  'gracePeriodSeconds',
  'orphanDependents',
  'maxSurge',
  'maxUnavailable',
  'minAvailable',
]);

/** Embedded Go structs (`json:",inline"`): their fields belong to the parent object. */
const INLINE = new Set(['volumeSource', 'handler', 'localObjectReference']);

const META = 'k8s.io.apimachinery.pkg.apis.meta.v1';

export class ProtobufError extends Error {}

function buildRoot(): protobuf.Root {
  const root = new protobuf.Root();
  for (const text of [
    META_PROTO,
    UTIL_PROTO,
    RESOURCE_PROTO,
    RUNTIME_PROTO,
    CORE_PROTO,
    APPS_PROTO,
    DISCOVERY_PROTO,
    RBAC_PROTO,
    POLICY_PROTO,
    COORDINATION_PROTO,
    AUTHORIZATION_PROTO,
  ]) {
    protobuf.parse(text, root, { keepCase: true });
  }
  root.resolveAll();
  return root;
}

let cachedRoot: protobuf.Root | undefined;
function schema(): protobuf.Root {
  cachedRoot ??= buildRoot();
  return cachedRoot;
}

function int64(r: protobuf.Reader): number {
  return Number(String(r.int64()));
}

function scalar(type: string, r: protobuf.Reader): unknown {
  switch (type) {
    case 'string':
      return r.string();
    case 'bytes':
      return Buffer.from(r.bytes()).toString('base64');
    case 'bool':
      return r.bool();
    case 'int32':
      return r.int32();
    case 'int64':
      return int64(r);
    default:
      throw new ProtobufError(`unsupported scalar type ${type}`);
  }
}

function timeString(t: Record<string, unknown>, micro: boolean): string | undefined {
  const seconds = Number(t['seconds'] ?? 0);
  const nanos = Number(t['nanos'] ?? 0);
  if (seconds === 0 && nanos === 0) return undefined;
  const iso = new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, '');
  return micro ? `${iso}.${String(Math.floor(nanos / 1000)).padStart(6, '0')}Z` : `${iso}Z`;
}

/** A decoded message as the JSON value Kubernetes' JSON encoding would carry. */
function special(fullName: string, m: Record<string, unknown>): unknown {
  switch (fullName) {
    case `${META}.Time`:
      return timeString(m, false);
    case `${META}.MicroTime`:
      return timeString(m, true);
    case 'k8s.io.apimachinery.pkg.util.intstr.IntOrString':
      return Number(m['type'] ?? 0) === 1 ? (m['strVal'] ?? '') : (m['intVal'] ?? 0);
    case 'k8s.io.apimachinery.pkg.api.resource.Quantity':
      return m['string'] ?? '0';
    case 'k8s.io.api.authorization.v1.ExtraValue':
      // A []string in Go and in JSON; the message only wraps it for protobuf.
      return m['items'] ?? [];
    default:
      return m;
  }
}

function isZero(v: unknown): boolean {
  return v === '' || v === 0 || v === false || v === undefined;
}

function message(type: protobuf.Type, bytes: Uint8Array, path: string): unknown {
  const r = protobuf.Reader.create(bytes);
  const out: Record<string, unknown> = {};
  while (r.pos < r.len) {
    const tag = r.uint32();
    const id = tag >>> 3;
    const wire = tag & 7;
    const f = type.fieldsById[id];
    if (!f)
      throw new ProtobufError(
        `${path}: field ${id} of ${type.fullName.slice(1)} is not understood by this server; send the object as JSON or YAML (kubectl create -f / apply -f)`,
      );
    const at = `${path}.${f.name}`;
    if (f instanceof protobuf.MapField) {
      const entry = protobuf.Reader.create(r.bytes());
      let key = '';
      let value: unknown = f.resolvedType ? special(f.resolvedType.fullName.slice(1), {}) : '';
      while (entry.pos < entry.len) {
        const t = entry.uint32();
        if (t >>> 3 === 1) key = entry.string();
        else if (t >>> 3 === 2)
          value =
            f.resolvedType instanceof protobuf.Type
              ? message(f.resolvedType, entry.bytes(), `${at}[${key}]`)
              : scalar(f.type, entry);
        else entry.skipType(t & 7);
      }
      const map = (out[f.name] ??= {}) as Record<string, unknown>;
      map[key] = value;
      continue;
    }
    let values: unknown[];
    if (f.resolvedType instanceof protobuf.Type) values = [message(f.resolvedType, r.bytes(), at)];
    else if (f.resolvedType) throw new ProtobufError(`${at}: enums are not used by Kubernetes types`);
    else if (f.repeated && wire === 2 && f.type !== 'string' && f.type !== 'bytes') {
      // Packed repeated numbers.
      const end = r.uint32() + r.pos;
      values = [];
      while (r.pos < end) values.push(scalar(f.type, r));
    } else values = [scalar(f.type, r)];
    if (f.repeated) {
      const list = (out[f.name] ??= []) as unknown[];
      list.push(...values);
    } else out[f.name] = values[0];
  }
  for (const [k, v] of Object.entries(out)) {
    const f = type.fields[k];
    if (
      !f?.repeated &&
      !(f instanceof protobuf.MapField) &&
      isZero(v) &&
      !((POINTERS.has(k) || POINTERS.has(`${type.name}.${k}`)) && v !== '' && v !== undefined)
    )
      delete out[k];
    // A zero IntOrString targetPort means "the same as port" (the API server defaults it).
    if (k === 'targetPort' && v === 0) delete out[k];
  }
  for (const k of [...INLINE]) {
    const inner = out[k];
    if (inner !== undefined && typeof inner === 'object' && inner !== null && type.fields[k]) {
      delete out[k];
      Object.assign(out, inner);
    }
  }
  return special(type.fullName.slice(1), out);
}

/**
 * Decodes a protobuf request body into the JSON object it stands for (with apiVersion and
 * kind). Throws ProtobufError with a message for the client when it cannot.
 */
export function decodeProtobuf(body: Buffer): Record<string, unknown> {
  if (body.length < 4 || !body.subarray(0, 4).equals(PROTOBUF_MAGIC))
    throw new ProtobufError('the body does not start with the Kubernetes protobuf magic number');
  const root = schema();
  const unknown = message(
    root.lookupType('k8s.io.apimachinery.pkg.runtime.Unknown'),
    body.subarray(4),
    'Unknown',
  ) as Record<string, unknown>;
  const meta = (unknown['typeMeta'] ?? {}) as { apiVersion?: string; kind?: string };
  if (unknown['contentEncoding'])
    throw new ProtobufError(`content encoding ${String(unknown['contentEncoding'])} is not supported`);
  const gvk = `${meta.apiVersion ?? ''}/${meta.kind ?? ''}`;
  const name = KINDS[gvk];
  if (!name)
    throw new ProtobufError(
      `protobuf bodies are decoded for ${PROTOBUF_KINDS.join(', ')}; not for ${gvk} (send it as JSON or YAML)`,
    );
  const raw = Buffer.from(String(unknown['raw'] ?? ''), 'base64');
  const obj = message(root.lookupType(name), raw, meta.kind!) as Record<string, unknown>;
  return { apiVersion: meta.apiVersion, kind: meta.kind, ...obj };
}
