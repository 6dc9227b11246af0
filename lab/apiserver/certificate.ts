/**
 * The serving certificate for HTTPS: a fresh self-signed P-256 certificate that is its own
 * CA, valid for localhost, the loopback addresses and the host the server listens on.
 */
import { generate as generateCertificate } from 'selfsigned';

/** PEMs of a new certificate for `hostName` (a wildcard address adds no SAN of its own). */
export async function selfSignedCertificate(hostName: string): Promise<{ cert: string; key: string }> {
  const pems = await generateCertificate([{ name: 'commonName', value: 'herald-apiserver' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    days: 365,
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyCertSign: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
          ...(hostName !== '127.0.0.1' && hostName !== '::1' && hostName !== '0.0.0.0' && hostName !== '::' ? [{ type: 7, ip: hostName }] : []),
        ],
      },
    ],
  } as never);
  return { cert: pems.cert, key: pems.private };
}
