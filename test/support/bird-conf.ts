/**
 * BIRD 2 configuration text from typed options: the one place tests and benches write
 * `bird.conf`. A config names the router, its AS and its BGP neighbors; each neighbor gets its
 * own `protocol bgp` with the session options the tests vary (passive, MD5, multihop, TTL
 * security, graceful restart, BFD, short retry timers) and one channel per address family.
 * `extra` (global or per neighbor) is raw text for the rare special case (filters, static
 * routes, `direct`).
 */

export type BirdFamily = 'ipv4' | 'ipv6';

/** What a channel takes in or gives out: everything, nothing, or a named filter. */
export type BirdPolicy = 'all' | 'none' | { filter: string };

export interface BirdChannel {
  /** Default `all`: the tests read what Herald advertised from BIRD's table. */
  import?: BirdPolicy;
  /** Default `none`. */
  export?: BirdPolicy;
  /** Raw channel statements, e.g. `next hop address 2001:db8::2;`. */
  extra?: string;
}

export interface BirdNeighbor {
  /** The protocol's name (default `herald`); a dash becomes an underscore. */
  name?: string;
  /** The neighbor's address and AS. */
  address: string;
  as: number;
  /** The neighbor's TCP port, when not 179. */
  port?: number;
  /** BIRD's own address for the session (`local … as …`); without it BIRD picks by route. */
  local?: string;
  /** BIRD's own TCP port, when not 179 (BIRD then listens there for this session). */
  localPort?: number;
  /** BIRD's AS for this session; default the config's `as`. */
  localAs?: number;
  /** Default true: BIRD waits for Herald to connect. False writes `passive off`. */
  passive?: boolean;
  /** TCP MD5 (RFC 2385) key. */
  password?: string;
  /** eBGP multihop: true for BIRD's default, a number for a hop count. */
  multihop?: boolean | number;
  /** GTSM (RFC 5082): only segments with TTL 255 are accepted. */
  ttlSecurity?: boolean;
  gracefulRestart?: boolean;
  /** BFD for this session (the config then also needs `bfd`). */
  bfd?: boolean;
  /** Hold time in seconds; default 9. */
  holdTime?: number;
  startupHoldTime?: number;
  /** Retry quickly (`connect delay time 1; connect retry time 1; error wait time 1,2`). */
  fastRetry?: boolean;
  /** The channels; default `{ ipv4: {} }` (import all, export none). */
  channels?: Partial<Record<BirdFamily, BirdChannel>>;
  /** Raw protocol statements, e.g. `direct;` or `error forget time 10;`. */
  extra?: string;
}

export interface BirdConfOptions {
  routerId: string;
  /** BIRD's AS, the default for every neighbor's `localAs`. */
  as: number;
  neighbors: readonly BirdNeighbor[];
  /** `log stderr all;`, for a test that wants BIRD's reasons in its output. */
  log?: boolean;
  /** `protocol bfd`: true for BIRD's defaults, or the text inside its braces. */
  bfd?: boolean | string;
  /** `protocol direct` for these families (routes of the connected subnets). */
  direct?: readonly BirdFamily[];
  /** Raw text placed before the BGP protocols (filters, static routes, a kernel protocol). */
  extra?: string;
}

const policy = (p: BirdPolicy): string => (typeof p === 'string' ? p : `filter ${p.filter}`);

function channel(family: BirdFamily, c: BirdChannel): string {
  return `  ${family} { import ${policy(c.import ?? 'all')}; export ${policy(c.export ?? 'none')};${c.extra ? ` ${c.extra}` : ''} };`;
}

function neighbor(n: BirdNeighbor, as: number): string {
  const lines = [
    `  local${n.local ? ` ${n.local}` : ''}${n.localPort ? ` port ${n.localPort}` : ''} as ${n.localAs ?? as};`,
    `  neighbor ${n.address}${n.port ? ` port ${n.port}` : ''} as ${n.as};`,
    `  passive ${n.passive === false ? 'off' : 'on'};`,
    `  hold time ${n.holdTime ?? 9};`,
  ];
  if (n.startupHoldTime !== undefined) lines.push(`  startup hold time ${n.startupHoldTime};`);
  if (n.fastRetry) lines.push('  connect delay time 1;', '  connect retry time 1;', '  error wait time 1,2;');
  if (n.password !== undefined) lines.push(`  password "${n.password}";`);
  if (n.multihop !== undefined && n.multihop !== false)
    lines.push(n.multihop === true ? '  multihop;' : `  multihop ${n.multihop};`);
  if (n.ttlSecurity) lines.push('  ttl security on;');
  if (n.gracefulRestart) lines.push('  graceful restart on;');
  if (n.bfd) lines.push('  bfd on;');
  if (n.extra) lines.push(`  ${n.extra}`);
  for (const [family, c] of Object.entries(n.channels ?? { ipv4: {} }) as [BirdFamily, BirdChannel | undefined][]) {
    if (c) lines.push(channel(family, c));
  }
  return `protocol bgp ${(n.name ?? 'herald').replace(/-/g, '_')} {\n${lines.join('\n')}\n}`;
}

/** The whole `bird.conf`. */
export function birdConf(o: BirdConfOptions): string {
  const out = [`router id ${o.routerId};`];
  if (o.log) out.push('log stderr all;');
  out.push('protocol device {}', 'ipv4 table master4;', 'ipv6 table master6;');
  for (const f of o.direct ?? []) out.push(`protocol direct { ${f}; }`);
  if (o.bfd) out.push(o.bfd === true ? 'protocol bfd {}' : `protocol bfd {\n  ${o.bfd}\n}`);
  if (o.extra) out.push(o.extra.trim());
  for (const n of o.neighbors) out.push(neighbor(n, o.as));
  return `${out.join('\n')}\n`;
}
