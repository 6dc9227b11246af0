/** Object builders shared by the embedded API server's conformance tests (conformance-*.test.ts). */
import { heraldResource, type KubeObject } from '../../src/k8s/index.js';

export const POOLS = heraldResource('IPAddressPool');

/** An IPAddressPool in `default`. */
export function pool(name: string, addresses: string[], extra: Record<string, unknown> = {}): KubeObject {
  return { metadata: { name, namespace: 'default' }, spec: { addresses, ...extra } };
}

/** A LoadBalancer Service in `default` with one `http` port 80. */
export function svc(name: string, spec: Record<string, unknown> = {}, meta: Record<string, unknown> = {}): KubeObject {
  return {
    metadata: { name, namespace: 'default', ...meta },
    spec: { type: 'LoadBalancer', ports: [{ name: 'http', port: 80 }], ...spec },
  };
}
