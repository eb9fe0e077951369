// "The usual setup" from OpenTelemetry's Node.js getting-started guide, run as
// `node --import ./tutorial-register.mjs tutorial.mjs`: NodeSDK with every
// auto-instrumentation, OTLP export, the default sampler (parent-based
// always-on), then the same hello route as bare.mjs.
import { startHelloApp } from './hello-app.mjs';

await startHelloApp();
