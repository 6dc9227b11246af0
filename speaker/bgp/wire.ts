/** Small shared helpers for the BGP codec: prefixes, addresses and fixed-size fields on the wire. */
import { familyBits, ipFromBytes, ipToBytes, type IP, type IPFamily } from '../../src/net/ip.js';
import type { CIDR } from '../../src/net/cidr.js';
import { ParseError } from '../../src/core/errors.js';
import { AFI_IPV4, AFI_IPV6 } from './messages.js';

export function familyOfAfi(afi: number): IPFamily | undefined {
  return afi === AFI_IPV4 ? 'IPv4' : afi === AFI_IPV6 ? 'IPv6' : undefined;
}

/** §4.3: a prefix is its length in bits, then the fewest octets that hold it. */
export function prefixWireLength(p: CIDR): number {
  return 1 + Math.ceil(p.prefixLength / 8);
}

export function writePrefix(p: CIDR, out: Buffer, at: number): number {
  out[at] = p.prefixLength;
  const bytes = ipToBytes({ family: p.family, value: p.base });
  const n = Math.ceil(p.prefixLength / 8);
  bytes.copy(out, at + 1, 0, n);
  return at + 1 + n;
}

export function encodePrefixes(ps: readonly CIDR[]): Buffer {
  const out = Buffer.alloc(ps.reduce((n, p) => n + prefixWireLength(p), 0));
  let at = 0;
  for (const p of ps) at = writePrefix(p, out, at);
  return out;
}

/** Parses a run of prefixes; undefined when the field is malformed. */
export function decodePrefixes(buf: Buffer, family: IPFamily): CIDR[] | undefined {
  const out: CIDR[] = [];
  const bits = familyBits(family);
  let at = 0;
  while (at < buf.length) {
    const len = buf[at]!;
    const n = Math.ceil(len / 8);
    if (len > bits || at + 1 + n > buf.length) return undefined;
    const bytes = Buffer.alloc(bits / 8);
    buf.copy(bytes, 0, at + 1, at + 1 + n);
    let value = ipFromBytes(bytes).value;
    // Bits past the prefix length must be ignored (§4.3): clear them.
    const host = (1n << BigInt(bits - len)) - 1n;
    value &= ~host;
    out.push({ family, base: value, prefixLength: len });
    at += 1 + n;
  }
  return out;
}

export function ipBytes(ip: IP): Buffer {
  return ipToBytes(ip);
}

export function ipv4ToString(buf: Buffer, at: number): string {
  return `${buf[at]}.${buf[at + 1]}.${buf[at + 2]}.${buf[at + 3]}`;
}

export function ipv4FromString(text: string): Buffer {
  const parts = text.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255))
    throw new ParseError(text, `"${text}" is not a dotted-quad BGP identifier`);
  return Buffer.from(parts);
}

/** A 2-octet big-endian field. */
export function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

/** A 4-octet big-endian field. */
export function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}
