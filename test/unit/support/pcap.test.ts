/** The capture helpers the BGP decoder tests and bench/bgp count messages with. */
import { expect } from 'chai';
import { tcpStream } from '../../support/pcap.js';

/** An Ethernet/IPv4/TCP frame from 192.0.2.1:40000 to 192.0.2.2:179 with this sequence number and payload. */
function frame(seq: number, payload: string, src = '192.0.2.1'): Buffer {
  const eth = Buffer.alloc(14);
  eth.writeUInt16BE(0x0800, 12);
  const tcp = Buffer.alloc(20);
  tcp.writeUInt16BE(40000, 0);
  tcp.writeUInt16BE(179, 2);
  tcp.writeUInt32BE(seq >>> 0, 4);
  tcp[12] = 5 << 4;
  const body = Buffer.from(payload);
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + 20 + body.length, 2);
  ip[9] = 6;
  Buffer.from(src.split('.').map(Number)).copy(ip, 12);
  Buffer.from([192, 0, 2, 2]).copy(ip, 16);
  return Buffer.concat([eth, ip, tcp, body]);
}

describe('tcpStream', () => {
  it('orders segments, drops retransmitted bytes and ignores the other side', () => {
    const frames = [
      frame(1000, 'abc'),
      frame(1006, 'ghi'),
      frame(1003, 'def'),
      frame(1003, 'def'),
      frame(1004, 'efg'),
      frame(5, 'zzz', '192.0.2.2'),
    ];
    expect(tcpStream(frames, '192.0.2.1', { dst: 179 }).toString()).to.equal('abcdefghi');
  });

  it('follows the sequence number across its 32-bit wrap', () => {
    const frames = [frame(2 ** 32 - 3, 'abc'), frame(0, 'def'), frame(3, 'ghi')];
    expect(tcpStream(frames, '192.0.2.1', 40000).toString()).to.equal('abcdefghi');
  });

  it('names a hole the capture left instead of splicing the bytes around it', () => {
    const frames = [frame(1000, 'abc'), frame(1006, 'ghi')];
    expect(() => tcpStream(frames, '192.0.2.1', { dst: 179 })).to.throw(
      'the capture misses 3 bytes of the stream from 192.0.2.1 after byte 3',
    );
  });
});
