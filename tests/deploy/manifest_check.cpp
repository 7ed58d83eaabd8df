// Checks the output of `kubectl kustomize deploy/k8s/overlays/<overlay>`:
//
//   deploy_manifest_check OVERLAY RENDERED.yaml CONFIG_DIR
//
// OVERLAY is dev, prod or base. Every document must parse and name its kind;
// every Deployment has gRPC (or, with TLS, `atesctl health`) liveness/readiness
// probes on a numeric port that the daemon really listens on (ATES_GRPC_LISTEN
// of its ConfigMap), resource requests and limits for every container, the recommended
// app.kubernetes.io/{name,instance,component,part-of} labels, a non-root
// read-only root file system and a termination grace period; every workload
// container has resources and a non-root read-only securityContext; every
// daemon has a Service that selects its pods and exposes the gRPC port;
// ConfigMaps and Secrets referenced by pods exist (Secrets: in dev); in prod
// no Secret with data and no credentials in ConfigMaps, and each daemon runs
// as several replicas (fixed, or an HPA's minimum). NATS (ADR 15): one user per daemon with its
// permission block (holding the durables of CONFIG_DIR/<daemon>.yaml) and its password from the
// Secret the daemon gets too, no monitoring Service, TLS and route credentials in prod;
// NetworkPolicies: default deny, and the daemons' gRPC and NATS' client port opened. Then
// operations_check.cpp (issue 14): scrape annotations, graceful leave, HPAs, NATS exporter, payout
// mail. Prints every violation and exits 1 if there is one.
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <iostream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "manifest_support.hpp"

namespace {

using namespace deploy_check;  // NOLINT: the checks share these helpers

// Resources and security of one container of a workload.
void CheckContainer(const std::string& where, const YAML::Node& c, const YAML::Node& pod_sc) {
  const auto& res = At(c, {"resources"});
  for (const char* part : {"requests", "limits"}) {
    for (const char* what : {"cpu", "memory"}) {
      if (Str(At(res, {part, what})).empty()) {
        Fail(where, std::string("no resources.") + part + "." + what);
      }
    }
  }
  const auto& sc = At(c, {"securityContext"});
  if (!IsTrue(At(sc, {"readOnlyRootFilesystem"}))) {
    Fail(where, "securityContext.readOnlyRootFilesystem is not true");
  }
  // The container's setting wins over the pod's.
  const auto own = At(sc, {"runAsNonRoot"});
  bool non_root = Present(own) ? IsTrue(own) : IsTrue(At(pod_sc, {"runAsNonRoot"}));
  if (!non_root) Fail(where, "runAsNonRoot is not true (container or pod securityContext)");
  if (Present(At(sc, {"runAsUser"})) && Str(At(sc, {"runAsUser"})) == "0")
    Fail(where, "runAsUser 0");
  if (Present(At(pod_sc, {"runAsUser"})) && Str(At(pod_sc, {"runAsUser"})) == "0")
    Fail(where, "pod runAsUser 0");
  if (IsTrue(At(sc, {"privileged"}))) Fail(where, "privileged");
  if (Present(At(sc, {"allowPrivilegeEscalation"})) &&
      IsTrue(At(sc, {"allowPrivilegeEscalation"}))) {
    Fail(where, "allowPrivilegeEscalation");
  }
}

// The port a probe checks: grpc.port, or for the TLS probe (kubelet's gRPC
// probe has no TLS, ADR 0014) an exec of `atesctl ... --<svc> 127.0.0.1:PORT
// ... health <svc>`. -1 with `why` set when it is neither.
int ProbePort(const YAML::Node& probe, std::string* why) {
  const auto& grpc = At(probe, {"grpc"});
  if (Present(grpc) && grpc.IsMap()) {
    if (IsInt(At(grpc, {"port"}))) return std::stoi(Str(At(grpc, {"port"})));
    *why = ".grpc.port is not a number: '" + Str(At(grpc, {"port"})) + "'";
    return -1;
  }
  const auto& command = At(probe, {"exec", "command"});
  if (!Present(command) || !command.IsSequence() || command.size() == 0 ||
      Str(command[0]).find("atesctl") == std::string::npos) {
    *why = " is neither a grpc probe nor an atesctl health probe";
    return -1;
  }
  static const std::regex kLoopback(R"(127\.0\.0\.1:(\d+))");
  bool health = false;
  int port = -1;
  for (const auto& arg : command) {
    std::smatch m;
    std::string text = Str(arg);
    if (text == "health") health = true;
    if (std::regex_match(text, m, kLoopback)) port = std::stoi(m[1]);
  }
  if (!health || port < 0) {
    *why = " runs atesctl without 'health' and a 127.0.0.1:PORT address";
    return -1;
  }
  return port;
}

void CheckProbe(const std::string& where, const std::string& which, const YAML::Node& probe,
                const std::set<int>& container_ports, int grpc_listen_port) {
  if (!Present(probe)) {
    Fail(where, "no " + which);
    return;
  }
  std::string why;
  int port = ProbePort(probe, &why);
  if (port < 0) {
    Fail(where, which + why);
    return;
  }
  if (!container_ports.count(port)) {
    Fail(where, which + " port " + std::to_string(port) + " is not a containerPort");
  }
  if (grpc_listen_port > 0 && port != grpc_listen_port) {
    Fail(where, which + " port " + std::to_string(port) + " but the daemon listens on " +
                    std::to_string(grpc_listen_port) + " (ATES_GRPC_LISTEN)");
  }
}

// ConfigMaps and Secrets a pod refers to must exist (Secrets only where the
// overlay is meant to carry them).
void CheckReferences(const Rendered& r, const std::string& where, const YAML::Node& pod,
                     bool secrets_in_repo) {
  auto need = [&](const std::string& kind, const YAML::Node& ref) {
    if (!Present(ref)) return;
    std::string name = Str(At(ref, {"name"}));
    if (IsTrue(At(ref, {"optional"}))) return;
    if (kind == "Secret" && !secrets_in_repo) return;
    if (!Present(r.Find(kind, name)))
      Fail(where, "refers to a missing " + kind + " '" + name + "'");
  };
  for (const char* list : {"containers", "initContainers"}) {
    if (!Present(At(pod, {list}))) continue;
    for (const auto& c : At(pod, {list})) {
      if (Present(At(c, {"envFrom"}))) {
        for (const auto& from : At(c, {"envFrom"})) {
          need("ConfigMap", At(from, {"configMapRef"}));
          need("Secret", At(from, {"secretRef"}));
        }
      }
      if (Present(At(c, {"env"}))) {
        for (const auto& e : At(c, {"env"})) {
          need("ConfigMap", At(e, {"valueFrom", "configMapKeyRef"}));
          need("Secret", At(e, {"valueFrom", "secretKeyRef"}));
        }
      }
    }
  }
  if (Present(At(pod, {"volumes"}))) {
    for (const auto& v : At(pod, {"volumes"})) {
      need("ConfigMap", At(v, {"configMap"}));
      if (Present(At(v, {"secret"}))) {
        YAML::Node ref(YAML::NodeType::Map);
        ref["name"] = Str(At(v, {"secret", "secretName"}));
        if (Present(At(v, {"secret", "optional"}))) ref["optional"] = At(v, {"secret", "optional"});
        need("Secret", ref);
      }
    }
  }
}

void CheckDeployment(const Rendered& r, const YAML::Node& d, const std::string& overlay) {
  const std::string where = Id(d);
  auto labels = Map(At(d, {"metadata", "labels"}));
  const auto& tmpl = At(d, {"spec", "template"});
  auto pod_labels = Map(At(tmpl, {"metadata", "labels"}));
  for (const auto& l : kRecommendedLabels) {
    if (labels[l].empty()) Fail(where, "no label " + l);
    if (pod_labels[l].empty()) Fail(where, "pod template has no label " + l);
  }
  for (auto& [k, v] : Map(At(d, {"spec", "selector", "matchLabels"}))) {
    if (pod_labels[k] != v) Fail(where, "selector " + k + "=" + v + " does not match the pods");
  }
  const auto& pod = At(tmpl, {"spec"});
  const auto& grace = At(pod, {"terminationGracePeriodSeconds"});
  if (!IsInt(grace) || std::stoi(Str(grace)) <= 0) {
    Fail(where, "no positive terminationGracePeriodSeconds");
  }
  if (!IsTrue(At(pod, {"securityContext", "runAsNonRoot"}))) {
    Fail(where, "pod securityContext.runAsNonRoot is not true");
  }
  if (!Present(At(pod, {"containers"})) || At(pod, {"containers"}).size() == 0) {
    Fail(where, "no containers");
    return;
  }
  for (const auto& c : At(pod, {"containers"})) {
    std::string cw = where + " container " + Str(At(c, {"name"}));
    CheckContainer(cw, c, At(pod, {"securityContext"}));
    std::set<int> ports;
    if (Present(At(c, {"ports"}))) {
      for (const auto& p : At(c, {"ports"})) {
        if (IsInt(At(p, {"containerPort"}))) ports.insert(std::stoi(Str(At(p, {"containerPort"}))));
      }
    }
    auto env = EnvOf(r, c);
    int listen_port = env.count("ATES_GRPC_LISTEN") ? PortOf(env["ATES_GRPC_LISTEN"]) : -1;
    if (listen_port < 0) Fail(cw, "no ATES_GRPC_LISTEN in its ConfigMap or env");
    CheckProbe(cw, "livenessProbe", At(c, {"livenessProbe"}), ports, listen_port);
    CheckProbe(cw, "readinessProbe", At(c, {"readinessProbe"}), ports, listen_port);
    if (env.count("ATES_ADMIN_LISTEN") && !env["ATES_ADMIN_LISTEN"].empty() &&
        !ports.count(PortOf(env["ATES_ADMIN_LISTEN"]))) {
      Fail(cw, "ATES_ADMIN_LISTEN " + env["ATES_ADMIN_LISTEN"] + " is not a containerPort");
    }
    // Addresses of other parts must be Services of this rendering.
    for (const char* key : {"ATES_AUTH_KEYS_URL", "ATES_NATS_URL"}) {
      if (!env.count(key)) continue;
      std::string url = env[key];
      auto scheme = url.find("://");
      std::string hostport = scheme == std::string::npos ? url : url.substr(scheme + 3);
      hostport = hostport.substr(0, hostport.find_first_of("/,"));
      std::string host = hostport.substr(0, hostport.rfind(':'));
      host = host.substr(0, host.find('.'));
      auto svc = r.Find("Service", host);
      if (!Present(svc)) {
        Fail(cw, std::string(key) + " " + url + " names no Service of this rendering");
        continue;
      }
      int port = PortOf(hostport);
      bool exposed = false;
      for (const auto& p : At(svc, {"spec", "ports"}))
        exposed |= Str(At(p, {"port"})) == std::to_string(port);
      if (!exposed) Fail(cw, std::string(key) + " " + url + ": the Service has no such port");
    }
  }
  if (Present(At(pod, {"initContainers"}))) {
    for (const auto& c : At(pod, {"initContainers"})) {
      CheckContainer(where + " initContainer " + Str(At(c, {"name"})), c,
                     At(pod, {"securityContext"}));
    }
  }
  if (overlay == "prod" && !HasAutoscaler(r, Str(At(d, {"metadata", "name"})))) {
    const auto& replicas = At(d, {"spec", "replicas"});
    if (!IsInt(replicas) || std::stoi(Str(replicas)) < 2) {
      Fail(where, "fewer than 2 replicas in prod");
    }
  }
}

void CheckOtherWorkload(const YAML::Node& w) {
  const auto& pod = At(w, {"kind"}).Scalar() == "CronJob"
                        ? At(w, {"spec", "jobTemplate", "spec", "template", "spec"})
                        : At(w, {"spec", "template", "spec"});
  for (const char* list : {"containers", "initContainers"}) {
    if (!Present(At(pod, {list}))) continue;
    for (const auto& c : At(pod, {list})) {
      CheckContainer(Id(w) + " container " + Str(At(c, {"name"})), c, At(pod, {"securityContext"}));
    }
  }
}

void CheckService(const Rendered& r, const std::string& daemon) {
  auto d = r.Find("Deployment", daemon);
  auto s = r.Find("Service", daemon);
  if (!Present(d)) {
    Fail("Deployment/" + daemon, "missing");
    return;
  }
  if (!Present(s)) {
    Fail("Service/" + daemon, "missing: every daemon needs a Service");
    return;
  }
  auto pod_labels = Map(At(d, {"spec", "template", "metadata", "labels"}));
  auto selector = Map(At(s, {"spec", "selector"}));
  if (selector.empty()) Fail(Id(s), "no selector");
  for (auto& [k, v] : selector) {
    if (pod_labels[k] != v) Fail(Id(s), "selector " + k + "=" + v + " does not select " + daemon);
  }
  for (const auto& l : kRecommendedLabels) {
    if (Map(At(s, {"metadata", "labels"}))[l].empty()) Fail(Id(s), "no label " + l);
  }
  // Every target port is a port of the container (by name or number), and
  // the gRPC port (the probes') is among them.
  std::map<std::string, int> named;
  std::set<int> numbers;
  int probe_port = -1;
  for (const auto& c : At(d, {"spec", "template", "spec", "containers"})) {
    if (Present(At(c, {"ports"}))) {
      for (const auto& p : At(c, {"ports"})) {
        int n = IsInt(At(p, {"containerPort"})) ? std::stoi(Str(At(p, {"containerPort"}))) : -1;
        numbers.insert(n);
        if (Present(At(p, {"name"}))) named[Str(At(p, {"name"}))] = n;
      }
    }
    std::string why;
    if (Present(At(c, {"readinessProbe"}))) probe_port = ProbePort(At(c, {"readinessProbe"}), &why);
  }
  bool grpc_exposed = false;
  if (!Present(At(s, {"spec", "ports"})) || At(s, {"spec", "ports"}).size() == 0)
    Fail(Id(s), "no ports");
  for (const auto& p : At(s, {"spec", "ports"})) {
    const auto& target = At(p, {"targetPort"}) ? At(p, {"targetPort"}) : At(p, {"port"});
    int port = -1;
    if (IsInt(target)) {
      port = std::stoi(Str(target));
    } else if (named.count(Str(target))) {
      port = named[Str(target)];
    }
    if (!numbers.count(port)) {
      Fail(Id(s), "targetPort '" + Str(target) + "' is no container port of " + daemon);
    }
    grpc_exposed |= port == probe_port;
  }
  if (!grpc_exposed) Fail(Id(s), "does not expose the gRPC port of " + daemon);
}

void CheckSecretsAndConfig(const Rendered& r, const std::string& overlay) {
  static const std::regex kCredentialUrl("[a-z]+://[^/@\\s:]+:[^/@\\s]+@");
  for (const auto& doc : r.docs) {
    std::string kind = Str(At(doc, {"kind"}));
    if (kind == "Secret" && overlay == "prod") {
      for (const char* field : {"data", "stringData"}) {
        if (doc[field] && doc[field].IsMap() && doc[field].size() > 0) {
          Fail(Id(doc),
               std::string("a Secret with ") + field + " in prod (secrets never in the repo)");
        }
      }
    }
    if (kind == "ConfigMap") {
      for (auto& [k, v] : Map(At(doc, {"data"}))) {
        if (std::regex_search(v, kCredentialUrl)) {
          Fail(Id(doc), "key " + k + " holds credentials in a URL (use a Secret)");
        }
        std::string upper = k;
        for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
        if (upper.find("PASSWORD") != std::string::npos ||
            upper.find("SIGNING_KEY_SEED") != std::string::npos) {
          Fail(Id(doc), "key " + k + " is a secret in a ConfigMap");
        }
      }
    }
  }
}

// ---- NATS users and NetworkPolicies (issue 10, ADR 15) ----------------------

std::string Upper(std::string s) {
  for (auto& ch : s) ch = ch == '-' ? '_' : static_cast<char>(std::toupper(ch));
  return s;
}

// The durable names in config/<daemon>.yaml (consumers.*.durable).
std::vector<std::string> Durables(const std::string& config_dir, const std::string& daemon) {
  std::vector<std::string> out;
  YAML::Node config = YAML::LoadFile(config_dir + "/" + daemon + ".yaml");
  if (config["consumers"]) {
    for (const auto& kv : config["consumers"])
      out.push_back(kv.second["durable"].as<std::string>());
  }
  return out;
}

// The NATS config defines one user per daemon with its permission block and
// its password from Secret ates-<daemon>-nats, which the daemon gets too; each
// consumer durable of the daemon's config is in its block; nobody connects
// without credentials.
void CheckNatsUsers(const Rendered& r, const std::string& config_dir) {
  auto cm = FindGenerated(r, "ConfigMap", "nats-config");
  auto nats = r.Find("StatefulSet", "nats");
  if (!Present(cm) || !Present(nats))
    return Fail("nats", "no nats-config ConfigMap or StatefulSet");
  const std::string conf = Str(At(cm, {"data", "nats.conf"}));
  const std::string perms = Str(At(cm, {"data", "ates-permissions.conf"}));
  if (conf.find("include ./ates-permissions.conf") == std::string::npos || perms.empty())
    Fail(Id(cm), "nats.conf does not include the permission table ates-permissions.conf");
  if (conf.find("no_auth_user") != std::string::npos)
    Fail(Id(cm), "no_auth_user: clients without credentials would be let in");
  const auto nats_c = At(nats, {"spec", "template", "spec", "containers"})[0];
  for (const auto& daemon : kDaemons) {
    const std::string up = Upper(daemon);
    const std::regex user("\\{ *user: *" + daemon + ", *password: *\\$" + up +
                          "_NATS_PASSWORD, *permissions: *\\$" + up + "_PERMISSIONS *\\}");
    if (!std::regex_search(conf, user))
      Fail(Id(cm), "no NATS user " + daemon + " with its permissions");
    auto from = perms.find(up + "_PERMISSIONS = {");
    if (from == std::string::npos) {
      Fail(Id(cm), "no permission block " + up + "_PERMISSIONS");
      continue;
    }
    const std::string block = perms.substr(from, perms.find("\n}", from) - from);
    for (const auto& durable : Durables(config_dir, daemon)) {
      // Its own durable by name, or any consumer of the stream ("*").
      const std::regex next("CONSUMER\\.MSG\\.NEXT\\.[A-Z]+\\.(" + durable + "|\\*)\"");
      if (!std::regex_search(block, next))
        Fail(Id(cm), daemon + " may not fetch from its durable " + durable);
    }
    // Generated Secrets (dev) carry a hash suffix.
    const std::regex secret(daemon + "-nats(-[a-z0-9]+)?/password");
    const std::string want = "Secret " + daemon + "-nats (key password)";
    if (!std::regex_match(SecretEnv(nats_c, up + "_NATS_PASSWORD"), secret))
      Fail(Id(nats), up + "_NATS_PASSWORD is not from " + want);
    auto d = r.Find("Deployment", daemon);
    if (Present(d) &&
        !std::regex_match(
            SecretEnv(At(d, {"spec", "template", "spec", "containers"})[0], "ATES_NATS_PASSWORD"),
            secret))
      Fail(Id(d), "ATES_NATS_PASSWORD is not from " + want);
  }
}
// Default deny for every pod, and a policy per kind of pod that opens only
// its ports: daemons' gRPC, NATS' client port to the daemons alone.
void CheckNetworkPolicies(const Rendered& r) {
  bool default_deny = false;
  std::vector<YAML::Node> policies;
  for (const auto& doc : r.docs) {
    if (Str(At(doc, {"kind"})) != "NetworkPolicy") continue;
    policies.push_back(doc);
    auto sel = At(doc, {"spec", "podSelector"});
    auto types = At(doc, {"spec", "policyTypes"});
    if (sel.IsMap() && sel.size() == 0 && types.IsSequence() && types.size() == 2 &&
        !Present(At(doc, {"spec", "ingress"})) && !Present(At(doc, {"spec", "egress"})))
      default_deny = true;
  }
  if (!default_deny)
    Fail("NetworkPolicy", "no default deny (empty podSelector, Ingress and Egress, no rules)");
  auto opened = [&](const std::map<std::string, std::string>& labels, int port) {
    for (const auto& p : policies) {
      auto sel = At(p, {"spec", "podSelector"});
      if (sel.size() == 0 || !Selects(sel, labels) || !Present(At(p, {"spec", "ingress"})))
        continue;
      for (const auto& rule : At(p, {"spec", "ingress"})) {
        for (const auto& pt : At(rule, {"ports"})) {
          if (At(pt, {"port"}).as<int>() == port) return true;
        }
      }
    }
    return false;
  };
  for (const auto& daemon : kDaemons) {
    auto d = r.Find("Deployment", daemon);
    if (!Present(d)) continue;
    auto labels = Map(At(d, {"spec", "template", "metadata", "labels"}));
    if (!opened(labels, 50051)) Fail(Id(d), "no NetworkPolicy lets clients reach gRPC 50051");
  }
  auto nats = r.Find("StatefulSet", "nats");
  if (Present(nats) && !opened(Map(At(nats, {"spec", "template", "metadata", "labels"})), 4222))
    Fail(Id(nats), "no NetworkPolicy lets the daemons reach NATS 4222");
}

// No Service exposes NATS monitoring (8222): it lists connections and subjects.
void CheckNatsMonitoringHidden(const Rendered& r) {
  for (const auto& doc : r.docs) {
    if (Str(At(doc, {"kind"})) != "Service" || !Present(At(doc, {"spec", "ports"}))) continue;
    for (const auto& p : At(doc, {"spec", "ports"})) {
      if (Str(At(p, {"port"})) == "8222" || Str(At(p, {"targetPort"})) == "monitor")
        Fail(Id(doc), "exposes the NATS monitoring port");
    }
  }
}

// Prod: TLS for NATS clients and routes, a route password, daemons verify.
void CheckNatsTls(const Rendered& r) {
  auto cm = FindGenerated(r, "ConfigMap", "nats-config");
  const std::string conf = Str(At(cm, {"data", "nats.conf"}));
  for (const char* need : {"tls {", "verify: true", "password: $NATS_ROUTE_PASSWORD"}) {
    if (conf.find(need) == std::string::npos)
      Fail(Id(cm), std::string("prod nats.conf lacks ") + need);
  }
  for (const auto& daemon : kDaemons) {
    auto d = r.Find("Deployment", daemon);
    if (Present(d) && EnvOf(r, At(d, {"spec", "template", "spec", "containers"})[0])
                              .count("ATES_NATS_TLS_CA_FILE") == 0)
      Fail(Id(d), "does not verify NATS' certificate (ATES_NATS_TLS_CA_FILE)");
  }
}

}  // namespace

int Check(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: deploy_manifest_check dev|prod|base RENDERED.yaml CONFIG_DIR\n";
    return 2;
  }
  const std::string overlay = argv[1];
  Rendered r;
  try {
    r.docs = YAML::LoadAllFromFile(argv[2]);
  } catch (const std::exception& e) {
    std::cerr << argv[2] << ": does not parse as YAML: " << e.what() << "\n";
    return 1;
  }
  int index = 0;
  std::vector<YAML::Node> docs;
  for (const auto& doc : r.docs) {
    ++index;
    if (!doc || doc.IsNull()) continue;
    std::string where = "document " + std::to_string(index);
    if (!doc.IsMap()) {
      Fail(where, "not a mapping");
      continue;
    }
    if (Str(At(doc, {"apiVersion"})).empty()) Fail(where, "no apiVersion");
    if (Str(At(doc, {"kind"})).empty()) Fail(where, "no kind");
    if (Str(At(doc, {"metadata", "name"})).empty()) Fail(where, "no metadata.name");
    if (!r.by_id.emplace(Id(doc), doc).second) Fail(Id(doc), "defined twice");
    docs.push_back(doc);
  }
  r.docs = docs;
  if (r.docs.empty()) Fail(argv[2], "no documents");

  int deployments = 0, workloads = 0;
  for (const auto& doc : r.docs) {
    std::string kind = Str(At(doc, {"kind"}));
    const YAML::Node* pod_spec = nullptr;
    YAML::Node pod;
    if (kind == "Deployment") {
      ++deployments;
      CheckDeployment(r, doc, overlay);
    } else if (kind == "StatefulSet" || kind == "Job" || kind == "DaemonSet" || kind == "CronJob") {
      ++workloads;
      CheckOtherWorkload(doc);
    }
    if (kind == "Deployment" || kind == "StatefulSet" || kind == "Job" || kind == "DaemonSet") {
      pod = At(doc, {"spec", "template", "spec"});
      pod_spec = &pod;
    }
    if (pod_spec) CheckReferences(r, Id(doc), *pod_spec, overlay == "dev");
  }
  for (const auto& daemon : kDaemons) CheckService(r, daemon);
  CheckSecretsAndConfig(r, overlay);
  CheckNatsUsers(r, argv[3]);
  CheckOperations(r, overlay, argv[3]);
  CheckNetworkPolicies(r);
  CheckNatsMonitoringHidden(r);
  if (overlay == "prod") CheckNatsTls(r);

  for (const auto& e : g_errors) std::cerr << overlay << ": " << e << "\n";
  std::cout << overlay << ": " << r.docs.size() << " documents, " << deployments << " Deployments, "
            << workloads << " other workloads: "
            << (g_errors.empty() ? "ok" : std::to_string(g_errors.size()) + " problems") << "\n";
  return g_errors.empty() ? 0 : 1;
}

int main(int argc, char** argv) {
  try {
    return Check(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "deploy_manifest_check: unexpected structure: " << e.what() << "\n";
    return 1;
  }
}
