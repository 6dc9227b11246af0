/**
 * The speaker's per-address metrics and its configuration gauges, fed once per pass:
 * which Service IPs this node announces (by protocol and Service), how often it became the
 * Layer 2 owner of each IP (summed over nodes: how often the IP changed hands), and whether
 * its configuration was read and is free of errors.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import { registerConfigMetrics, type ConfigMetrics } from '../src/metrics.js';

/** What one speaker pass decided, in the shapes the pass already has. */
export interface SpeakerPass {
  /** The Layer 2 IPs this node answers for now (the engine's, after failures). */
  readonly l2Owned: ReadonlyMap<string, unknown>;
  /** The Services behind each Layer 2 IP. */
  readonly l2: ReadonlyMap<string, { readonly services: readonly string[] }>;
  /** Every Service IP the speaker considered, and whether this node announces it via BGP. */
  readonly decisions: readonly {
    readonly service: string;
    readonly ipText: string;
    readonly bgp: { readonly announce: boolean };
  }[];
  readonly configErrors: readonly unknown[];
}

export class AnnounceMetrics {
  private readonly config: ConfigMetrics;
  private readonly changes: Counter;
  /** The Layer 2 IPs owned after the last pass, to count takeovers. */
  private owned = new Set<string>();
  /** IPs that have an ownership counter, so one whose Service is gone can be dropped. */
  private readonly counted = new Set<string>();
  /** The last pass: the announced series are made from it when scraped, not on every pass (100k Services). */
  private last: SpeakerPass | undefined;

  constructor(registry: Registry, node: string) {
    this.config = registerConfigMetrics(registry);
    this.changes = new Counter({
      name: 'herald_speaker_l2_ownership_changes_total',
      help: 'Times this node became the Layer 2 owner of the IP (summed over nodes: how often its owner changed)',
      labelNames: ['ip'],
      registers: [registry],
    });
    const gauge: Gauge = new Gauge({
      name: 'herald_speaker_ip_announced',
      help: '1 for each Service IP this node announces, by protocol (layer2, bgp) and Service',
      labelNames: ['ip', 'service', 'protocol', 'node'],
      registers: [registry],
      collect: () => {
        gauge.reset();
        const pass = this.last;
        if (!pass) return;
        for (const ip of pass.l2Owned.keys()) {
          const services = pass.l2.get(ip)?.services ?? [];
          for (const service of services.length > 0 ? services : [''])
            gauge.set({ ip, service, protocol: 'layer2', node }, 1);
        }
        for (const d of pass.decisions)
          if (d.bgp.announce) gauge.set({ ip: d.ipText, service: d.service, protocol: 'bgp', node }, 1);
      },
    });
  }

  observe(pass: SpeakerPass): void {
    this.config.observe(pass.configErrors.length);
    for (const ip of pass.l2Owned.keys()) {
      if (this.owned.has(ip)) continue;
      this.changes.inc({ ip });
      this.counted.add(ip);
    }
    // An IP no Service holds any more takes its counter with it (a returning IP starts again: a reset).
    const released = [...this.counted].filter((ip) => !pass.l2Owned.has(ip));
    if (released.length > 0) {
      const held = new Set(pass.decisions.map((d) => d.ipText));
      for (const ip of released) {
        if (held.has(ip)) continue;
        this.changes.remove({ ip });
        this.counted.delete(ip);
      }
    }
    this.owned = new Set(pass.l2Owned.keys());
    this.last = pass;
  }
}
