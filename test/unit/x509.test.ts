/**
 * The hand-written self-signed certificate: DER pieces against bytes written out from the
 * standards, and whole certificates read back by Node's X509Certificate and by OpenSSL
 * (independent parsers), verified with their own public key.
 */
import { spawnSync } from 'node:child_process';
import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { selfSignedCertificate } from '../../src/tls.js';
import { derOid, derTime, derUnsigned, pem, selfSignedDer, tlv } from '../../src/x509.js';
import { requireTool } from '../support/tools.js';

const hex = (b: Buffer): string => b.toString('hex');

describe('x509: DER pieces', () => {
  const cases: { name: string; got: () => Buffer; want: string }[] = [
    // RFC 5758 3.2: ecdsa-with-SHA256 ::= { 1 2 840 10045 4 3 2 }
    { name: 'OID ecdsa-with-SHA256', got: () => derOid('1.2.840.10045.4.3.2'), want: '06082a8648ce3d040302' },
    { name: 'OID commonName 2.5.4.3', got: () => derOid('2.5.4.3'), want: '0603550403' },
    { name: 'OID serverAuth 1.3.6.1.5.5.7.3.1', got: () => derOid('1.3.6.1.5.5.7.3.1'), want: '06082b06010505070301' },
    {
      name: 'INTEGER with the top bit set gets a 0x00',
      got: () => derUnsigned(Buffer.from([0x80, 0x01])),
      want: '0203008001',
    },
    {
      name: 'INTEGER drops leading zero bytes',
      got: () => derUnsigned(Buffer.from([0x00, 0x00, 0x05])),
      want: '020105',
    },
    { name: 'short length', got: () => tlv(0x04, Buffer.alloc(127)), want: `047f${'00'.repeat(127)}` },
    { name: 'long length, one byte', got: () => tlv(0x04, Buffer.alloc(128)), want: `048180${'00'.repeat(128)}` },
    { name: 'long length, two bytes', got: () => tlv(0x04, Buffer.alloc(300)).subarray(0, 4), want: '0482012c' },
    {
      name: 'UTCTime through 2049',
      got: () => derTime(Date.UTC(2049, 11, 31, 23, 59, 59)),
      want: hex(Buffer.concat([Buffer.from([0x17, 13]), Buffer.from('491231235959Z')])),
    },
    {
      name: 'GeneralizedTime from 2050',
      got: () => derTime(Date.UTC(2050, 0, 1)),
      want: hex(Buffer.concat([Buffer.from([0x18, 15]), Buffer.from('20500101000000Z')])),
    },
  ];
  for (const tc of cases) it(tc.name, () => expect(hex(tc.got())).to.equal(tc.want));
});

describe('x509: self-signed serving certificates', () => {
  it('Node reads it back: subject, SANs, validity, CA, serverAuth, and its signature verifies', async () => {
    const c = await selfSignedCertificate({
      commonName: 'herald-speaker',
      dnsNames: ['localhost', 'herald-speaker-metrics.herald-system.svc'],
      ips: ['127.0.0.1', '::1', '0.0.0.0', '2001:db8::1:0:5'],
    });
    const x = new X509Certificate(c.cert);
    expect(x.subject).to.equal('CN=herald-speaker');
    expect(x.issuer).to.equal('CN=herald-speaker');
    expect(x.subjectAltName).to.equal(
      'DNS:localhost, DNS:herald-speaker-metrics.herald-system.svc, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, IP Address:2001:DB8:0:0:0:1:0:5',
    );
    expect(x.ca).to.equal(true);
    expect(x.keyUsage).to.deep.equal(['1.3.6.1.5.5.7.3.1']);
    expect(x.verify(x.publicKey)).to.equal(true);
    expect(x.checkPrivateKey(await import('node:crypto').then((m) => m.createPrivateKey(c.key)))).to.equal(true);
    expect(x.checkHost('herald-speaker-metrics.herald-system.svc')).to.equal(
      'herald-speaker-metrics.herald-system.svc',
    );
    expect(x.checkIP('2001:db8::1:0:5')).to.equal('2001:db8::1:0:5');
    const from = Date.parse(x.validFrom);
    const to = Date.parse(x.validTo);
    expect(to - from).to.equal(365 * 86_400_000 + 3_600_000);
  });

  it('a fixed key, serial and time give the same certificate fields (no hidden clock or randomness)', () => {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const req = {
      commonName: 'x',
      dnsNames: ['localhost'],
      ips: ['192.0.2.1'],
      notBefore: Date.UTC(2026, 0, 1),
      notAfter: Date.UTC(2027, 0, 1),
      serial: Buffer.alloc(16, 0xff),
      publicKey,
      privateKey,
    };
    const a = new X509Certificate(pem('CERTIFICATE', selfSignedDer(req)));
    const b = new X509Certificate(pem('CERTIFICATE', selfSignedDer(req)));
    // ECDSA signatures are randomized; everything signed is the same.
    expect([a.serialNumber, a.validFrom, a.validTo, a.subjectAltName]).to.deep.equal([
      b.serialNumber,
      b.validFrom,
      b.validTo,
      b.subjectAltName,
    ]);
    expect(a.serialNumber).to.equal(`7F${'FF'.repeat(15)}`);
    expect(a.validFrom).to.equal('Jan  1 00:00:00 2026 GMT');
  });

  it('OpenSSL parses it and verifies it as its own trust anchor', async function () {
    requireTool(this, 'openssl');
    const dir = mkdtempSync(join(tmpdir(), 'herald-x509-'));
    try {
      const c = await selfSignedCertificate({
        commonName: 'herald-controller',
        dnsNames: ['localhost'],
        ips: ['127.0.0.1'],
      });
      writeFileSync(join(dir, 'c.pem'), c.cert);
      const text = spawnSync('openssl', ['x509', '-in', join(dir, 'c.pem'), '-noout', '-text'], { encoding: 'utf8' });
      expect(text.status, text.stderr).to.equal(0);
      expect(text.stdout)
        .to.include('Version: 3 (0x2)')
        .and.include('ecdsa-with-SHA256')
        .and.include('CA:TRUE')
        .and.include('Digital Signature, Certificate Sign')
        .and.include('TLS Web Server Authentication')
        .and.include('DNS:localhost, IP Address:127.0.0.1');
      const verify = spawnSync('openssl', ['verify', '-CAfile', join(dir, 'c.pem'), join(dir, 'c.pem')], {
        encoding: 'utf8',
      });
      expect(verify.stdout.trim()).to.equal(`${join(dir, 'c.pem')}: OK`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
