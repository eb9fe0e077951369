// `npm run catalog`: the metric catalog as JSON, for dashboards, alert rules,
// recording rules and HPA adapter rules to be generated from or checked against.
import { CATALOG } from './catalog.js';

process.stdout.write(`${JSON.stringify({ metrics: CATALOG }, null, 2)}\n`);
