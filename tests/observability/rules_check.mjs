// Checks the alert rules beyond what promtool does:
//
//   node rules_check.mjs RULES.yaml RULES_TEST.yaml DEPLOY_README.md
//
// Every alert has a severity (critical or warning), summary, description and a
// runbook annotation naming deploy/README.md and the alert; every aggregation in
// its expression keeps namespace, and it reads only known metric names (promql_names.mjs); the
// promtool unit tests hold, for every alert, a case where it fires and one
// where it does not; the README section "Alerts and dashboards" explains every
// alert. Prints each violation; exits 1 if there is one.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { unknownMetrics } from './promql_names.mjs';

const [rulesPath, testsPath, readmePath] = process.argv.slice(2);
const errors = [];
const fail = (where, what) => errors.push(`${where}: ${what}`);

function alertsOf(rulesDoc) {
  return (rulesDoc.groups ?? []).flatMap((g) => (g.rules ?? []).filter((r) => r.alert));
}

function checkAlert(rule) {
  const where = `alert ${rule.alert}`;
  if (!['critical', 'warning'].includes(rule.labels?.severity)) fail(where, 'severity must be critical or warning');
  for (const key of ['summary', 'description', 'runbook']) {
    if (!rule.annotations?.[key]) fail(where, `no ${key} annotation`);
  }
  const runbook = rule.annotations?.runbook ?? '';
  if (!runbook.includes('deploy/README.md') || !runbook.includes(rule.alert)) {
    fail(where, 'runbook must name deploy/README.md and the alert');
  }
  for (const m of rule.expr.matchAll(/\bby\s*\(([^)]*)\)/g)) {
    if (!/\bnamespace\b/.test(m[1])) fail(where, `groups by (${m[1]}) without namespace`);
  }
  for (const name of unknownMetrics(rule.expr)) fail(where, `reads unknown metric ${name}`);
}

// alertname -> { fires, silent }: whether some unit test expects it firing / not.
function testCoverage(testsDoc) {
  const seen = new Map();
  for (const test of testsDoc.tests ?? []) {
    for (const c of test.alert_rule_test ?? []) {
      const entry = seen.get(c.alertname) ?? { fires: false, silent: false };
      if ((c.exp_alerts ?? []).length > 0) entry.fires = true;
      else entry.silent = true;
      seen.set(c.alertname, entry);
    }
  }
  return seen;
}

function readmeSection(text) {
  const start = text.indexOf('\n## Alerts and dashboards\n');
  if (start < 0) return null;
  const next = text.indexOf('\n## ', start + 1);
  return text.slice(start, next < 0 ? undefined : next);
}

const alerts = alertsOf(parse(readFileSync(rulesPath, 'utf8')));
if (alerts.length === 0) fail(rulesPath, 'no alerts');
alerts.forEach(checkAlert);

const coverage = testCoverage(parse(readFileSync(testsPath, 'utf8')));
const names = new Set(alerts.map((a) => a.alert));
for (const name of names) {
  const c = coverage.get(name);
  if (!c?.fires) fail(`alert ${name}`, 'no unit test where it fires');
  if (!c?.silent) fail(`alert ${name}`, 'no unit test where it does not fire');
}
for (const name of coverage.keys()) {
  if (!names.has(name)) fail(testsPath, `tests unknown alert ${name}`);
}

const section = readmeSection(readFileSync(readmePath, 'utf8'));
if (section === null) fail(readmePath, 'no section "## Alerts and dashboards"');
else for (const name of names) if (!section.includes(name)) fail(readmePath, `runbook misses ${name}`);

for (const e of errors) console.log(`FAIL: ${e}`);
if (errors.length) process.exit(1);
console.log(`rules check: ${alerts.length} alerts, each tested firing and silent, each in the runbook`);
