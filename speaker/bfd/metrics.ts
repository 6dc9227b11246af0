/** Prometheus gauges of the BFD sessions, read from the binding at scrape time (a removed peer leaves no series). */
import { Gauge, type Registry } from 'prom-client';
import type { BgpBfdBinding } from './binding.js';

export function registerBfdMetrics(registry: Registry, binding: () => BgpBfdBinding): void {
  const up = new Gauge({
    name: 'herald_speaker_bfd_session_up',
    help: '1 when the BFD session of a BGP peer is Up',
    labelNames: ['peer'],
    registers: [registry],
    collect: () => {
      up.reset();
      for (const [peer, s] of binding().sessions()) up.set({ peer }, s.state === 'Up' ? 1 : 0);
    },
  });
  const packets = new Gauge({
    name: 'herald_speaker_bfd_packets_total',
    help: 'BFD control packets per peer: sent, received, discarded (bad TTL, authentication, discriminator); session down transitions',
    labelNames: ['peer', 'kind'],
    registers: [registry],
    collect: () => {
      packets.reset();
      for (const [peer, s] of binding().sessions()) {
        packets.set({ peer, kind: 'sent' }, s.packetsSent);
        packets.set({ peer, kind: 'received' }, s.packetsReceived);
        packets.set({ peer, kind: 'discarded' }, s.packetsDiscarded);
        packets.set({ peer, kind: 'downTransitions' }, s.downTransitions);
      }
    },
  });
}
