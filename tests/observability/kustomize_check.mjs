// Checks `kubectl kustomize deploy/observability` against the dashboards and
// the aTES pods it must scrape:
//
//   node kustomize_check.mjs RENDERED.yaml K8S_BASE_DIR DASHBOARD_DIR
//
// The rendering holds one PrometheusRule, one PodMonitor and one ConfigMap per
// dashboard file (label grafana_dashboard "1", the file under its own name,
// byte for byte) and nothing else, all in one namespace and labelled
// app.kubernetes.io/part-of: ates. The PodMonitor scrapes the port named
// `metrics`, and every aTES Deployment in the YAML files of deploy/k8s/base
// (read as files: this test does not depend on how that kustomization renders)
// has pods its selector matches, a container port of that name, and the pod
// label named by jobLabel equal to the Deployment's name (the alerts'
// job="ates-..." and kube-state-metrics' deployment label). Prints each
// violation; exits 1 if any.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

const [renderedPath, baseDir, dashDir] = process.argv.slice(2);
const errors = [];
const fail = (where, what) => errors.push(`${where}: ${what}`);
const load = (p) => parseAllDocuments(readFileSync(p, 'utf8')).map((d) => d.toJS()).filter(Boolean);
const docs = load(renderedPath);
const name = (d) => `${d.kind}/${d.metadata?.name}`;

// Every document of every *.yaml under dir but kustomization.yaml.
function loadTree(dir) {
  return readdirSync(dir).sort().flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return loadTree(path);
    return entry.endsWith('.yaml') && entry !== 'kustomization.yaml' ? load(path) : [];
  });
}

function checkCommon() {
  const namespaces = new Set(docs.map((d) => d.metadata?.namespace));
  if (namespaces.size !== 1 || namespaces.has(undefined)) fail('rendering', `namespaces ${[...namespaces]}, want one`);
  for (const d of docs) {
    if (d.metadata?.labels?.['app.kubernetes.io/part-of'] !== 'ates') fail(name(d), 'no app.kubernetes.io/part-of: ates');
    if (!['PrometheusRule', 'PodMonitor', 'ConfigMap'].includes(d.kind)) fail(name(d), 'unexpected kind');
  }
  for (const kind of ['PrometheusRule', 'PodMonitor']) {
    const n = docs.filter((d) => d.kind === kind).length;
    if (n !== 1) fail('rendering', `${n} ${kind}, want 1`);
  }
}

function checkDashboards() {
  const files = readdirSync(dashDir).filter((f) => f.endsWith('.json')).sort();
  const maps = docs.filter((d) => d.kind === 'ConfigMap');
  if (maps.length !== files.length) fail('rendering', `${maps.length} ConfigMaps for ${files.length} dashboards`);
  for (const file of files) {
    const cm = maps.find((m) => m.data && file in m.data);
    if (!cm) { fail(file, 'in no ConfigMap'); continue; }
    if (cm.metadata.labels?.grafana_dashboard !== '1') fail(name(cm), 'no label grafana_dashboard: "1"');
    if (Object.keys(cm.data).length !== 1) fail(name(cm), 'holds more than one file');
    if (cm.data[file] !== readFileSync(join(dashDir, file), 'utf8')) fail(name(cm), `${file} differs from the file`);
  }
}

function checkPodMonitor() {
  const pm = docs.find((d) => d.kind === 'PodMonitor');
  if (!pm) return;
  const ports = (pm.spec?.podMetricsEndpoints ?? []).map((e) => e.port);
  if (ports.length !== 1 || ports[0] !== 'metrics') fail(name(pm), `scrapes ports ${ports}, want metrics`);
  const selector = pm.spec?.selector?.matchLabels ?? {};
  if (Object.keys(selector).length === 0) fail(name(pm), 'no selector.matchLabels');
  const jobLabel = pm.spec?.jobLabel;
  if (!jobLabel) fail(name(pm), 'no jobLabel');
  const deployments = loadTree(baseDir).filter((d) => d.kind === 'Deployment' && d.metadata.name.startsWith('ates-'));
  if (deployments.length === 0) fail(baseDir, 'no ates-* Deployment');
  for (const dep of deployments) {
    const labels = dep.spec.template.metadata?.labels ?? {};
    for (const [k, v] of Object.entries(selector)) {
      if (labels[k] !== v) fail(name(dep), `pods lack ${k}: ${v}, the PodMonitor does not select them`);
    }
    if (jobLabel && labels[jobLabel] !== dep.metadata.name) fail(name(dep), `pod label ${jobLabel} is not ${dep.metadata.name}`);
    const named = dep.spec.template.spec.containers.flatMap((c) => c.ports ?? []).filter((p) => p.name === 'metrics');
    if (named.length !== 1) fail(name(dep), 'no single container port named metrics');
  }
  return deployments.length;
}

checkCommon();
checkDashboards();
const scraped = checkPodMonitor();
for (const e of errors) console.log(`FAIL: ${e}`);
if (errors.length) process.exit(1);
console.log(`kustomize check: ${docs.length} resources; the PodMonitor selects all ${scraped} aTES Deployments' metrics ports`);
