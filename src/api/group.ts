/** Herald's API group, version, kinds and annotations. */

export const GROUP = 'herald.dev';
export const VERSION = 'v1beta1';
export const API_VERSION = `${GROUP}/${VERSION}` as const;

export interface KindInfo {
  readonly kind: string;
  readonly plural: string;
  readonly singular: string;
  readonly shortName: string;
  /** The CRD file under crds/. */
  readonly file: string;
  /** Status-only kinds are written by Herald, never by users. */
  readonly statusOnly: boolean;
}

function kind(k: string, plural: string, shortName: string, statusOnly = false): KindInfo {
  const singular = k.toLowerCase();
  return { kind: k, plural, singular, shortName, file: `${singular}.yaml`, statusOnly };
}

export const KINDS: readonly KindInfo[] = [
  kind('IPAddressPool', 'ipaddresspools', 'ippool'),
  kind('L2Advertisement', 'l2advertisements', 'l2adv'),
  kind('BGPAdvertisement', 'bgpadvertisements', 'bgpadv'),
  kind('BGPPeer', 'bgppeers', 'bgpp'),
  kind('BFDProfile', 'bfdprofiles', 'bfdp'),
  kind('Community', 'communities', 'comm'),
  kind('ServiceL2Status', 'servicel2statuses', 'l2status', true),
  kind('ServiceBGPStatus', 'servicebgpstatuses', 'bgpstatus', true),
  kind('BGPNodeStatus', 'bgpnodestatuses', 'bgpnode', true),
  kind('BGPSessionState', 'bgpsessionstates', 'bgpsession', true),
  kind('ConfigurationState', 'configurationstates', 'cfgstate', true),
];
