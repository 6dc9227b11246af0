/**
 * Ties BGP sessions to BFD sessions (RFC 5882): a BGPPeer with a bfdProfile gets a BFD
 * session to its address, with the profile's timers (MetalLB's field meanings); when that BFD
 * session leaves Up because the path failed, the BGP session is reset at once, which withdraws
 * its routes, instead of waiting for the hold timer. A peer that signalled AdminDown
 * (RFC 5882 §3.2) is not a failure and resets nothing.
 */
import type { BGPSessionBFDStatus } from '../../src/api/types.js';
import type { BfdProfile, Peer } from '../../src/config/model.js';
import type { Logger } from '../../src/core/logger.js';
import { formatIP } from '../../src/net/ip.js';
import type { Clock } from '../../src/core/clock.js';
import type { NativeAddon } from '../../native/index.js';
import { BfdEngine } from './engine.js';
import { nativeBfdSockets, type BfdSockets } from './sockets.js';
import { DIAG, diagName, type BfdState } from './packet.js';
import type { Negotiated } from './session.js';

export interface BfdStatus {
  readonly state?: BfdState;
  /** Why the session last went down, as RFC 5880 names it. */
  readonly diagnostic?: string;
  readonly negotiated?: Negotiated;
  /** Why no BFD session runs for a peer that asks for one. */
  readonly error?: string;
}

export interface BfdBindingOptions {
  /** Undefined when the native addon is missing; `engineError` says why. */
  readonly engine: BfdEngine | undefined;
  readonly engineError?: string;
  readonly logger: Logger;
  /** Resets the peer's BGP session (BFD saw the path fail). */
  readonly resetBgp: (peer: string, reason: string) => void;
  /** Told when a BFD state changes (status and metrics). */
  readonly onChange?: () => void;
}

function fingerprint(p: Peer, prof: BfdProfile): string {
  return JSON.stringify([
    formatIP(p.peerAddress),
    p.sourceAddress ? formatIP(p.sourceAddress) : '',
    p.ebgpMultiHop,
    prof.receiveInterval,
    prof.transmitInterval,
    prof.detectMultiplier,
    prof.passiveMode,
    prof.minimumTtl,
  ]);
}

export class BgpBfdBinding {
  private readonly running = new Map<string, string>();
  private readonly errors = new Map<string, string>();

  constructor(private readonly opts: BfdBindingOptions) {}

  /** The peers of this node and the valid profiles: starts, restarts and ends BFD sessions. */
  apply(peers: readonly Peer[], profiles: ReadonlyMap<string, BfdProfile>): void {
    const want = new Map<string, { peer: Peer; profile: BfdProfile }>();
    const errors = new Map<string, string>();
    for (const p of peers) {
      if (p.bfdProfile === undefined) continue;
      const profile = profiles.get(p.bfdProfile);
      if (!profile)
        errors.set(
          p.name,
          `BFDProfile "${p.bfdProfile}" does not exist or is invalid: no BFD session runs, failure detection is the hold timer`,
        );
      else if (!this.opts.engine)
        errors.set(p.name, `BFD needs Herald's native addon: ${this.opts.engineError ?? 'not loaded'}`);
      else want.set(p.name, { peer: p, profile });
    }
    const engine = this.opts.engine;
    if (engine) {
      for (const [name, fp] of this.running) {
        const w = want.get(name);
        if (w && fingerprint(w.peer, w.profile) === fp) continue;
        engine.remove(name);
        this.running.delete(name);
      }
      for (const [name, { peer, profile }] of want) {
        if (this.running.has(name)) continue;
        const r = engine.add(
          {
            key: name,
            peerAddress: formatIP(peer.peerAddress),
            ...(peer.sourceAddress ? { localAddress: formatIP(peer.sourceAddress) } : {}),
            multiHop: peer.ebgpMultiHop,
            minimumTtl: profile.minimumTtl,
            timers: {
              desiredMinTxMs: profile.transmitInterval,
              requiredMinRxMs: profile.receiveInterval,
              detectMult: profile.detectMultiplier,
              passive: profile.passiveMode,
            },
          },
          (state, diag) => this.changed(name, state, diag),
        );
        if (typeof r === 'string') errors.set(name, r);
        else this.running.set(name, fingerprint(peer, profile));
      }
    }
    for (const [name, why] of errors) {
      if (this.errors.get(name) !== why)
        this.opts.logger.error('no BFD session for this peer', { event: 'bfdUnavailable', peer: name, cause: why });
    }
    this.errors.clear();
    for (const [k, v] of errors) this.errors.set(k, v);
  }

  private changed(peer: string, state: BfdState, diag: number): void {
    this.opts.onChange?.();
    if (state !== 'Down') return;
    const session = this.opts.engine?.get(peer);
    if (diag === DIAG.neighborSignaledSessionDown && session?.remoteDiagnostic() === DIAG.administrativelyDown) {
      this.opts.logger.info(
        'the peer took the BFD session administratively down; the BGP session is left alone (RFC 5882 §3.2)',
        { event: 'bfdAdminDown', peer },
      );
      return;
    }
    if (session && session.stats.upTransitions === 0) return;
    this.opts.resetBgp(peer, `BFD session down (${diagName(diag)})`);
  }

  status(peer: string): BfdStatus | undefined {
    const error = this.errors.get(peer);
    if (error) return { error };
    const s = this.opts.engine?.get(peer);
    if (!s || !this.running.has(peer)) return undefined;
    const negotiated = s.negotiated();
    return {
      state: s.state(),
      ...(s.diag() !== DIAG.none ? { diagnostic: diagName(s.diag()) } : {}),
      ...(negotiated ? { negotiated } : {}),
    };
  }

  /** Peers with a BFD session, for metrics. */
  sessions(): Map<
    string,
    { state: BfdState; packetsSent: number; packetsReceived: number; packetsDiscarded: number; downTransitions: number }
  > {
    const out = new Map<
      string,
      {
        state: BfdState;
        packetsSent: number;
        packetsReceived: number;
        packetsDiscarded: number;
        downTransitions: number;
      }
    >();
    for (const name of this.running.keys()) {
      const s = this.opts.engine?.get(name);
      if (s) out.set(name, { state: s.state(), ...s.stats });
    }
    return out;
  }

  /** AdminDown to every peer (a graceful shutdown is no failure), then the sockets close. */
  stopAll(): void {
    this.opts.engine?.stopAll();
    this.running.clear();
  }
}

/** The binding over the native UDP sockets (or `sockets`, for tests); without either, BFD peers are reported. */
export function createBfdBinding(o: {
  native?: NativeAddon;
  nativeError?: string;
  sockets?: BfdSockets;
  clock: Clock;
  random?: () => number;
  logger: Logger;
  resetBgp: BfdBindingOptions['resetBgp'];
  onChange?: () => void;
}): BgpBfdBinding {
  const sockets = o.sockets ?? (o.native ? nativeBfdSockets(o.native) : undefined);
  const engine = sockets
    ? new BfdEngine({ sockets, clock: o.clock, random: o.random ?? Math.random, logger: o.logger })
    : undefined;
  return new BgpBfdBinding({
    engine,
    ...(o.nativeError ? { engineError: o.nativeError } : {}),
    logger: o.logger,
    resetBgp: o.resetBgp,
    ...(o.onChange ? { onChange: o.onChange } : {}),
  });
}

/** What BGPSessionState.status.bfd shows for a peer. */
export function bfdStatusView(s: BfdStatus | undefined): BGPSessionBFDStatus | undefined {
  if (!s) return undefined;
  return {
    ...(s.state ? { state: s.state } : {}),
    ...(s.diagnostic ? { diagnostic: s.diagnostic } : {}),
    ...(s.error ? { error: s.error } : {}),
    ...(s.negotiated
      ? { transmitInterval: Math.round(s.negotiated.txMs), detectionTime: Math.round(s.negotiated.detectMs) }
      : {}),
  };
}
