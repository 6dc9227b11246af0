/**
 * A peer that sends malformed messages, over real TCP between namespaces (the peer is
 * test/support/bgp-scripted-peer.ts, written without Herald's codec): Herald answers a message
 * of an unknown type with NOTIFICATION 1/3 (Bad Message Type, the type as data) and an UPDATE
 * whose attributes run past its end with 3/1 (Malformed Attribute List), drops the
 * connection, reconnects, and announces its routes again on the connection that behaves.
 */
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { expect } from 'chai';
import { eventually } from '../../support/apiserver.js';
import { HeraldDriver } from '../../support/bgp-peers.js';
import { REPO_ROOT } from '../../support/crds.js';
import { useNetns } from '../../support/netns.js';

describe('BGP: a peer that sends malformed messages (netns, real TCP)', function () {
  this.timeout(90_000);
  const netns = useNetns(this);

  it('NOTIFICATION 1/3 for a bad type, 3/1 for a malformed UPDATE; reconnects and the routes come back', async () => {
    const net = netns();
    const h = net.add('h');
    const r = net.add('r');
    net.link(h, ['192.0.2.1/24'], r, ['192.0.2.2/24']);
    const peer = net.spawn(
      r,
      process.execPath,
      [
        '--import',
        'tsx',
        join(REPO_ROOT, 'test', 'support', 'bgp-scripted-peer.ts'),
        '192.0.2.2',
        '192.0.2.2',
        '65001',
        'badType,badUpdate,ok',
      ],
      { cwd: REPO_ROOT },
    );
    const seen: Record<string, unknown>[] = [];
    createInterface({ input: peer.stdout! }).on('line', (l) => seen.push(JSON.parse(l) as Record<string, unknown>));
    peer.stderr!.on('data', (d: Buffer) => process.stderr.write(`[peer] ${d.toString()}`));
    await eventually(() => seen.some((e) => e['event'] === 'listening') || undefined, 'the scripted peer');

    const herald = new HeraldDriver(net, h);
    herald.send({
      cmd: 'start',
      peerAddress: '192.0.2.2',
      myAsn: 65000,
      peerAsn: 65001,
      routerId: '192.0.2.1',
      holdTime: 9,
      families: ['IPv4'],
    });
    herald.send({ cmd: 'set', routes: [{ prefix: '203.0.113.50/32' }, { prefix: '203.0.113.51/32' }] });

    const notification = (conn: number): Promise<Record<string, unknown>> =>
      eventually(
        () => seen.find((e) => e['event'] === 'notification' && e['conn'] === conn),
        `Herald's NOTIFICATION on connection ${conn}`,
        30_000,
        50,
      );
    expect(await notification(0)).to.include({ code: 1, subcode: 3, data: '09' });
    expect(await notification(1)).to.include({ code: 3, subcode: 1 });
    const routes = await eventually(
      () => seen.find((e) => e['event'] === 'routes' && e['conn'] === 2 && (e['prefixes'] as string[]).length === 2),
      'the routes on the third connection',
      30_000,
      50,
    );
    expect(routes['prefixes']).to.deep.equal(['203.0.113.50/32', '203.0.113.51/32']);
    await herald.waitState('Established');
    // Each misbehaving connection got exactly one NOTIFICATION.
    expect(seen.filter((e) => e['event'] === 'notification').map((e) => e['conn'])).to.deep.equal([0, 1]);
  });
});
