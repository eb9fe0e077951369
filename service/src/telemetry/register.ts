// Preload: `node --import ./dist/telemetry/register.js dist/main.js`, or the
// first import of production.ts (the bundle `npm start` runs).
//
// Sets up tracing before the application's modules load, so that any
// instrumentation a team adds later (database drivers that need patching at
// require time) sees the tracer provider. main.ts reuses this same instance.
import { processTelemetryInstance } from './telemetry.js';

await processTelemetryInstance();
