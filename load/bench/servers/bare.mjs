// Baseline for the overhead benchmark: bare Fastify 5 with the service's hello
// route (same response schema), no logger, no telemetry.
import { startHelloApp } from './hello-app.mjs';

await startHelloApp();
