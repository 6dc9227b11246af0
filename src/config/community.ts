/** BGP communities: standard `a:b` (RFC 1997) and large `large:a:b:c` (RFC 8092). */

export type CommunityValue =
  | { readonly kind: 'standard'; readonly value: number }
  | { readonly kind: 'large'; readonly global: number; readonly local1: number; readonly local2: number };

const U16 = 0xffff;
const U32 = 0xffffffff;

function part(text: string, max: number): number | undefined {
  if (!/^\d{1,10}$/.test(text)) return undefined;
  const n = Number(text);
  return n <= max ? n : undefined;
}

/** Parses a literal community; the reason says what is wrong when it is not one. */
export function parseCommunity(text: string): { ok: true; value: CommunityValue } | { ok: false; reason: string } {
  const s = text.trim();
  const parts = s.split(':');
  if (parts[0]?.toLowerCase() === 'large') {
    if (parts.length !== 4)
      return { ok: false, reason: `"${text}": a large community is large:<global>:<local1>:<local2>` };
    const [g, l1, l2] = [part(parts[1]!, U32), part(parts[2]!, U32), part(parts[3]!, U32)];
    if (g === undefined || l1 === undefined || l2 === undefined) {
      return { ok: false, reason: `"${text}": each part of a large community is a number 0-${U32}` };
    }
    return { ok: true, value: { kind: 'large', global: g, local1: l1, local2: l2 } };
  }
  if (parts.length !== 2) {
    return {
      ok: false,
      reason: `"${text}" is not a community: use <asn16>:<value16>, large:<a>:<b>:<c>, or a Community alias`,
    };
  }
  const [hi, lo] = [part(parts[0]!, U16), part(parts[1]!, U16)];
  if (hi === undefined || lo === undefined)
    return { ok: false, reason: `"${text}": each part of a standard community is a number 0-${U16}` };
  return { ok: true, value: { kind: 'standard', value: hi * 0x10000 + lo } };
}

export function formatCommunity(c: CommunityValue): string {
  return c.kind === 'standard'
    ? `${Math.floor(c.value / 0x10000)}:${c.value % 0x10000}`
    : `large:${c.global}:${c.local1}:${c.local2}`;
}

/** Whether a community-ish string looks like a literal (has a colon) rather than an alias name. */
export function looksLikeLiteralCommunity(text: string): boolean {
  return text.includes(':');
}
