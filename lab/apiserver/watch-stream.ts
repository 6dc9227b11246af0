/**
 * A watch served over HTTP: a chunked stream of newline-separated JSON events (as Tables when
 * asked), periodic bookmarks, the `timeoutSeconds` deadline, and cleanup when either side closes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiCore } from './core.js';
import type { Route } from './routes.js';
import { ApiError } from './status.js';
import type { Obj } from './store.js';
import { toTable } from './table.js';

/** Streams the watch a request asks for until the client, the timeout or the core ends it. */
export function serveWatch(
  core: ApiCore,
  bookmarkMs: number,
  req: IncomingMessage,
  res: ServerResponse,
  r: Route,
  q: URLSearchParams,
  table: boolean,
): void {
  res.writeHead(200, {
    'Content-Type': 'application/json',
    'Transfer-Encoding': 'chunked',
    'Cache-Control': 'no-cache',
  });
  res.flushHeaders();
  const write = (e: { type: string; object: Record<string, unknown> }): void => {
    if (res.destroyed || res.writableEnded) return;
    const object =
      table && e.type !== 'BOOKMARK' && e.type !== 'ERROR' ? toTable(r.info, [e.object as Obj], Date.now()) : e.object;
    res.write(`${JSON.stringify({ type: e.type, object })}\n`);
  };
  const timers: { bookmark?: NodeJS.Timeout; timeout?: NodeJS.Timeout } = {};
  const finish = (): void => {
    if (timers.bookmark) clearInterval(timers.bookmark);
    if (timers.timeout) clearTimeout(timers.timeout);
    if (!res.writableEnded) res.end();
  };
  let handle: ReturnType<ApiCore['watch']>;
  try {
    handle = core.watch(
      r.info,
      r.namespace,
      {
        ...(q.get('labelSelector') !== null ? { labelSelector: q.get('labelSelector')! } : {}),
        ...(q.get('fieldSelector') !== null ? { fieldSelector: q.get('fieldSelector')! } : {}),
        ...(q.get('resourceVersion') !== null ? { resourceVersion: q.get('resourceVersion')! } : {}),
        allowWatchBookmarks: q.get('allowWatchBookmarks') === 'true' || q.get('allowWatchBookmarks') === '1',
      },
      write,
      finish,
    );
  } catch (err) {
    const e = err instanceof ApiError ? err : new ApiError(500, 'InternalError', String(err));
    write({ type: 'ERROR', object: e.toStatus() });
    finish();
    return;
  }
  timers.bookmark = setInterval(() => handle.bookmark(), bookmarkMs);
  timers.bookmark.unref();
  const seconds = Number(q.get('timeoutSeconds') ?? '0');
  if (seconds > 0) {
    timers.timeout = setTimeout(() => {
      handle.stop();
      finish();
    }, seconds * 1000);
    timers.timeout.unref();
  }
  const cleanup = (): void => {
    handle.stop();
    finish();
  };
  req.on('close', cleanup);
  res.on('close', cleanup);
}
