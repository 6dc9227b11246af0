/**
 * The serving certificate for HTTPS: a fresh self-signed P-256 certificate that is its own
 * CA, valid for localhost, the loopback addresses and the host the server listens on.
 */
import { selfSignedCertificate as generate } from '../../src/tls.js';

/** PEMs of a new certificate for `hostName` (a wildcard address adds no SAN of its own). */
export async function selfSignedCertificate(hostName: string): Promise<{ cert: string; key: string }> {
  return generate({ commonName: 'herald-apiserver', dnsNames: ['localhost'], ips: ['127.0.0.1', '::1', hostName] });
}
