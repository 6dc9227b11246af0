/**
 * Admission of an object on create and update: the name and kind checks, and each kind's
 * defaulting and validation (custom resources against their schema, Service allocation and
 * status, Namespaces, Secrets, Pods and CustomResourceDefinitions).
 */
import { admitCrd } from './crd.js';
import { isObj, target, withoutKeys } from './objects.js';
import { groupVersion, type ResourceInfo } from './registry.js';
import { ServiceInvalid, type ServiceNetwork } from './services.js';
import { badRequest, invalidObject } from './status.js';
import type { Meta, Obj } from './store.js';
import { tryParseIP } from '../../src/net/ip.js';

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/** What kind-specific admission needs from the core: the Service allocator and the clock. */
export interface AdmissionContext {
  readonly services: ServiceNetwork;
  /** The current time as a metadata timestamp. */
  readonly timestamp: () => string;
}

/** Refuses a name the kind does not allow (RBAC path segment, DNS-1035, RFC 1123 label or subdomain). */
export function checkName(info: ResourceInfo, name: string): void {
  const t = target(info);
  const bad = (msg: string): never => {
    throw invalidObject(t, name, [
      {
        field: 'metadata.name',
        reason: 'FieldValueInvalid',
        message: `metadata.name: Invalid value: "${name}": ${msg}`,
      },
    ]);
  };
  if (info.group === 'rbac.authorization.k8s.io') {
    if (name === '.' || name === '..' || /[/%]/.test(name))
      bad('may not contain "/" or "%" and may not be "." or ".."');
    return;
  }
  if (info.resource === 'services') {
    if (name.length > 63 || !DNS_1035.test(name))
      bad(
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character",
      );
    return;
  }
  if (info.resource === 'namespaces') {
    if (name.length > 63 || !DNS_LABEL.test(name))
      bad(
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
      );
    return;
  }
  if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) {
    bad(
      "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
    );
  }
}

/** Refuses a body whose kind is not the one the URL names. */
export function checkKind(info: ResourceInfo, body: Record<string, unknown>): void {
  if (body['kind'] !== undefined && body['kind'] !== info.kind) {
    throw badRequest(
      `the API version in the data (${String(body['apiVersion'])}) does not match the expected API version (${groupVersion(info)}) or kind ${String(body['kind'])} is not ${info.kind}`,
    );
  }
}

/** Kind-specific defaulting and validation shared by create and update. */
export function admit(ctx: AdmissionContext, info: ResourceInfo, obj: Obj, old: Obj | undefined): Obj {
  const t = target(info);
  if (info.schema) {
    const r = info.schema.admit(obj, old);
    if (!r.ok) throw invalidObject(t, obj.metadata.name, r.causes);
    return r.object as Obj;
  }
  switch (`${info.group}/${info.resource}`) {
    case '/services': {
      try {
        const out = ctx.services.admit(obj, old);
        if (!old) out['status'] = { loadBalancer: {} };
        validateServiceStatus(info, out);
        return out as Obj;
      } catch (err) {
        if (err instanceof ServiceInvalid) throw invalidObject(t, obj.metadata.name, err.causes);
        throw err;
      }
    }
    case '/namespaces': {
      const labels = { ...(obj.metadata.labels ?? {}), 'kubernetes.io/metadata.name': obj.metadata.name };
      const spec = isObj(obj['spec']) ? obj['spec'] : {};
      return {
        ...obj,
        metadata: { ...obj.metadata, labels },
        spec: { finalizers: ['kubernetes'], ...spec },
        status: old ? old['status'] : { phase: 'Active' },
      } as Obj;
    }
    case '/secrets': {
      const data: Record<string, string> = { ...((obj['data'] as Record<string, string> | undefined) ?? {}) };
      for (const [k, v] of Object.entries((obj['stringData'] as Record<string, string> | undefined) ?? {})) {
        data[k] = Buffer.from(String(v), 'utf8').toString('base64');
      }
      const out = withoutKeys(obj, ['stringData']) as Obj;
      if (Object.keys(data).length > 0) out['data'] = data;
      out['type'] ??= 'Opaque';
      if (old && old['type'] !== out['type']) {
        throw invalidObject(t, obj.metadata.name, [
          {
            field: 'type',
            reason: 'FieldValueInvalid',
            message: `type: Invalid value: "${String(out['type'])}": field is immutable`,
          },
        ]);
      }
      return out;
    }
    case '/pods':
      if (!old && !isObj(obj['status'])) return { ...obj, status: { phase: 'Pending' } } as Obj;
      return obj;
    case 'apiextensions.k8s.io/customresourcedefinitions':
      return admitCrd(obj, ctx.timestamp());
    default:
      return obj;
  }
}

/** Checks a Service's status.loadBalancer.ingress entries: valid IPs, and an ipMode only beside an ip. */
export function validateServiceStatus(info: ResourceInfo, svc: Record<string, unknown>): void {
  const status = isObj(svc['status']) ? svc['status'] : {};
  const lb = isObj(status['loadBalancer']) ? status['loadBalancer'] : {};
  const ingress = Array.isArray(lb['ingress']) ? lb['ingress'] : [];
  ingress.forEach((ing: unknown, i: number) => {
    const entry = isObj(ing) ? ing : {};
    const field = `status.loadBalancer.ingress[${i}]`;
    if (entry['ip'] !== undefined && !tryParseIP(String(entry['ip']))) {
      throw invalidObject(target(info), String((svc['metadata'] as Meta).name), [
        {
          field: `${field}.ip`,
          reason: 'FieldValueInvalid',
          message: `${field}.ip: Invalid value: "${String(entry['ip'])}": must be a valid IP address`,
        },
      ]);
    }
    if (entry['ipMode'] !== undefined && entry['ip'] === undefined) {
      throw invalidObject(target(info), String((svc['metadata'] as Meta).name), [
        {
          field: `${field}.ipMode`,
          reason: 'FieldValueForbidden',
          message: `${field}.ipMode: Forbidden: may not be specified when \`ip\` is not`,
        },
      ]);
    }
    if (entry['ipMode'] !== undefined && entry['ipMode'] !== 'VIP' && entry['ipMode'] !== 'Proxy') {
      throw invalidObject(target(info), String((svc['metadata'] as Meta).name), [
        {
          field: `${field}.ipMode`,
          reason: 'FieldValueNotSupported',
          message: `${field}.ipMode: Unsupported value: "${String(entry['ipMode'])}": supported values: "Proxy", "VIP"`,
        },
      ]);
    }
  });
}
