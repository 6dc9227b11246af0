/** Nodes, Namespaces and Secrets: the cluster objects the config model needs. */
import type { NamespaceInfo, NodeInfo, SecretInfo } from './model.js';
import type { Envelope } from './envelope.js';
import { isObject } from './reader.js';

export const EXCLUDE_FROM_LB_LABEL = 'node.kubernetes.io/exclude-from-external-load-balancers';

export function readNode(env: Envelope): NodeInfo {
  const status = env.root.value['status'];
  const conditions = isObject(status) && Array.isArray(status['conditions']) ? status['conditions'] : [];
  const networkUnavailable = conditions.some(
    (c: unknown) => isObject(c) && c['type'] === 'NetworkUnavailable' && c['status'] === 'True',
  );
  return {
    name: env.meta.name,
    labels: env.meta.labels,
    networkUnavailable,
    excludedFromLoadBalancers: Object.prototype.hasOwnProperty.call(env.meta.labels, EXCLUDE_FROM_LB_LABEL),
  };
}

export function readNamespace(env: Envelope): NamespaceInfo {
  return { name: env.meta.name, labels: env.meta.labels };
}

export function readSecret(env: Envelope): SecretInfo {
  const r = env.root;
  const data: Record<string, string> = {};
  const d = r.object('data');
  if (d) {
    for (const [k, v] of Object.entries(d.value)) {
      if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) d.error(k, 'must be base64 text');
      else data[k] = Buffer.from(v, 'base64').toString('utf8');
    }
  }
  const sd = r.object('stringData');
  if (sd) {
    for (const [k, v] of Object.entries(sd.value)) {
      if (typeof v !== 'string') sd.error(k, 'must be a string');
      else data[k] = v;
    }
  }
  return {
    name: env.meta.name,
    namespace: env.meta.namespace ?? 'default',
    type: r.string('type') ?? 'Opaque',
    data,
  };
}
