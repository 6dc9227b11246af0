/** Ethernet MAC addresses as 6-byte Buffers. */
import { ParseError } from '../core/errors.js';

export type MAC = Buffer;

export function parseMAC(text: string): MAC {
  const m =
    /^([0-9a-fA-F]{2})([:-])([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})$/.exec(
      text.trim(),
    );
  if (!m) throw new ParseError(text, `"${text}" is not a MAC address`);
  return Buffer.from([m[1], m[3], m[4], m[5], m[6], m[7]].map((h) => parseInt(h!, 16)));
}

export const BROADCAST_MAC: MAC = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
