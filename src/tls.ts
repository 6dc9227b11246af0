/**
 * Serving certificates: a fresh self-signed one (its own CA, P-256) for a server that was
 * given none, or a certificate and key read from files (cert-manager, a Secret).
 */
import { readFileSync } from 'node:fs';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { generate as generateCertificate } from 'selfsigned';
import { HeraldError, errorMessage } from './core/errors.js';

export interface ServingCertificate {
  /** PEM. */
  readonly cert: string;
  /** PEM. */
  readonly key: string;
}

export interface SelfSignedOptions {
  readonly commonName: string;
  readonly dnsNames: readonly string[];
  readonly ips: readonly string[];
  readonly days?: number;
}

const WILDCARD = new Set(['0.0.0.0', '::']);

export async function selfSignedCertificate(opts: SelfSignedOptions): Promise<ServingCertificate> {
  const ips = [...new Set(opts.ips.filter((ip) => !WILDCARD.has(ip)))];
  const pems = await generateCertificate([{ name: 'commonName', value: opts.commonName }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    days: opts.days ?? 365,
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyCertSign: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [...[...new Set(opts.dnsNames)].map((value) => ({ type: 2, value })), ...ips.map((ip) => ({ type: 7, ip }))] },
    ],
  } as never);
  return { cert: pems.cert, key: pems.private };
}

/** Reads a PEM certificate and key, checking that they parse and belong together. */
export function loadCertificateFiles(certFile: string, keyFile: string): ServingCertificate {
  let cert: string;
  let key: string;
  try {
    cert = readFileSync(certFile, 'utf8');
    key = readFileSync(keyFile, 'utf8');
  } catch (err) {
    throw new HeraldError('Usage', `cannot read the serving certificate: ${errorMessage(err)}`, { cause: err });
  }
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (err) {
    throw new HeraldError('Usage', `${certFile}: not a PEM certificate: ${errorMessage(err)}`, { cause: err });
  }
  try {
    if (!x509.checkPrivateKey(createPrivateKey(key))) throw new Error('the key does not belong to the certificate');
  } catch (err) {
    throw new HeraldError('Usage', `${keyFile}: not the private key of ${certFile}: ${errorMessage(err)}`, { cause: err });
  }
  return { cert, key };
}
