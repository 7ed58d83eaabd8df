// Validates rendered Kubernetes manifests against the OpenAPI schemas bundled
// in the npm package kubernetes-models (offline: no schema download).
//
//   node tests/deploy/schema_validate.mjs RENDERED.yaml...
//
// Exit 0 when every document is valid, 1 otherwise, 3 when kubernetes-models
// or yaml cannot be imported (the caller then skips schema validation).
import { readFileSync } from "node:fs";

let parseAllDocuments;
try {
  ({ parseAllDocuments } = await import("yaml"));
  await import("kubernetes-models/apps/v1/Deployment");
} catch (e) {
  console.error(`schema validation unavailable: ${e.message}`);
  process.exit(3);
}

let failed = 0;
let checked = 0;
for (const file of process.argv.slice(2)) {
  for (const doc of parseAllDocuments(readFileSync(file, "utf8"))) {
    if (doc.errors.length) {
      console.error(`${file}: YAML error: ${doc.errors[0].message}`);
      failed++;
      continue;
    }
    const obj = doc.toJS();
    if (!obj) continue;
    // kustomize wraps long base64 values in Secret data; the API server's
    // decoder ignores the line breaks, the schema's "byte" format does not.
    if (obj.kind === "Secret" && obj.data) {
      for (const k of Object.keys(obj.data)) obj.data[k] = String(obj.data[k]).replace(/\s+/g, "");
    }
    const where = `${file}: ${obj.kind}/${obj.metadata?.name}`;
    const apiVersion = String(obj.apiVersion ?? "");
    const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
    const path = `kubernetes-models/${group ? group + "/" : ""}${version}/${obj.kind}`;
    let Model;
    try {
      const mod = await import(path);
      Model = mod[obj.kind] ?? mod.default;
    } catch (e) {
      console.error(`${where}: no schema for ${apiVersion} ${obj.kind}`);
      failed++;
      continue;
    }
    try {
      new Model(obj).validate();
      checked++;
    } catch (e) {
      console.error(`${where}: ${e.message}`);
      failed++;
    }
  }
}
console.log(`schema: ${checked} documents valid, ${failed} invalid`);
process.exit(failed ? 1 : 0);
