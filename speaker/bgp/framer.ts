/**
 * Incremental framer: bytes from the transport in any split, whole messages out. The header
 * is checked as soon as it is complete, so a bad marker or length is caught before waiting
 * for a body that will never come.
 */
import { checkHeader } from './codec.js';
import { HEADER_LENGTH, MARKER_LENGTH, MAX_MESSAGE, type SessionResetError } from './messages.js';

export type FrameResult = { readonly messages: Buffer[]; readonly error?: SessionResetError };

export class Framer {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private failed = false;

  constructor(private maxSize: number = MAX_MESSAGE) {}

  /** After extended messages are negotiated. */
  setMaxSize(n: number): void {
    this.maxSize = n;
  }

  push(data: Buffer): FrameResult {
    if (this.failed) return { messages: [] };
    this.chunks.push(data);
    this.buffered += data.length;
    const messages: Buffer[] = [];
    for (;;) {
      if (this.buffered < HEADER_LENGTH) break;
      const head = this.peek(HEADER_LENGTH);
      const bad = checkHeader(head, this.maxSize);
      if (bad) {
        this.failed = true;
        return { messages, error: bad };
      }
      const length = head.readUInt16BE(MARKER_LENGTH);
      if (this.buffered < length) break;
      messages.push(this.take(length));
    }
    return { messages };
  }

  private peek(n: number): Buffer {
    if (this.chunks[0]!.length >= n) return this.chunks[0]!.subarray(0, n);
    const all = Buffer.concat(this.chunks);
    this.chunks = [all];
    return all.subarray(0, n);
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const out = Buffer.from(all.subarray(0, n));
    const rest = all.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
    return out;
  }
}
