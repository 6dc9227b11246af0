/**
 * A long-running command has stopped; a request the API server never answers (a write to a
 * server that hangs) would still hold the process, since a request without an answer cannot
 * be aborted. An unref'd timer fires only if something else keeps the process alive: then it
 * exits, with the exit code already set.
 */
export function exitWhenStuck(ms = 500): void {
  setTimeout(() => process.exit(), ms).unref();
}
