/**
 * A BGP peer written by hand for tests (no Herald code): it listens on port 179 in its
 * namespace and, for the n-th connection Herald opens, behaves as argv says: `badType` sends
 * a message of type 9, `badUpdate` an UPDATE whose attribute length runs past its end, `ok`
 * behaves. It prints one JSON line per thing it sees: the NOTIFICATION Herald answers a
 * misbehaviour with, and the IPv4 prefixes Herald announces on a good connection.
 *
 *   node --import tsx test/support/bgp-scripted-peer.ts <listen-ip> <router-id> <as> badType,badUpdate,ok
 */
import { createServer, type Socket } from 'node:net';

const [listenIp, routerId, asText, plan] = process.argv.slice(2) as [string, string, string, string];
const myAs = Number(asText);
const script = plan.split(',');
const out = (o: unknown): void => {
  process.stdout.write(`${JSON.stringify(o)}\n`);
};

function message(type: number, body: Buffer): Buffer {
  const head = Buffer.alloc(19, 0xff);
  head.writeUInt16BE(19 + body.length, 16);
  head[18] = type;
  return Buffer.concat([head, body]);
}

function open(): Buffer {
  // Capabilities: multiprotocol IPv4 unicast, route refresh, 4-octet AS.
  const caps = Buffer.from([
    1,
    4,
    0,
    1,
    0,
    1,
    2,
    0,
    65,
    4,
    (myAs >>> 24) & 255,
    (myAs >>> 16) & 255,
    (myAs >>> 8) & 255,
    myAs & 255,
  ]);
  const params = Buffer.concat([Buffer.from([2, caps.length]), caps]);
  const body = Buffer.alloc(10);
  body[0] = 4;
  body.writeUInt16BE(myAs > 0xffff ? 23456 : myAs, 1);
  body.writeUInt16BE(9, 3);
  routerId.split('.').forEach((o, i) => (body[5 + i] = Number(o)));
  body[9] = params.length;
  return message(1, Buffer.concat([body, params]));
}

const KEEPALIVE = message(4, Buffer.alloc(0));

/** IPv4 NLRI of an UPDATE body (withdrawn length, withdrawn, attribute length, attributes, NLRI). */
function nlriOf(body: Buffer): string[] {
  const wl = body.readUInt16BE(0);
  const al = body.readUInt16BE(2 + wl);
  const nlri = body.subarray(4 + wl + al);
  const out: string[] = [];
  for (let i = 0; i < nlri.length;) {
    const len = nlri[i]!;
    const bytes = Math.ceil(len / 8);
    const addr = [0, 0, 0, 0].map((_, k) => (k < bytes ? nlri[i + 1 + k]! : 0));
    out.push(`${addr.join('.')}/${len}`);
    i += 1 + bytes;
  }
  return out;
}

let n = 0;
const server = createServer((sock: Socket) => {
  const conn = n++;
  const behaviour = script[Math.min(conn, script.length - 1)];
  let buf = Buffer.alloc(0);
  let established = false;
  const prefixes = new Set<string>();
  const ka = setInterval(() => sock.writable && sock.write(KEEPALIVE), 3000);
  sock.on('close', () => clearInterval(ka));
  sock.on('error', () => undefined);
  sock.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 19) {
      const len = buf.readUInt16BE(16);
      if (buf.length < len) break;
      const type = buf[18]!;
      const body = buf.subarray(19, len);
      buf = buf.subarray(len);
      if (type === 1) {
        sock.write(open());
        sock.write(KEEPALIVE);
      } else if (type === 4 && !established) {
        established = true;
        out({ event: 'established', conn, behaviour });
        if (behaviour === 'badType') sock.write(message(9, Buffer.alloc(0)));
        // Withdrawn length 0, total path attribute length 200 in a 4-byte body.
        if (behaviour === 'badUpdate') sock.write(message(2, Buffer.from([0, 0, 0, 200])));
      } else if (type === 3) {
        out({ event: 'notification', conn, code: body[0], subcode: body[1], data: body.subarray(2).toString('hex') });
      } else if (type === 2) {
        for (const p of nlriOf(body)) prefixes.add(p);
        out({ event: 'routes', conn, prefixes: [...prefixes].sort() });
      }
    }
  });
});
server.listen(179, listenIp, () => out({ event: 'listening' }));
