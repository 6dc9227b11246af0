/** API objects as parseConfig reads them, for the speaker's decision tests. */

/** A Herald object (IPAddressPool, L2Advertisement, BGPPeer, ...) in herald-system. */
export const heraldObject = (
  kind: string,
  name: string,
  spec: Record<string, unknown>,
  labels: Record<string, string> = {},
): Record<string, unknown> => ({
  apiVersion: 'herald.dev/v1beta1',
  kind,
  metadata: { name, namespace: 'herald-system', labels },
  spec,
});

/** A Node with its hostname label, and the NetworkUnavailable condition when asked. */
export const nodeObject = (
  name: string,
  labels: Record<string, string> = {},
  networkUnavailable = false,
): Record<string, unknown> => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } },
  status: { conditions: networkUnavailable ? [{ type: 'NetworkUnavailable', status: 'True' }] : [] },
});
