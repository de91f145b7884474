// Mocha's spec output plus the plain closing line CI counts: "N passed, N failed".
'use strict';
const Mocha = require('mocha');
const { Spec } = Mocha.reporters;
const { EVENT_RUN_END } = Mocha.Runner.constants;

class SummaryReporter extends Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(EVENT_RUN_END, () => {
      const { passes = 0, failures = 0, pending = 0 } = runner.stats || {};
      const tail = pending ? `, ${pending} skipped` : '';
      process.stdout.write(`\n${passes} passed, ${failures} failed${tail}\n`);
      // test/support/run-suites.mjs adds up several runs from these files.
      if (process.env.HOLDLINE_SUMMARY_FILE) {
        require('node:fs').writeFileSync(process.env.HOLDLINE_SUMMARY_FILE, JSON.stringify({ passes, failures, pending }));
      }
    });
  }
}
module.exports = SummaryReporter;
