// atesctl: command-line client of aTES (auth, tasks, billing, analytics and
// scheduler daemons over gRPC).
//
//   atesctl [global flags] COMMAND [SUBCOMMAND] [flags] [args]
//
// Data goes to stdout (-o table|json), diagnostics to stderr as
// "atesctl: <plain words>: <server message>".
//
// Exit codes:
//   0  ok
//   1  other error (server INTERNAL, local I/O, ...)
//   2  usage error: unknown command or flag, missing or malformed argument
//   3  unauthenticated: wrong password, expired token, not logged in
//   4  permission denied
//   5  not found
//   6  unavailable or deadline exceeded (server down or slower than --timeout)
//   7  invalid argument (each field violation is printed on its own line)
//   8  already exists or failed precondition
//   9  differences found (audit reconcile: the ledger disagrees with TASKS)

#include <cstdlib>
#include <iostream>
#include <span>
#include <string>
#include <vector>

#include "args.hpp"
#include "commands.hpp"
#include "exit_codes.hpp"
#include "local_io.hpp"
#include "options.hpp"
#include "session.hpp"

namespace ates::ctl {
namespace {

std::vector<Command> AllCommands() {
  std::vector<Command> all;
  for (auto group : {AuthCommands(), TaskCommands(), BillingCommands(), ReportCommands(),
                     OpsCommands(), AuditCommands(), HealthCommands()}) {
    for (auto& c : group) all.push_back(std::move(c));
  }
  return all;
}

std::string PathOf(const std::vector<std::string>& words) {
  std::string path;
  for (const auto& w : words) path += (path.empty() ? "" : " ") + w;
  return path;
}

// Top-level help, or a group's when `group` is not empty.
std::string Overview(const std::vector<Command>& commands, const std::string& group) {
  std::string out = group.empty() ? "atesctl: command-line client of aTES.\n\n"
                                    "Usage: atesctl [global flags] COMMAND [SUBCOMMAND] [flags]\n"
                                  : "Usage: atesctl " + group + " SUBCOMMAND [flags]\n";
  Table list({{"  COMMAND"}, {"DESCRIPTION"}});
  for (const auto& c : commands) {
    if (group.empty() || c.spec.path[0] == group) {
      list.AddRow({"  " + PathOf(c.spec.path), c.spec.summary});
    }
  }
  out += "\nCommands:\n" + list.Render();
  out += "\nGlobal flags (before or after the command):\n" + FlagHelp(GlobalFlags());
  out += "\nExit codes:\n" + ExitCodeHelp();
  out += "\nRun 'atesctl COMMAND [SUBCOMMAND] --help' for a command's flags and an example.\n";
  out += "Example:\n  atesctl -o json tasks list --all\n";
  return out;
}

struct Resolved {
  const Command* command = nullptr;
  std::vector<std::string> words;  // Command words seen, even if unresolved.
  ParsedArgs globals;              // Global flags given before the command words.
  std::size_t next = 0;            // First argument after the command words.
};

bool IsGroup(const std::vector<Command>& commands, const std::string& word) {
  for (const auto& c : commands) {
    if (c.spec.path[0] == word) return true;
  }
  return false;
}

const Command* Exact(const std::vector<Command>& commands, const std::vector<std::string>& words) {
  for (const auto& c : commands) {
    if (c.spec.path == words) return &c;
  }
  return nullptr;
}

// Reads global flags and up to two command words ("accounts", "create") into
// `r`; `r.words` keeps only words that name a command or group, for the hint.
void Resolve(const std::vector<Command>& commands, std::span<const std::string> argv, Resolved& r) {
  while (r.next < argv.size() && r.words.size() < 2) {
    auto flags = ParseArgs(argv.subspan(r.next), GlobalFlags(), {}, {.stop_at_positional = true});
    r.globals.MergeFrom(flags.args);
    r.next += flags.consumed;
    if (r.next >= argv.size()) break;
    std::vector<std::string> words = r.words;
    words.push_back(argv[r.next]);
    r.command = Exact(commands, words);
    if (!r.command && (words.size() == 2 || !IsGroup(commands, words[0]))) {
      throw UsageError("unknown command '" + PathOf(words) + "'");
    }
    r.words = std::move(words);
    ++r.next;
    if (r.command) break;
  }
}

int RunCommand(const Command& command, const Resolved& r, std::span<const std::string> argv) {
  std::vector<FlagSpec> flags = command.spec.flags;
  for (auto& g : GlobalFlags()) flags.push_back(g);
  auto parsed = ParseArgs(argv.subspan(r.next), flags, command.spec.positionals);
  ParsedArgs args = r.globals;
  args.MergeFrom(parsed.args);
  if (args.help()) {
    std::cout << Usage(command.spec, GlobalFlags()) << "\nExit codes:\n" << ExitCodeHelp();
    return kExitOk;
  }
  auto env = [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
  Options options = ResolveOptions(args, env);
  if (options.output == OutputFormat::kCsv && !command.spec.csv) {
    throw UsageError("-o csv is available for 'billing transactions' and 'billing payouts' only");
  }
  Session session(std::move(options));
  return command.run(session, args);
}

int Run(std::span<const std::string> argv) {
  auto commands = AllCommands();
  Resolved r;
  try {
    Resolve(commands, argv, r);
    if (r.command != nullptr) return RunCommand(*r.command, r, argv);
    if (!r.globals.help()) {
      throw UsageError(r.words.empty() ? "missing command" : "missing subcommand");
    }
    std::cout << Overview(commands, r.words.empty() ? "" : r.words[0]);
    return kExitOk;
  } catch (const UsageError& e) {
    std::string path = PathOf(r.words);
    std::cerr << "atesctl: " << e.what() << "\nRun 'atesctl " << (path.empty() ? "" : path + " ")
              << "--help' for usage.\n";
    return kExitUsage;
  } catch (const CliError& e) {
    std::cerr << "atesctl: " << e.what() << "\n";
    return e.code();
  } catch (const std::exception& e) {
    std::cerr << "atesctl: " << e.what() << "\n";
    return kExitError;
  }
}

}  // namespace
}  // namespace ates::ctl

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return ates::ctl::Run(args);
}
