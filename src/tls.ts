/**
 * Serving certificates: a fresh self-signed one (its own CA, P-256) for a server that was
 * given none, or a certificate and key read from files (cert-manager, a Secret).
 */
import { readFileSync } from 'node:fs';
import { X509Certificate, createPrivateKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { HeraldError, errorMessage } from './core/errors.js';
import { pem, selfSignedDer } from './x509.js';

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

/** A new P-256 key and a certificate for it, valid from an hour ago (clock skew) for `days`. */
export function selfSignedCertificate(opts: SelfSignedOptions): Promise<ServingCertificate> {
  const ips = [...new Set(opts.ips.filter((ip) => !WILDCARD.has(ip)))];
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const now = Date.now();
  const der = selfSignedDer({
    commonName: opts.commonName,
    dnsNames: [...new Set(opts.dnsNames)],
    ips,
    notBefore: now - 3_600_000,
    notAfter: now + (opts.days ?? 365) * 86_400_000,
    serial: randomBytes(16),
    publicKey,
    privateKey,
  });
  return Promise.resolve({
    cert: pem('CERTIFICATE', der),
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
  });
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
    throw new HeraldError('Usage', `${keyFile}: not the private key of ${certFile}: ${errorMessage(err)}`, {
      cause: err,
    });
  }
  return { cert, key };
}
