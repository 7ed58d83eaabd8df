// Checks that two renderings of one overlay hold the same objects, e.g. by
// kustomize v2.0.3 (Debian 12's kubectl 1.20) and by kustomize v5:
//
//   deploy_render_compare A.yaml B.yaml
//
// Objects are matched by kind and name. Differences that mean nothing to the
// API server are ignored: the hash suffix of generated ConfigMaps and Secrets
// (each kustomize version hashes differently; every reference to the name is
// compared without it), line breaks inside base64 Secret data, and empty
// metadata.labels/annotations maps. Anything else (a field, a value, a list
// order, a scalar's quoting) is a difference. Prints each one and exits 1 if
// there is one.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <iostream>
#include <map>
#include <regex>
#include <string>
#include <vector>

namespace {

using Objects = std::map<std::string, YAML::Node>;   // "kind/name without hash" -> object
using Renames = std::map<std::string, std::string>;  // generated name -> name-HASH

std::string Str(const YAML::Node& n) { return n && n.IsScalar() ? n.Scalar() : ""; }

// Generated ConfigMaps and Secrets end in "-" and a 10-character hash.
Renames GeneratedNames(const std::vector<YAML::Node>& docs) {
  static const std::regex kHashed("(.*)-[a-z0-9]{10}");
  Renames out;
  for (const auto& doc : docs) {
    const std::string kind = Str(doc["kind"]);
    const std::string name = Str(doc["metadata"]["name"]);
    std::smatch m;
    if ((kind == "ConfigMap" || kind == "Secret") && std::regex_match(name, m, kHashed))
      out[name] = m[1].str() + "-HASH";
  }
  return out;
}

// A copy of n with generated names replaced; `in_data` strips whitespace
// from scalars (base64 of a Secret's data, which versions wrap differently).
YAML::Node Normalized(const YAML::Node& n, const Renames& renames, bool in_data) {
  if (n.IsScalar()) {
    std::string s = n.Scalar();
    if (auto it = renames.find(s); it != renames.end()) s = it->second;
    if (in_data) s.erase(std::remove_if(s.begin(), s.end(), ::isspace), s.end());
    YAML::Node out(s);
    out.SetTag(in_data ? "!" : n.Tag());  // base64 is a string however it is written
    return out;
  }
  if (n.IsSequence()) {
    YAML::Node out(YAML::NodeType::Sequence);
    for (const auto& item : n) out.push_back(Normalized(item, renames, in_data));
    return out;
  }
  YAML::Node out(n.IsMap() ? YAML::NodeType::Map : YAML::NodeType::Null);
  if (!n.IsMap()) return out;
  for (const auto& kv : n) out[kv.first.Scalar()] = Normalized(kv.second, renames, in_data);
  return out;
}

Objects Load(const char* path) {
  std::vector<YAML::Node> docs;
  for (const auto& doc : YAML::LoadAllFromFile(path)) {
    if (doc && doc.IsMap()) docs.push_back(doc);
  }
  const Renames renames = GeneratedNames(docs);
  Objects out;
  for (const auto& doc : docs) {
    YAML::Node n(YAML::NodeType::Map);
    for (const auto& kv : doc) {
      const std::string key = kv.first.Scalar();
      const bool secret_data = Str(doc["kind"]) == "Secret" && key == "data";
      n[key] = Normalized(kv.second, renames, secret_data);
    }
    for (const char* empty : {"labels", "annotations"}) {
      const YAML::Node& meta = n["metadata"];
      if (meta[empty] && meta[empty].IsMap() && meta[empty].size() == 0)
        n["metadata"].remove(empty);
    }
    out[Str(n["kind"]) + "/" + Str(n["metadata"]["name"])] = n;
  }
  return out;
}

void Compare(const std::string& where, const YAML::Node& a, const YAML::Node& b,
             std::vector<std::string>* diffs) {
  if (a.Type() != b.Type()) {
    diffs->push_back(where + ": different kinds of node");
  } else if (a.IsScalar()) {
    if (a.Scalar() != b.Scalar() || (a.Tag() == "!") != (b.Tag() == "!"))
      diffs->push_back(where + ": '" + a.Scalar() + "' vs '" + b.Scalar() + "'");
  } else if (a.IsSequence()) {
    if (a.size() != b.size()) {
      diffs->push_back(where + ": " + std::to_string(a.size()) + " vs " + std::to_string(b.size()) +
                       " items");
      return;
    }
    for (std::size_t i = 0; i < a.size(); ++i)
      Compare(where + "[" + std::to_string(i) + "]", a[i], b[i], diffs);
  } else if (a.IsMap()) {
    for (const auto& kv : a) {
      const std::string key = kv.first.Scalar();
      if (!b[key])
        diffs->push_back(where + "." + key + ": only in the first");
      else
        Compare(where + "." + key, kv.second, b[key], diffs);
    }
    for (const auto& kv : b) {
      if (!a[kv.first.Scalar()])
        diffs->push_back(where + "." + kv.first.Scalar() + ": only in the second");
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: deploy_render_compare A.yaml B.yaml\n";
    return 2;
  }
  try {
    const Objects a = Load(argv[1]), b = Load(argv[2]);
    std::vector<std::string> diffs;
    for (const auto& [id, obj] : a) {
      if (!b.count(id))
        diffs.push_back(id + ": only in " + argv[1]);
      else
        Compare(id, obj, b.at(id), &diffs);
    }
    for (const auto& [id, obj] : b) {
      if (!a.count(id)) diffs.push_back(id + ": only in " + argv[2]);
    }
    for (const auto& d : diffs) std::cerr << "differs: " << d << "\n";
    std::cout << a.size() << " and " << b.size() << " objects: "
              << (diffs.empty() ? "the same" : std::to_string(diffs.size()) + " differences")
              << "\n";
    return diffs.empty() ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "deploy_render_compare: " << e.what() << "\n";
    return 1;
  }
}
