// Spec reporter plus one plain closing line ("mocha: N passed, N failed, N skipped").
// Under CI=true a skipped test is a failure: CI installs every tool a test needs. The one
// exception is a test skipped on the real-Kubernetes lane by skipOnReal (test/support/
// kube-cluster.ts): it names its reason, and the reasons are listed at the end.
'use strict';
const Mocha = require('mocha');
const { EVENT_RUN_END, EVENT_TEST_PENDING } = Mocha.Runner.constants;

class SummaryReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    const realSkips = [];
    runner.on(EVENT_TEST_PENDING, (test) => {
      if (test.heraldRealSkip) realSkips.push(`${test.fullTitle()}: ${test.heraldRealSkip}`);
    });
    runner.once(EVENT_RUN_END, () => {
      const s = runner.stats ?? { passes: 0, failures: 0, pending: 0 };
      for (const line of realSkips) process.stdout.write(`not on the real server: ${line}\n`);
      process.stdout.write(
        `mocha: ${s.passes} passed, ${s.failures} failed, ${s.pending} skipped${realSkips.length ? ` (${realSkips.length} on the real server only)` : ''}\n`,
      );
      if (process.env.CI === 'true' && s.pending > realSkips.length) {
        process.stdout.write('under CI no test may skip: install what it needs in scripts/install-deps.sh\n');
        process.exitCode = 1;
      }
    });
  }
}
module.exports = SummaryReporter;
