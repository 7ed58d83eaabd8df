#include "options.hpp"

#include "format.hpp"

namespace ates::ctl {
namespace {

std::string NonEmpty(const std::optional<std::string>& value) { return value.value_or(""); }

struct TlsFlag {
  const char* flag;
  const char* env;
  const char* help;
  std::string Options::*field;
};

const TlsFlag kTlsFlags[] = {
    {"tls-ca", "ATES_TLS_CA", "CA file (PEM): use TLS and verify every server against it",
     &Options::tls_ca},
    {"tls-cert", "ATES_TLS_CERT", "client certificate file (PEM) for servers that require mTLS",
     &Options::tls_cert},
    {"tls-key", "ATES_TLS_KEY", "private key file (PEM) of --tls-cert", &Options::tls_key},
    {"tls-server-name", "ATES_TLS_SERVER_NAME",
     "name to expect in the server certificates instead of the address's host",
     &Options::tls_server_name},
};

}  // namespace

const ServiceInfo& InfoOf(Service service) { return kServices[static_cast<std::size_t>(service)]; }

std::vector<FlagSpec> GlobalFlags() {
  std::vector<FlagSpec> flags = {
      {"output", 'o', "FORMAT",
       "table (default), json (protobuf JSON of the response), or csv (RFC 4180; "
       "billing transactions and payouts only)"},
  };
  for (const auto& s : kServices) {
    flags.push_back({s.name, '\0', "ADDR",
                     std::string("ates-") + s.name + " address (env " + s.env + ", default " +
                         s.default_addr + ")"});
  }
  flags.push_back({"token-file", '\0', "PATH",
                   "access token file (default $XDG_CONFIG_HOME/ates/token or "
                   "~/.config/ates/token)"});
  flags.push_back(
      {"timeout", '\0', "DURATION", "deadline of every call, e.g. 10s, 500ms (default 10s)"});
  for (const auto& tls : kTlsFlags) {
    flags.push_back({tls.flag, '\0', "PATH", std::string(tls.help) + " (env " + tls.env + ")"});
  }
  flags.push_back({"trace", '\0', "",
                   "print the trace id of the calls on stderr (continues $TRACEPARENT when set)"});
  flags.push_back({"help", 'h', "", "show help"});
  return flags;
}

std::string DefaultTokenFile(const EnvLookup& env) {
  std::string base = NonEmpty(env("XDG_CONFIG_HOME"));
  if (base.empty()) {
    std::string home = NonEmpty(env("HOME"));
    if (home.empty()) return "";
    base = home + "/.config";
  }
  return base + "/ates/token";
}

Options ResolveOptions(const ParsedArgs& args, const EnvLookup& env) {
  Options options;
  if (auto output = args.Find("output")) {
    std::string format = OneOf("-o", *output, {"table", "json", "csv"});
    options.output = format == "json"  ? OutputFormat::kJson
                     : format == "csv" ? OutputFormat::kCsv
                                       : OutputFormat::kTable;
  }
  for (std::size_t i = 0; i < kServices.size(); ++i) {
    const auto& s = kServices[i];
    std::string addr = args.Get(s.name, NonEmpty(env(s.env)));
    options.addresses[i] = addr.empty() ? s.default_addr : addr;
  }
  if (auto timeout = args.Find("timeout")) options.timeout = ParseDuration("--timeout", *timeout);
  for (const auto& tls : kTlsFlags) options.*tls.field = args.Get(tls.flag, NonEmpty(env(tls.env)));
  if (options.tls_ca.empty() && !options.tls_cert.empty()) {
    throw UsageError("--tls-cert needs --tls-ca (the CA that verifies the servers)");
  }
  if (options.tls_cert.empty() != options.tls_key.empty()) {
    throw UsageError("--tls-cert and --tls-key go together");
  }
  options.print_trace = args.Has("trace");
  options.parent_traceparent = NonEmpty(env("TRACEPARENT"));
  options.token_file = args.Get("token-file");
  if (options.token_file.empty()) {
    options.token_file = DefaultTokenFile(env);
    options.default_token_file = true;
  }
  return options;
}

}  // namespace ates::ctl
