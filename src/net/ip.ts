/**
 * IP addresses as (family, bigint). Parsing is strict and goes through ip-address;
 * arithmetic is plain bigint so nothing ever enumerates a range.
 */
import { Address4, Address6 } from 'ip-address';
import { ParseError } from '../core/errors.js';

export type IPFamily = 'IPv4' | 'IPv6';

export const IP_FAMILIES: readonly IPFamily[] = ['IPv4', 'IPv6'];

export interface IP {
  readonly family: IPFamily;
  readonly value: bigint;
}

export function familyBits(family: IPFamily): number {
  return family === 'IPv4' ? 32 : 128;
}

export function familyMax(family: IPFamily): bigint {
  return (1n << BigInt(familyBits(family))) - 1n;
}

const V4_SHAPE = /^\d{1,3}(\.\d{1,3}){3}$/;
const V6_SHAPE = /^[0-9a-fA-F:.]+$/;

/** Parses one address with no prefix and no zone. Throws ParseError. */
export function parseIP(text: string): IP {
  const s = text.trim();
  if (V4_SHAPE.test(s)) {
    if (!Address4.isValid(s)) throw new ParseError(text, `"${text}" is not a valid IPv4 address`);
    return { family: 'IPv4', value: new Address4(s).bigInt() };
  }
  if (s.includes(':') && V6_SHAPE.test(s)) {
    if (!Address6.isValid(s)) throw new ParseError(text, `"${text}" is not a valid IPv6 address`);
    return { family: 'IPv6', value: new Address6(s).bigInt() };
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
  return family === 'IPv4' ? Address4.fromBigInt(value).correctForm() : Address6.fromBigInt(value).correctForm();
}

/** Orders IPv4 before IPv6, then by value. */
export function compareIP(a: IP, b: IP): number {
  if (a.family !== b.family) return a.family === 'IPv4' ? -1 : 1;
  return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
}

export function ipEqual(a: IP, b: IP): boolean {
  return a.family === b.family && a.value === b.value;
}

export function ipFamilyOf(text: string): IPFamily | undefined {
  return tryParseIP(text)?.family;
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
  if (bytes.length !== 4 && bytes.length !== 16) throw new ParseError(String(bytes.length), 'an address has 4 or 16 bytes');
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return { family: bytes.length === 4 ? 'IPv4' : 'IPv6', value: v };
}
