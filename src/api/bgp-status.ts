/**
 * Which nodes announce which Service over BGP, from either status kind a speaker writes
 * (decision 015): ServiceBGPStatus (one per Service and node, `--service-status=per-service`)
 * and BGPNodeStatus shards (one list per node, the default). Readers take both, so a cluster
 * switching modes node by node still shows every Service. Pure.
 */

type Rec = Record<string, unknown>;
const rec = (v: unknown): Rec => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Rec) : {});
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** `namespace/name` -> announcing node -> the peers it announces to (sorted, merged over kinds and shards). */
export type BgpAnnouncers = Map<string, Map<string, string[]>>;

/** Objects as read (`status` is looked at, nothing else). */
export function bgpAnnouncers(serviceStatuses: readonly object[], nodeStatuses: readonly object[]): BgpAnnouncers {
  const out: BgpAnnouncers = new Map();
  const add = (service: string, node: string, peers: readonly string[]): void => {
    let nodes = out.get(service);
    if (!nodes) out.set(service, (nodes = new Map()));
    nodes.set(node, [...new Set([...(nodes.get(node) ?? []), ...peers])].sort());
  };
  for (const o of serviceStatuses) {
    const st = rec(rec(o)['status']);
    const node = str(st['node']);
    if (node)
      add(
        `${str(st['serviceNamespace'])}/${str(st['serviceName'])}`,
        node,
        list(st['peers'])
          .map(str)
          .filter((p) => p !== ''),
      );
  }
  for (const o of nodeStatuses) {
    const st = rec(rec(o)['status']);
    const node = str(st['node']);
    if (!node) continue;
    const peers = list(st['peers']).map(str);
    for (const s of list(st['services']).map(rec)) {
      const named = list(s['peers'])
        .map((i) => (typeof i === 'number' ? peers[i] : undefined))
        .filter((p): p is string => p !== undefined && p !== '');
      add(`${str(s['namespace'])}/${str(s['name'])}`, node, named);
    }
  }
  return out;
}
