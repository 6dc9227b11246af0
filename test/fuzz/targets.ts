/** Every fuzz target, in the order CI and the bench run them. */
import { bgpDecoder, bgpFramer } from './bgp.js';
import { configTarget } from './config.js';
import type { FuzzTarget } from './harness.js';
import { arpTarget, ethernetTarget, ndpTarget } from './layer2.js';
import { swimTarget } from './swim.js';

export const FUZZ_TARGETS: readonly FuzzTarget[] = [
  bgpDecoder,
  bgpFramer,
  arpTarget,
  ndpTarget,
  ethernetTarget,
  swimTarget,
  configTarget,
];

/** Outcomes each target must reach in a CI run, so a generator that stopped reaching the interesting cases fails. */
export const MUST_REACH: Readonly<Record<string, readonly string[]>> = {
  'bgp-decoder': ['roundtrip:open', 'roundtrip:update', 'ok:update', 'malformed:3/1', 'malformed:2/0', 'malformed:1/2'],
  'bgp-framer': ['ok:update', 'header:1/1'],
  arp: ['reply:arpReply', 'reply:probeReply', 'drop:multicastSender', 'drop:notOwned'],
  ndp: ['reply:solicitedAdvertisement', 'reply:dadProbe', 'drop:multicastSender', 'drop:badChecksum'],
  'ethernet-vlan': ['roundtrip', 'ok:vlans=2', 'drop:tooManyVlanTags'],
  'swim-datagram': ['roundtrip:pingReq', 'accepted:ping', 'drop:badMessage', 'drop:badSignature'],
  config: ['valid', 'invalid:IPAddressPool', 'invalid:BGPPeer'],
};
