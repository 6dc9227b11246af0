/**
 * Names other programs and manifests depend on: the objects, labels, Lease names and field
 * managers Herald reads and writes by name. Changing one is an upgrade step (charts/,
 * manifests/ and RBAC name them too), so each lives here once and is imported everywhere.
 */

/** Herald's own namespace by default (its configuration, status objects, Leases, the memberlist Secret). */
export const HERALD_NAMESPACE = 'herald-system';
/** The controller's name: User-Agent and fieldManager of its writes, Event source, default Lease. */
export const CONTROLLER_NAME = 'herald-controller';
/** The speaker's name: User-Agent and fieldManager of its writes, Event source. */
export const SPEAKER_NAME = 'herald-speaker';
/** The controller's leader-election Lease (overridable with --lease-name). */
export const CONTROLLER_LEASE = 'herald-controller';
/** Each speaker's membership Lease is this prefix plus its node name. */
export const SPEAKER_LEASE_PREFIX = `${SPEAKER_NAME}-`;
/** The Secret holding the speakers' SWIM (memberlist) key, created by the controller. */
export const MEMBERLIST_SECRET = 'herald-memberlist';
/** The data key of MEMBERLIST_SECRET holding the key. */
export const MEMBERLIST_SECRET_KEY = 'secretkey';
/** Label on the per-node status objects naming the node that writes them. */
export const NODE_LABEL = 'herald.dev/node';
/** Kubernetes' label tying an EndpointSlice to its Service. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
