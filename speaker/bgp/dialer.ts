/**
 * A session's outgoing connection attempts: at most one in flight. Starting a new attempt,
 * or abandoning, aborts the one in flight (its socket is destroyed through the transport's
 * AbortSignal), so a peer that never answers cannot pile up half-open connects.
 */
import { errorMessage } from '../../src/core/errors.js';
import type { ConnectOptions, Connection, Transport } from './transport.js';

export type DialResult =
  | { readonly kind: 'connected'; readonly conn: Connection }
  | { readonly kind: 'failed'; readonly error: string }
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
      return { kind: 'failed', error: errorMessage(err) };
    }
  }
}
