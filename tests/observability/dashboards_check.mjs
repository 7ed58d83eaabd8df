// Checks the Grafana dashboards:
//
//   node dashboards_check.mjs DASHBOARD_DIR RULES_OUT.yaml
//
// Each *.json parses; uids and titles are unique; the templating has the
// `datasource` variable (type datasource) and the `namespace` and `job`
// variables; panel ids are unique within a dashboard and panels do not overlap
// on the 24-column grid; every panel and target
// uses the data source "${datasource}"; every target has a PromQL expr reading
// only known metric names (promql_names.mjs). Each expr, and each variable
// query's selector, with the variables substituted, becomes a recording rule in
// RULES_OUT.yaml, which the caller hands to `promtool check rules` to prove the
// expressions parse. Prints each violation; exits 1 if there is one.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { unknownMetrics } from './promql_names.mjs';

const [dir, rulesOut] = process.argv.slice(2);
const DATASOURCE = '${datasource}';
// Values a Grafana variable may take, for the PromQL parser's sake.
const SUBSTITUTES = {
  namespace: 'ates', job: 'ates-tasks',
  __rate_interval: '5m', __interval: '1m', __range: '1d',
};
const errors = [];
const fail = (where, what) => errors.push(`${where}: ${what}`);
const records = [];

function substitute(where, expr) {
  return expr.replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, braced, bare) => {
    const name = braced ?? bare;
    if (!(name in SUBSTITUTES)) fail(where, `unknown variable ${whole}`);
    return SUBSTITUTES[name] ?? whole;
  });
}

function addExpr(where, record, expr) {
  if (typeof expr !== 'string' || expr.trim() === '') return fail(where, 'no expr');
  for (const name of unknownMetrics(expr)) fail(where, `reads unknown metric ${name}`);
  records.push({ record, expr: substitute(where, expr), where });
}

function checkVariables(file, dash) {
  const vars = dash.templating?.list ?? [];
  const byName = new Map(vars.map((v) => [v.name, v]));
  if (byName.get('datasource')?.type !== 'datasource' || byName.get('datasource')?.query !== 'prometheus') {
    fail(file, 'no datasource variable of type datasource for prometheus');
  }
  for (const name of ['namespace', 'job']) {
    const v = byName.get(name);
    if (!v) { fail(file, `no ${name} variable`); continue; }
    if (v.datasource?.uid !== DATASOURCE) fail(`${file} variable ${name}`, `data source is not ${DATASOURCE}`);
    const m = /^label_values\((.+),\s*\w+\)$/.exec(v.query ?? '');
    if (!m) { fail(`${file} variable ${name}`, 'query is not label_values(selector, label)'); continue; }
    addExpr(`${file} variable ${name}`, `dashboard:${dash.uid}:var_${name}`, m[1]);
  }
}

// Marks the grid cells of `panel` in `cells` (x,y -> panel id); reports overlaps.
function placePanel(where, panel, cells) {
  const g = panel.gridPos ?? {};
  for (let x = g.x; x < g.x + g.w; x++) {
    for (let y = g.y; y < g.y + g.h; y++) {
      const other = cells.get(`${x},${y}`);
      if (other !== undefined) return fail(where, `overlaps panel ${other}`);
      cells.set(`${x},${y}`, panel.id);
    }
  }
}

function checkPanel(file, dash, panel, ids, cells) {
  const where = `${file} panel ${panel.id} "${panel.title}"`;
  if (!Number.isInteger(panel.id)) fail(where, 'id is not an integer');
  if (ids.has(panel.id)) fail(where, `duplicate panel id ${panel.id}`);
  ids.add(panel.id);
  const g = panel.gridPos;
  if (!g || g.x < 0 || g.w <= 0 || g.h <= 0 || g.x + g.w > 24) fail(where, 'gridPos outside the 24 columns');
  else placePanel(where, panel, cells);
  // A collapsed row keeps its panels inside; they are placed when it opens.
  if (panel.type === 'row') return (panel.panels ?? []).forEach((p) => checkPanel(file, dash, p, ids, new Map()));
  if (panel.datasource?.uid !== DATASOURCE) fail(where, `data source is not ${DATASOURCE}`);
  const targets = panel.targets ?? [];
  if (targets.length === 0) fail(where, 'no targets');
  const refIds = new Set();
  for (const t of targets) {
    if (refIds.has(t.refId)) fail(where, `duplicate refId ${t.refId}`);
    refIds.add(t.refId);
    if (t.datasource?.uid !== DATASOURCE) fail(`${where} ${t.refId}`, `data source is not ${DATASOURCE}`);
    addExpr(`${where} ${t.refId}`, `dashboard:${dash.uid}:panel${panel.id}_${t.refId}`, t.expr);
  }
}

function checkDashboard(file, seen) {
  let dash;
  try { dash = JSON.parse(readFileSync(join(dir, file), 'utf8')); } catch (e) {
    return fail(file, `not valid JSON: ${e.message}`);
  }
  for (const key of ['uid', 'title']) {
    if (!dash[key]) fail(file, `no ${key}`);
    else if (seen[key].has(dash[key])) fail(file, `${key} ${dash[key]} used twice`);
    else seen[key].add(dash[key]);
  }
  checkVariables(file, dash);
  const ids = new Set();
  const cells = new Map();
  if (!(dash.panels ?? []).length) fail(file, 'no panels');
  (dash.panels ?? []).forEach((p) => checkPanel(file, dash, p, ids, cells));
}

function writeRules() {
  const lines = ['groups:', '  - name: dashboards', '    rules:'];
  for (const r of records) {
    lines.push(`      - record: ${r.record.replace(/[^a-zA-Z0-9_:]/g, '_')}`);
    lines.push(`        expr: ${JSON.stringify(r.expr)}`);
  }
  writeFileSync(rulesOut, lines.join('\n') + '\n');
}

const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
if (files.length === 0) fail(dir, 'no dashboards');
const seen = { uid: new Set(), title: new Set() };
files.forEach((f) => checkDashboard(f, seen));
writeRules();
for (const e of errors) console.log(`FAIL: ${e}`);
if (errors.length) process.exit(1);
console.log(`dashboards check: ${files.length} dashboards, ${records.length} expressions to parse`);
