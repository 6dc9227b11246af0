/**
 * The speaker's and the controller's hardening flags through the real `herald` entry (cmd/main.ts):
 * a bad value stops the command before it connects anywhere, with a message naming it.
 */
import { expect } from 'chai';
import { main } from '../../../cmd/main.js';
import { capture } from '../../support/capture.js';

describe('herald speaker/controller: hardening flags', () => {
  const cases: { name: string; argv: string[]; error: RegExp }[] = [
    {
      name: 'a bad interface glob',
      argv: ['speaker', '--node', 'n1', '--kubeconfig', '/nonexistent', '--l2-exclude-interfaces', 'default,eth0/1'],
      error: /--l2-exclude-interfaces: "eth0\/1" is not an interface name glob/,
    },
    {
      name: 'a gratuitous rate of 0',
      argv: ['speaker', '--node', 'n1', '--kubeconfig', '/nonexistent', '--l2-announce-rate', '0'],
      error: /--l2-announce-rate: gratuitous frames a second per interface must be a number > 0, got 0/,
    },
    {
      name: 'a gratuitous rate that is no number',
      argv: ['speaker', '--node', 'n1', '--kubeconfig', '/nonexistent', '--l2-announce-rate', 'fast'],
      error: /--l2-announce-rate: gratuitous frames a second per interface must be a number > 0, got NaN/,
    },
    {
      name: 'a negative gratuitous rate',
      argv: ['speaker', '--node', 'n1', '--kubeconfig', '/nonexistent', '--l2-announce-rate=-1'],
      error: /--l2-announce-rate: gratuitous frames a second per interface must be a number > 0, got -1/,
    },
    {
      name: 'an unbounded gratuitous rate (unpaced is for benches only)',
      argv: ['speaker', '--node', 'n1', '--kubeconfig', '/nonexistent', '--l2-announce-rate', 'Infinity'],
      error: /--l2-announce-rate: gratuitous frames a second per interface must be a number > 0, got Infinity/,
    },
    {
      name: 'a certificate with plain HTTP (speaker)',
      argv: [
        'speaker',
        '--node',
        'n1',
        '--kubeconfig',
        '/nonexistent',
        '--metrics-secure=false',
        '--metrics-cert-file',
        'c.pem',
      ],
      error: /--metrics-cert-file and --metrics-key-file need --metrics-secure/,
    },
    {
      name: 'an unknown --service-status mode',
      argv: ['speaker', '--node', 'n1', '--kubeconfig', '/nonexistent', '--service-status', 'per-ip'],
      error: /service-status.*Given: "per-ip", Choices: "per-node", "per-service"/s,
    },
    {
      name: 'a certificate with plain HTTP (controller)',
      argv: ['controller', '--kubeconfig', '/nonexistent', '--metrics-secure=false', '--metrics-key-file', 'k.pem'],
      error: /--metrics-cert-file and --metrics-key-file need --metrics-secure/,
    },
  ];
  for (const tc of cases) {
    it(`refuses ${tc.name}`, async () => {
      const c = capture();
      const code = await main(tc.argv, c.io as never, () => new Promise(() => undefined));
      expect(code).to.not.equal(0);
      expect(c.err()).to.match(tc.error);
    });
  }
});
