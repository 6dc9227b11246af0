/**
 * A session's outgoing connection attempts: at most one in flight. Starting a new attempt,
 * or abandoning, aborts the one in flight (its socket is destroyed through the transport's
 * AbortSignal), so a peer that never answers cannot pile up half-open connects.
 */
import { HeraldError, errorMessage } from '../../src/core/errors.js';
import type { ConnectOptions, Connection, Transport } from './transport.js';

/**
 * Said with every unanswered connect of a session that has a TCP-MD5 password: the peer's
 * kernel drops a SYN whose signature does not match (RFC 2385 §2.0) without a reset, so a
 * wrong password looks exactly like a peer that is not there.
 */
export const MD5_SILENT_HINT =
  'a TCP-MD5 password is set: MD5 mismatches are silent on the wire (a segment with a wrong or missing signature is dropped without a reply), so check the password on both sides';

/** `what` went unanswered; with `md5`, the hint that a password mismatch looks the same. */
export function noAnswer(what: string, md5: boolean): string {
  return md5 ? `${what}; ${MD5_SILENT_HINT}` : what;
}

/** The transport's own connect timeout, or the kernel's (ETIMEDOUT: SYNs never answered). */
function unanswered(err: unknown): boolean {
  if (err instanceof HeraldError) return err.code === 'Timeout';
  return (err as { code?: unknown } | undefined)?.code === 'ETIMEDOUT';
}

export type DialResult =
  | { readonly kind: 'connected'; readonly conn: Connection }
  /** `noAnswer`: the peer never answered (timed out), as opposed to refusing or unreachable. */
  | { readonly kind: 'failed'; readonly error: string; readonly noAnswer: boolean }
  /** A newer attempt or a drop replaced it: nothing to do. */
  | { readonly kind: 'aborted' };

export class Dialer {
  private inFlight: AbortController | undefined;

  constructor(
    private readonly transport: Transport,
    readonly target: Omit<ConnectOptions, 'signal'>,
  ) {}

  /** Aborts the attempt in flight; true if there was one. */
  abandon(): boolean {
    if (!this.inFlight) return false;
    this.inFlight.abort();
    this.inFlight = undefined;
    return true;
  }

  async dial(): Promise<DialResult> {
    this.abandon();
    const attempt = new AbortController();
    this.inFlight = attempt;
    try {
      const conn = await this.transport.connect({ ...this.target, signal: attempt.signal });
      if (attempt.signal.aborted) {
        conn.destroy();
        return { kind: 'aborted' };
      }
      this.inFlight = undefined;
      return { kind: 'connected', conn };
    } catch (err) {
      if (attempt.signal.aborted) return { kind: 'aborted' };
      this.inFlight = undefined;
      return { kind: 'failed', error: errorMessage(err), noAnswer: unanswered(err) };
    }
  }
}
