/**
 * Which interfaces Layer 2 never picks by itself: an L2Advertisement without `interfaces`
 * answers on the links whose subnet holds the IP, else on every link, but never on one
 * whose name matches an exclusion glob (a named interface in an advertisement still wins).
 * The defaults are the virtual links of container runtimes and CNIs: pod-side veths
 * (Calico `cali*`, Cilium `lxc*`, plain `veth*`), bridges and tunnels, and kube-proxy's
 * `kube-ipvs0`, which in IPVS mode holds every Service IP as a /32 and so would otherwise
 * look like "the link whose subnet holds the IP". Pure: no I/O.
 */
import { HeraldError } from '../../src/core/errors.js';

export const DEFAULT_EXCLUDED_INTERFACES: readonly string[] = [
  'lo',
  'veth*',
  'lxc*',
  'cali*',
  'cilium_*',
  'cni*',
  'cbr*',
  'docker*',
  // Docker's user-defined bridges, br-<12 hex digits>; not every br-… (br-lan, br-ex are
  // often the node's own LAN bridge).
  'br-????????????',
  'virbr*',
  'flannel*',
  'vxlan*',
  'tunl*',
  'kube-*',
  'nodelocaldns*',
  'dummy*',
];

/** The token in a list that stands for DEFAULT_EXCLUDED_INTERFACES. */
const DEFAULTS_TOKEN = 'default';

/**
 * A comma- or space-separated list of globs (`*` any run of characters, `?` one) into
 * patterns; `default` stands for the default list, so `default,eth9*` extends it and an
 * empty list excludes nothing. Throws a Usage error naming the bad pattern.
 */
export function parseInterfaceExclusions(text: string, source = '--l2-exclude-interfaces'): string[] {
  const out: string[] = [];
  for (const p of text.split(/[\s,]+/).filter((x) => x !== '')) {
    if (p === DEFAULTS_TOKEN) {
      out.push(...DEFAULT_EXCLUDED_INTERFACES);
      continue;
    }
    if (!/^[A-Za-z0-9_.@:*?-]+$/.test(p)) {
      throw new HeraldError(
        'Usage',
        `${source}: "${p}" is not an interface name glob (letters, digits, . _ - @ : and the wildcards * and ?)`,
      );
    }
    if (p.replace(/\*/g, '').length > 15)
      throw new HeraldError('Usage', `${source}: "${p}" can match no interface (names are at most 15 characters)`);
    out.push(p);
  }
  return [...new Set(out)];
}

/** A predicate: whether an interface name matches one of the globs. */
export function interfaceMatcher(globs: readonly string[]): (name: string) => boolean {
  if (globs.length === 0) return () => false;
  const escape = (s: string): string => s.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`^(?:${globs.map((g) => escape(g).replace(/\*/g, '.*').replace(/\?/g, '.')).join('|')})$`);
  return (name) => re.test(name);
}
