/**
 * The speaker's Prometheus gauges. Frame, session and message figures are read from their
 * sources at scrape time (a deleted peer leaves no series behind); the announced IP counts
 * are set after each pass from what the announcers report.
 */
import { Gauge, type Registry } from 'prom-client';
import type { BgpBfdBinding } from './bfd/binding.js';
import { registerBfdMetrics } from './bfd/metrics.js';
import type { BgpSession } from './bgp/session.js';
import type { Announced } from './announcers/protocol.js';
import type { PacingState } from './layer2/announcer.js';

export interface SpeakerMetricSources {
  /** The L2 engine's frame counters (requests, answers, …), updated in place. */
  readonly l2Counters: Readonly<Record<string, number>>;
  /** The L2 sockets' own counters (reopened, socketErrors, stalls, kernelDrops); {} without an engine. */
  readonly l2SocketCounters: () => Readonly<Record<string, number>>;
  /** Gratuitous announcements the L2 pace holds back; undefined without an engine. */
  readonly l2Pacing?: () => PacingState | undefined;
  readonly bgpSessions: () => ReadonlyMap<string, Pick<BgpSession, 'state' | 'stats'>>;
  /** Peers that could not get a session at all (no password Secret, no listener, …), with the cause. */
  readonly bgpFailures?: () => ReadonlyMap<string, string>;
  readonly bfd: () => BgpBfdBinding;
}

export class SpeakerMetrics {
  private readonly announcedIPs: Gauge;

  constructor(registry: Registry, src: SpeakerMetricSources) {
    registerBfdMetrics(registry, src.bfd);
    this.announcedIPs = new Gauge({
      name: 'herald_speaker_announced_ips',
      help: 'Service IPs this node announces',
      labelNames: ['protocol'],
      registers: [registry],
    });
    const l2Frames: Gauge = new Gauge({
      name: 'herald_speaker_l2_frames_total',
      help: 'ARP/NDP requests seen, answers sent, gratuitous announcements sent, malformed frames dropped, answers held back by the per-asker limit; sockets reopened, socket errors, stalls, frames the kernel dropped on a full queue',
      labelNames: ['kind'],
      registers: [registry],
      collect: () => {
        for (const [k, v] of Object.entries(src.l2Counters)) l2Frames.set({ kind: k }, v);
        for (const [k, v] of Object.entries(src.l2SocketCounters())) l2Frames.set({ kind: k }, v);
      },
    });
    const queued: Gauge = new Gauge({
      name: 'herald_speaker_l2_announcements_queued',
      help: 'Gratuitous ARP/NA announcements waiting for the interface pace (--l2-announce-rate): first ones (kind="first") and repeats due (kind="repeat")',
      labelNames: ['interface', 'kind'],
      registers: [registry],
      collect: () => {
        queued.reset();
        for (const [ifname, q] of src.l2Pacing?.()?.queued ?? []) {
          queued.set({ interface: ifname, kind: 'first' }, q.first);
          queued.set({ interface: ifname, kind: 'repeat' }, q.repeat);
        }
      },
    });
    const delayed: Gauge = new Gauge({
      name: 'herald_speaker_l2_announcements_delayed_total',
      help: 'Gratuitous ARP/NA announcements sent after their time because the interface pace (--l2-announce-rate) had no frame left',
      registers: [registry],
      collect: () => delayed.set(src.l2Pacing?.()?.delayed ?? 0),
    });
    const sessionUp: Gauge = new Gauge({
      name: 'herald_speaker_bgp_session_up',
      help: '1 when the BGP session is Established',
      labelNames: ['peer'],
      registers: [registry],
      collect: () => {
        sessionUp.reset();
        const sessions = src.bgpSessions();
        for (const [peer, s] of sessions) sessionUp.set({ peer }, s.state() === 'Established' ? 1 : 0);
        // A peer that never got a session is down too (so HeraldBGPSessionDown can fire for it).
        for (const peer of src.bgpFailures?.().keys() ?? []) if (!sessions.has(peer)) sessionUp.set({ peer }, 0);
      },
    });
    const bgpMessages: Gauge = new Gauge({
      name: 'herald_speaker_bgp_messages_total',
      help: 'BGP messages per peer: updates, keepalives and notifications, sent and received; prefixes announced',
      labelNames: ['peer', 'kind'],
      registers: [registry],
      collect: () => {
        bgpMessages.reset();
        for (const [peer, session] of src.bgpSessions()) {
          for (const [kind, v] of Object.entries(session.stats)) bgpMessages.set({ peer, kind }, v);
        }
      },
    });
  }

  /** After each pass: how many Service IPs a protocol announces. */
  announced(a: Announced): void {
    this.announcedIPs.set({ protocol: a.protocol }, a.ips.length);
  }
}
