/**
 * IP addresses as (family, bigint). Parsing is strict; IPv6 goes through ip-address,
 * arithmetic is plain bigint so nothing ever enumerates a range.
 *
 * Dotted quads are parsed and printed here directly: the speaker turns every announced
 * address into text and back on each sync, and ip-address (regex validation, hex strings,
 * BigInt from hex) made that most of a sync's time with 10k Services. IPv6 text goes through
 * ip-address once per distinct value (a bounded memo).
 */
import { Address6 } from 'ip-address';
import { ParseError } from '../core/errors.js';

export type IPFamily = 'IPv4' | 'IPv6';

export interface IP {
  readonly family: IPFamily;
  readonly value: bigint;
}

export function familyBits(family: IPFamily): number {
  return family === 'IPv4' ? 32 : 128;
}

const V4_MAX = (1n << 32n) - 1n;
const V6_MAX = (1n << 128n) - 1n;

export function familyMax(family: IPFamily): bigint {
  return family === 'IPv4' ? V4_MAX : V6_MAX;
}

const V4_SHAPE = /^\d{1,3}(\.\d{1,3}){3}$/;
const V6_SHAPE = /^[0-9a-fA-F:.]+$/;

/**
 * The value of a dotted quad whose shape V4_SHAPE accepted, or undefined when an octet is
 * over 255 or has a leading zero (which some stacks read as octal: refused, as ip-address does).
 */
function dottedQuadValue(s: string): number | undefined {
  let value = 0;
  let start = 0;
  for (let part = 0; part < 4; part++) {
    let end = s.indexOf('.', start);
    if (end < 0) end = s.length;
    if (end - start > 1 && s.charCodeAt(start) === 48) return undefined;
    const octet = Number(s.slice(start, end));
    if (octet > 255) return undefined;
    value = value * 256 + octet;
    start = end + 1;
  }
  return value;
}

/** A small memo for IPv6 text <-> value (cleared when full: the working set is the announced addresses). */
class Memo<K, V> {
  private readonly map = new Map<K, V>();
  constructor(private readonly limit: number) {}
  get(k: K): V | undefined {
    return this.map.get(k);
  }
  set(k: K, v: V): V {
    if (this.map.size >= this.limit) this.map.clear();
    this.map.set(k, v);
    return v;
  }
}
const V6_PARSED = new Memo<string, bigint>(65_536);
const V6_TEXT = new Memo<bigint, string>(65_536);

/** Parses one address with no prefix and no zone. Throws ParseError. */
export function parseIP(text: string): IP {
  const s = text.trim();
  if (V4_SHAPE.test(s)) {
    const v = dottedQuadValue(s);
    if (v === undefined) throw new ParseError(text, `"${text}" is not a valid IPv4 address`);
    return { family: 'IPv4', value: BigInt(v) };
  }
  if (s.includes(':') && V6_SHAPE.test(s)) {
    const known = V6_PARSED.get(s);
    if (known !== undefined) return { family: 'IPv6', value: known };
    if (!Address6.isValid(s)) throw new ParseError(text, `"${text}" is not a valid IPv6 address`);
    return { family: 'IPv6', value: V6_PARSED.set(s, new Address6(s).bigInt()) };
  }
  throw new ParseError(text, `"${text}" is not an IP address`);
}

export function tryParseIP(text: string): IP | undefined {
  try {
    return parseIP(text);
  } catch {
    return undefined;
  }
}

/** Canonical text: dotted quad for IPv4, RFC 5952 for IPv6. */
export function formatIP(ip: IP): string {
  return ipValueToString(ip.family, ip.value);
}

export function ipValueToString(family: IPFamily, value: bigint): string {
  if (value < 0n || value > familyMax(family)) throw new RangeError(`${value} out of ${family} range`);
  if (family === 'IPv4') {
    const v = Number(value);
    return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
  }
  return V6_TEXT.get(value) ?? V6_TEXT.set(value, Address6.fromBigInt(value).correctForm());
}

/** Orders IPv4 before IPv6, then by value. */
export function compareIP(a: IP, b: IP): number {
  if (a.family !== b.family) return a.family === 'IPv4' ? -1 : 1;
  return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
}

/** 4 or 16 bytes, network order. */
export function ipToBytes(ip: IP): Buffer {
  const len = ip.family === 'IPv4' ? 4 : 16;
  const out = Buffer.alloc(len);
  let v = ip.value;
  for (let i = len - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

export function ipFromBytes(bytes: Uint8Array): IP {
  if (bytes.length !== 4 && bytes.length !== 16)
    throw new ParseError(String(bytes.length), 'an address has 4 or 16 bytes');
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return { family: bytes.length === 4 ? 'IPv4' : 'IPv6', value: v };
}
