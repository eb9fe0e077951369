// `npm run dashboards:check` (after the drift check in build.ts --check):
// runs check.ts over the committed dashboards and the rule files and fails
// the build on any problem.
import { readRunbook, runChecks } from './check.js';
import { loadDashboards, loadRules, panelQueries, templateVariables } from './sources.js';

const dashboards = loadDashboards();
const panels = panelQueries(dashboards);
const variables = templateVariables(dashboards);
const rules = loadRules();
const problems = runChecks({ panels, variables, rules, runbook: readRunbook() });

if (problems.length) {
  console.error(`dashboards/rules check failed (${problems.length}):\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(
  `dashboards/rules check: ${panels.length} panel queries, ${variables.length} variables, ` +
    `${rules.filter((r) => r.record).length} recording and ${rules.filter((r) => r.alert).length} alerting rules: ` +
    'every metric is in the catalog, recorded, or declared external; every runbook link resolves',
);
