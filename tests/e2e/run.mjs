#!/usr/bin/env node
// Desktop end-to-end tests of the Ilot app window (see scripts/test-e2e.sh, which builds the app
// and starts Xvfb). Usage:
//   node tests/e2e/run.mjs --app <ilot-app binary> --ilot <ilot binary> [--driver tauri-driver] [--artifacts DIR]
//                          [--suite patient|phone|perf] [--only scenario,...]
import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import { runScenarios } from './harness.mjs';
import { PATIENT_STEPS } from './patient.mjs';
import { ENROLLED, INVITED } from './enrolled.mjs';
import { CONSENT } from './consent.mjs';
import { PERF_SCENARIOS } from './perf.mjs';
import { PHONE_SCENARIOS } from './phone.mjs';
import { SINGLE_INSTANCE } from './single.mjs';

const { values } = parseArgs({
  options: {
    app: { type: 'string' },
    ilot: { type: 'string' },
    driver: { type: 'string', default: 'tauri-driver' },
    artifacts: { type: 'string', default: 'artifacts' },
    suite: { type: 'string', default: 'patient' },
    only: { type: 'string' },
  },
});
if (!values.app || !existsSync(values.app)) {
  console.error(`e2e: the app binary ${values.app} does not exist; build it first (scripts/test-e2e.sh does)`);
  process.exit(2);
}
if (!process.env.DISPLAY) {
  console.error('e2e: DISPLAY is not set; run under Xvfb (scripts/test-e2e.sh does)');
  process.exit(2);
}

const suites = {
  patient: [{ name: 'patient', env: { ILOT_SIM: '1' }, steps: PATIENT_STEPS }, ENROLLED, INVITED, CONSENT, SINGLE_INSTANCE, ...PHONE_SCENARIOS],
  // The phone sizes and the single instance only (quicker while working on the layout).
  phone: [SINGLE_INSTANCE, ...PHONE_SCENARIOS],
  perf: PERF_SCENARIOS,
};
const scenarios = suites[values.suite];
if (!scenarios) {
  console.error(`e2e: unknown suite ${values.suite} (patient, phone or perf)`);
  process.exit(2);
}

const { passed, failed } = await runScenarios(scenarios, {
  app: values.app,
  ilot: values.ilot,
  driverBin: values.driver,
  artifacts: values.artifacts,
  only: values.only?.split(','),
});
console.log(`\n${passed} step(s) passed, ${failed.length} failed; screenshots in ${values.artifacts}/screenshots`);
process.exit(failed.length === 0 && passed > 0 ? 0 : 1);
