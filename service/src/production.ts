// The production entry point: telemetry first, then the service — what
// `node --import ./dist/telemetry/register.js dist/main.js` does, as one
// module graph. scripts/bundle.mjs bundles it into dist/bundle/periscope.js,
// which `npm start` and the container run: one file to load instead of ~500
// modules to resolve takes about a third off the time to ready
// (README, Performance). The unbundled form stays supported and tested
// (service/test/process.test.ts, "entry points").
import './telemetry/register.js';
import './main.js';
