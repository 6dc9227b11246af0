/**
 * OPEN optional parameters beyond 255 bytes (RFC 9072) and the tagging of decoder defects:
 * an internal error still resets the session but is never confused with malformed input.
 */
import { expect } from 'chai';
import { decode, encode } from '../../../../speaker/bgp/codec.js';
import {
  DEFAULT_CODEC,
  decodeErrorKind,
  type CodecOptions,
  type OpenMessage,
} from '../../../../speaker/bgp/messages.js';
import { HeraldError } from '../../../../src/core/errors.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const MARKER = 'ffffffffffffffffffffffffffffffff';

function openBytes(optional: Buffer): Buffer {
  const body = Buffer.concat([hex('04 fde8 005a c0000201'), optional]);
  const len = Buffer.alloc(2);
  len.writeUInt16BE(19 + body.length);
  return Buffer.concat([hex(MARKER), len, Buffer.from([1]), body]);
}

/** `n` unknown capabilities (code 200 + i % 50) of 4 bytes each, all in ONE optional parameter. */
function manyCapsInOneParam(n: number): Buffer {
  const caps = Buffer.concat(Array.from({ length: n }, (_, i) => Buffer.from([200 + (i % 50), 4, 0, 0, 0, i & 0xff])));
  return Buffer.concat([Buffer.from([2 + caps.length, 2, caps.length]), caps]);
}

describe('bgp codec: OPEN optional parameters', () => {
  it('an accepted OPEN with 42 capabilities in one parameter encodes again (packed), and decodes to the same message', () => {
    const bytes = openBytes(manyCapsInOneParam(42));
    const r = decode(bytes, DEFAULT_CODEC);
    expect(r.ok).to.equal(true);
    const m = (r as { message: OpenMessage }).message;
    expect(m.capabilities.other.length).to.equal(42);
    const again = encode(m, DEFAULT_CODEC);
    expect(again[19 + 9]).to.be.at.most(255);
    expect(again[19 + 9]).to.not.equal(255, 'fits without the extended format');
    expect(decode(again, DEFAULT_CODEC)).to.deep.equal({ ok: true, message: m });
  });

  it('more than fits in 255 bytes uses RFC 9072 extended parameters, and the decoder reads them', () => {
    const m: OpenMessage = {
      type: 'open',
      version: 4,
      myAs: 65000,
      holdTime: 90,
      bgpId: '192.0.2.1',
      capabilities: {
        multiprotocol: [{ afi: 1, safi: 1 }],
        routeRefresh: true,
        extendedMessage: false,
        other: Array.from({ length: 60 }, (_, i) => ({ code: 128 + i, value: Buffer.from([i, i, i]) })),
      },
    };
    const bytes = encode(m, DEFAULT_CODEC);
    // Non-Ext OP Len 255, Non-Ext OP Type 255, 2-byte length, then type 2 with a 2-byte length.
    expect([...bytes.subarray(28, 30)]).to.deep.equal([255, 255]);
    const extLen = bytes.readUInt16BE(30);
    expect(32 + extLen).to.equal(bytes.length);
    expect(bytes[32]).to.equal(2);
    expect(bytes.readUInt16BE(33)).to.equal(extLen - 3);
    expect(decode(bytes, DEFAULT_CODEC)).to.deep.equal({ ok: true, message: m });
  });

  it('hand-written RFC 9072 bytes decode (two parameters with 2-byte lengths)', () => {
    const params = hex('02 0006 01 04 0001 0001   02 0002 02 00');
    const ext = Buffer.concat([hex('ff ff'), Buffer.from([0, params.length]), params]);
    const r = decode(openBytes(ext), DEFAULT_CODEC);
    expect(r).to.deep.include({ ok: true });
    expect((r as { message: OpenMessage }).message.capabilities).to.deep.include({
      multiprotocol: [{ afi: 1, safi: 1 }],
      routeRefresh: true,
    });
  });

  it('a truncated or overlong extended field is malformed (OPEN error, not internal)', () => {
    for (const tail of [hex('ff ff 00'), hex('ff ff 0010 02 0002 0200'), hex('ff ff 0005 02 0009 0200')]) {
      const r = decode(openBytes(tail), DEFAULT_CODEC);
      expect(r.ok).to.equal(false);
      if (!r.ok) {
        expect(r.error.code).to.equal(2);
        expect(decodeErrorKind(r.error)).to.equal('malformed');
      }
    }
  });
});

describe('bgp codec: internal errors are tagged', () => {
  it('a throw inside the decoder becomes kind internal with Cease, never a §6 header error', () => {
    // Options whose getter throws stand in for a decoder bug reached while reading an UPDATE.
    const broken = {
      maxMessageSize: 4096,
      get fourOctetAs(): boolean {
        throw new TypeError('boom');
      },
    } as CodecOptions;
    const update = encode(
      { type: 'update', withdrawn: [], attributes: { origin: 0, asPath: [] }, nlri: [] },
      DEFAULT_CODEC,
    );
    const r = decode(update, broken);
    expect(r.ok).to.equal(false);
    if (r.ok) return;
    expect(r.error.kind).to.equal('internal');
    expect(decodeErrorKind(r.error)).to.equal('internal');
    // Herald's own error type, code Internal, with what the decoder threw as its cause.
    expect(r.error.cause).to.be.instanceOf(HeraldError);
    expect((r.error.cause as HeraldError).code).to.equal('Internal');
    expect((r.error.cause as HeraldError).cause).to.be.instanceOf(TypeError);
    expect([r.error.handling, r.error.message]).to.deep.equal(['session-reset', 'update']);
    expect([r.error.code, r.error.subcode]).to.deep.equal([6, 0]);
    expect(r.error.reason).to.match(/^internal decoder error: boom/);
  });

  it('malformed input is kind malformed', () => {
    const r = decode(hex(`${MARKER} 0013 02`), DEFAULT_CODEC);
    expect(r.ok).to.equal(false);
    if (!r.ok) expect(decodeErrorKind(r.error)).to.equal('malformed');
  });
});
