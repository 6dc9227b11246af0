/**
 * Emulating an older kube-apiserver for compatibility tests: fields a release did not have
 * are dropped from what is stored, as that release's decoder drops unknown fields.
 * - before 1.29: status.loadBalancer.ingress[].ipMode (Service LoadBalancerIPMode);
 * - before 1.21: spec.loadBalancerClass (ServiceLoadBalancerClass), and discovery.k8s.io/v1
 *   (EndpointSlice) is not served.
 */
import { isObj } from './objects.js';
import type { Obj } from './store.js';

/** Whether Kubernetes 1.`minor` served the group/version (EndpointSlice v1 came in 1.21). */
export function servedInVersion(group: string, version: string, minor: number): boolean {
  return !(group === 'discovery.k8s.io' && version === 'v1' && minor < 21);
}

/** Drops from a Service what a server of Kubernetes 1.`minor` would not store. */
export function pruneServiceForVersion(svc: Obj, minor: number): Obj {
  let out = svc;
  if (minor < 21 && isObj(out['spec']) && 'loadBalancerClass' in out['spec']) {
    const spec = { ...out['spec'] };
    delete spec['loadBalancerClass'];
    out = { ...out, spec };
  }
  const status = out['status'];
  if (
    minor < 29 &&
    isObj(status) &&
    isObj(status['loadBalancer']) &&
    Array.isArray(status['loadBalancer']['ingress'])
  ) {
    const ingress = (status['loadBalancer']['ingress'] as unknown[]).map((i) => {
      if (!isObj(i) || !('ipMode' in i)) return i;
      const copy = { ...i };
      delete copy['ipMode'];
      return copy;
    });
    out = { ...out, status: { ...status, loadBalancer: { ...status['loadBalancer'], ingress } } };
  }
  return out;
}
