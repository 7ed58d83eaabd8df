// Shared by the deploy checks (manifest_check.cpp, operations_check.cpp):
// reading a rendered overlay with yaml-cpp and collecting violations.
#pragma once

#include <yaml-cpp/yaml.h>

#include <map>
#include <regex>
#include <string>
#include <vector>

namespace deploy_check {

inline const std::vector<std::string> kDaemons = {"ates-auth", "ates-tasks", "ates-billing",
                                                  "ates-analytics", "ates-scheduler"};
inline const std::vector<std::string> kRecommendedLabels = {
    "app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/component",
    "app.kubernetes.io/part-of"};

inline std::vector<std::string> g_errors;

// n[path...], or a Null node when any step is missing (yaml-cpp throws on
// indexing a missing key's result, so every nested lookup goes through here).
inline YAML::Node At(const YAML::Node& root, std::initializer_list<const char*> path) {
  YAML::Node n = root;
  for (const char* key : path) {
    if (!n || !n.IsMap()) return YAML::Node();
    const YAML::Node& cn = n;
    YAML::Node next = cn[key];
    if (!next) return YAML::Node();
    n.reset(next);  // rebind (operator= would overwrite the node itself)
  }
  return n;
}

inline bool Present(const YAML::Node& n) { return n && !n.IsNull(); }

inline void Fail(const std::string& where, const std::string& what) {
  g_errors.push_back(where + ": " + what);
}

inline std::string Str(const YAML::Node& n) {
  if (!n || !n.IsScalar()) return "";
  return n.Scalar();
}

inline bool IsInt(const YAML::Node& n) {
  if (!n || !n.IsScalar() || n.Tag() == "!") return false;  // a quoted string is tagged "!"
  static const std::regex kInt("^[0-9]+$");
  return std::regex_match(n.Scalar(), kInt);
}

inline bool IsTrue(const YAML::Node& n) {
  return n && n.IsScalar() && n.Tag() != "!" && n.Scalar() == "true";
}

inline std::map<std::string, std::string> Map(const YAML::Node& n) {
  std::map<std::string, std::string> out;
  if (n && n.IsMap()) {
    for (const auto& kv : n) out[kv.first.Scalar()] = Str(kv.second);
  }
  return out;
}

inline std::string Id(const YAML::Node& doc) {
  return Str(At(doc, {"kind"})) + "/" + Str(At(doc, {"metadata", "name"}));
}

// The port of a "host:port" listen address, or -1.
inline int PortOf(const std::string& listen) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos) return -1;
  try {
    return std::stoi(listen.substr(colon + 1));
  } catch (...) {
    return -1;
  }
}

struct Rendered {
  std::vector<YAML::Node> docs;
  std::map<std::string, YAML::Node> by_id;  // kind/name
  YAML::Node Find(const std::string& kind, const std::string& name) const {
    auto it = by_id.find(kind + "/" + name);
    return it == by_id.end() ? YAML::Node() : it->second;
  }
};

// Values the pod gets from its envFrom ConfigMaps and plain env.
inline std::map<std::string, std::string> EnvOf(const Rendered& r, const YAML::Node& c) {
  std::map<std::string, std::string> env;
  if (Present(At(c, {"envFrom"}))) {
    for (const auto& from : At(c, {"envFrom"})) {
      if (Present(At(from, {"configMapRef"}))) {
        auto cm = r.Find("ConfigMap", Str(At(from, {"configMapRef", "name"})));
        for (auto& [k, v] : Map(At(cm, {"data"}))) env[k] = v;
      }
    }
  }
  if (Present(At(c, {"env"}))) {
    for (const auto& e : At(c, {"env"})) {
      if (Present(At(e, {"value"}))) env[Str(At(e, {"name"}))] = Str(At(e, {"value"}));
    }
  }
  return env;
}

// The generated ConfigMap whose name starts with `prefix` (kustomize adds a hash).
inline YAML::Node FindGenerated(const Rendered& r, const std::string& kind,
                                const std::string& prefix) {
  for (const auto& doc : r.docs) {
    if (Str(At(doc, {"kind"})) == kind && Str(At(doc, {"metadata", "name"})).rfind(prefix, 0) == 0)
      return doc;
  }
  return YAML::Node();
}

// "secret/key" of an env variable taken from a Secret, "" when it is not.
inline std::string SecretEnv(const YAML::Node& c, const std::string& name) {
  if (!Present(At(c, {"env"}))) return "";
  for (const auto& e : At(c, {"env"})) {
    if (Str(At(e, {"name"})) != name) continue;
    auto ref = At(e, {"valueFrom", "secretKeyRef"});
    if (Present(ref)) return Str(At(ref, {"name"})) + "/" + Str(At(ref, {"key"}));
  }
  return "";
}

// Whether a label selector (matchLabels, matchExpressions with In) selects `labels`.
inline bool Selects(const YAML::Node& selector, std::map<std::string, std::string> labels) {
  for (auto& [k, v] : Map(At(selector, {"matchLabels"}))) {
    if (labels[k] != v) return false;
  }
  if (Present(At(selector, {"matchExpressions"}))) {
    for (const auto& e : At(selector, {"matchExpressions"})) {
      if (Str(At(e, {"operator"})) != "In") return false;
      bool any = false;
      for (const auto& v : At(e, {"values"})) any |= labels[Str(At(e, {"key"}))] == Str(v);
      if (!any) return false;
    }
  }
  return true;
}

// operations_check.cpp (issue 14): scraping, graceful leave, autoscaling,
// NATS exporter, payout mail. OVERLAY is dev, prod or base.
void CheckOperations(const Rendered& r, const std::string& overlay, const std::string& config_dir);
// Whether an HPA scales the Deployment (then it has no fixed replicas).
bool HasAutoscaler(const Rendered& r, const std::string& deployment);

}  // namespace deploy_check
