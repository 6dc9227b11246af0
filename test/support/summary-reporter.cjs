// Spec reporter plus one plain closing line ("mocha: N passed, N failed, N skipped").
// Under CI=true a skipped test is a failure: CI installs every tool a test needs.
'use strict';
const Mocha = require('mocha');
const { EVENT_RUN_END } = Mocha.Runner.constants;

class SummaryReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(EVENT_RUN_END, () => {
      const s = runner.stats ?? { passes: 0, failures: 0, pending: 0 };
      process.stdout.write(`mocha: ${s.passes} passed, ${s.failures} failed, ${s.pending} skipped\n`);
      if (process.env.CI === 'true' && s.pending > 0) {
        process.stdout.write('under CI no test may skip: install what it needs in scripts/install-deps.sh\n');
        process.exitCode = 1;
      }
    });
  }
}
module.exports = SummaryReporter;
