// How the rendered manifests run in production (issue 14, ADR 0034):
// - scrape annotations on pod templates only, never on a Service (or every
//   pod is scraped twice), pointing at a container port named "metrics" that
//   a NetworkPolicy opens to Prometheus;
// - every daemon leaves gracefully: ATES_SERVER_DRAIN_DELAY, a preStop sleep,
//   a readiness probe on gRPC health, and a termination grace period longer
//   than preStop + drain + grpc.shutdown_grace;
// - prod: an HPA (autoscaling/v2, CPU) for each daemon that scales out, whose
//   Deployment has no fixed replicas, and a PodDisruptionBudget for every
//   daemon;
// - NATS: monitoring on loopback only and the prometheus-nats-exporter
//   sidecar (pinned tag) reading it;
// - payout e-mail: SMTP from the Secret ates-billing-smtp in prod, a writable
//   emptyDir spool at ATES_BILLING_MAIL_DIR in dev.
#include <regex>
#include <set>
#include <string>

#include "manifest_support.hpp"

namespace deploy_check {
namespace {

const std::vector<std::string> kAllDaemons = {"ates-auth",      "ates-tasks",     "ates-billing",
                                              "ates-analytics", "ates-scheduler", "ates-gateway"};
// Scale out on CPU in prod (ADR 0034); ates-scheduler's work does not grow with traffic.
const std::vector<std::string> kAutoscaled = {"ates-gateway", "ates-auth", "ates-tasks",
                                              "ates-analytics", "ates-billing"};

// "5s", "1500ms", "2m" in seconds; -1 when it is none of these.
double Seconds(const std::string& text) {
  static const std::regex kDuration(R"(^([0-9]+(?:\.[0-9]+)?)(ms|s|m)$)");
  std::smatch m;
  if (!std::regex_match(text, m, kDuration)) return -1;
  double v = std::stod(m[1]);
  return m[2] == "ms" ? v / 1000 : m[2] == "m" ? v * 60 : v;
}

bool HasScrapeAnnotation(const YAML::Node& metadata) {
  for (auto& [k, v] : Map(At(metadata, {"annotations"}))) {
    if (k.rfind("prometheus.io/", 0) == 0) return true;
  }
  return false;
}

YAML::Node PodSpec(const YAML::Node& w) { return At(w, {"spec", "template", "spec"}); }

// The containerPort named "metrics" of any container of the pod, or -1.
int MetricsPort(const YAML::Node& pod) {
  for (const auto& c : At(pod, {"containers"})) {
    if (!Present(At(c, {"ports"}))) continue;
    for (const auto& p : At(c, {"ports"})) {
      if (Str(At(p, {"name"})) == "metrics") return std::stoi(Str(At(p, {"containerPort"})));
    }
  }
  return -1;
}

// Whether some NetworkPolicy lets Prometheus pods reach `port` of pods with `labels`.
bool PrometheusMayScrape(const Rendered& r, const std::map<std::string, std::string>& labels,
                         int port) {
  for (const auto& doc : r.docs) {
    if (Str(At(doc, {"kind"})) != "NetworkPolicy" || !Present(At(doc, {"spec", "ingress"})))
      continue;
    auto sel = At(doc, {"spec", "podSelector"});
    if (sel.size() == 0 || !Selects(sel, labels)) continue;
    for (const auto& rule : At(doc, {"spec", "ingress"})) {
      bool from_prometheus = false;
      if (Present(At(rule, {"from"}))) {
        for (const auto& from : At(rule, {"from"})) {
          from_prometheus |=
              Str(At(from, {"podSelector", "matchLabels", "app.kubernetes.io/name"})) ==
              "prometheus";
        }
      }
      if (!from_prometheus || !Present(At(rule, {"ports"}))) continue;
      for (const auto& p : At(rule, {"ports"})) {
        if (Str(At(p, {"port"})) == std::to_string(port)) return true;
      }
    }
  }
  return false;
}

// Annotations only on pod templates; each scraped pod names its metrics port.
void CheckScrapeAnnotations(const Rendered& r) {
  for (const auto& doc : r.docs) {
    if (HasScrapeAnnotation(At(doc, {"metadata"})))
      Fail(Id(doc),
           "prometheus.io annotations on the object itself (only pod templates carry them)");
  }
  std::vector<YAML::Node> scraped;
  for (const auto& name : kAllDaemons) scraped.push_back(r.Find("Deployment", name));
  scraped.push_back(r.Find("StatefulSet", "nats"));
  for (const auto& w : scraped) {
    if (!Present(w)) continue;
    auto annotations = Map(At(w, {"spec", "template", "metadata", "annotations"}));
    int port = MetricsPort(PodSpec(w));
    if (port < 0) Fail(Id(w), "no container port named metrics");
    if (annotations["prometheus.io/scrape"] != "true" ||
        annotations["prometheus.io/port"] != std::to_string(port) ||
        annotations["prometheus.io/path"] != "/metrics")
      Fail(Id(w), "pod template lacks prometheus.io scrape/port/path for its metrics port");
    if (port > 0 &&
        !PrometheusMayScrape(r, Map(At(w, {"spec", "template", "metadata", "labels"})), port))
      Fail(Id(w), "no NetworkPolicy lets Prometheus reach metrics port " + std::to_string(port));
  }
}

// grpc.shutdown_grace of the daemon: its env, else config/<daemon>.yaml.
double ShutdownGrace(const std::map<std::string, std::string>& env, const std::string& config_dir,
                     const std::string& daemon) {
  if (env.count("ATES_GRPC_SHUTDOWN_GRACE")) return Seconds(env.at("ATES_GRPC_SHUTDOWN_GRACE"));
  YAML::Node config = YAML::LoadFile(config_dir + "/" + daemon + ".yaml");
  return Seconds(Str(At(config, {"grpc", "shutdown_grace"})));
}

// NOT_SERVING first, drain, then stop: all within the grace period.
void CheckGracefulLeave(const Rendered& r, const std::string& config_dir) {
  for (const auto& daemon : kAllDaemons) {
    auto d = r.Find("Deployment", daemon);
    if (!Present(d)) continue;
    const auto c = At(PodSpec(d), {"containers"})[0];
    auto env = EnvOf(r, c);
    double drain =
        env.count("ATES_SERVER_DRAIN_DELAY") ? Seconds(env["ATES_SERVER_DRAIN_DELAY"]) : -1;
    if (drain <= 0) Fail(Id(d), "no positive ATES_SERVER_DRAIN_DELAY");
    auto command = At(c, {"lifecycle", "preStop", "exec", "command"});
    double pre_stop = -1;
    if (Present(command) && command.size() == 2 &&
        Str(command[0]).find("sleep") != std::string::npos)
      pre_stop = Seconds(Str(command[1]) + "s");
    if (pre_stop <= 0) Fail(Id(d), "no preStop exec of sleep N");
    double grace = ShutdownGrace(env, config_dir, daemon);
    if (grace < 0) Fail(Id(d), "grpc.shutdown_grace not found");
    auto period = At(PodSpec(d), {"terminationGracePeriodSeconds"});
    if (IsInt(period) && std::stoi(Str(period)) <= pre_stop + drain + grace)
      Fail(Id(d), "terminationGracePeriodSeconds " + Str(period) +
                      " does not cover preStop + drain + shutdown grace");
    auto probe = At(c, {"readinessProbe"});
    std::string args;
    if (Present(At(probe, {"exec", "command"})))
      for (const auto& a : At(probe, {"exec", "command"})) args += " " + Str(a);
    if (Str(At(probe, {"grpc", "service"})) != "readiness" &&
        (args.find(" health ") == std::string::npos ||
         args.find(" --check readiness") == std::string::npos))
      Fail(Id(d), "readinessProbe does not ask gRPC health (readiness)");
  }
}

// Prod: HPAs for the daemons that scale out, PDBs for all.
void CheckAutoscaling(const Rendered& r) {
  for (const auto& daemon : kAutoscaled) {
    auto hpa = r.Find("HorizontalPodAutoscaler", daemon);
    auto d = r.Find("Deployment", daemon);
    if (!Present(hpa) || !Present(d)) {
      Fail("HorizontalPodAutoscaler/" + daemon, "missing (or its Deployment is)");
      continue;
    }
    if (Str(At(hpa, {"apiVersion"})) != "autoscaling/v2" ||
        Str(At(hpa, {"spec", "scaleTargetRef", "kind"})) != "Deployment" ||
        Str(At(hpa, {"spec", "scaleTargetRef", "name"})) != daemon)
      Fail(Id(hpa), "is not an autoscaling/v2 HPA of Deployment " + daemon);
    auto lo = At(hpa, {"spec", "minReplicas"}), hi = At(hpa, {"spec", "maxReplicas"});
    if (!IsInt(lo) || !IsInt(hi) || std::stoi(Str(lo)) < 2 ||
        std::stoi(Str(hi)) <= std::stoi(Str(lo)))
      Fail(Id(hpa), "needs minReplicas >= 2 and maxReplicas above it");
    auto metric = At(hpa, {"spec", "metrics"});
    if (!Present(metric) || Str(At(metric[0], {"resource", "name"})) != "cpu" ||
        !IsInt(At(metric[0], {"resource", "target", "averageUtilization"})))
      Fail(Id(hpa), "no CPU utilization target");
    if (Present(At(d, {"spec", "replicas"})))
      Fail(Id(d), "fixed replicas and an HPA: every apply would reset the HPA's count");
  }
  for (const auto& daemon : kAllDaemons) {
    auto d = r.Find("Deployment", daemon);
    auto pdb = r.Find("PodDisruptionBudget", daemon);
    if (Present(d) &&
        (!Present(pdb) || !Selects(At(pdb, {"spec", "selector"}),
                                   Map(At(d, {"spec", "template", "metadata", "labels"})))))
      Fail(Id(d), "no PodDisruptionBudget selecting its pods");
  }
}

// The exporter sidecar reads NATS monitoring, which listens on loopback only.
void CheckNatsExporter(const Rendered& r) {
  auto nats = r.Find("StatefulSet", "nats");
  if (!Present(nats)) return;
  static const std::regex kPinned(R"(^natsio/prometheus-nats-exporter:[0-9]+\.[0-9]+\.[0-9]+$)");
  bool found = false;
  for (const auto& c : At(PodSpec(nats), {"containers"})) {
    if (!std::regex_match(Str(At(c, {"image"})), kPinned)) continue;
    found = true;
    std::set<std::string> args;
    for (const auto& a : At(c, {"args"})) args.insert(Str(a));
    for (const char* need : {"-varz", "-connz", "-jsz=all", "-routez", "http://127.0.0.1:8222"}) {
      if (!args.count(need)) Fail(Id(nats), std::string("exporter without ") + need);
    }
  }
  if (!found) Fail(Id(nats), "no natsio/prometheus-nats-exporter sidecar pinned by version tag");
  const std::string conf =
      Str(At(FindGenerated(r, "ConfigMap", "nats-config"), {"data", "nats.conf"}));
  if (conf.find("http: \"127.0.0.1:8222\"") == std::string::npos ||
      conf.find("http_port") != std::string::npos)
    Fail("ConfigMap/nats-config", "NATS monitoring does not listen on 127.0.0.1:8222 only");
}

YAML::Node BillingContainer(const Rendered& r) {
  auto d = r.Find("Deployment", "ates-billing");
  return Present(d) ? At(PodSpec(d), {"containers"})[0] : YAML::Node();
}

// Prod: SMTP from the Secret. Dev: .eml files into a writable emptyDir spool.
void CheckPayoutMail(const Rendered& r, const std::string& overlay) {
  auto c = BillingContainer(r);
  if (!Present(c)) return;
  if (overlay == "prod") {
    const std::map<std::string, std::string> kSmtp = {
        {"ATES_BILLING_MAIL_SMTP_URL", "url"},
        {"ATES_BILLING_MAIL_SMTP_USER", "user"},
        {"ATES_BILLING_MAIL_SMTP_PASSWORD", "password"}};
    for (const auto& [var, key] : kSmtp) {
      if (SecretEnv(c, var) != "ates-billing-smtp/" + key)
        Fail("Deployment/ates-billing", var + " is not from Secret ates-billing-smtp key " + key);
    }
    return;
  }
  if (overlay != "dev") return;
  auto env = EnvOf(r, c);
  const std::string dir = env["ATES_BILLING_MAIL_DIR"];
  std::string volume;
  if (Present(At(c, {"volumeMounts"})))
    for (const auto& m : At(c, {"volumeMounts"}))
      if (!dir.empty() && Str(At(m, {"mountPath"})) == dir) volume = Str(At(m, {"name"}));
  bool empty_dir = false;
  for (const auto& v : At(PodSpec(r.Find("Deployment", "ates-billing")), {"volumes"}))
    empty_dir |= Str(At(v, {"name"})) == volume && At(v, {"emptyDir"}).IsDefined();
  if (!empty_dir)
    Fail("Deployment/ates-billing", "ATES_BILLING_MAIL_DIR '" + dir + "' is no emptyDir mount");
}

}  // namespace

bool HasAutoscaler(const Rendered& r, const std::string& deployment) {
  return Present(r.Find("HorizontalPodAutoscaler", deployment));
}

void CheckOperations(const Rendered& r, const std::string& overlay, const std::string& config_dir) {
  CheckScrapeAnnotations(r);
  CheckGracefulLeave(r, config_dir);
  if (overlay == "prod") CheckAutoscaling(r);
  CheckNatsExporter(r);
  CheckPayoutMail(r, overlay);
}

}  // namespace deploy_check
