/**
 * birdConf(): every option it offers writes the statement it names, and BIRD itself (`bird -p`,
 * parse only) accepts the result, so a typo in the helper fails here and not as a session that
 * never comes up in some other test.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { birdConf, type BirdConfOptions } from '../../support/bird-conf.js';
import { requireTool } from '../../support/tools.js';

function birdParses(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'herald-bird-conf-'));
  try {
    writeFileSync(join(dir, 'bird.conf'), text);
    const p = spawnSync('bird', ['-p', '-c', join(dir, 'bird.conf')], { encoding: 'utf8' });
    return p.status === 0 ? '' : `${p.stdout}${p.stderr}`.trim() || `exit ${p.status}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Case {
  name: string;
  conf: BirdConfOptions;
  /** Statements that must stand in the text. */
  has: string[];
  /** Statements that must not. */
  hasNot?: string[];
}

const cases: Case[] = [
  {
    name: 'the defaults: passive, hold 9, IPv4 importing everything and exporting nothing',
    conf: { routerId: '192.0.2.254', as: 65001, neighbors: [{ address: '192.0.2.1', as: 65000 }] },
    has: [
      'router id 192.0.2.254;',
      'protocol device {}',
      'protocol bgp herald {',
      'local as 65001;',
      'neighbor 192.0.2.1 as 65000;',
      'passive on;',
      'hold time 9;',
      'ipv4 { import all; export none; };',
    ],
    hasNot: ['ipv6 {', 'password', 'bfd', 'log stderr'],
  },
  {
    name: 'every session option',
    conf: {
      routerId: '192.0.2.254',
      as: 65001,
      log: true,
      bfd: 'interface "*" { interval 100 ms; };',
      neighbors: [
        {
          name: 'node-a',
          address: '192.0.2.1',
          as: 65000,
          port: 1180,
          local: '192.0.2.254',
          localPort: 1179,
          localAs: 65003,
          passive: false,
          password: 'a key',
          multihop: 2,
          gracefulRestart: true,
          bfd: true,
          holdTime: 3,
          startupHoldTime: 3,
          fastRetry: true,
          extra: 'error forget time 10;',
        },
      ],
    },
    has: [
      'log stderr all;',
      'protocol bfd {\n  interface "*" { interval 100 ms; };\n}',
      'protocol bgp node_a {',
      'local 192.0.2.254 port 1179 as 65003;',
      'neighbor 192.0.2.1 port 1180 as 65000;',
      'passive off;',
      'hold time 3;',
      'startup hold time 3;',
      'connect delay time 1;',
      'connect retry time 1;',
      'error wait time 1,2;',
      'multihop 2;',
      'graceful restart on;',
      'bfd on;',
      'error forget time 10;',
    ],
  },
  {
    name: 'TTL security, several neighbors, both families, filters and raw text',
    conf: {
      routerId: '192.0.2.2',
      as: 65001,
      direct: ['ipv4', 'ipv6'],
      extra: 'filter tagged { bgp_community.add((65001,100)); accept; }',
      neighbors: [
        { name: 'a', address: '192.0.2.1', as: 65000, ttlSecurity: true },
        {
          name: 'b',
          address: '2001:db8::1',
          as: 65000,
          local: '2001:db8::2',
          multihop: true,
          channels: {
            ipv4: { import: 'none', export: { filter: 'tagged' } },
            ipv6: { import: 'none', export: 'all', extra: 'next hop address 2001:db8::2;' },
          },
        },
      ],
    },
    has: [
      'protocol direct { ipv4; }',
      'protocol direct { ipv6; }',
      'filter tagged {',
      'protocol bgp a {',
      'ttl security on;',
      'protocol bgp b {',
      'multihop;',
      'ipv4 { import none; export filter tagged; };',
      'ipv6 { import none; export all; next hop address 2001:db8::2; };',
    ],
  },
];

describe('birdConf(): BIRD 2 configuration from typed options', function () {
  before(function () {
    requireTool(this, 'bird');
  });

  for (const tc of cases) {
    it(tc.name, () => {
      const text = birdConf(tc.conf);
      for (const s of tc.has) expect(text).to.include(s);
      for (const s of tc.hasNot ?? []) expect(text).to.not.include(s);
      expect(birdParses(text)).to.equal('');
    });
  }

  it('BIRD rejects what it should: the check above is not vacuous', () => {
    const text = birdConf({
      routerId: '192.0.2.254',
      as: 65001,
      neighbors: [{ address: '192.0.2.1', as: 65000, extra: 'no such statement;' }],
    });
    expect(birdParses(text)).to.match(/syntax error|unknown|error/i);
  });
});
