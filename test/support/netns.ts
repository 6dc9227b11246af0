/** Tests use the lab's namespace helper; `useNetns` gives a suite fresh namespaces per test. */
import { canUseNetns, Netns } from '../../lab/netns.js';
import { requireTool } from './tools.js';

export { canUseNetns, Netns, run } from '../../lab/netns.js';

/**
 * For suites that build namespaces: needs root, `ip netns` and the given tools (skipped
 * locally without them, a failure under CI). Returns a getter for the current test's Netns,
 * torn down after each test even when it fails.
 */
export function useNetns(suite: Mocha.Suite, tools: readonly string[] = []): () => Netns {
  let net: Netns | undefined;
  suite.beforeAll(function () {
    for (const t of tools) requireTool(this, t);
    if (!canUseNetns()) {
      if (process.env['CI'] === 'true') throw new Error('network namespace tests need root and ip netns');
      this.skip();
    }
  });
  suite.beforeEach(() => {
    net = new Netns();
  });
  suite.afterEach(async () => {
    await net?.teardown();
  });
  return () => net!;
}
