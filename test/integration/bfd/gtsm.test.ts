/**
 * The received TTL through the kernel (the native udpTtlSocket: IP_RECVTTL / IPV6_RECVHOPLIMIT):
 * single-hop BFD (RFC 5881 §5) between two Herald speakers one router apart sees TTL 254 and
 * discards it, saying why; as multi-hop (RFC 5883, ebgpMultiHop) with minimumTtl 254 the same
 * pair comes Up. Also the socket itself, IPv4 and IPv6.
 */
import { expect } from 'chai';
import { loadNative } from '../../../native/index.js';
import { eventually } from '../../support/apiserver.js';
import { BfdDriver } from '../../support/bfd-peers.js';
import { useNetns } from '../../support/netns.js';

describe('BFD TTL checks through a router (netns)', function () {
  this.timeout(60_000);
  const netns = useNetns(this);

  const topology = (): { a: string; b: string } => {
    const a = netns().add('a');
    const m = netns().add('m');
    const b = netns().add('b');
    netns().link(a, ['192.0.2.1/24'], m, ['192.0.2.254/24']);
    netns().link(b, ['198.51.100.1/24'], m, ['198.51.100.254/24']);
    netns().exec(m, ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
    netns().exec(a, ['ip', 'route', 'add', 'default', 'via', '192.0.2.254']);
    netns().exec(b, ['ip', 'route', 'add', 'default', 'via', '198.51.100.254']);
    return { a, b };
  };

  it('single-hop across a router: TTL 254 is discarded and logged; multi-hop with minimumTtl 254 comes Up', async () => {
    const { a, b } = topology();
    const da = new BfdDriver(netns(), a);
    const db = new BfdDriver(netns(), b);
    const profile = { transmitInterval: 100, receiveInterval: 100 };
    da.start({ myASN: 65000, peerASN: 65001, peerAddress: '198.51.100.1' }, profile);
    db.start({ myASN: 65001, peerASN: 65000, peerAddress: '192.0.2.1' }, profile);
    const why = await eventually(
      () => da.logs.find((l) => l.log.includes('TTL 254, not 255')),
      'the TTL complaint',
      10_000,
      20,
    );
    expect(why.log).to.include('RFC 5881');
    expect(da.last()?.bfd?.state).to.equal('Down');
    await da.stop();
    await db.stop();
    const ma = new BfdDriver(netns(), a);
    const mb = new BfdDriver(netns(), b);
    ma.start(
      { myASN: 65000, peerASN: 65001, peerAddress: '198.51.100.1', ebgpMultiHop: true },
      { ...profile, minimumTtl: 254 },
    );
    mb.start(
      { myASN: 65001, peerASN: 65000, peerAddress: '192.0.2.1', ebgpMultiHop: true },
      { ...profile, minimumTtl: 254 },
    );
    await ma.wait('multi-hop Up', (s) => s.bfd?.state === 'Up');
    await mb.wait('multi-hop Up', (s) => s.bfd?.state === 'Up');
    await ma.stop();
    await mb.stop();
  });

  it('udpTtlSocket sends with the TTL asked for and reports the TTL received (IPv4 and IPv6)', async () => {
    const native = loadNative();
    for (const [family, lo] of [
      [4, '127.0.0.1'],
      [6, '::1'],
    ] as const) {
      const got: { data: string; ttl: number; port: number }[] = [];
      const rx = native.udpTtlSocket({ family, address: lo, port: 0 }, (d, _a, port, ttl) =>
        got.push({ data: d.toString(), ttl, port }),
      );
      const tx = native.udpTtlSocket({ family, address: lo, port: 0, ttl: 17 });
      try {
        tx.send(Buffer.from('x'), lo, rx.port);
        await eventually(() => got.length > 0 || undefined, `a datagram over IPv${family}`, 5000, 5);
        expect(got[0]).to.deep.equal({ data: 'x', ttl: 17, port: tx.port });
        expect(() => native.udpTtlSocket({ family, address: lo, port: rx.port }))
          .to.throw()
          .with.property('code', 'EADDRINUSE');
      } finally {
        rx.close();
        tx.close();
      }
    }
    expect(() => native.udpTtlSocket({ family: 4, ttl: 0 })).to.throw(RangeError);
  });
});
