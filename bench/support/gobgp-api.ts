/**
 * Loads prefixes into GoBGP's global RIB through its gRPC API (GoBGP 3.x, service
 * apipb.GobgpApi), for bench/bgp's GoBGP reference. The CLI adds one route per process and
 * `gobgp mrt inject` returns before its stream is flushed (routes lost), so the bench streams
 * the paths itself: AddPathStream, half-closed, then waits for GoBGP's reply; GetTable counts
 * what landed.
 *
 * Only the fields used are declared (numbers from GoBGP's api/gobgp.proto, 3.x): paths go in
 * binary form (nlri_binary, pattrs_binary: the NLRI and each attribute as on the BGP wire).
 */
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';

const root = protobuf.Root.fromJSON({
  nested: {
    apipb: {
      nested: {
        Family: { fields: { afi: { type: 'int32', id: 1 }, safi: { type: 'int32', id: 2 } } },
        Path: {
          fields: {
            family: { type: 'Family', id: 9 },
            nlriBinary: { type: 'bytes', id: 20 },
            pattrsBinary: { rule: 'repeated', type: 'bytes', id: 21 },
          },
        },
        AddPathStreamRequest: {
          fields: {
            tableType: { type: 'int32', id: 1 }, // GLOBAL = 0
            vrfId: { type: 'string', id: 2 },
            paths: { rule: 'repeated', type: 'Path', id: 3 },
          },
        },
        GetTableRequest: {
          fields: {
            tableType: { type: 'int32', id: 1 },
            family: { type: 'Family', id: 2 },
            name: { type: 'string', id: 3 },
          },
        },
        GetTableResponse: {
          fields: { numDestination: { type: 'uint64', id: 1 }, numPath: { type: 'uint64', id: 2 } },
        },
        EnablePeerRequest: { fields: { address: { type: 'string', id: 1 } } },
      },
    },
  },
});
const T = (name: string): protobuf.Type => root.lookupType(`apipb.${name}`);
const AddPathStreamRequest = T('AddPathStreamRequest');
const GetTableRequest = T('GetTableRequest');
const GetTableResponse = T('GetTableResponse');
const EnablePeerRequest = T('EnablePeerRequest');

const ser =
  (t: protobuf.Type) =>
  (v: object): Buffer =>
    Buffer.from(t.encode(t.fromObject(v)).finish());
const de =
  (t: protobuf.Type) =>
  (b: Buffer): Record<string, unknown> =>
    t.toObject(t.decode(b), { longs: Number });

export type Family = 'IPv4' | 'IPv6';
const FAMILY = { IPv4: { afi: 1, safi: 1 }, IPv6: { afi: 2, safi: 1 } } as const;

/** One path: its prefix (address bytes and length) and next hop, ORIGIN IGP and an empty AS_PATH. */
export interface BinaryPath {
  family: Family;
  addr: Buffer;
  len: number;
  nextHop: Buffer;
}

function nlri(addr: Buffer, len: number): Buffer {
  return Buffer.concat([Buffer.from([len]), addr.subarray(0, Math.ceil(len / 8))]);
}

/** The path in GoBGP's binary form: the NLRI and each attribute as on the wire (RFC 4271 §4.3, RFC 4760). */
function encodePath(p: BinaryPath): object {
  const n = nlri(p.addr, p.len);
  const origin = Buffer.from([0x40, 1, 1, 0]); // IGP
  const asPath = Buffer.from([0x40, 2, 0]); // empty: GoBGP prepends its own AS towards an eBGP peer
  let hop: Buffer;
  if (p.family === 'IPv4') {
    hop = Buffer.concat([Buffer.from([0x40, 3, 4]), p.nextHop]);
  } else {
    const body = Buffer.concat([Buffer.from([0, 2, 1, p.nextHop.length]), p.nextHop, Buffer.from([0]), n]);
    hop = Buffer.concat([Buffer.from([0x80, 14, body.length]), body]);
  }
  return { family: FAMILY[p.family], nlriBinary: n, pattrsBinary: [origin, asPath, hop] };
}

export class GobgpApi {
  private readonly client: grpc.Client;

  /** `target` as gRPC names it, e.g. unix:///run/gobgp/api.sock. */
  constructor(target: string) {
    this.client = new grpc.Client(target, grpc.credentials.createInsecure());
  }

  close(): void {
    this.client.close();
  }

  /** Streams `count` paths (`path(i)`), `perRequest` to a message; resolves when GoBGP has replied to the half-closed stream. */
  addPaths(count: number, path: (i: number) => BinaryPath, perRequest = 1000): Promise<void> {
    return new Promise((resolve, reject) => {
      const call = this.client.makeClientStreamRequest(
        '/apipb.GobgpApi/AddPathStream',
        ser(AddPathStreamRequest),
        (b: Buffer) => b,
        (err: grpc.ServiceError | null) => (err ? reject(new Error(`GoBGP AddPathStream: ${err.message}`)) : resolve()),
      );
      let i = 0;
      const pump = (): void => {
        while (i < count) {
          const paths: object[] = [];
          for (const end = Math.min(count, i + perRequest); i < end; i++) paths.push(encodePath(path(i)));
          if (!call.write({ tableType: 0, paths })) {
            call.once('drain', pump);
            return;
          }
        }
        call.end();
      };
      pump();
    });
  }

  /** Starts a neighbor configured with admin-down. */
  enablePeer(address: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(
        '/apipb.GobgpApi/EnablePeer',
        ser(EnablePeerRequest),
        (b: Buffer) => b,
        { address },
        (err: grpc.ServiceError | null) =>
          err ? reject(new Error(`GoBGP EnablePeer ${address}: ${err.message}`)) : resolve(),
      );
    });
  }

  /** Destinations in the global RIB for a family. */
  destinations(family: Family): Promise<number> {
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(
        '/apipb.GobgpApi/GetTable',
        ser(GetTableRequest),
        de(GetTableResponse),
        { tableType: 0, family: FAMILY[family] },
        (err: grpc.ServiceError | null, res?: Record<string, unknown>) =>
          err ? reject(new Error(`GoBGP GetTable: ${err.message}`)) : resolve(Number(res?.numDestination ?? 0)),
      );
    });
  }
}
