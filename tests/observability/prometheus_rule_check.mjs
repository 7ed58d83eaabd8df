// Proves that the PrometheusRule kubectl renders carries exactly the groups of
// the plain rule file:
//
//   node prometheus_rule_check.mjs RULES.yaml RENDERED.yaml SPEC_OUT.yaml
//
// RENDERED.yaml is `kubectl kustomize deploy/observability`; its one
// PrometheusRule's spec must equal RULES.yaml as parsed YAML (every group, rule,
// expression, label and annotation). The spec is written to SPEC_OUT.yaml for
// `promtool check rules`, so what the operator loads is checked as such.
// Prints the first difference; exits 1 on any.
import { readFileSync, writeFileSync } from 'node:fs';
import { parse, parseAllDocuments, stringify } from 'yaml';

const [rulesPath, renderedPath, specOut] = process.argv.slice(2);

// The path of the first difference between a and b, or null.
function firstDifference(a, b, path = 'spec') {
  if (typeof a !== typeof b || Array.isArray(a) !== Array.isArray(b) || (a === null) !== (b === null)) {
    return `${path}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`;
  }
  if (a === null || typeof a !== 'object') return a === b ? null : `${path}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) {
    const d = firstDifference(a[k], b[k], Array.isArray(a) ? `${path}[${k}]` : `${path}.${k}`);
    if (d) return d;
  }
  return null;
}

const rules = parse(readFileSync(rulesPath, 'utf8'));
const docs = parseAllDocuments(readFileSync(renderedPath, 'utf8')).map((d) => d.toJS()).filter(Boolean);
const found = docs.filter((d) => d.kind === 'PrometheusRule');
if (found.length !== 1) {
  console.log(`FAIL: ${found.length} PrometheusRule documents rendered, want 1`);
  process.exit(1);
}
const pr = found[0];
if (pr.apiVersion !== 'monitoring.coreos.com/v1') {
  console.log(`FAIL: PrometheusRule apiVersion ${pr.apiVersion}, want monitoring.coreos.com/v1`);
  process.exit(1);
}
const diff = firstDifference(pr.spec, rules);
if (diff) {
  console.log(`FAIL: PrometheusRule ${pr.metadata?.name} differs from ${rulesPath} at ${diff}`);
  console.log('      regenerate: deploy/observability/render-prometheus-rule.sh > deploy/observability/prometheus-rule.yaml');
  process.exit(1);
}
writeFileSync(specOut, stringify(pr.spec));
const count = rules.groups.reduce((n, g) => n + g.rules.length, 0);
console.log(`PrometheusRule ${pr.metadata.name}: ${rules.groups.length} groups, ${count} rules, equal to ${rulesPath}`);
