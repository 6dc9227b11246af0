/** The resource types Herald reads and writes. */
import { GROUP, KINDS, VERSION } from '../api/group.js';
import type { ResourceType } from './client.js';

const core = (plural: string, kind: string, namespaced = true): ResourceType => ({
  group: '',
  version: 'v1',
  plural,
  kind,
  namespaced,
});

export const SERVICES = core('services', 'Service');
export const NODES = core('nodes', 'Node', false);
export const NAMESPACES = core('namespaces', 'Namespace', false);
export const SECRETS = core('secrets', 'Secret');
export const CONFIGMAPS = core('configmaps', 'ConfigMap');
export const PODS = core('pods', 'Pod');
export const EVENTS = core('events', 'Event');
export const ENDPOINT_SLICES: ResourceType = {
  group: 'discovery.k8s.io',
  version: 'v1',
  plural: 'endpointslices',
  kind: 'EndpointSlice',
  namespaced: true,
};
export const LEASES: ResourceType = {
  group: 'coordination.k8s.io',
  version: 'v1',
  plural: 'leases',
  kind: 'Lease',
  namespaced: true,
};
export const CRDS: ResourceType = {
  group: 'apiextensions.k8s.io',
  version: 'v1',
  plural: 'customresourcedefinitions',
  kind: 'CustomResourceDefinition',
  namespaced: false,
};

/** Herald's own kinds, all namespaced, by kind name. */
export function heraldResource(kind: string): ResourceType {
  const info = KINDS.find((k) => k.kind === kind);
  if (!info) throw new Error(`unknown Herald kind ${kind}`);
  return { group: GROUP, version: VERSION, plural: info.plural, kind: info.kind, namespaced: true };
}
