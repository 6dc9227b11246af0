/**
 * A self-signed X.509 v3 certificate (RFC 5280) for an ECDSA P-256 key, DER-encoded by hand:
 * just the fields a serving certificate needs (subject CN, validity, basicConstraints CA,
 * keyUsage, extKeyUsage serverAuth, subjectAltName DNS and IP), signed with
 * ecdsa-with-SHA256. Written here instead of taking a certificate library because such a
 * library (and its ASN.1 stack) costs every speaker ~15 MB of memory for one call at start.
 * No clock and no randomness of its own: both come in through the options.
 */
import { sign, type KeyObject } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';

/** Object identifiers used below (RFC 5280 4.1.1.2, 4.2.1.x; RFC 5758 3.2). */
const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  serverAuth: '1.3.6.1.5.5.7.3.1',
} as const;

const TAG = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  oid: 0x06,
  utf8String: 0x0c,
  sequence: 0x30,
  set: 0x31,
  utcTime: 0x17,
  generalizedTime: 0x18,
  /** [0] EXPLICIT (version), [3] EXPLICIT (extensions). */
  explicit0: 0xa0,
  explicit3: 0xa3,
  /** GeneralName choices, IMPLICIT primitive: dNSName [2], iPAddress [7]. */
  dnsName: 0x82,
  ipAddress: 0x87,
} as const;

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One DER TLV. */
export function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
}

export function derOid(oid: string): Buffer {
  const arcs = oid.split('.').map(Number);
  const out: number[] = [40 * arcs[0]! + arcs[1]!];
  for (const arc of arcs.slice(2)) {
    const b: number[] = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) b.unshift(0x80 | (v & 0x7f));
    out.push(...b);
  }
  return tlv(TAG.oid, Buffer.from(out));
}

/** A non-negative INTEGER from big-endian bytes (minimal, with a 0x00 when the top bit is set). */
export function derUnsigned(bytes: Buffer): Buffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  const v = bytes.subarray(i);
  return tlv(TAG.integer, (v[0]! & 0x80) !== 0 ? Buffer.concat([Buffer.from([0]), v]) : v);
}

/** UTCTime through 2049, GeneralizedTime after (RFC 5280 4.1.2.5), to the second. */
export function derTime(ms: number): Buffer {
  const iso = new Date(Math.floor(ms / 1000) * 1000).toISOString(); // 2026-12-04T09:00:00.000Z
  const digits = iso.slice(0, 19).replace(/[-:T]/g, '');
  const year = Number(iso.slice(0, 4));
  return year < 2050
    ? tlv(TAG.utcTime, Buffer.from(`${digits.slice(2)}Z`))
    : tlv(TAG.generalizedTime, Buffer.from(`${digits}Z`));
}

function name(commonName: string): Buffer {
  return tlv(
    TAG.sequence,
    tlv(TAG.set, tlv(TAG.sequence, derOid(OID.commonName), tlv(TAG.utf8String, Buffer.from(commonName, 'utf8')))),
  );
}

function extension(oid: string, critical: boolean, value: Buffer): Buffer {
  return tlv(
    TAG.sequence,
    derOid(oid),
    ...(critical ? [tlv(TAG.boolean, Buffer.from([0xff]))] : []),
    tlv(TAG.octetString, value),
  );
}

function ipBytes(ip: string): Buffer {
  if (isIPv4(ip)) return Buffer.from(ip.split('.').map(Number));
  if (!isIPv6(ip)) throw new Error(`not an IP address: ${ip}`);
  const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, undefined];
  const groups = (s: string | undefined): number[] => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const h = groups(head);
  const t = groups(tail);
  const all = tail === undefined ? h : [...h, ...Array<number>(8 - h.length - t.length).fill(0), ...t];
  const out = Buffer.alloc(16);
  all.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  return out;
}

export interface CertificateRequest {
  readonly commonName: string;
  readonly dnsNames: readonly string[];
  readonly ips: readonly string[];
  readonly notBefore: number;
  readonly notAfter: number;
  /** 16 random bytes (the serial number). */
  readonly serial: Buffer;
  /** An EC P-256 key pair. */
  readonly publicKey: KeyObject;
  readonly privateKey: KeyObject;
}

/** The DER of a self-signed certificate: its own CA, for serverAuth. */
export function selfSignedDer(r: CertificateRequest): Buffer {
  const sigAlg = tlv(TAG.sequence, derOid(OID.ecdsaWithSha256));
  const subject = name(r.commonName);
  const serial = Buffer.from(r.serial);
  serial[0] = serial[0]! & 0x7f; // positive, as RFC 5280 4.1.2.2 wants
  const altNames = [
    ...r.dnsNames.map((d) => tlv(TAG.dnsName, Buffer.from(d, 'ascii'))),
    ...r.ips.map((ip) => tlv(TAG.ipAddress, ipBytes(ip))),
  ];
  const extensions = [
    extension(OID.basicConstraints, true, tlv(TAG.sequence, tlv(TAG.boolean, Buffer.from([0xff])))),
    // digitalSignature (bit 0) and keyCertSign (bit 5): 0x84, the two low bits unused.
    extension(OID.keyUsage, true, tlv(TAG.bitString, Buffer.from([0x02, 0x84]))),
    extension(OID.extKeyUsage, false, tlv(TAG.sequence, derOid(OID.serverAuth))),
    ...(altNames.length > 0 ? [extension(OID.subjectAltName, false, tlv(TAG.sequence, ...altNames))] : []),
  ];
  const tbs = tlv(
    TAG.sequence,
    tlv(TAG.explicit0, tlv(TAG.integer, Buffer.from([2]))),
    derUnsigned(serial),
    sigAlg,
    subject,
    tlv(TAG.sequence, derTime(r.notBefore), derTime(r.notAfter)),
    subject,
    r.publicKey.export({ type: 'spki', format: 'der' }),
    tlv(TAG.explicit3, tlv(TAG.sequence, ...extensions)),
  );
  const signature = sign('sha256', tbs, { key: r.privateKey, dsaEncoding: 'der' });
  return tlv(TAG.sequence, tbs, sigAlg, tlv(TAG.bitString, Buffer.from([0]), signature));
}

/** PEM armour for DER. */
export function pem(label: string, der: Buffer): string {
  const b64 = der
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}
